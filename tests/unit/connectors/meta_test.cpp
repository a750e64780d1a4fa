#include <gtest/gtest.h>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/meta/inbound.hpp"
#include "pasokh/connectors/meta/outbound.hpp"
#include "test_support.hpp"

namespace pasokh::connectors::meta {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace t = connectors::testing;

constexpr std::string_view app_secret = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

meta_channel messenger() {
  meta_channel ch;
  ch.id = "fb-main";
  ch.kind = proto::channel_kind::messenger;
  ch.account_id = "105943912345678";
  ch.api_base = "https://graph.facebook.com";
  ch.api_version = "v23.0";
  ch.page_token = secret("EAAPage-test-token");
  ch.app_secret.current = secret(std::string(app_secret));
  ch.verify_token = secret("meta-verify");
  return ch;
}

meta_channel instagram() {
  auto ch = messenger();
  ch.id = "ig-main";
  ch.kind = proto::channel_kind::instagram;
  ch.account_id = "17841400000000000";
  return ch;
}

webhook_result parse_signed(const std::string& body, const meta_channel& ch) {
  std::string sig = t::hub_signature(app_secret, body);
  std::vector<header_field> headers{{"X-Hub-Signature-256", sig}};
  return parse_webhook(t::post("/webhooks/meta/" + ch.id, headers, body), ch);
}

// Recorded payloads: instagram_* go to the Instagram channel, the rest to Messenger.
class MetaPayload : public ::testing::TestWithParam<std::string> {};

TEST_P(MetaPayload, ParsesAsRecorded) {
  auto body = t::read_file(t::data_dir("meta") / (GetParam() + ".json"));
  auto expected = json::parse(t::read_file(t::data_dir("meta") / (GetParam() + ".expected.json")));
  bool ig = GetParam().rfind("instagram_", 0) == 0 && GetParam() != "instagram_on_messenger_channel";
  t::expect_matches(parse_signed(body, ig ? instagram() : messenger()), expected);
}

INSTANTIATE_TEST_SUITE_P(Recorded, MetaPayload, ::testing::ValuesIn(t::payload_names("meta")),
                         [](const auto& info) { return info.param; });

TEST(MetaWebhook, SignatureAndHandshake) {
  auto body = t::read_file(t::data_dir("meta") / "messenger_text_fa.json");
  std::vector<header_field> wrong{{"X-Hub-Signature-256", t::hub_signature("nope", body)}};
  EXPECT_EQ(parse_webhook(t::post("/", wrong, body), messenger()).status, 401);
  EXPECT_EQ(parse_webhook(t::post("/", {}, body), messenger()).error, webhook_error::missing_signature);

  webhook_request get;
  get.method = "GET";
  get.target = "/webhooks/meta/fb-main?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=CHALLENGE_ACCEPTED";
  auto ok = parse_webhook(get, messenger());
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "CHALLENGE_ACCEPTED");
  get.target = "/webhooks/meta/fb-main?hub.mode=subscribe&hub.verify_token=META-VERIFY&hub.challenge=x";
  EXPECT_EQ(parse_webhook(get, messenger()).status, 403);
  get.method = "PUT";
  EXPECT_EQ(parse_webhook(get, messenger()).status, 405);
}

TEST(MetaWebhook, TruncatedPayloadsNeverThrow) {
  for (const auto& name : t::payload_names("meta")) {
    auto body = t::read_file(t::data_dir("meta") / (name + ".json"));
    for (std::size_t n = 0; n < body.size(); n += 5) {
      auto result = parse_signed(body.substr(0, n), messenger());
      EXPECT_TRUE(result.status == 200 || result.status == 400) << name << " prefix " << n << ": " << result.body;
    }
  }
}

TEST(MetaWebhook, WrongShapesAre400) {
  for (std::string body : {R"({"object":"page"})", R"({"object":"page","entry":{}})", R"(["page"])"}) {
    auto result = parse_signed(body, messenger());
    EXPECT_EQ(result.status, 400) << body;
    EXPECT_EQ(result.error, webhook_error::invalid_payload) << body;
    EXPECT_TRUE(result.events.empty());
  }
}

std::string text_item(std::string_view psid, std::string_view mid, std::string_view text) {
  return R"({"sender":{"id":")" + std::string(psid) + R"("},"recipient":{"id":"105943912345678"},)"
         R"("timestamp":1732000000000,"message":{"mid":")" + std::string(mid) + R"(","text":")" + std::string(text) + R"("}})";
}

std::string page_batch(const std::vector<std::string>& items) {
  std::string body = R"({"object":"page","entry":[{"id":"105943912345678","time":1732000000000,"messaging":[)";
  for (std::size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return body + "]}]}";
}

TEST(MetaWebhook, AnItemWeCannotReadIsLeftOutAloneAndNamedByItsPlace) {
  struct row {
    std::string bad_item;
    std::string note;
  };
  const row rows[] = {
      // Messenger's documented policy-enforcement item has no sender.
      {R"({"recipient":{"id":"105943912345678"},"timestamp":1732000000000,)"
       R"("policy-enforcement":{"action":"warning","reason":"The bot violated our Platform Policies"}})",
       "entry[0].messaging[1].sender must be an object"},
      {R"({"sender":{"id":"6000000000000002"},"recipient":{"id":"105943912345678"},"timestamp":1,"message":{"text":"no mid"}})",
       "entry[0].messaging[1].message.mid must be a string"},
      {R"({"sender":{"id":"6000000000000002"},"timestamp":1,"message_edit":{"text":"x"}})",
       "entry[0].messaging[1].message_edit.mid must be a string"},
      {R"({"sender":{"id":"6000000000000002"},"timestamp":1,"reaction":{"action":"react","emoji":"x"}})",
       "entry[0].messaging[1].reaction.mid must be a string"},
      {R"({"sender":{"id":"6000000000000002"},"timestamp":1,"message":{"is_deleted":true}})",
       "entry[0].messaging[1].message.mid must be a string"},
      {R"({"sender":{"id":true},"timestamp":1,"message":{"mid":"m_x","text":"x"}})",
       "entry[0].messaging[1].sender.id must be an id (number or string)"},
  };
  for (const auto& r : rows) {
    auto body = page_batch({text_item("6000000000000001", "m_1", "first"), r.bad_item,
                            text_item("6000000000000003", "m_3", "third")});
    auto result = parse_signed(body, messenger());
    ASSERT_TRUE(result.ok()) << result.body;
    EXPECT_EQ(result.status, 200);
    ASSERT_EQ(result.events.size(), 2u) << r.note;
    EXPECT_EQ(result.events[0].provider_message_id, "m_1");
    EXPECT_EQ(result.events[1].provider_message_id, "m_3");
    EXPECT_EQ(result.counters.at("ignored_malformed"), 1u);
    ASSERT_EQ(result.skipped.size(), 1u);
    EXPECT_EQ(result.skipped[0].what, "ignored_malformed");
    EXPECT_EQ(result.skipped[0].note, r.note);
  }
}

TEST(MetaWebhook, TheOtherObjectGoesToTheChannelOwningItsAccountOrIsNoted) {
  // Both subscriptions pointed at the Messenger channel's URL.
  auto body = t::read_file(t::data_dir("meta") / "instagram_on_messenger_channel.json");
  std::string sig = t::hub_signature(app_secret, body);
  std::vector<header_field> headers{{"X-Hub-Signature-256", sig}};
  auto req = t::post("/webhooks/meta/fb-main", headers, body);
  account_router no_messenger_page = [](std::string_view) { return std::nullopt; };
  account_router instagram_accounts = [](std::string_view account) -> std::optional<std::string> {
    if (account == "17841400000000000") return "ig-main";
    return std::nullopt;
  };

  auto routed = parse_webhook(req, messenger(), no_messenger_page, instagram_accounts);
  ASSERT_TRUE(routed.ok()) << routed.body;
  ASSERT_EQ(routed.events.size(), 1u);
  EXPECT_EQ(routed.events[0].from.channel, "ig-main");
  EXPECT_EQ(routed.events[0].from.kind, proto::channel_kind::instagram);
  EXPECT_TRUE(routed.counters.empty());
  EXPECT_TRUE(routed.skipped.empty());

  // No Instagram channel owns the account: counted and noted with what to set.
  account_router other_instagram = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto unowned = parse_webhook(req, messenger(), no_messenger_page, other_instagram);
  EXPECT_EQ(unowned.status, 200);
  EXPECT_TRUE(unowned.events.empty());
  EXPECT_EQ(unowned.counters.at("ignored_object"), 1u);
  ASSERT_EQ(unowned.skipped.size(), 1u);
  EXPECT_NE(unowned.skipped[0].note.find("object \"instagram\" for account 17841400000000000"), std::string::npos)
      << unowned.skipped[0].note;
  EXPECT_NE(unowned.skipped[0].note.find("provider.account_id"), std::string::npos) << unowned.skipped[0].note;
}

TEST(MetaWebhook, AUserRefSenderIsSkippedAndTheRestOfTheBatchKept) {
  // Meta's documented postback of a person known only by a user_ref, batched
  // with a customer's message: the message is kept, the webhook answered 200.
  const std::string body =
      R"({"object":"page","entry":[{"id":"105943912345678","time":1732000000000,"messaging":[)"
      R"({"sender":{"user_ref":"USER-REF-ID"},"recipient":{"id":"105943912345678"},"timestamp":1732000000000,)"
      R"("postback":{"mid":"m_pb1","title":"Get Started","payload":"GET_STARTED"}},)"
      R"({"sender":{"id":"6000000000000001"},"recipient":{"id":"105943912345678"},"timestamp":1732000000001,)"
      R"("message":{"mid":"m_text1","text":"\u0633\u0644\u0627\u0645"}}]}]})";
  auto result = parse_signed(body, messenger());
  ASSERT_TRUE(result.ok()) << result.body;
  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].provider_message_id, "m_text1");
  EXPECT_EQ(result.events[0].text, "سلام");
  EXPECT_EQ(result.counters.at("ignored_user_ref"), 1u);
}

TEST(MetaWebhook, AnUnsentMessageNamesItsMidAndAnUnsentEchoIsOnlyCounted) {
  // The customer unsent one message; our account deleted one of its own (an echo).
  const std::string body =
      R"({"object":"instagram","entry":[{"id":"17841400000000000","time":1763800000500,"messaging":[)"
      R"({"sender":{"id":"1234567890123456"},"recipient":{"id":"17841400000000000"},"timestamp":1763800105000,)"
      R"("message":{"mid":"m_gone","is_deleted":true}},)"
      R"({"sender":{"id":"17841400000000000"},"recipient":{"id":"1234567890123456"},"timestamp":1763800106000,)"
      R"("message":{"mid":"m_ours","is_echo":true,"is_deleted":true}}]}]})";
  auto result = parse_signed(body, instagram());
  ASSERT_TRUE(result.ok()) << result.body;
  ASSERT_EQ(result.events.size(), 1u);
  const auto& unsend = result.events[0];
  EXPECT_EQ(unsend.kind, proto::inbound_kind::unsend);
  EXPECT_EQ(unsend.provider_message_id, "m_gone");
  EXPECT_EQ(unsend.from.external_id, "1234567890123456");
  EXPECT_EQ(unsend.dedup_key, "meta:m_gone:unsend");
  EXPECT_TRUE(unsend.text.empty());
  EXPECT_TRUE(unsend.attachments.empty()) << "never a placeholder message";
  EXPECT_EQ(result.counters.at("ignored_deleted"), 1u);
}

// ---- outbound ------------------------------------------------------------------

TEST(MetaWindow, Rule) {
  struct row {
    std::optional<std::chrono::milliseconds> since;
    bool automatic;
    send_window want;
  };
  const row rows[] = {
      {1min, false, send_window::open},
      {1min, true, send_window::open},
      {23h, true, send_window::open},
      {24h, false, send_window::human_agent_tag},
      {6 * 24h, false, send_window::human_agent_tag},
      {24h, true, send_window::closed},  // HUMAN_AGENT is for people only
      {7 * 24h, false, send_window::closed},
      {std::nullopt, false, send_window::closed},
  };
  for (const auto& r : rows)
    EXPECT_EQ(window_rule(r.since, r.automatic), r.want) << (r.since ? r.since->count() : -1) << " " << r.automatic;
}

proto::outbound_message message(std::string text, proto::channel_kind kind = proto::channel_kind::messenger) {
  proto::outbound_message m;
  m.message_id = "cv_3:2";
  m.conversation_id = "cv_3";
  m.channel = kind == proto::channel_kind::instagram ? "ig-main" : "fb-main";
  m.kind = kind;
  m.recipient = "6789012345678901";
  m.text = std::move(text);
  return m;
}

TEST(MetaSend, ResponseWithinTheWindow) {
  auto m = message("سفارش شما فردا می‌رسد.");
  m.buttons = {{"thanks", "ممنون"}, {"agent", "صحبت با یک اپراتور انسانی"}};
  auto plan = build_send(m, messenger(), 3h);
  ASSERT_EQ(plan.requests.size(), 1u);
  const auto& r = plan.requests[0];
  EXPECT_EQ(r.url, "https://graph.facebook.com/v23.0/me/messages");
  EXPECT_EQ(r.header("Authorization"), "Bearer EAAPage-test-token");
  EXPECT_EQ(r.what, "messenger.messages");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"recipient":{"id":"6789012345678901"},"messaging_type":"RESPONSE",
    "message":{"text":"سفارش شما فردا می‌رسد.","quick_replies":[
      {"content_type":"text","title":"ممنون","payload":"thanks"},
      {"content_type":"text","title":"صحبت با یک اپراتور…","payload":"agent"}]}})"));
}

TEST(MetaSend, HumanAgentTagAndClosedWindow) {
  auto m = message("پاسخ با تاخیر");
  auto body = json::parse(build_send(m, messenger(), 48h).requests[0].body);
  EXPECT_EQ(body["messaging_type"], "MESSAGE_TAG");
  EXPECT_EQ(body["tag"], "HUMAN_AGENT");

  m.automatic = true;
  auto plan = build_send(m, messenger(), 48h);
  ASSERT_TRUE(plan.refused);
  EXPECT_EQ(plan.refused->reason.rfind("window_closed", 0), 0u);
  m.automatic = false;
  EXPECT_TRUE(build_send(m, messenger(), 8 * 24h).refused);
}

std::vector<std::string> texts_of(const send_plan& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan.requests) out.push_back(json::parse(r.body)["message"]["text"].get<std::string>());
  return out;
}

TEST(MetaSend, InstagramSplitsAt1000BytesAndMessengerBelow2000Characters) {
  // 1000 Persian letters are 2000 bytes: Instagram refuses them in one message.
  std::string text;
  while (text_length(text) < 2500) text += "کلمه ";
  auto ig = build_send(message(text, proto::channel_kind::instagram), instagram(), 1h);
  auto fb = build_send(message(text), messenger(), 1h);
  EXPECT_EQ(ig.requests.size(), 5u);
  EXPECT_EQ(fb.requests.size(), 2u);
  for (const auto& part : texts_of(ig)) EXPECT_LE(part.size(), 999u);  // "1000 bytes or less" and "less than 1000"
  for (const auto& r : ig.requests) EXPECT_EQ(r.what, "instagram.messages");
  // "< 2000 characters": exactly 2000 is one too many.
  auto exactly_2000 = texts_of(build_send(message(std::string(2000, 'x')), messenger(), 1h));
  ASSERT_EQ(exactly_2000.size(), 2u);
  EXPECT_EQ(exactly_2000[0].size(), 1999u);
  std::string persian_1999;
  for (int i = 0; i < 1999; ++i) persian_1999 += "س";  // Messenger counts characters, not bytes
  EXPECT_EQ(build_send(message(persian_1999), messenger(), 1h).requests.size(), 1u);
}

TEST(MetaSend, AttachmentsAndTooManyButtons) {
  auto m = message("یکی را انتخاب کنید");
  for (int i = 1; i <= 14; ++i) m.buttons.push_back({"b" + std::to_string(i), std::to_string(i)});
  proto::attachment img;
  img.kind = proto::attachment_kind::image;
  img.provider_ref = "https://cdn.example.ir/p.jpg";
  m.attachments = {img};
  auto plan = build_send(m, messenger(), 1h);
  ASSERT_EQ(plan.requests.size(), 2u);
  auto first = json::parse(plan.requests[0].body);
  EXPECT_FALSE(first["message"].contains("quick_replies"));
  EXPECT_NE(first["message"]["text"].get<std::string>().find("\n14. 14"), std::string::npos);
  EXPECT_EQ(json::parse(plan.requests[1].body)["message"],
            json::parse(R"({"attachment":{"type":"image","payload":{"url":"https://cdn.example.ir/p.jpg","is_reusable":true}}})"));
}

TEST(MetaClassify, Table) {
  struct row {
    int status;
    std::string body;
    outcome_kind kind;
    std::string id_or_reason_prefix;
    std::chrono::milliseconds after;
  };
  const row rows[] = {
      {200, R"({"recipient_id":"6789012345678901","message_id":"m_AG5Hz2Uq7qDEoQnM4dLr7u1s3qK9"})", outcome_kind::delivered,
       "m_AG5Hz2Uq7qDEoQnM4dLr7u1s3qK9", 0ms},
      {400, R"({"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"Ab"}})",
       outcome_kind::permanent, "window_closed", 0ms},
      {400, R"({"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2534022,"fbtrace_id":"Ab"}})",
       outcome_kind::permanent, "window_closed", 0ms},
      {400, R"({"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10,"error_subcode":2018065}})",
       outcome_kind::permanent, "error 10/2018065", 0ms},
      {400, R"({"error":{"message":"(#551) This person isn't available right now.","type":"OAuthException","code":551,"error_subcode":1545041}})",
       outcome_kind::permanent, "recipient_unavailable", 0ms},
      {400, R"({"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001}})",
       outcome_kind::permanent, "no_matching_user", 0ms},
      {400, R"({"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613}})",
       outcome_kind::rate_limited, "rate_limit", 30000ms},
      {500, R"({"error":{"message":"(#1200) Temporary send message failure. Please try again later","type":"OAuthException","code":1200}})",
       outcome_kind::retry, "temporary_send_failure", 0ms},
      {500, R"({"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}})",
       outcome_kind::retry, "service_unavailable", 0ms},
      {400, R"({"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460}})",
       outcome_kind::retry, "invalid_token", 0ms},
      {504, "", outcome_kind::retry, "http 504", 0ms},
  };
  for (const auto& r : rows) {
    auto got = classify(provider_response{r.status, {}, r.body, {}});
    EXPECT_EQ(got.kind, r.kind) << r.body;
    if (r.kind == outcome_kind::delivered) {
      EXPECT_EQ(got.provider_message_id, r.id_or_reason_prefix);
    } else {
      EXPECT_EQ(got.reason.rfind(r.id_or_reason_prefix, 0), 0u) << got.reason;
    }
    EXPECT_EQ(got.retry_after, r.after) << r.body;
  }
}

}  // namespace
}  // namespace pasokh::connectors::meta
