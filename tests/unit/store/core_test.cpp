// The pure parts: backoff, reply copy, error category, script hashing.
#include "backoff.hpp"
#include "hiredis_reply.hpp"
#include "pasokh/store/redis_client.hpp"

#include <boost/system/errc.hpp>
#include <gtest/gtest.h>

#include <cstring>

namespace pasokh::store {
namespace {

using namespace std::chrono_literals;
using detail::backoff_delay;

TEST(Backoff, DoublesFromMinUpToMax) {
  // unit_random = 1 gives the top of the jitter range: the raw delay.
  EXPECT_EQ(backoff_delay(0, 100ms, 5000ms, 0.999999), 99ms);
  EXPECT_EQ(backoff_delay(1, 100ms, 5000ms, 1.0), 200ms);
  EXPECT_EQ(backoff_delay(2, 100ms, 5000ms, 1.0), 400ms);
  EXPECT_EQ(backoff_delay(6, 100ms, 5000ms, 1.0), 5000ms);
  EXPECT_EQ(backoff_delay(1000, 100ms, 5000ms, 1.0), 5000ms);
  EXPECT_EQ(backoff_delay(4'000'000'000u, 0ms, 5000ms, 1.0), 0ms);  // terminates
}

TEST(Backoff, JitterStaysInUpperHalf) {
  for (double u : {0.0, 0.25, 0.5, 0.75, 0.9999}) {
    auto d = backoff_delay(3, 100ms, 5000ms, u);
    EXPECT_GE(d, 400ms);
    EXPECT_LE(d, 800ms);
  }
  EXPECT_EQ(backoff_delay(3, 100ms, 5000ms, 0.0), 400ms);
}

TEST(Backoff, MaxBelowMinUsesMin) { EXPECT_EQ(backoff_delay(5, 300ms, 100ms, 1.0), 300ms); }

redisReply make(int type, const char* s = nullptr, long long i = 0) {
  redisReply r{};
  r.type = type;
  r.integer = i;
  if (s) {
    r.str = const_cast<char*>(s);
    r.len = std::strlen(s);
  }
  return r;
}

TEST(ToReply, CopiesEveryKind) {
  auto status = make(REDIS_REPLY_STATUS, "OK");
  auto error = make(REDIS_REPLY_ERROR, "ERR nope");
  auto integer = make(REDIS_REPLY_INTEGER, nullptr, -42);
  auto nil = make(REDIS_REPLY_NIL);
  redisReply binary{};
  binary.type = REDIS_REPLY_STRING;
  binary.str = const_cast<char*>("a\0b");
  binary.len = 3;
  redisReply* children[] = {&status, &error, &integer, &nil, &binary};
  redisReply array{};
  array.type = REDIS_REPLY_ARRAY;
  array.elements = 5;
  array.element = children;

  auto r = detail::to_reply(array);
  ASSERT_EQ(r.type, reply::kind::array);
  ASSERT_EQ(r.elements.size(), 5u);
  EXPECT_EQ(r.elements[0].type, reply::kind::status);
  EXPECT_EQ(r.elements[0].str, "OK");
  EXPECT_TRUE(r.elements[1].is_error());
  EXPECT_EQ(r.elements[1].str, "ERR nope");
  EXPECT_EQ(r.elements[2].type, reply::kind::integer);
  EXPECT_EQ(r.elements[2].integer, -42);
  EXPECT_TRUE(r.elements[3].is_nil());
  EXPECT_EQ(r.elements[4].type, reply::kind::string);
  EXPECT_EQ(r.elements[4].str, std::string("a\0b", 3));
}

TEST(ToReply, RecognisesAnUnknownFunction) {
  reply r;
  r.type = reply::kind::error;
  r.str = "ERR Function not found";
  EXPECT_TRUE(detail::is_unknown_function(r));
  r.str = "ERR something else";
  EXPECT_FALSE(detail::is_unknown_function(r));
  r.type = reply::kind::string;
  r.str = "ERR Function not found";
  EXPECT_FALSE(detail::is_unknown_function(r));
}

TEST(ToReply, RecognisesALibraryRedisHasAlready) {
  reply r;
  r.type = reply::kind::error;
  r.str = "ERR Library 'pasokh_0123' already exists";
  EXPECT_TRUE(detail::is_library_present(r));
  r.str = "ERR Error compiling function: user_function:1: 'end' expected";
  EXPECT_FALSE(detail::is_library_present(r));
}

TEST(RedisErrc, CategoryAndConditions) {
  boost::system::error_code ec = redis_errc::timed_out;
  EXPECT_EQ(ec.category().name(), std::string("redis"));
  EXPECT_EQ(ec, redis_errc::timed_out);
  EXPECT_EQ(ec, boost::system::errc::timed_out);
  EXPECT_EQ(make_error_code(redis_errc::not_connected), boost::system::errc::not_connected);
  EXPECT_FALSE(make_error_code(redis_errc::server_error) == boost::system::errc::timed_out);
  for (auto e : {redis_errc::not_connected, redis_errc::timed_out, redis_errc::connection_lost,
                 redis_errc::server_error, redis_errc::stopped})
    EXPECT_NE(make_error_code(e).message(), "unknown redis error");
}

TEST(Sha1Hex, LowercaseHexOfTheDigest) {
  EXPECT_EQ(sha1_hex("return 1"), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

}  // namespace
}  // namespace pasokh::store
