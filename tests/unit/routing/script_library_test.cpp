// The conversation scripts as one Redis function library, against a real
// redis-server: it loads whole, a gateway's start removes the libraries of
// older versions (and nothing else), and a call finds its library again after
// Redis lost it.
#include <boost/asio/co_spawn.hpp>

#include "pasokh/routing/lua_script.hpp"
#include "test_support.hpp"

using namespace pasokh;
using namespace pasokh::test;

namespace {

class script_library : public connected_redis_test {
 protected:
  void SetUp() override {
    connected_redis_test::SetUp();
    if (IsSkipped()) return;
    exec(*client_, store::make_command("FUNCTION", "FLUSH"));
  }
  std::vector<std::string> library_names() {
    std::vector<std::string> names;
    auto listed = exec(*client_, store::make_command("FUNCTION", "LIST"));
    for (const auto& lib : listed->elements)
      names.push_back(lib.elements.at(1).str);
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(script_library, LoadsEveryScriptAndRemovesOnlyOtherVersions) {
  auto old_version = store::make_command(
      "FUNCTION", "LOAD", "#!lua name=pasokh_0123456789ab\nredis.register_function('ingest_0123456789ab', function() return 1 end)");
  auto unrelated = store::make_command(
      "FUNCTION", "LOAD", "#!lua name=someone_else\nredis.register_function('their_fn', function() return 1 end)");
  ASSERT_FALSE(exec(*client_, old_version)->is_error());
  ASSERT_FALSE(exec(*client_, unrelated)->is_error());

  auto loaded = run(io_, routing::load_script_library(*client_));
  ASSERT_TRUE(loaded) << loaded.error().message();

  const auto& library = routing::script_library();
  EXPECT_EQ(library_names(), (std::vector<std::string>{library.name, "someone_else"}));
  // Every script is one function of it.
  auto listed = exec(*client_, store::make_command("FUNCTION", "LIST", "LIBRARYNAME", library.name));
  const auto& entry = listed->elements.at(0).elements;
  EXPECT_EQ(entry.at(5).elements.size(), std::size(routing::lua::functions));
}

TEST_F(script_library, ACallLoadsTheLibraryRedisLost) {
  // team_snapshot answers a JSON list of the team's open conversations.
  auto r = run(io_, client_->fcall(routing::script(routing::lua::team_snapshot), {}, {"unit:", "nobody", "10"}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->is_error()) << r->str;
  EXPECT_EQ(r->str, "[]");
  EXPECT_EQ(library_names(), std::vector<std::string>{routing::script_library().name});
}

}  // namespace
