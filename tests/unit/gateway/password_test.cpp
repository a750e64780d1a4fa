#include "pasokh/gateway/password.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

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

TEST(Password, HasherHashesAndVerifiesForACoroutine) {
  boost::asio::io_context io;
  password_hasher hasher(1);
  std::vector<bool> got;
  // Named strings, not temporaries inside co_await (GCC 12 mishandles those).
  const std::string right = "s3cret-pass", wrong = "wrong-pass", none;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    auto stored = co_await hasher.hash(right);
    got.push_back(stored.starts_with("pbkdf2-sha256$"));
    got.push_back(co_await hasher.verify(right, stored));
    got.push_back(co_await hasher.verify(wrong, stored));
    got.push_back(co_await hasher.verify(right, none));  // no such agent
  }, boost::asio::detached);
  io.run();
  EXPECT_EQ(got, (std::vector<bool>{true, true, false, false}));
}
