#include <gtest/gtest.h>

#include "pasokh/routing/rate_limit.hpp"

namespace pasokh::routing {
namespace {

using namespace std::chrono_literals;
using tp = pacing_clock::time_point;

const tp t0 = tp{} + 1000s;

TEST(TokenBucket, OnePerSecondSpacesSendsOneSecondApart) {
  token_bucket b({1, 1});
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0), t0 + 1s);
  EXPECT_EQ(b.reserve(t0), t0 + 2s);
  // After a quiet period the next send goes at once again.
  EXPECT_EQ(b.reserve(t0 + 10s), t0 + 10s);
}

TEST(TokenBucket, BurstGoesAtOnceThenTheRate) {
  token_bucket b({10, 3});
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0), t0 + 100ms);
  EXPECT_EQ(b.reserve(t0), t0 + 200ms);
}

TEST(TokenBucket, RefillsOverTimeUpToTheBurstOnly) {
  token_bucket b({1, 2});
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0), t0);
  EXPECT_EQ(b.reserve(t0 + 1s), t0 + 1s);   // one token back after 1 s
  EXPECT_EQ(b.reserve(t0 + 1s), t0 + 2s);
  // An hour idle gives back 2 tokens, not 3600.
  EXPECT_EQ(b.reserve(t0 + 3600s), t0 + 3600s);
  EXPECT_EQ(b.reserve(t0 + 3600s), t0 + 3600s);
  EXPECT_EQ(b.reserve(t0 + 3600s), t0 + 3601s);
}

TEST(TokenBucket, UnlimitedNeverWaits) {
  token_bucket b({0, 1});
  EXPECT_TRUE(b.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.reserve(t0), t0);
}

TEST(TokenBucket, PauseDelaysEverythingUntilItEnds) {
  token_bucket b({30, 30});
  b.pause_until(t0 + 5s);
  EXPECT_EQ(b.reserve(t0), t0 + 5s);
  EXPECT_FALSE(b.idle(t0 + 4s));
}

TEST(RateLimiter, PerChatLimitDoesNotSlowOtherChats) {
  rate_limiter l({{1, 1}, {30, 30}});  // Telegram
  EXPECT_EQ(l.reserve("chat-a", t0), t0);
  EXPECT_EQ(l.reserve("chat-a", t0), t0 + 1s);
  EXPECT_EQ(l.reserve("chat-b", t0), t0);
  EXPECT_EQ(l.reserve("chat-c", t0), t0);
}

TEST(RateLimiter, AccountLimitCapsAllChatsTogether) {
  rate_limiter l({{0, 1}, {80, 80}});  // WhatsApp
  for (int i = 0; i < 80; ++i) EXPECT_EQ(l.reserve("chat-" + std::to_string(i), t0), t0);
  auto next = l.reserve("chat-x", t0);
  EXPECT_GT(next, t0);
  EXPECT_LE(next, t0 + 13ms);  // 1/80 s
}

TEST(RateLimiter, AccountPauseAppliesToEveryChat) {
  rate_limiter l({{1, 1}, {30, 30}});
  l.pause_account(t0 + 7s);
  EXPECT_EQ(l.reserve("chat-a", t0), t0 + 7s);
  EXPECT_EQ(l.reserve("chat-b", t0), t0 + 7s);
}

TEST(RateLimiter, ForgetsIdleChatsWhenTrackingTooMany) {
  rate_limiter l({{1, 1}, {0, 1}}, 4);
  for (int i = 0; i < 4; ++i) l.reserve("chat-" + std::to_string(i), t0);
  EXPECT_EQ(l.tracked_chats(), 4u);
  // Ten seconds later every bucket is full again; they are dropped to make room.
  EXPECT_EQ(l.reserve("chat-new", t0 + 10s), t0 + 10s);
  EXPECT_EQ(l.tracked_chats(), 1u);
  // A busy chat is kept, with its pacing intact.
  EXPECT_EQ(l.reserve("chat-new", t0 + 10s), t0 + 11s);
}

}  // namespace
}  // namespace pasokh::routing
