#include "pasokh/gateway/metrics.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

namespace {

std::string rendered(const counter_family& family) {
  std::string out;
  family.render(out);
  return out;
}

}  // namespace

// A value is one label value whatever it holds: a comma once split it, moving
// the rest into the next label or dropping it.
TEST(Metrics, LabelValueWithACommaStaysOneValue) {
  counter_family kinds{"t_total", "help", "kind"};
  kinds.inc("a,b");
  EXPECT_NE(rendered(kinds).find("t_total{kind=\"a,b\"} 1\n"), std::string::npos) << rendered(kinds);
  EXPECT_EQ(kinds.value("a,b"), 1u);
}

TEST(Metrics, LabelValuesEscapeBackslashQuoteAndNewline) {
  counter_family kinds{"t_total", "help", "kind"};
  kinds.inc("say \"hi\"\\\nbye");
  EXPECT_NE(rendered(kinds).find("t_total{kind=\"say \\\"hi\\\"\\\\\\nbye\"} 1\n"), std::string::npos)
      << rendered(kinds);
}

TEST(Metrics, SeveralLabelsKeepTheirOwnValues) {
  counter_family items{"t_total", "help", "channel,what"};
  items.inc({"tg,1", "dup"}, 2);
  items.inc({"tg", "1,dup"});
  auto text = rendered(items);
  EXPECT_NE(text.find("t_total{channel=\"tg,1\",what=\"dup\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_total{channel=\"tg\",what=\"1,dup\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(items.value({"tg,1", "dup"}), 2u);
}

TEST(Metrics, SetValuesAreRenderedAsTheGivenType) {
  counter_family links{"t_up", "help", "connection"};
  links.set({"pubsub"}, 1);
  links.set({"pubsub"}, 0);
  std::string out;
  links.render(out, "gauge");
  EXPECT_NE(out.find("# TYPE t_up gauge\n"), std::string::npos) << out;
  EXPECT_NE(out.find("t_up{connection=\"pubsub\"} 0\n"), std::string::npos) << out;
}
