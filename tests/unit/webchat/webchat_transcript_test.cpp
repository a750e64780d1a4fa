// The copy of a web chat conversation mailed at End chat: only what the
// widget showed the customer, each message as it reads now.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/webchat_transcript.hpp"

using namespace pasokh::gateway;
using nlohmann::json;

namespace {

std::string frame(std::uint64_t seq, json body) {
  json f = {{"type", "event"}, {"conv", "cv_1"}, {"seq", seq}, {"conversation", {{"channel", "web"}, {"status", "assigned"}}}};
  f.update(body);
  return f.dump();
}

std::string message(std::uint64_t seq, const char* author, const char* text, json extra = json::object()) {
  json m = {{"id", "cv_1:" + std::to_string(seq)}, {"seq", seq}, {"author", author},
            {"direction", std::string(author) == "customer" ? "in" : "out"}, {"author_name", "Sara"}, {"text", text}};
  m.update(extra);
  return frame(seq, {{"event", "message"}, {"message", m}});
}

}  // namespace

TEST(WebchatTranscript, OnlyWhatTheCustomerSawAsItReadsNow) {
  std::vector<std::string> frames = {
      message(1, "customer", "where is order 4412?"),
      message(2, "bot", "Let me find someone."),
      frame(3, {{"event", "status"}, {"status", "assigned"}}),
      frame(4, {{"event", "note"}, {"note", {{"text", "PRIVATE refund"}}}, {"actor", "ag_1"}}),
      message(5, "agent", "It ships today."),
      message(6, "system", "How did we do? Rate us 1-5"),
      message(7, "customer", "typo"),
      message(7, "customer", "thanks!", {{"edited_at", 9}}),  // the edit of seq 7
      message(8, "customer", "", {{"deleted_at", 10}}),       // unsent
      message(9, "customer", "", {{"erased", "retention"}}),
      frame(10, {{"event", "visitor_left"}, {"channel", "web"}, {"by_email", true}}),
  };
  frames.insert(frames.begin() + 8, message(5, "agent", "It ships today.", {{"private", true}}));  // never shown
  auto lines = transcript_lines(frames);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "where is order 4412?");
  EXPECT_EQ(lines[1].author, "bot");
  EXPECT_EQ(lines[2].name, "Sara");
  EXPECT_EQ(lines[3].text, "thanks!");

  auto en = transcript_mail_in("en", lines);
  EXPECT_EQ(en.subject, "A copy of your conversation");
  EXPECT_NE(en.text.find("You:\nwhere is order 4412?\n"), std::string::npos) << en.text;
  EXPECT_NE(en.text.find("Sara:\nIt ships today.\n"), std::string::npos);
  EXPECT_EQ(en.text.find("PRIVATE"), std::string::npos);
  auto fa = transcript_mail_in("fa", lines);
  EXPECT_EQ(fa.subject, "رونوشت گفتگوی شما");
  EXPECT_NE(fa.text.find("\u200Fشما:\nwhere is order 4412?"), std::string::npos) << fa.text;
}

// A long chat: the newest messages that fit in the cap, and a line saying
// the earlier ones are left out.
TEST(WebchatTranscript, ALongChatKeepsItsNewestMessagesUnderTheCap) {
  std::vector<transcript_line> lines;
  for (std::uint64_t seq = 1; seq <= 400; ++seq)
    lines.push_back({seq, "customer", "", "message " + std::to_string(seq) + " " + std::string(1000, 'x')});
  auto en = transcript_mail_in("en", lines);
  EXPECT_LE(en.text.size(), transcript_max_text);
  EXPECT_NE(en.text.find("message 400 "), std::string::npos);
  EXPECT_EQ(en.text.find("message 1 "), std::string::npos);
  EXPECT_NE(en.text.find("(Earlier messages are left out of this copy.)"), std::string::npos);
  EXPECT_LT(en.text.find("left out"), en.text.find("message 3"));
  auto fa = transcript_mail_in("fa", lines, false, 10'000);
  EXPECT_LE(fa.text.size(), 10'000u);
  EXPECT_NE(fa.text.find("\u200F(پیام‌های پیشین در این رونوشت نیامده‌اند.)"), std::string::npos);
}

TEST(WebchatTranscript, ALogReadInPartSaysSoAndAShortOneDoesNot) {
  std::vector<transcript_line> lines = {{5000, "agent", "Sara", "It ships today."}};
  EXPECT_EQ(transcript_mail_in("en", lines).text.find("left out"), std::string::npos);
  EXPECT_NE(transcript_mail_in("en", lines, true).text.find("(Earlier messages are left out of this copy.)\n\nSara:"),
            std::string::npos);
  EXPECT_NE(transcript_mail_in("ar", lines, true).text.find("لم تُدرج الرسائل السابقة"), std::string::npos);
}
