// The mail of unread web chat replies: which log frames go in it, and its
// text in Persian, Arabic and English, read back through the email channel's
// own compose and parse.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/gateway/webchat_mail_fallback.hpp"

namespace email = pasokh::connectors::email;
using namespace pasokh::gateway;
using nlohmann::json;

namespace {

const std::string rlm = "\u200F";

std::string log_message(std::uint64_t seq, const char* author, const char* direction, const char* text,
                          const char* name = "Sara Ahmadi") {
  return json{{"type", "event"}, {"conv", "cv_1"}, {"seq", seq}, {"event", "message"},
              {"message", {{"id", "cv_1:" + std::to_string(seq)}, {"author", author}, {"direction", direction},
                           {"author_name", name}, {"text", text}}}}
      .dump();
}

email::parsed_email mailed(const std::string& text) {
  email::email_config config;
  config.channel = "mail";
  config.recipients.addresses = {"support@shop.example"};
  config.recipients.reply_domain = "shop.example";
  config.from_address = "support@shop.example";
  pasokh::proto::outbound_message m;
  m.message_id = "cv_1:4";  // as webchat_mail_fallback.lua names it
  m.conversation_id = "cv_1";
  m.channel = "mail";
  m.kind = pasokh::proto::channel_kind::email;
  m.recipient = "sara@example.com";
  m.text = text;
  auto mail = email::build_reply(m, {}, config, {.now = 1'710'237'600'000});
  return email::parse_email(mail.data, config);
}

// The lines of a text that ends with a line end.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

}  // namespace

TEST(unread_agent_replies, takes_agent_messages_after_the_mark_in_order) {
  std::vector<std::string> frames = {
      log_message(2, "agent", "out", "first"),
      log_message(3, "customer", "in", "a question"),
      log_message(4, "bot", "out", "a bot answer"),
      log_message(5, "agent", "out", "second"),
      json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 6}, {"event", "note"}, {"text", "private"}}.dump(),
      log_message(7, "agent", "out", "third", ""),
      "not json",
  };
  auto replies = unread_agent_replies(frames, 2);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].seq, 5u);
  EXPECT_EQ(replies[0].text, "second");
  EXPECT_EQ(replies[0].author_name, "Sara Ahmadi");
  EXPECT_EQ(replies[1].seq, 7u);
  EXPECT_EQ(replies[1].author_name, "");
  EXPECT_TRUE(unread_agent_replies(frames, 7).empty());
}

TEST(fallback_mail_text, persian_lines_we_write_stay_right_to_left) {
  std::vector<unread_reply> replies = {{3, "Sara Ahmadi", "سلام، سفارش شما فردا می‌رسد."},
                                       {4, "Sara Ahmadi", "کد رهگیری: 12345"}};
  auto text = fallback_mail_text("fa", replies);
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 9u) << text;
  // A Latin name would turn its line left-to-right: every line we write starts with RLM.
  for (std::size_t i : {0u, 2u, 5u, 8u}) EXPECT_EQ(lines[i].rfind(rlm, 0), 0u) << i << ": " << lines[i];
  EXPECT_EQ(lines[2], rlm + "Sara Ahmadi:");
  EXPECT_EQ(lines[3], "سلام، سفارش شما فردا می‌رسد.");  // the agent's words as written, in order
  EXPECT_EQ(lines[6], "کد رهگیری: 12345");
  EXPECT_NE(lines[0].find("گفتگوی وب‌سایت"), std::string::npos);

  // Through the email channel's composer: a Persian mail, the text intact.
  auto parsed = mailed(text);
  EXPECT_TRUE(parsed.warning.empty()) << parsed.warning;
  EXPECT_NE(parsed.event.text.find("سلام، سفارش شما فردا می‌رسد.\n\n" + rlm + "Sara Ahmadi:\nکد رهگیری: 12345"),
            std::string::npos)
      << parsed.event.text;
  EXPECT_NE(parsed.html.find("lang=\"fa\""), std::string::npos);
  EXPECT_NE(parsed.html.find("dir=\"auto\""), std::string::npos);
}

TEST(fallback_mail_text, arabic_and_english) {
  auto ar = fallback_mail_text("ar", {{3, "Ali", "مرحباً، طلبك في الطريق."}});
  EXPECT_EQ(ar.rfind(rlm + "لم تطّلع", 0), 0u) << ar;
  EXPECT_NE(ar.find("\n" + rlm + "Ali:\nمرحباً، طلبك في الطريق.\n"), std::string::npos) << ar;
  auto parsed = mailed(ar);
  EXPECT_NE(parsed.html.find("lang=\"ar\""), std::string::npos);

  // English, and any other language: no direction marks.
  auto en = fallback_mail_text("", {{3, "Ali", "Your order ships today."}, {5, "Ali", "Tracking: 12345"}});
  EXPECT_EQ(en.find(rlm), std::string::npos);
  EXPECT_EQ(en.rfind("You did not see our answer", 0), 0u);
  EXPECT_NE(en.find("Ali:\nYour order ships today.\n\nAli:\nTracking: 12345\n"), std::string::npos) << en;
}
