#include "pasokh/gateway/password.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

TEST(Password, VerifiesOnlyTheRightPassword) {
  auto stored = hash_password("گذرواژه-۱۲۳", 2000);
  EXPECT_TRUE(stored.starts_with("pbkdf2-sha256$2000$"));
  EXPECT_TRUE(verify_password("گذرواژه-۱۲۳", stored));
  EXPECT_FALSE(verify_password("گذرواژه-123", stored));
  EXPECT_FALSE(verify_password("", stored));
}

TEST(Password, SaltsEveryHash) { EXPECT_NE(hash_password("same", 2000), hash_password("same", 2000)); }

TEST(Password, RejectsMalformedOrWeakStoredHashes) {
  auto stored = hash_password("pw", 2000);
  EXPECT_FALSE(verify_password("pw", "plain-text-password"));
  EXPECT_FALSE(verify_password("pw", "md5$1$abc$def"));
  EXPECT_FALSE(verify_password("pw", "pbkdf2-sha256$10$" + stored.substr(stored.find('$', 14) + 1)));
  EXPECT_FALSE(verify_password("pw", stored + "$extra"));
}

TEST(Password, TokensAreRandomAndUrlSafe) {
  auto a = random_token(), b = random_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
}

