// The Mailgun-style webhook's pure parts: form decoding, the signature and
// freshness check, and the fields rebuilt into a message that parse_email reads.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/mailgun.hpp"
#include "pasokh/connectors/email/parse.hpp"

namespace pasokh::connectors::email {
namespace {

using std::chrono::seconds;

std::string hmac_hex(std::string_view key, std::string_view data) { return hmac_sha256_hex(key, data); }

std::vector<form_field> signed_fields(std::string key, std::int64_t timestamp, std::string token) {
  auto ts = std::to_string(timestamp);
  return {{"timestamp", ts, {}, {}}, {"token", token, {}, {}}, {"signature", hmac_hex(key, ts + token), {}, {}}};
}

TEST(MailgunForm, Urlencoded) {
  auto r = parse_form("application/x-www-form-urlencoded; charset=utf-8", "a=1&body-plain=%D8%B3%D9%84%D8%A7%D9%85+x&&b");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.fields.size(), 3u);
  EXPECT_EQ(r.fields[1].name, "body-plain");
  EXPECT_EQ(r.fields[1].value, "سلام x");
  EXPECT_EQ(r.fields[2].name, "b");
  EXPECT_EQ(r.fields[2].value, "");
}

TEST(MailgunForm, MultipartWithFile) {
  std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nسلام\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"a \\\"b\\\".pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n%PDF\r\n--not-the-boundary\r\n"
      "--XyZ--\r\n";
  auto r = parse_form("multipart/form-data; boundary=\"XyZ\"", body);
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[0].name, "subject");
  EXPECT_EQ(r.fields[0].value, "سلام");
  EXPECT_EQ(r.fields[1].filename, "a \"b\".pdf");
  EXPECT_EQ(r.fields[1].content_type, "application/pdf");
  EXPECT_EQ(r.fields[1].value, "%PDF\r\n--not-the-boundary");
}

TEST(MailgunForm, Refusals) {
  EXPECT_TRUE(parse_form("application/json", "{}").unsupported_type);
  EXPECT_FALSE(parse_form("multipart/form-data", "--x\r\n").error.empty());  // no boundary
  EXPECT_FALSE(parse_form("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\nv")
                   .error.empty());  // truncated
  std::string many;
  for (int i = 0; i < 20; ++i) many += "f=1&";
  EXPECT_FALSE(parse_form("application/x-www-form-urlencoded", many, 10).error.empty());
}

TEST(MailgunSignature, Table) {
  const std::string key = "key-abc";
  const std::int64_t now = 1'763'800'000;
  EXPECT_EQ(check_mailgun_signature(signed_fields(key, now, "tok1"), key, seconds(now), seconds(300)), mailgun_check::ok);
  EXPECT_EQ(check_mailgun_signature(signed_fields(key, now - 299, "t"), key, seconds(now), seconds(300)), mailgun_check::ok);
  EXPECT_EQ(check_mailgun_signature(signed_fields("other", now, "tok1"), key, seconds(now), seconds(300)),
            mailgun_check::bad_signature);
  EXPECT_EQ(check_mailgun_signature(signed_fields(key, now - 301, "t"), key, seconds(now), seconds(300)),
            mailgun_check::stale_timestamp);
  EXPECT_EQ(check_mailgun_signature(signed_fields(key, now + 301, "t"), key, seconds(now), seconds(300)),
            mailgun_check::stale_timestamp);
  auto upper = signed_fields(key, now, "tok1");
  for (auto& c : upper[2].value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(check_mailgun_signature(upper, key, seconds(now), seconds(300)), mailgun_check::ok);
  auto tampered = signed_fields(key, now, "tok1");
  tampered[1].value = "tok2";
  EXPECT_EQ(check_mailgun_signature(tampered, key, seconds(now), seconds(300)), mailgun_check::bad_signature);
  EXPECT_EQ(check_mailgun_signature({}, key, seconds(now), seconds(300)), mailgun_check::missing_signature);
}

TEST(MailgunMessage, FieldsBecomeAMessageThatParsesBack) {
  std::vector<form_field> fields = {
      {"sender", "maryam@example.net", {}, {}},
      {"recipient", "Support@Shop.example, reply+abc@shop.example", {}, {}},
      {"from", "Maryam <maryam@example.net>", {}, {}},
      {"subject", "گارانتی\r\nBcc: evil@example.com", {}, {}},
      {"body-plain", "سلام، گارانتی دارد؟", {}, {}},
      {"body-html", "<p>سلام، گارانتی دارد؟</p>", {}, {}},
      {"Message-Id", "<m-1@example.net>", {}, {}},
      {"In-Reply-To", "parent@example.net", {}, {}},
      {"message-headers", R"([["Auto-Submitted","auto-replied"],["Content-Type","text/plain"],["Bad Name","x"]])", {}, {}},
      {"attachment-1", "file bytes", "invoice.txt", "text/plain"},
  };
  auto mail = mailgun_message(fields, 1'763'800'000'000);
  EXPECT_EQ(mail.sender, "maryam@example.net");
  EXPECT_EQ(mail.recipients, (std::vector<std::string>{"support@shop.example", "reply+abc@shop.example"}));
  EXPECT_EQ(mail.raw.find("\r\nBcc:"), std::string::npos) << "no header injection";
  EXPECT_EQ(mail.raw.find("Bad Name"), std::string::npos);

  email_config config;
  config.recipients.addresses = {"support@shop.example"};
  auto parsed = parse_email(mail.raw, config);
  EXPECT_TRUE(parsed.warning.empty()) << parsed.warning;
  EXPECT_EQ(parsed.message_id, "m-1@example.net");
  EXPECT_EQ(parsed.in_reply_to, "parent@example.net");
  EXPECT_EQ(parsed.from.address, "maryam@example.net");
  EXPECT_EQ(parsed.event.text, "سلام، گارانتی دارد؟");
  EXPECT_TRUE(parsed.event.automatic);
  ASSERT_EQ(parsed.attachments.size(), 1u);
  EXPECT_EQ(parsed.attachments[0].meta.name, "invoice.txt");
  EXPECT_EQ(parsed.attachments[0].content, "file bytes");
}

// Mailgun does not always post Message-Id, In-Reply-To and References as
// fields of their own; message-headers has them. The envelope sender is the
// Return-Path, empty for a bounce.
TEST(MailgunMessage, ThreadingHeadersAndReturnPathFromMessageHeaders) {
  std::vector<form_field> fields = {
      {"sender", "", {}, {}},
      {"recipient", "support@shop.example", {}, {}},
      {"from", "notices@mx.example.net", {}, {}},
      {"body-plain", "Your message could not be delivered.", {}, {}},
      {"message-headers", R"([["Message-Id","<dsn-9@mx.example.net>"],["In-Reply-To","<ours-1@shop.example>"],)"
                          R"(["References","<a@example.net> <ours-1@shop.example>"]])", {}, {}},
  };
  email_config config;
  config.recipients.addresses = {"support@shop.example"};
  auto parsed = parse_email(mailgun_message(fields, 1'763'800'000'000).raw, config);
  EXPECT_EQ(parsed.message_id, "dsn-9@mx.example.net");
  EXPECT_EQ(parsed.event.dedup_key, "from:" + pasokh::connectors::sha256_hex("notices@mx.example.net").substr(0, 16) +
                                       ":dsn-9@mx.example.net");
  EXPECT_EQ(parsed.in_reply_to, "ours-1@shop.example");
  EXPECT_EQ(parsed.references, (std::vector<std::string>{"a@example.net", "ours-1@shop.example"}));
  EXPECT_EQ(parsed.automatic_reason, "empty Return-Path");

  // A person's mail: the sender becomes the Return-Path, which says nothing automatic.
  fields[0].value = "maryam@example.net";
  fields[2].value = "maryam@example.net";
  parsed = parse_email(mailgun_message(fields, 1'763'800'000'000).raw, config);
  EXPECT_FALSE(parsed.event.automatic) << parsed.automatic_reason;
  EXPECT_EQ(parsed.in_reply_to, "ours-1@shop.example");
}

TEST(MailgunMessage, RawMimeIsTakenAsIs) {
  std::vector<form_field> fields = {{"recipient", "support@shop.example", {}, {}},
                                    {"body-mime", "From: a@b.example\r\n\r\nhi\r\n", {}, {}}};
  auto mail = mailgun_message(fields, 0);
  EXPECT_EQ(mail.raw, "From: a@b.example\r\n\r\nhi\r\n");
}

std::optional<std::string> test_env(const char* name) {
  if (std::string_view(name) == "MG_KEY") return std::string("key-from-env");
  return std::nullopt;
}

TEST(MailgunConfig, WebhookNeedsItsKeyAndNoStrangers) {
  auto provider = [](nlohmann::json webhook) {
    return nlohmann::json{{"support_addresses", {"support@shop.example"}}, {"webhook", std::move(webhook)}};
  };
  auto c = parse_email_config(provider({{"signing_key_env", "MG_KEY"}, {"max_age_s", 120}}), "mail", test_env);
  EXPECT_TRUE(c.webhook.enabled());
  EXPECT_EQ(c.webhook.signing_key, "key-from-env");
  EXPECT_EQ(c.webhook.max_age, seconds(120));
  EXPECT_FALSE(parse_email_config(nlohmann::json{{"support_addresses", {"a@b.example"}}}, "mail", test_env).webhook.enabled());
  EXPECT_THROW(parse_email_config(provider({{"signing_key_env", "UNSET"}}), "mail", test_env), std::runtime_error);
  EXPECT_THROW(parse_email_config(provider(nlohmann::json::object()), "mail", test_env), std::runtime_error);
  EXPECT_THROW(parse_email_config(provider({{"signing_key_env", "MG_KEY"}, {"max_age", 1}}), "mail", test_env),
               std::runtime_error);
  EXPECT_THROW(parse_email_config(provider({{"signing_key_env", "MG_KEY"}, {"max_age_s", 5}}), "mail", test_env),
               std::runtime_error);
}

}  // namespace
}  // namespace pasokh::connectors::email
