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

TEST(Password, EachHashVerifiesWithItsOwnRoundCount) {
  auto older = hash_password("pw", 12'000), newer = hash_password("pw", 20'000);
  EXPECT_EQ(password_rounds(older), 12'000);
  EXPECT_EQ(password_rounds(newer), 20'000);
  EXPECT_TRUE(verify_password("pw", older));
  EXPECT_TRUE(verify_password("pw", newer));
  EXPECT_FALSE(verify_password("pv", older));
  // The count is part of what is checked: the same salt and hash under another count fail.
  auto tail = older.substr(older.find('$', 14));
  EXPECT_FALSE(verify_password("pw", "pbkdf2-sha256$20000" + tail));
  EXPECT_FALSE(verify_password("pw", "pbkdf2-sha256$12000x" + tail));
  EXPECT_EQ(password_rounds("pbkdf2-sha256$12000x" + tail), 0);
  EXPECT_EQ(password_rounds("plain-text-password"), 0);
}

TEST(Password, OnlyAHashOfFewerRoundsNeedsRehashing) {
  auto stored = hash_password("pw", 12'000);
  EXPECT_TRUE(needs_rehash(stored, 20'000));
  EXPECT_FALSE(needs_rehash(stored, 12'000));
  EXPECT_FALSE(needs_rehash(stored, 10'000));  // never down
  EXPECT_FALSE(needs_rehash("plain-text-password", 20'000));  // not ours: never accepted, never replaced
}

// A wrong password against an older, cheaper hash spends the rest of the
// configured rounds: as long as an unknown login's check, which tells nothing.
TEST(Password, AFailedCheckOfACheaperHashCostsTheConfiguredRounds) {
  auto stored = hash_password("pw", 12'000);
  EXPECT_EQ(padding_rounds(stored, 20'000), 8'000);
  EXPECT_EQ(padding_rounds(stored, 12'000), 0);
  EXPECT_EQ(padding_rounds(stored, 10'000), 0);
  EXPECT_EQ(padding_rounds("plain-text-password", 20'000), 20'000);  // not ours: the whole count
}

TEST(Password, TokensAreRandomAndUrlSafe) {
  auto a = random_token(), b = random_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
}

TEST(Password, HasherHashesAndVerifiesForACoroutine) {
  boost::asio::io_context io;
  password_hasher hasher(1, 15'000);
  std::vector<bool> got;
  // Named strings, not temporaries inside co_await (GCC 12 mishandles those).
  const std::string right = "s3cret-pass", wrong = "wrong-pass", none;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    auto stored = co_await hasher.hash(right);
    got.push_back(stored.starts_with("pbkdf2-sha256$15000$"));
    got.push_back(co_await hasher.verify(right, stored));
    got.push_back(co_await hasher.verify(wrong, stored));
    got.push_back(co_await hasher.verify(right, none));  // no such agent
  }, boost::asio::detached);
  io.run();
  EXPECT_EQ(got, (std::vector<bool>{true, true, false, false}));
}
