#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pasokh/gateway/webchat_token.hpp"

namespace pasokh::gateway {
namespace {

constexpr std::string_view secret = "test-secret-0123456789abcdef";
constexpr std::int64_t now = 1'700'000'000;

visitor_claims sample() { return {"web", "v_AAAAAAAAAAAAAAAAAAAAAA", now + 3600}; }

token_error error_of(const std::variant<visitor_claims, token_error>& v) {
  EXPECT_TRUE(std::holds_alternative<token_error>(v));
  return std::holds_alternative<token_error>(v) ? std::get<token_error>(v) : token_error::malformed;
}

TEST(VisitorToken, RoundTrip) {
  auto token = sign_visitor_token(sample(), secret);
  EXPECT_EQ(token.substr(0, 3), "w1.");
  auto v = verify_visitor_token(token, secret, now);
  ASSERT_TRUE(std::holds_alternative<visitor_claims>(v));
  EXPECT_EQ(std::get<visitor_claims>(v), sample());
}

TEST(VisitorToken, Expiry) {
  auto token = sign_visitor_token(sample(), secret);
  EXPECT_TRUE(std::holds_alternative<visitor_claims>(verify_visitor_token(token, secret, now + 3599)));
  EXPECT_EQ(error_of(verify_visitor_token(token, secret, now + 3600)), token_error::expired);
  EXPECT_EQ(error_of(verify_visitor_token(token, secret, now + 86400)), token_error::expired);
  EXPECT_EQ(to_string(token_error::expired), "token_expired");
}

TEST(VisitorToken, WrongSecret) {
  auto token = sign_visitor_token(sample(), secret);
  EXPECT_EQ(error_of(verify_visitor_token(token, "another-secret-0123456789", now)), token_error::bad_signature);
}

// While the secret is rotated a token signed with the one before still
// works, and says so (it is counted); any other secret is still refused.
TEST(VisitorToken, PreviousSecretOfARotationVerifiesAndSaysSo) {
  constexpr std::string_view old_secret = "old-secret-0123456789abcdef";
  const token_secrets rotating{secret, old_secret};
  auto by_old = verify_visitor_token(sign_visitor_token(sample(), old_secret), rotating, now);
  ASSERT_TRUE(std::holds_alternative<verified_visitor>(by_old));
  EXPECT_EQ(std::get<verified_visitor>(by_old).claims, sample());
  EXPECT_TRUE(std::get<verified_visitor>(by_old).by_previous);

  auto by_new = verify_visitor_token(sign_visitor_token(sample(), secret), rotating, now);
  ASSERT_TRUE(std::holds_alternative<verified_visitor>(by_new));
  EXPECT_FALSE(std::get<verified_visitor>(by_new).by_previous);

  auto by_other = verify_visitor_token(sign_visitor_token(sample(), "another-secret-0123456789"), rotating, now);
  ASSERT_TRUE(std::holds_alternative<token_error>(by_other));
  EXPECT_EQ(std::get<token_error>(by_other), token_error::bad_signature);
  // Without a rotation the old secret's token is refused.
  auto after = verify_visitor_token(sign_visitor_token(sample(), old_secret), token_secrets{secret, {}}, now);
  ASSERT_TRUE(std::holds_alternative<token_error>(after));
  // Expiry holds for the old secret's tokens too.
  auto late = verify_visitor_token(sign_visitor_token(sample(), old_secret), rotating, now + 3600);
  ASSERT_TRUE(std::holds_alternative<token_error>(late));
  EXPECT_EQ(std::get<token_error>(late), token_error::expired);
}

TEST(VisitorToken, EveryTamperedCharacterIsRejected) {
  auto token = sign_visitor_token(sample(), secret);
  for (std::size_t i = 0; i < token.size(); ++i) {
    auto bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto v = verify_visitor_token(bad, secret, now);
    EXPECT_TRUE(std::holds_alternative<token_error>(v)) << "position " << i << ": " << bad;
  }
}

TEST(VisitorToken, ForgedPayloadWithOldSignature) {
  // Swap in a payload for another visitor (or a later expiry) keeping the signature.
  auto token = sign_visitor_token(sample(), secret);
  auto other = sign_visitor_token({"web", "v_BBBBBBBBBBBBBBBBBBBBBB", now + 999999}, secret);
  auto sig = token.substr(token.rfind('.'));
  auto forged = other.substr(0, other.rfind('.')) + sig;
  EXPECT_EQ(error_of(verify_visitor_token(forged, secret, now)), token_error::bad_signature);
}

TEST(VisitorToken, Malformed) {
  const std::vector<std::string> malformed{"",       "w1.",         "w1..",  "abc", "w2.e30.AAAA", "w1.e30",
                                           "w1.e30.!!!!", "w1.e30." + std::string(43, 'A'), std::string(600, 'a')};
  for (const auto& bad : malformed) {
    EXPECT_TRUE(std::holds_alternative<token_error>(verify_visitor_token(bad, secret, now))) << bad;
  }
  // A correctly signed payload that is not our JSON is still refused.
  EXPECT_EQ(to_string(token_error::malformed), "token_invalid");
}

TEST(VisitorToken, VisitorIds) {
  auto a = new_visitor_id(), b = new_visitor_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_TRUE(valid_visitor_id(a));
  EXPECT_FALSE(valid_visitor_id("v_"));
  EXPECT_FALSE(valid_visitor_id("x_abc"));
  EXPECT_FALSE(valid_visitor_id("v_a:b"));
  EXPECT_FALSE(valid_visitor_id("v_" + std::string(70, 'a')));
  // A token for an invalid visitor id is refused even when signed.
  auto token = sign_visitor_token({"web", "v_../../x", now + 10}, secret);
  EXPECT_EQ(error_of(verify_visitor_token(token, secret, now)), token_error::malformed);
}

TEST(OriginCheck, ExactAndSameOrigin) {
  std::vector<std::string> allowed{normalize_origin_pattern("https://Shop.Example.com/")};
  EXPECT_EQ(allowed[0], "https://shop.example.com");
  EXPECT_TRUE(origin_allowed("https://shop.example.com", "chat.example.net", allowed, false));
  EXPECT_TRUE(origin_allowed("HTTPS://SHOP.EXAMPLE.COM", "chat.example.net", allowed, false));
  EXPECT_FALSE(origin_allowed("http://shop.example.com", "chat.example.net", allowed, false));
  EXPECT_FALSE(origin_allowed("https://shop.example.com:8443", "chat.example.net", allowed, false));
  EXPECT_FALSE(origin_allowed("https://evil.com", "chat.example.net", allowed, false));
  EXPECT_FALSE(origin_allowed("https://shop.example.com.evil.com", "chat.example.net", allowed, false));
  // The gateway's own pages (the demo) are same-origin.
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:8080", {}, false));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:9090", "127.0.0.1:8080", {}, false));
}

TEST(OriginCheck, WildcardsMissingAndNull) {
  std::vector<std::string> allowed{normalize_origin_pattern("https://*.example.com")};
  EXPECT_TRUE(origin_allowed("https://a.example.com", "", allowed, false));
  EXPECT_TRUE(origin_allowed("https://a.b.example.com", "", allowed, false));
  EXPECT_FALSE(origin_allowed("https://example.com", "", allowed, false));
  EXPECT_FALSE(origin_allowed("https://badexample.com", "", allowed, false));
  EXPECT_FALSE(origin_allowed("http://a.example.com", "", allowed, false));
  EXPECT_TRUE(origin_allowed("", "", allowed, true));
  EXPECT_FALSE(origin_allowed("", "", allowed, false));
  EXPECT_FALSE(origin_allowed("null", "", allowed, true));
  EXPECT_TRUE(origin_allowed("null", "", {"null"}, false));
  EXPECT_TRUE(origin_allowed("https://anything.org", "", {"*"}, false));
  EXPECT_FALSE(origin_allowed("null", "", {"*"}, false));
  EXPECT_FALSE(origin_allowed("https://a.example.com/path", "", allowed, false));
}

TEST(OriginCheck, PatternNormalization) {
  EXPECT_EQ(normalize_origin_pattern("*"), "*");
  EXPECT_EQ(normalize_origin_pattern("https://*.Example.com"), "https://*.example.com");
  EXPECT_EQ(normalize_origin_pattern("http://localhost:3000"), "http://localhost:3000");
  EXPECT_EQ(normalize_origin_pattern("shop.example.com"), "");
  EXPECT_EQ(normalize_origin_pattern("https://"), "");
  EXPECT_EQ(normalize_origin_pattern("https://shop.example.com/path"), "");
}

}  // namespace
}  // namespace pasokh::gateway
