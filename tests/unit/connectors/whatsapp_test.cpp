#include <gtest/gtest.h>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/whatsapp/inbound.hpp"
#include "pasokh/connectors/whatsapp/outbound.hpp"
#include "test_support.hpp"

namespace pasokh::connectors::whatsapp {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace t = connectors::testing;

constexpr std::string_view app_secret = "6f1c1e0b8a9d4c2e9b7a5d3c1e0f2a4b";

whatsapp_channel channel() {
  whatsapp_channel ch;
  ch.id = "wa-main";
  ch.phone_number_id = "106540352242922";
  ch.api_base = "https://graph.facebook.com";
  ch.api_version = "v23.0";
  ch.access_token = secret("EAAG-test-token");
  ch.app_secret.current = secret(std::string(app_secret));
  ch.verify_token = secret("verify-me-123");
  ch.template_language = "fa";
  ch.list_button = "گزینه‌ها";
  return ch;
}

webhook_result parse_signed(const std::string& body, const account_router& route = {}) {
  std::string sig = t::hub_signature(app_secret, body);
  std::vector<header_field> headers{{"X-Hub-Signature-256", sig}};
  return parse_webhook(t::post("/webhooks/whatsapp/wa-main", headers, body), channel(), route);
}

// ---- inbound -------------------------------------------------------------------

class WhatsAppPayload : public ::testing::TestWithParam<std::string> {};

TEST_P(WhatsAppPayload, ParsesAsRecorded) {
  auto body = t::read_file(t::data_dir("whatsapp") / (GetParam() + ".json"));
  auto expected = json::parse(t::read_file(t::data_dir("whatsapp") / (GetParam() + ".expected.json")));
  t::expect_matches(parse_signed(body), expected);
}

INSTANTIATE_TEST_SUITE_P(Recorded, WhatsAppPayload, ::testing::ValuesIn(t::payload_names("whatsapp")),
                         [](const auto& info) { return info.param; });

TEST(WhatsAppWebhook, PayloadsKeepPersianEscapedAndSignatureCoversTheRawBytes) {
  auto body = t::read_file(t::data_dir("whatsapp") / "text_fa.json");
  // Recorded as Meta sends it: non-ASCII as \uXXXX, '/' as '\/'.
  EXPECT_NE(body.find("\\u0633\\u0644\\u0627\\u0645"), std::string::npos);
  EXPECT_TRUE(parse_signed(body).ok());

  // The same JSON re-serialized (different bytes) no longer matches the signature.
  std::string sig = t::hub_signature(app_secret, body);
  std::vector<header_field> headers{{"X-Hub-Signature-256", sig}};
  auto reserialized = json::parse(body).dump();
  ASSERT_NE(reserialized, body);
  EXPECT_EQ(parse_webhook(t::post("/", headers, reserialized), channel()).error, webhook_error::bad_signature);
}

TEST(WhatsAppWebhook, SignatureTable) {
  auto body = t::read_file(t::data_dir("whatsapp") / "text_fa.json");
  auto good = t::hub_signature(app_secret, body);
  std::string upper_hex = "sha256=";
  for (char c : good.substr(7)) upper_hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string tampered = body;
  tampered[tampered.size() / 2] ^= 1;
  struct row {
    std::vector<header_field> headers;
    std::string body;
    webhook_error error;
  };
  const row rows[] = {
      {{}, body, webhook_error::missing_signature},
      {{{"X-Hub-Signature-256", ""}}, body, webhook_error::missing_signature},
      {{{"X-Hub-Signature-256", good.substr(7)}}, body, webhook_error::bad_signature},  // no "sha256="
      {{{"X-Hub-Signature-256", "sha1=" + good.substr(7)}}, body, webhook_error::bad_signature},
      {{{"X-Hub-Signature-256", t::hub_signature("other-secret", body)}}, body, webhook_error::bad_signature},
      {{{"X-Hub-Signature-256", good}}, tampered, webhook_error::bad_signature},
      {{{"x-hub-signature-256", good}}, body, webhook_error::none},
      {{{"X-Hub-Signature-256", upper_hex}}, body, webhook_error::none},
  };
  for (const auto& r : rows) {
    auto result = parse_webhook(t::post("/", r.headers, r.body), channel());
    EXPECT_EQ(result.error, r.error);
    EXPECT_EQ(result.status, http_status(r.error));
  }
}

TEST(WhatsAppWebhook, VerificationHandshake) {
  struct row {
    std::string target;
    int status;
    std::string body;
  };
  const row rows[] = {
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me-123", 200, "1158201444"},
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=verify%2Dme%2D123&hub.challenge=a%2Db", 200, "a-b"},
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong", 403, ""},
      {"/webhooks/whatsapp/wa-main?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=verify-me-123", 403, ""},
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=verify-me-123", 403, ""},
      {"/webhooks/whatsapp/wa-main", 403, ""},
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=verify-me-123&hub.challenge=%3Cscript%3E+x", 403, ""},
      {"/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=verify-me-123&hub.challenge=", 403, ""},
  };
  for (const auto& r : rows) {
    webhook_request req;
    req.method = "GET";
    req.target = r.target;
    auto result = parse_webhook(req, channel());
    EXPECT_EQ(result.status, r.status) << r.target;
    if (r.status == 200) {
      EXPECT_EQ(result.body, r.body);
      EXPECT_EQ(result.content_type.rfind("text/plain", 0), 0u);
    } else {
      EXPECT_EQ(result.error, webhook_error::verify_failed);
    }
  }
}

TEST(WhatsAppWebhook, EmptyConfiguredSecretsFailClosed) {
  auto ch = channel();
  ch.app_secret.current = secret("");
  ch.verify_token = secret("");
  std::vector<header_field> headers{{"X-Hub-Signature-256", t::hub_signature("", "{}")}};
  EXPECT_EQ(parse_webhook(t::post("/", headers, "{}"), ch).status, 401);
  webhook_request get;
  get.method = "GET";
  get.target = "/?hub.mode=subscribe&hub.verify_token=&hub.challenge=1";
  EXPECT_EQ(parse_webhook(get, ch).status, 403);
}

TEST(WhatsAppWebhook, OtherNumbersGoToTheRouter) {
  auto body = t::read_file(t::data_dir("whatsapp") / "other_phone_number.json");
  auto result = parse_signed(body, [](std::string_view number) -> std::optional<std::string> {
    if (number == "999999999999999") return "wa-second";
    return std::nullopt;
  });
  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].from.channel, "wa-second");
  EXPECT_TRUE(result.counters.empty());
}

std::string batch(const std::vector<std::string>& messages) {
  std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",)"
      R"("value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},)"
      R"("contacts":[{"profile":{"name":"Maryam"},"wa_id":"989121234567"}],"messages":[)";
  for (std::size_t i = 0; i < messages.size(); ++i) body += (i ? "," : "") + messages[i];
  return body + "]}}]}]}";
}

std::string text_message(std::string_view id, std::string_view text) {
  return R"({"from":"989121234567","id":")" + std::string(id) + R"(","timestamp":"1763800123","type":"text","text":{"body":")" +
         std::string(text) + R"("}})";
}

TEST(WhatsAppWebhook, AMessageWeCannotReadIsLeftOutAloneAndNamedByItsPlace) {
  struct row {
    std::string bad;
    std::string note;
  };
  const row rows[] = {
      {R"({"from":"989121234567","id":"wamid.B","timestamp":"1763800123","type":"location","location":{"latitude":35.7}})",
       "entry[0].changes[0].value.messages[1].location needs latitude and longitude"},
      {R"({"from":"989121234567","timestamp":"1763800123","type":"text","text":{"body":"no id"}})",
       "entry[0].changes[0].value.messages[1].id must be a string"},
      {R"({"from":"989121234567","id":"wamid.B","type":"text","text":{"body":"no time"}})",
       "entry[0].changes[0].value.messages[1].timestamp must be an integer"},
      {R"({"from":"989121234567","id":"wamid.B","timestamp":"1763800123","type":"image","image":{"caption":"x"}})",
       "entry[0].changes[0].value.messages[1].image.id must be a string"},
      {R"({"from":"989121234567","id":"wamid.B","timestamp":"1763800123","type":"text","text":{}})",
       "entry[0].changes[0].value.messages[1].text.body must be a string"},
  };
  for (const auto& r : rows) {
    auto result = parse_signed(batch({text_message("wamid.A", "first"), r.bad, text_message("wamid.C", "third")}));
    ASSERT_TRUE(result.ok()) << result.body;
    ASSERT_EQ(result.events.size(), 2u) << r.note;
    EXPECT_EQ(result.events[0].provider_message_id, "wamid.A");
    EXPECT_EQ(result.events[1].provider_message_id, "wamid.C");
    EXPECT_EQ(result.counters.at("ignored_malformed"), 1u);
    ASSERT_EQ(result.skipped.size(), 1u);
    EXPECT_EQ(result.skipped[0].note, r.note);
  }
}

TEST(WhatsAppWebhook, AStatusOrChangeWeCannotReadIsLeftOutAlone) {
  // A good message in the first entry; a status without an id and a change
  // without a value in the second.
  auto body = batch({text_message("wamid.A", "first")});
  body.insert(body.size() - 2,
              R"(,{"id":"102290129340398","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},)"
              R"("statuses":[{"status":"read","timestamp":"1"},{"id":"wamid.S","status":"delivered","recipient_id":"989121234567"}]}},)"
              R"({"field":"messages"}]},{"id":"102290129340398"})");
  auto result = parse_signed(body);
  ASSERT_TRUE(result.ok()) << result.body;
  ASSERT_EQ(result.events.size(), 2u);
  EXPECT_EQ(result.events[0].provider_message_id, "wamid.A");
  EXPECT_EQ(result.events[1].provider_message_id, "wamid.S");
  EXPECT_EQ(result.counters.at("ignored_malformed"), 3u);
  ASSERT_EQ(result.skipped.size(), 3u);
  EXPECT_EQ(result.skipped[0].note, "entry[1].changes[0].value.statuses[0].id must be a string");
  EXPECT_EQ(result.skipped[1].note, "entry[1].changes[1].value must be an object");
  EXPECT_EQ(result.skipped[2].note, "entry[2].changes must be an array");
}

TEST(WhatsAppWebhook, OnlyABodyWithoutEntriesIsRefused) {
  for (std::string body :
       {R"({"object":"whatsapp_business_account"})", R"({"object":"whatsapp_business_account","entry":{}})", R"([1])"}) {
    auto result = parse_signed(body);
    EXPECT_EQ(result.status, 400) << body;
    EXPECT_EQ(result.error, webhook_error::invalid_payload) << body;
  }
  auto other = parse_signed(R"({"object":"page","entry":[]})");
  EXPECT_EQ(other.status, 200);
  ASSERT_EQ(other.skipped.size(), 1u);
  EXPECT_NE(other.skipped[0].note.find("object \"page\" came to the WhatsApp channel wa-main's URL"), std::string::npos)
      << other.skipped[0].note;
}

TEST(WhatsAppWebhook, TruncatedPayloadsNeverThrow) {
  for (const auto& name : t::payload_names("whatsapp")) {
    auto body = t::read_file(t::data_dir("whatsapp") / (name + ".json"));
    for (std::size_t n = 0; n < body.size(); n += 11) {
      auto result = parse_signed(body.substr(0, n));
      EXPECT_TRUE(result.status == 200 || result.status == 400) << name << " prefix " << n << ": " << result.body;
    }
  }
}

// ---- outbound ------------------------------------------------------------------

proto::outbound_message message(std::string text) {
  proto::outbound_message m;
  m.message_id = "cv_2:4";
  m.conversation_id = "cv_2";
  m.channel = "wa-main";
  m.kind = proto::channel_kind::whatsapp;
  m.recipient = "989121234567";
  m.text = std::move(text);
  return m;
}

TEST(WhatsAppWindow, Rule) {
  EXPECT_EQ(window_rule(0ms), send_window::open);
  EXPECT_EQ(window_rule(23h + 59min), send_window::open);
  EXPECT_EQ(window_rule(24h), send_window::template_only);
  EXPECT_EQ(window_rule(72h), send_window::template_only);
  EXPECT_EQ(window_rule(std::nullopt), send_window::template_only);
}

TEST(WhatsAppSend, TextInsideTheWindow) {
  auto m = message("گوشی شما آماده تحویل است.");
  m.reply_to = "wamid.HBgMOTg5MTIxMjM0NTY3";
  auto plan = build_send(m, channel(), 2h);
  ASSERT_EQ(plan.requests.size(), 1u);
  const auto& r = plan.requests[0];
  EXPECT_EQ(r.url, "https://graph.facebook.com/v23.0/106540352242922/messages");
  EXPECT_EQ(r.header("Authorization"), "Bearer EAAG-test-token");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual",
    "to":"989121234567","type":"text","text":{"body":"گوشی شما آماده تحویل است.","preview_url":false},
    "context":{"message_id":"wamid.HBgMOTg5MTIxMjM0NTY3"}})"));
}

TEST(WhatsAppSend, OutsideTheWindowOnlyTemplates) {
  auto plan = build_send(message("سلام"), channel(), 25h);
  ASSERT_TRUE(plan.refused);
  EXPECT_EQ(plan.refused->kind, outcome_kind::permanent);
  EXPECT_EQ(plan.refused->reason.rfind("window_closed", 0), 0u);

  auto m = message("");
  m.template_name = "support_followup";
  m.template_params = {"مریم", "RMA-1403-77"};
  plan = build_send(m, channel(), 25h);
  ASSERT_EQ(plan.requests.size(), 1u);
  EXPECT_EQ(json::parse(plan.requests[0].body)["template"], json::parse(R"({"name":"support_followup",
    "language":{"code":"fa"},"components":[{"type":"body","parameters":[{"type":"text","text":"مریم"},
    {"type":"text","text":"RMA-1403-77"}]}]})"));
  m.template_language = "ar";
  m.template_params.clear();
  EXPECT_EQ(json::parse(build_send(m, channel(), std::nullopt).requests[0].body)["template"],
            json::parse(R"({"name":"support_followup","language":{"code":"ar"}})"));
}

TEST(WhatsAppSend, ButtonsBecomeReplyButtonsListOrNumberedText) {
  auto three = message("موضوع؟");
  three.buttons = {{"w", "گارانتی"}, {"r", "مرجوعی"}, {"x", "تعمیر"}};
  auto body = json::parse(build_send(three, channel(), 1h).requests[0].body);
  EXPECT_EQ(body["type"], "interactive");
  EXPECT_EQ(body["interactive"]["type"], "button");
  EXPECT_EQ(body["interactive"]["body"]["text"], "موضوع؟");
  EXPECT_EQ(body["interactive"]["action"]["buttons"].size(), 3u);
  EXPECT_EQ(body["interactive"]["action"]["buttons"][1], json::parse(R"({"type":"reply","reply":{"id":"r","title":"مرجوعی"}})"));

  auto five = three;
  five.buttons.push_back({"t", "آموزش"});
  five.buttons.push_back({"o", "سایر"});
  body = json::parse(build_send(five, channel(), 1h).requests[0].body);
  EXPECT_EQ(body["interactive"]["type"], "list");
  EXPECT_EQ(body["interactive"]["action"]["button"], "گزینه‌ها");
  EXPECT_EQ(body["interactive"]["action"]["sections"][0]["rows"].size(), 5u);

  auto long_titles = three;
  long_titles.buttons[0].title = "یک عنوان بسیار بلند برای دکمه";  // 28 characters: too long for a row too
  body = json::parse(build_send(long_titles, channel(), 1h).requests[0].body);
  EXPECT_EQ(body["type"], "text");
  EXPECT_EQ(body["text"]["body"], "موضوع؟\n\n1. یک عنوان بسیار بلند برای دکمه\n2. مرجوعی\n3. تعمیر");

  auto eleven = message("کدام شعبه؟");
  for (int i = 0; i < 11; ++i) eleven.buttons.push_back({"b" + std::to_string(i), "شعبه " + std::to_string(i)});
  body = json::parse(build_send(eleven, channel(), 1h).requests[0].body);
  EXPECT_EQ(body["type"], "text");
}

TEST(WhatsAppSend, LongTextWithButtonsKeepsTheInteractiveBodyShort) {
  std::string text;
  while (text_length(text) < 5000) text += "متن طولانی برای آزمایش. ";
  auto m = message(text);
  m.buttons = {{"y", "بله"}, {"n", "خیر"}};
  auto plan = build_send(m, channel(), 1h);
  ASSERT_GE(plan.requests.size(), 2u);
  for (std::size_t i = 0; i + 1 < plan.requests.size(); ++i) {
    auto b = json::parse(plan.requests[i].body);
    EXPECT_EQ(b["type"], "text");
    EXPECT_LE(text_length(b["text"]["body"].get<std::string>()), max_text);
  }
  auto last = json::parse(plan.requests.back().body);
  EXPECT_EQ(last["type"], "interactive");
  EXPECT_LE(text_length(last["interactive"]["body"]["text"].get<std::string>()), max_interactive_body);
}

TEST(WhatsAppSend, BusinessScopedRecipientAndMedia) {
  auto m = message("");
  m.recipient = "IR.13491208655302741918";
  proto::attachment doc;
  doc.kind = proto::attachment_kind::document;
  doc.provider_ref = "https://cdn.example.ir/warranty.pdf";
  doc.name = "warranty.pdf";
  doc.caption = "برگه گارانتی";
  m.attachments = {doc};
  auto plan = build_send(m, channel(), 1h);
  ASSERT_EQ(plan.requests.size(), 1u);
  auto body = json::parse(plan.requests[0].body);
  EXPECT_FALSE(body.contains("to"));
  EXPECT_EQ(body["recipient"], "IR.13491208655302741918");
  EXPECT_EQ(body["document"], json::parse(R"({"link":"https://cdn.example.ir/warranty.pdf","filename":"warranty.pdf","caption":"برگه گارانتی"})"));
}

// ---- response classification -------------------------------------------------

TEST(WhatsAppClassify, Table) {
  auto graph_error = [](int code, std::string_view message) {
    return json{{"error", {{"message", message}, {"type", "OAuthException"}, {"code", code}, {"fbtrace_id", "AbCdEf"}}}}.dump();
  };
  struct row {
    int status;
    std::string body;
    outcome_kind kind;
    std::string id_or_reason_prefix;
    std::chrono::milliseconds after;
  };
  const row rows[] = {
      {200, R"({"messaging_product":"whatsapp","contacts":[{"input":"989121234567","wa_id":"989121234567"}],"messages":[{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3"}]})",
       outcome_kind::delivered, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3", 0ms},
      {400, R"({"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}})",
       outcome_kind::permanent, "window_closed: (#131047) Re-engagement message: Message failed", 0ms},
      {400, graph_error(130429, "(#130429) Rate limit hit"), outcome_kind::rate_limited, "throughput_limit", 1000ms},
      {400, graph_error(131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit"), outcome_kind::rate_limited, "pair_rate_limit", 6000ms},
      {400, graph_error(131026, "(#131026) Message Undeliverable"), outcome_kind::permanent, "error 131026", 0ms},
      {401, graph_error(190, "Error validating access token"), outcome_kind::retry, "invalid_token", 0ms},
      {500, graph_error(131000, "Something went wrong"), outcome_kind::retry, "provider_error", 0ms},
      {503, graph_error(133004, "Server temporarily unavailable"), outcome_kind::retry, "server_unavailable", 0ms},
      {400, R"({"error":{"message":"temporary","code":9999,"is_transient":true}})", outcome_kind::retry, "transient", 0ms},
      {502, "Bad Gateway", outcome_kind::retry, "http 502", 0ms},
      {429, "", outcome_kind::rate_limited, "http 429", 1000ms},
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
  auto with_header = classify(provider_response{400, {{"Retry-After", "12"}}, graph_error(130429, "limit"), {}});
  EXPECT_EQ(with_header.retry_after, 12000ms);
  // Throughput holds back the number; the pair limit only the one customer.
  EXPECT_EQ(with_header.scope, rate_scope::account);
  EXPECT_EQ(classify(provider_response{400, {}, graph_error(131056, "pair rate limit hit"), {}}).scope, rate_scope::recipient);
  EXPECT_EQ(classify(provider_response{0, {}, {}, "connect: Connection refused"}).kind, outcome_kind::retry);
}

}  // namespace
}  // namespace pasokh::connectors::whatsapp
