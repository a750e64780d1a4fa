#include <gtest/gtest.h>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/telegram/inbound.hpp"
#include "pasokh/connectors/telegram/outbound.hpp"
#include "test_support.hpp"

namespace pasokh::connectors::telegram {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace t = connectors::testing;

telegram_channel channel() {
  telegram_channel ch;
  ch.id = "tg-main";
  ch.api_base = "https://api.telegram.org";
  ch.bot_token = secret("7000000001:AAE-test-token");
  ch.webhook_secret.current = secret("s3cr3t_T0ken-abc");
  return ch;
}

const std::vector<header_field> good_headers{{"Content-Type", "application/json"},
                                             {"X-Telegram-Bot-Api-Secret-Token", "s3cr3t_T0ken-abc"}};

// ---- inbound: one row per recorded payload in tests/data/telegram --------------

class TelegramPayload : public ::testing::TestWithParam<std::string> {};

TEST_P(TelegramPayload, ParsesAsRecorded) {
  auto body = t::read_file(t::data_dir("telegram") / (GetParam() + ".json"));
  auto expected = json::parse(t::read_file(t::data_dir("telegram") / (GetParam() + ".expected.json")));
  auto result = parse_webhook(t::post("/webhooks/telegram/tg-main", good_headers, body), channel());
  t::expect_matches(result, expected);
}

INSTANTIATE_TEST_SUITE_P(Recorded, TelegramPayload, ::testing::ValuesIn(t::payload_names("telegram")),
                         [](const auto& info) { return info.param; });

TEST(TelegramWebhook, SecretTokenIsRequiredAndCompared) {
  auto body = t::read_file(t::data_dir("telegram") / "text_private_fa.json");
  struct row {
    std::vector<header_field> headers;
    int status;
    webhook_error error;
  };
  const row rows[] = {
      {{}, 401, webhook_error::missing_signature},
      {{{"X-Telegram-Bot-Api-Secret-Token", "wrong"}}, 401, webhook_error::bad_signature},
      {{{"X-Telegram-Bot-Api-Secret-Token", "s3cr3t_T0ken-ab"}}, 401, webhook_error::bad_signature},
      {{{"X-Telegram-Bot-Api-Secret-Token", "s3cr3t_T0ken-abcd"}}, 401, webhook_error::bad_signature},
      {{{"x-telegram-bot-api-secret-token", "s3cr3t_T0ken-abc"}}, 200, webhook_error::none},  // names are case-insensitive
  };
  for (const auto& r : rows) {
    auto result = parse_webhook(t::post("/webhooks/telegram/tg-main", r.headers, body), channel());
    EXPECT_EQ(result.status, r.status);
    EXPECT_EQ(result.error, r.error);
    if (r.status != 200) {
      EXPECT_TRUE(result.events.empty());
    }
  }
}

// During a rotation both tokens are taken; the old one is flagged so the
// gateway can count it.
TEST(TelegramWebhook, PreviousSecretIsTakenDuringARotation) {
  auto body = t::read_file(t::data_dir("telegram") / "text_private_fa.json");
  auto ch = channel();
  ch.webhook_secret.previous = secret("old_T0ken");
  auto by_old = parse_webhook(t::post("/", {{"X-Telegram-Bot-Api-Secret-Token", "old_T0ken"}}, body), ch);
  EXPECT_EQ(by_old.status, 200);
  EXPECT_EQ(by_old.events.size(), 1u);
  EXPECT_TRUE(by_old.by_previous_secret);
  auto by_new = parse_webhook(t::post("/", {{"X-Telegram-Bot-Api-Secret-Token", "s3cr3t_T0ken-abc"}}, body), ch);
  EXPECT_FALSE(by_new.by_previous_secret);
  EXPECT_EQ(parse_webhook(t::post("/", {{"X-Telegram-Bot-Api-Secret-Token", "old_T0ken"}}, body), channel()).status, 401);
}

TEST(TelegramWebhook, AnEmptyConfiguredSecretFailsClosed) {
  auto ch = channel();
  ch.webhook_secret.current = secret("");
  std::vector<header_field> headers{{"X-Telegram-Bot-Api-Secret-Token", ""}};
  EXPECT_EQ(parse_webhook(t::post("/", headers, R"({"update_id":1})"), ch).status, 401);
}

TEST(TelegramWebhook, BadInputGetsA4xxWithAJsonError) {
  struct row {
    std::string body;
    webhook_error error;
  };
  const row rows[] = {
      {"", webhook_error::invalid_json},
      {"{\"update_id\":", webhook_error::invalid_json},
      {"[1,2,3]", webhook_error::invalid_payload},
      {"{\"update_id\":\"x\"}", webhook_error::invalid_payload},
      {"{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,\"type\":\"private\"},\"date\":\"soon\",\"text\":\"x\"}}",
       webhook_error::invalid_payload},
      {"{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1,\"type\":\"private\"},\"date\":1,\"photo\":[]}}",
       webhook_error::invalid_payload},
      {"{\"update_id\":1,\"message\":{\"text\":\"\xff\xfe\"}}", webhook_error::invalid_json},  // invalid UTF-8
  };
  for (const auto& r : rows) {
    auto result = parse_webhook(t::post("/webhooks/telegram/tg-main", good_headers, r.body), channel());
    EXPECT_EQ(result.error, r.error) << r.body;
    EXPECT_EQ(result.status, 400) << r.body;
    auto body = json::parse(result.body);
    EXPECT_EQ(body["error"]["code"], std::string(to_string(r.error)));
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  }
  auto get = t::post("/webhooks/telegram/tg-main", good_headers, "{}");
  get.method = "GET";
  EXPECT_EQ(parse_webhook(get, channel()).status, 405);
}

// Every prefix of every recorded payload: a clean 200 or 400, never a throw or a 500.
TEST(TelegramWebhook, TruncatedPayloadsNeverThrow) {
  for (const auto& name : t::payload_names("telegram")) {
    auto body = t::read_file(t::data_dir("telegram") / (name + ".json"));
    for (std::size_t n = 0; n < body.size(); n += 7) {
      auto result = parse_webhook(t::post("/", good_headers, std::string_view(body).substr(0, n)), channel());
      EXPECT_TRUE(result.status == 200 || result.status == 400) << name << " prefix " << n << ": " << result.body;
    }
  }
}

// ---- outbound ------------------------------------------------------------------

proto::outbound_message message(std::string text) {
  proto::outbound_message m;
  m.message_id = "cv_1:9";
  m.conversation_id = "cv_1";
  m.channel = "tg-main";
  m.kind = proto::channel_kind::telegram;
  m.recipient = "5123456789";
  m.text = std::move(text);
  return m;
}

TEST(TelegramSend, TextWithButtonsAndReply) {
  auto m = message("موضوع درخواست شما؟");
  m.buttons = {{"topic:warranty", "گارانتی"}, {"topic:return", "مرجوعی"}};
  m.reply_to = "5123456789:1042";
  auto plan = build_send(m, channel());
  ASSERT_FALSE(plan.refused);
  ASSERT_EQ(plan.requests.size(), 1u);
  const auto& r = plan.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.telegram.org/bot7000000001:AAE-test-token/sendMessage");
  EXPECT_EQ(r.what, "telegram.sendMessage");
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto body = json::parse(r.body);
  EXPECT_EQ(body["chat_id"], 5123456789LL);  // a number, exact beyond 32 bits
  EXPECT_EQ(body["text"], "موضوع درخواست شما؟");
  EXPECT_EQ(body["reply_parameters"]["message_id"], 1042);
  EXPECT_EQ(body["reply_markup"]["inline_keyboard"],
            json::parse(R"([[{"text":"گارانتی","callback_data":"topic:warranty"}],[{"text":"مرجوعی","callback_data":"topic:return"}]])"));
}

TEST(TelegramSend, LongTextIsSplitAndKeyboardGoesLast) {
  std::string word = "سلام 😀 ";  // the emoji is two UTF-16 units
  std::string text;
  while (text_length(text, text_unit::utf16) < 9000) text += word;
  auto m = message(text);
  m.buttons = {{"ok", "باشه"}};
  m.reply_to = "5123456789:7";
  auto plan = build_send(m, channel());
  ASSERT_EQ(plan.requests.size(), 3u);
  std::string joined;
  for (std::size_t i = 0; i < plan.requests.size(); ++i) {
    auto body = json::parse(plan.requests[i].body);
    auto part = body["text"].get<std::string>();
    EXPECT_LE(text_length(part, text_unit::utf16), max_text);
    EXPECT_EQ(body.contains("reply_markup"), i == 2);
    EXPECT_EQ(body.contains("reply_parameters"), i == 0);
    joined += part + " ";
  }
  EXPECT_EQ(joined, text);  // only the spaces at the breaks were dropped
}

TEST(TelegramSend, ButtonsThatDoNotFitCallbackDataBecomeNumberedLines) {
  auto m = message("یکی را انتخاب کنید");
  m.buttons = {{std::string(65, 'x'), "الف"}, {"b", "ب"}};
  auto plan = build_send(m, channel());
  ASSERT_EQ(plan.requests.size(), 1u);
  auto body = json::parse(plan.requests[0].body);
  EXPECT_FALSE(body.contains("reply_markup"));
  EXPECT_EQ(body["text"], "یکی را انتخاب کنید\n\n1. الف\n2. ب");
}

TEST(TelegramSend, AttachmentsUseTheirMethod) {
  auto m = message("");
  proto::attachment photo;
  photo.kind = proto::attachment_kind::image;
  photo.provider_ref = "https://cdn.example.ir/manual.jpg";
  photo.caption = "راهنما";
  proto::attachment place;
  place.kind = proto::attachment_kind::location;
  place.latitude = 35.7;
  place.longitude = 51.4;
  m.attachments = {photo, place};
  auto plan = build_send(m, channel());
  ASSERT_EQ(plan.requests.size(), 2u);
  EXPECT_EQ(plan.requests[0].what, "telegram.sendPhoto");
  EXPECT_EQ(json::parse(plan.requests[0].body)["photo"], "https://cdn.example.ir/manual.jpg");
  EXPECT_EQ(json::parse(plan.requests[0].body)["caption"], "راهنما");
  EXPECT_EQ(plan.requests[1].what, "telegram.sendLocation");
}

TEST(TelegramSend, NothingToSendIsRefused) {
  EXPECT_EQ(build_send(message(""), channel()).refused->kind, outcome_kind::permanent);
  auto m = message("x");
  m.recipient.clear();
  EXPECT_TRUE(build_send(m, channel()).requests.empty());
  EXPECT_EQ(window_rule(std::nullopt), send_window::open);
}

TEST(TelegramSend, AnswerCallbackQuery) {
  auto r = build_answer_callback("4382bfdwdsb323b2d9", channel());
  EXPECT_EQ(r.url, "https://api.telegram.org/bot7000000001:AAE-test-token/answerCallbackQuery");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"callback_query_id":"4382bfdwdsb323b2d9"})"));
}

// ---- response classification -------------------------------------------------

TEST(TelegramClassify, Table) {
  struct row {
    int status;
    std::string body;
    std::vector<http_header> headers;
    outcome_kind kind;
    std::string id_or_reason_prefix;
    std::chrono::milliseconds after;
  };
  const row rows[] = {
      {200, R"({"ok":true,"result":{"message_id":2001,"from":{"id":7000000001,"is_bot":true},"chat":{"id":5123456789,"type":"private"},"date":1763800000,"text":"x"}})",
       {}, outcome_kind::delivered, "5123456789:2001", 0ms},
      {200, R"({"ok":true,"result":true})", {}, outcome_kind::delivered, "", 0ms},
      {429, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})",
       {}, outcome_kind::rate_limited, "rate_limited: Too Many Requests", 7000ms},
      {429, "", {{"Retry-After", "3"}}, outcome_kind::rate_limited, "http 429", 3000ms},
      {403, R"({"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"})", {},
       outcome_kind::permanent, "blocked: Forbidden: bot was blocked by the user", 0ms},
      {403, R"({"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"})", {},
       outcome_kind::permanent, "blocked: Forbidden: user is deactivated", 0ms},
      {400, R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})", {}, outcome_kind::permanent,
       "bad_request: Bad Request: chat not found", 0ms},
      // A revoked token: retried until an admin renews it, as Meta's error 190.
      {401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})", {}, outcome_kind::retry,
       "invalid_token: Unauthorized", 0ms},
      {500, R"({"ok":false,"error_code":500,"description":"Internal Server Error"})", {}, outcome_kind::retry, "http 500", 0ms},
      {502, "<html>Bad Gateway</html>", {}, outcome_kind::retry, "http 502", 0ms},
  };
  for (const auto& r : rows) {
    provider_response resp{r.status, r.headers, r.body, {}};
    auto got = classify(resp);
    EXPECT_EQ(got.kind, r.kind) << r.body;
    if (r.kind == outcome_kind::delivered) {
      EXPECT_EQ(got.provider_message_id, r.id_or_reason_prefix);
    } else {
      EXPECT_EQ(got.reason.rfind(r.id_or_reason_prefix, 0), 0u) << got.reason;
    }
    EXPECT_EQ(got.retry_after, r.after) << r.body;
  }
  auto timeout = classify(provider_response{0, {}, {}, "timeout"});
  EXPECT_EQ(timeout.kind, outcome_kind::retry);
  EXPECT_EQ(timeout.reason, "transport: timeout");
}

TEST(TelegramClassify, A429LeavesItsScopeToTheOutbox) {
  // The same answer for ~1 message/s in one chat and ~30/s overall.
  auto with_params = classify(provider_response{
      429, {}, R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}})", {}});
  EXPECT_EQ(with_params.scope, rate_scope::unknown);
  EXPECT_EQ(classify(provider_response{429, {}, "", {}}).scope, rate_scope::unknown);
}

}  // namespace
}  // namespace pasokh::connectors::telegram
