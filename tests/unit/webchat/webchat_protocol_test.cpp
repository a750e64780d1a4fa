#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/webchat_protocol.hpp"

namespace pasokh::gateway {
namespace {

using nlohmann::json;

const frame_limits limits{2000, 128};

template <class T>
T frame_as(std::string_view text) {
  auto r = parse_client_frame(text, limits);
  if (auto* e = std::get_if<frame_error>(&r)) ADD_FAILURE() << text << " → " << e->code << ": " << e->message;
  if (auto* c = std::get_if<client_frame>(&r); c && std::holds_alternative<T>(*c)) return std::get<T>(*c);
  ADD_FAILURE() << text << " has another type";
  return T{};
}

frame_error error_of(std::string_view text) {
  auto r = parse_client_frame(text, limits);
  EXPECT_TRUE(std::holds_alternative<frame_error>(r)) << text;
  return std::holds_alternative<frame_error>(r) ? std::get<frame_error>(r) : frame_error{};
}

TEST(ClientFrames, Hello) {
  auto h = frame_as<hello_frame>(R"({"type":"hello","v":1,"token":"w1.x.y","conv":"cv_12","after":7,"lang":"fa-IR"})");
  EXPECT_EQ(h.token, "w1.x.y");
  EXPECT_EQ(h.conv, "cv_12");
  EXPECT_EQ(h.after, 7u);
  EXPECT_EQ(h.lang, "fa");
  auto minimal = frame_as<hello_frame>(R"({"type":"hello","token":"t"})");
  EXPECT_EQ(minimal.after, 0u);
  EXPECT_TRUE(minimal.conv.empty());

  EXPECT_EQ(error_of(R"({"type":"hello"})").close_code, 1008);
  EXPECT_EQ(error_of(R"({"type":"hello","token":""})").code, "token_invalid");
  EXPECT_EQ(error_of(R"({"type":"hello","token":5})").close_code, 1008);
  EXPECT_EQ(error_of(R"({"type":"hello","v":2,"token":"t"})").code, "bad_version");
  EXPECT_EQ(error_of(R"({"type":"hello","token":"t","after":-1})").close_code, 1008);
  EXPECT_EQ(error_of(R"({"type":"hello","token":"t","conv":"cv 1; DEL *"})").close_code, 1008);
}

TEST(ClientFrames, NotJsonClosesWith1007) {
  for (std::string_view bad : {"", "hello", "[1,2]", R"({"no":"type"})", R"({"type":5})", "{\"type\":\"ping\""}) {
    auto e = error_of(bad);
    EXPECT_EQ(e.close_code, 1007) << bad;
  }
}

TEST(ClientFrames, Message) {
  auto m = frame_as<message_frame>(R"({"type":"message","client_id":"c1-abc","text":"  سلام، گارانتی یخچال؟  ","lang":"fa"})");
  EXPECT_EQ(m.client_id, "c1-abc");
  EXPECT_EQ(m.text, "سلام، گارانتی یخچال؟");  // trimmed
  EXPECT_EQ(m.lang, "fa");
  auto b = frame_as<message_frame>(R"({"type":"message","client_id":"c2","text":"Returns","button":"faq:returns"})");
  EXPECT_EQ(b.button, "faq:returns");
  // Markup is just text: stored and shown as typed.
  EXPECT_EQ(frame_as<message_frame>(R"({"type":"message","client_id":"c3","text":"<script>alert(1)</script>"})").text,
            "<script>alert(1)</script>");
}

TEST(ClientFrames, MessageErrorsKeepTheSession) {
  auto no_id = error_of(R"({"type":"message","text":"hi"})");
  EXPECT_EQ(no_id.close_code, 0);
  EXPECT_EQ(no_id.code, "bad_frame");
  EXPECT_EQ(error_of(R"({"type":"message","client_id":"a b","text":"hi"})").code, "bad_frame");
  EXPECT_EQ(error_of(R"({"type":"message","client_id":")" + std::string(129, 'x') + R"(","text":"hi"})").code,
            "bad_frame");
  auto empty = error_of(R"({"type":"message","client_id":"c1","text":"   \n "})");
  EXPECT_EQ(empty.code, "empty_text");
  EXPECT_EQ(empty.client_id, "c1");
  EXPECT_EQ(error_of(R"({"type":"message","client_id":"c1","text":7})").code, "bad_text");
}

TEST(ClientFrames, MessageLengthCountsCharactersNotBytes) {
  std::string persian;
  for (int i = 0; i < 2000; ++i) persian += "س";  // 2 bytes each
  auto ok = json{{"type", "message"}, {"client_id", "c1"}, {"text", persian}}.dump();
  EXPECT_EQ(frame_as<message_frame>(ok).text.size(), 4000u);
  auto too_long = json{{"type", "message"}, {"client_id", "c1"}, {"text", persian + "س"}}.dump();
  auto e = error_of(too_long);
  EXPECT_EQ(e.code, "too_long");
  EXPECT_EQ(e.close_code, 0);
  EXPECT_EQ(e.client_id, "c1");
}

TEST(ClientFrames, TypingSeenContactPing) {
  EXPECT_FALSE(frame_as<typing_frame>(R"({"type":"typing","state":false})").state);
  EXPECT_TRUE(frame_as<typing_frame>(R"({"type":"typing"})").state);
  EXPECT_EQ(error_of(R"({"type":"typing","state":"yes"})").code, "bad_frame");

  auto s = frame_as<seen_frame>(R"({"type":"seen","conv":"cv_1","seq":4,"read":true})");
  EXPECT_EQ(s.seq, 4u);
  EXPECT_TRUE(s.read);
  EXPECT_EQ(error_of(R"({"type":"seen","conv":"cv_1","seq":0})").code, "bad_frame");
  EXPECT_EQ(error_of(R"({"type":"seen","seq":3})").code, "bad_frame");

  auto c = frame_as<contact_frame>(R"({"type":"contact","email":" sara@example.com ","name":"سارا"})");
  EXPECT_EQ(c.email, "sara@example.com");
  EXPECT_EQ(c.name, "سارا");
  EXPECT_EQ(error_of(R"({"type":"contact","email":"not an email"})").code, "bad_email");
  EXPECT_EQ(error_of(R"({"type":"contact"})").code, "bad_contact");

  frame_as<ping_frame>(R"({"type":"ping"})");
  auto unknown = error_of(R"({"type":"subscribe_all"})");
  EXPECT_EQ(unknown.code, "unknown_type");
  EXPECT_EQ(unknown.close_code, 0);
}

TEST(Helpers, Email) {
  for (auto good : {"a@b.co", "sara.ahmadi+shop@example.com", "x@mail.example.ir"}) EXPECT_TRUE(valid_email(good)) << good;
  for (auto bad : {"", "a", "a@b", "@b.com", "a@@b.com", "a b@c.com", "a@b..com", "a@.com", "a@b.com.", "<a@b.com>"})
    EXPECT_FALSE(valid_email(bad)) << bad;
}

// The code mailed to prove an email, as a phone's keyboard types it.
TEST(Helpers, VerificationCodeInAnyDigits) {
  EXPECT_EQ(normalize_verification_code("042917"), "042917");
  EXPECT_EQ(normalize_verification_code("۰۴۲ ۹۱۷"), "042917");    // Persian
  EXPECT_EQ(normalize_verification_code("٠٤٢-٩١٧"), "042917");    // Arabic-Indic
  EXPECT_EQ(normalize_verification_code(" 04 29 17 "), "042917");
  EXPECT_EQ(normalize_verification_code("04291"), "");
  EXPECT_EQ(normalize_verification_code("0429170"), "");
  EXPECT_EQ(normalize_verification_code("04291a"), "");
  EXPECT_EQ(normalize_verification_code("\xDB"), "");  // a cut-off digit
  EXPECT_EQ(normalize_verification_code(""), "");
  EXPECT_EQ(frame_as<verify_email_frame>(R"({"type":"verify_email","code":"۱۲۳۴۵۶"})").code, "123456");
  EXPECT_EQ(error_of(R"({"type":"verify_email","code":"12345"})").code, "bad_code");
  EXPECT_EQ(error_of(R"({"type":"verify_email","code":123456})").code, "bad_code");
  EXPECT_EQ(error_of(R"({"type":"verify_email"})").code, "bad_code");
}

TEST(Helpers, LanguageTags) {
  EXPECT_EQ(normalize_language("ar-EG"), "ar");
  EXPECT_EQ(normalize_language("de"), "");
}

TEST(CustomerView, AgentMessageShowsNameNotInternals) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 3}, {"event", "message"},
                {"conversation", {{"id", "cv_1"}, {"status", "assigned"}, {"assignee", "ag_reza"}, {"team", "support"},
                                  {"channel", "web"}, {"customer_id", "cu_1"}, {"customer_name", "Sara"}}},
                {"message", {{"id", "cv_1:3"}, {"seq", 3}, {"direction", "out"}, {"author", "agent"},
                             {"author_id", "ag_reza"}, {"author_name", "Reza Karimi"}, {"text", "سلام، بفرمایید"},
                             {"client_id", "agent-client-1"}, {"created_at", 1700000000000}, {"status", "pending"}}}};
  event_meta meta;
  auto view = customer_event_frame(event.dump(), &meta);
  ASSERT_TRUE(view);
  auto v = json::parse(*view);
  EXPECT_EQ(v["conv"], "cv_1");
  EXPECT_EQ(v["seq"], 3);
  EXPECT_EQ(v["status"], "assigned");
  EXPECT_EQ(v["message"]["name"], "Reza Karimi");
  EXPECT_EQ(v["message"]["text"], "سلام، بفرمایید");
  EXPECT_FALSE(v["message"].contains("client_id"));  // the agent's, not the customer's
  EXPECT_EQ(view->find("ag_reza"), std::string::npos);
  EXPECT_EQ(view->find("support"), std::string::npos);
  EXPECT_EQ(view->find("cu_1"), std::string::npos);
  EXPECT_EQ(meta.team, "support");
  EXPECT_EQ(meta.channel, "web");
  EXPECT_EQ(meta.seq, 3u);
}

TEST(CustomerView, CustomerMessageCarriesTheWidgetClientId) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 1}, {"event", "message"},
                {"conversation", {{"status", "queued"}, {"channel", "web"}}},
                {"message", {{"seq", 1}, {"author", "customer"}, {"text", "<b>hi</b>"}, {"provider_message_id", "c-9"}}}};
  auto v = json::parse(*customer_event_frame(event.dump()));
  EXPECT_EQ(v["message"]["client_id"], "c-9");
  EXPECT_EQ(v["message"]["text"], "<b>hi</b>");
}

// A message whose text an erasure or retention removed: the widget shows "message removed", not a blank bubble.
TEST(CustomerView, ErasedMessageSaysSo) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 2}, {"event", "message"},
                {"message", {{"seq", 2}, {"author", "agent"}, {"text", ""}, {"erased", "retention"}}}};
  auto v = json::parse(*customer_event_frame(event.dump()));
  EXPECT_EQ(v["message"]["erased"], "retention");
  EXPECT_EQ(v["message"]["text"], "");
}

TEST(CustomerView, BotButtonsPassThrough) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 2}, {"event", "message"},
                {"message", {{"author", "bot"}, {"author_name", "Pasokh"}, {"text", "Which one?"},
                             {"buttons", {{{"id", "returns"}, {"title", "Returns"}, {"internal", 1}}, {{"bad", 1}}}}}}};
  auto v = json::parse(*customer_event_frame(event.dump()));
  ASSERT_EQ(v["message"]["buttons"].size(), 1u);
  EXPECT_EQ(v["message"]["buttons"][0], (json{{"id", "returns"}, {"title", "Returns"}}));
}

TEST(CustomerView, NotesAndInternalEventsAreDropped) {
  auto message = [](json extra) {
    json m = {{"author", "agent"}, {"text", "customer seems angry"}};
    m.update(extra);
    return json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 5}, {"event", "message"}, {"message", m}}.dump();
  };
  EXPECT_FALSE(customer_event_frame(message({{"private", true}})));
  EXPECT_FALSE(customer_event_frame(message({{"internal", true}})));
  EXPECT_FALSE(customer_event_frame(message({{"note", true}})));
  EXPECT_FALSE(customer_event_frame(message({{"visibility", "internal"}})));
  EXPECT_FALSE(customer_event_frame(message({{"author", "note"}})));
  EXPECT_TRUE(customer_event_frame(message(json::object())));
  for (auto kind : {"note", "assign", "transfer", "tag", "priority"}) {
    event_meta meta;
    EXPECT_FALSE(customer_event_frame(json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 6}, {"event", kind},
                                           {"conversation", {{"channel", "web"}}}}
                                          .dump(),
                                      &meta))
        << kind;
    EXPECT_EQ(meta.seq, 6u);  // still advances the session's seq
  }
  EXPECT_FALSE(customer_event_frame("not json"));
  EXPECT_FALSE(customer_event_frame(R"({"type":"event","conv":5})"));
}

TEST(CustomerView, RatingShowsInTheRatedConversationWithoutTheAgent) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 6}, {"event", "csat"}, {"rating", 5}, {"agent", "ag_reza"},
                {"at", 1700000000000}, {"via", "cv_2"}, {"conversation", {{"status", "resolved"}, {"channel", "web"}}}};
  auto view = customer_event_frame(event.dump());
  ASSERT_TRUE(view);
  EXPECT_EQ(json::parse(*view), (json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 6}, {"event", "csat"}, {"rating", 5},
                                      {"at", 1700000000000}, {"via", "cv_2"}, {"status", "resolved"}}));
  // Rated in the conversation itself: no side conversation to name.
  event["via"] = "cv_1";
  EXPECT_FALSE(json::parse(*customer_event_frame(event.dump())).contains("via"));
}

// Feedback after the rating that opened a conversation of its own (closed as a
// side one) shows after the rating; a request, or a comment in the rated
// conversation's own log, needs no event: its message is where it belongs.
TEST(CustomerView, FeedbackCommentShowsInTheRatedConversationARequestDoesNot) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 8}, {"event", "csat_comment"}, {"comment", "thanks!"},
                {"kind", "praise"}, {"at", 1700000000000}, {"via", "cv_2"}, {"side", true},
                {"conversation", {{"status", "resolved"}, {"channel", "web"}}}};
  event_meta meta;
  auto view = customer_event_frame(event.dump(), &meta);
  ASSERT_TRUE(view);
  EXPECT_EQ(json::parse(*view), (json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 8}, {"event", "csat_comment"},
                                      {"comment", "thanks!"}, {"at", 1700000000000}, {"via", "cv_2"},
                                      {"status", "resolved"}}));
  event["comment"] = "";
  event["erased"] = "customer";
  EXPECT_EQ(json::parse(*customer_event_frame(event.dump()))["erased"], "customer");
  auto request = event;
  request.erase("side");
  request["kind"] = "request";
  EXPECT_FALSE(customer_event_frame(request.dump(), &meta));
  EXPECT_EQ(meta.seq, 8u);  // still advances the session's seq
  auto in_rated = event;
  in_rated["via"] = "cv_1";
  EXPECT_FALSE(customer_event_frame(in_rated.dump()));
}

TEST(CustomerView, StatusEvent) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 9}, {"event", "status"}, {"status", "resolved"},
                {"from", "assigned"}, {"actor", "ag_reza"}, {"conversation", {{"status", "resolved"}}}};
  auto view = customer_event_frame(event.dump());
  ASSERT_TRUE(view);
  EXPECT_EQ(json::parse(*view), (json{{"type", "event"}, {"conv", "cv_1"}, {"seq", 9}, {"event", "status"},
                                      {"status", "resolved"}}));
}

TEST(CustomerView, ASideConversationsClosingNamesTheRatedOneToTheSessionOnly) {
  json event = {{"type", "event"}, {"conv", "cv_2"}, {"seq", 3}, {"event", "status"}, {"status", "closed"},
                {"from", "queued"}, {"actor", "system"}, {"reason", "csat"}, {"side_of", "cv_1"},
                {"conversation", {{"status", "closed"}, {"channel", "web"}}}};
  event_meta meta;
  auto view = customer_event_frame(event.dump(), &meta);
  ASSERT_TRUE(view);
  EXPECT_EQ(meta.side_of, "cv_1");
  EXPECT_EQ(json::parse(*view), (json{{"type", "event"}, {"conv", "cv_2"}, {"seq", 3}, {"event", "status"},
                                      {"status", "closed"}}));
  event.erase("side_of");  // closed by an agent: nobody's side conversation
  customer_event_frame(event.dump(), &meta);
  EXPECT_EQ(meta.side_of, "");
}

TEST(Settings, ParseAndReject) {
  auto s = parse_webchat_settings(json{{"allowed_origins", {"https://Shop.example.com/", "https://*.example.ir"}},
                                       {"pre_chat_form", true}, {"require_email", true}, {"title", "پشتیبانی"}});
  EXPECT_EQ(s.allowed_origins, (std::vector<std::string>{"https://shop.example.com", "https://*.example.ir"}));
  EXPECT_TRUE(s.pre_chat_form);
  EXPECT_TRUE(s.offline_email);
  EXPECT_EQ(s.email_fallback_channel, "");
  EXPECT_EQ(s.email_fallback_after_s, 120);
  auto fallback = parse_webchat_settings(json{{"email_fallback_channel", "mail"}, {"email_fallback_after_s", 30}});
  EXPECT_EQ(fallback.email_fallback_channel, "mail");
  EXPECT_EQ(fallback.email_fallback_after_s, 30);
  EXPECT_FALSE(public_settings(fallback, 2000).contains("email_fallback_channel"));
  EXPECT_EQ(public_settings(fallback, 2000)["transcript"], true) << "End chat can mail a copy";
  EXPECT_EQ(parse_webchat_settings(nullptr), webchat_settings{});
  EXPECT_THROW(parse_webchat_settings(json{{"allowed_origin", {"x"}}}), std::runtime_error);
  EXPECT_THROW(parse_webchat_settings(json{{"allowed_origins", {"shop.example.com"}}}), std::runtime_error);
  EXPECT_THROW(parse_webchat_settings(json{{"pre_chat_form", "yes"}}), std::runtime_error);
  auto pub = public_settings(s, 500);
  EXPECT_FALSE(pub.contains("allowed_origins"));
  EXPECT_EQ(pub["max_message_chars"], 500);
  EXPECT_EQ(pub["title"], "پشتیبانی");
  EXPECT_EQ(pub["transcript"], false) << "no email_fallback_channel: nothing to mail a copy with";
}

}  // namespace
}  // namespace pasokh::gateway
