#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/common/hub.hpp"
#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/connectors/common/webhook.hpp"

namespace pasokh::connectors {
namespace {

using namespace std::chrono_literals;

TEST(WebhookRequest, QueryParametersAreDecoded) {
  webhook_request r;
  r.target = "/webhooks/whatsapp/wa?hub.mode=subscribe&hub.verify_token=a%2Bb%20c&hub.challenge=x+y&empty=&flag#frag";
  struct row {
    std::string_view name;
    std::optional<std::string> want;
  };
  const row rows[] = {
      {"hub.mode", "subscribe"}, {"hub.verify_token", "a+b c"}, {"hub.challenge", "x y"},
      {"empty", ""},             {"flag", ""},                  {"missing", std::nullopt},
  };
  for (const auto& row : rows) EXPECT_EQ(r.query(row.name), row.want) << row.name;
  r.target = "/no/query";
  EXPECT_EQ(r.query("a"), std::nullopt);
  r.target = "/?bad=%zz%4";
  EXPECT_EQ(r.query("bad"), "%zz%4");  // malformed escapes stay literal
}

TEST(WebhookRequest, HeadersAreCaseInsensitive) {
  webhook_request r;
  r.headers = {{"Content-Type", "application/json"}, {"X-Hub-Signature-256", "sha256=ab"}};
  EXPECT_EQ(r.header("x-hub-signature-256"), "sha256=ab");
  EXPECT_EQ(r.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r.header("X-Hub-Signature"), std::nullopt);
}

TEST(WebhookResult, ErrorsMapToStatusAndJsonBody) {
  struct row {
    webhook_error error;
    int status;
    std::string_view name;
  };
  const row rows[] = {
      {webhook_error::none, 200, "none"},
      {webhook_error::method_not_allowed, 405, "method_not_allowed"},
      {webhook_error::missing_signature, 401, "missing_signature"},
      {webhook_error::bad_signature, 401, "bad_signature"},
      {webhook_error::verify_failed, 403, "verify_failed"},
      {webhook_error::invalid_json, 400, "invalid_json"},
      {webhook_error::invalid_payload, 400, "invalid_payload"},
      {webhook_error::internal, 500, "internal"},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(http_status(r.error), r.status);
    EXPECT_EQ(to_string(r.error), r.name);
  }
  auto f = webhook_result::failure(webhook_error::invalid_payload, "entry must be an array");
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(nlohmann::json::parse(f.body),
            nlohmann::json::parse(R"({"error":{"code":"invalid_payload","message":"entry must be an array"}})"));
  webhook_result ok;
  ok.count("ignored_group");
  ok.count("ignored_group", 2);
  EXPECT_EQ(ok.counters.at("ignored_group"), 3u);
}

TEST(Crypto, KnownVectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hmac_sha256_hex("", "").size(), 64u);
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  // The secret is compared repeated to the guess's length: a guess that
  // repeats it is still wrong.
  EXPECT_FALSE(constant_time_equal("abcabc", "abc"));
  EXPECT_FALSE(constant_time_equal("a", ""));
}

TEST(Hub, SignatureOverRawBytes) {
  std::string body = R"({"object":"page","entry":[{"text":"\u0633\u0644\u0627\u0645"}]})";
  std::string sig = "sha256=" + hmac_sha256_hex("app-secret", body);
  webhook_request r;
  r.method = "POST";
  r.body = body;
  r.headers = {{"X-Hub-Signature-256", sig}};
  auto good = hub_check_signature(r, rotating_secret{secret("app-secret"), {}});
  EXPECT_FALSE(good.refused);
  EXPECT_FALSE(good.by_previous);
  EXPECT_EQ(hub_check_signature(r, rotating_secret{secret("other"), {}}).refused->error, webhook_error::bad_signature);
}

// During a rotation a webhook signed with either secret is taken, and one signed
// with the old secret says so (the gateway counts it, so the operator knows when
// the old secret can go).
TEST(Hub, SignatureDuringRotation) {
  webhook_request r;
  r.method = "POST";
  r.body = R"({"object":"page"})";
  const std::string signed_by_old = "sha256=" + hmac_sha256_hex("old-secret", r.body);  // headers are views
  r.headers = {{"X-Hub-Signature-256", signed_by_old}};
  auto by_old = hub_check_signature(r, rotating_secret{secret("new-secret"), secret("old-secret")});
  EXPECT_FALSE(by_old.refused);
  EXPECT_TRUE(by_old.by_previous);
  EXPECT_TRUE(hub_check_signature(r, rotating_secret{secret("new-secret"), {}}).refused);
  EXPECT_TRUE(hub_check_signature(r, rotating_secret{secret("new-secret"), secret("third")}).refused);
  // With no current secret nothing is taken, not even the previous one's signature.
  EXPECT_TRUE(hub_check_signature(r, rotating_secret{{}, secret("old-secret")}).refused);
}

TEST(Secrets, MatchDuringRotation) {
  rotating_secret s{secret("new-secret-value"), secret("old-secret-value")};
  EXPECT_EQ(match_secret("new-secret-value", s), secret_match::current);
  EXPECT_EQ(match_secret("old-secret-value", s), secret_match::previous);
  EXPECT_EQ(match_secret("other", s), secret_match::none);
  EXPECT_EQ(match_secret("", rotating_secret{}), secret_match::none);  // nothing configured opens nothing
}

TEST(Provider, TransportClassification) {
  struct row {
    provider_response response;
    std::optional<outcome_kind> want;
    std::chrono::milliseconds after;
  };
  const row rows[] = {
      {{0, {}, {}, "timeout"}, outcome_kind::retry, 0ms},
      {{429, {{"Retry-After", "5"}}, {}, {}}, outcome_kind::rate_limited, 5000ms},
      {{429, {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}, {}, {}}, outcome_kind::rate_limited, 1000ms},
      {{503, {{"Retry-After", "2"}}, {}, {}}, outcome_kind::retry, 2000ms},
      {{408, {}, {}, {}}, outcome_kind::retry, 0ms},
      {{400, {}, {}, {}}, std::nullopt, 0ms},
      {{200, {}, {}, {}}, std::nullopt, 0ms},
  };
  for (const auto& r : rows) {
    auto got = classify_transport(r.response);
    ASSERT_EQ(got.has_value(), r.want.has_value()) << r.response.status;
    if (got) {
      EXPECT_EQ(got->kind, *r.want);
      EXPECT_EQ(got->retry_after, r.after);
    }
  }
}

}  // namespace
}  // namespace pasokh::connectors
