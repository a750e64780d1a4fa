#include <gtest/gtest.h>

#include "pasokh/routing/rate_limit.hpp"

namespace pasokh::routing {
namespace {

using namespace std::chrono_literals;
using tp = pacing_clock::time_point;
using dur = pacing_clock::duration;

const tp t0 = tp{} + 1000s;

// Sends as fast as the bucket allows from `start`; returns the send times.
std::vector<tp> send_times(token_bucket& b, tp start, int count) {
  std::vector<tp> out;
  auto now = start;
  while (static_cast<int>(out.size()) < count) {
    auto w = b.wait(now);
    if (w > dur::zero()) {
      now += w;
      continue;
    }
    b.take(now);
    out.push_back(now);
  }
  return out;
}

TEST(TokenBucket, OnePerSecondSpacesSendsOneSecondApart) {
  token_bucket b({1, 1});
  EXPECT_EQ(send_times(b, t0, 3), (std::vector<tp>{t0, t0 + 1s, t0 + 2s}));
  // After a quiet period the next send goes at once again.
  EXPECT_EQ(b.wait(t0 + 10s), dur::zero());
}

TEST(TokenBucket, BurstGoesAtOnceThenTheRate) {
  token_bucket b({10, 3});
  EXPECT_EQ(send_times(b, t0, 5), (std::vector<tp>{t0, t0, t0, t0 + 100ms, t0 + 200ms}));
}

TEST(TokenBucket, RefillsOverTimeUpToTheBurstOnly) {
  token_bucket b({1, 2});
  send_times(b, t0, 2);
  EXPECT_EQ(b.wait(t0), 1s);
  EXPECT_EQ(b.wait(t0 + 1s), dur::zero());  // one token back after 1 s
  // An hour idle gives back 2 tokens, not 3600.
  EXPECT_EQ(send_times(b, t0 + 3600s, 3), (std::vector<tp>{t0 + 3600s, t0 + 3600s, t0 + 3601s}));
}

TEST(TokenBucket, WaitingDoesNotTakeATokenButTakingDoes) {
  token_bucket b({1, 1});
  b.take(t0);
  EXPECT_EQ(b.wait(t0), 1s);
  EXPECT_EQ(b.wait(t0), 1s);  // asking again costs nothing
  EXPECT_EQ(b.wait(t0 + 400ms), 600ms);
}

TEST(TokenBucket, UnlimitedNeverWaits) {
  token_bucket b({0, 1});
  EXPECT_TRUE(b.unlimited());
  for (int i = 0; i < 1000; ++i) b.take(t0);
  EXPECT_EQ(b.wait(t0), dur::zero());
}

TEST(TokenBucket, AnUnlimitedBucketStillHonoursAPause) {
  token_bucket b({0, 1});
  b.pause_until(t0 + 30s);
  EXPECT_EQ(b.wait(t0), 30s);
  b.take(t0 + 30s);
  EXPECT_EQ(b.wait(t0 + 30s), dur::zero());
  EXPECT_TRUE(b.idle(t0 + 30s));
}

TEST(TokenBucket, PauseDelaysEverythingUntilItEnds) {
  token_bucket b({30, 30});
  b.pause_until(t0 + 5s);
  EXPECT_EQ(b.wait(t0), 5s);
  EXPECT_FALSE(b.idle(t0 + 4s));
  EXPECT_EQ(b.wait(t0 + 5s), dur::zero());
}

TEST(RateLimiter, PerChatLimitDoesNotSlowOtherChats) {
  rate_limiter l({{1, 1}, {30, 30}});  // Telegram
  EXPECT_EQ(l.acquire("chat-a", t0), dur::zero());
  EXPECT_EQ(l.acquire("chat-a", t0), 1s);  // must wait, and nothing was taken...
  EXPECT_EQ(l.acquire("chat-b", t0), dur::zero());  // ...so other chats go at once
  EXPECT_EQ(l.acquire("chat-c", t0), dur::zero());
  EXPECT_EQ(l.acquire("chat-a", t0 + 1s), dur::zero());
}

TEST(RateLimiter, AccountLimitCapsAllChatsTogether) {
  rate_limiter l({{0, 1}, {80, 80}});  // WhatsApp
  for (int i = 0; i < 80; ++i) EXPECT_EQ(l.acquire("chat-" + std::to_string(i), t0), dur::zero());
  auto wait = l.acquire("chat-x", t0);
  EXPECT_GT(wait, dur::zero());
  EXPECT_LE(wait, 13ms);  // 1/80 s
}

TEST(RateLimiter, AccountPauseAppliesToEveryChat) {
  rate_limiter l({{1, 1}, {30, 30}});
  l.pause("chat-a", limit_scope::account, t0, t0 + 7s);
  EXPECT_EQ(l.acquire("chat-a", t0), 7s);
  EXPECT_EQ(l.acquire("chat-b", t0 + 2s), 5s);
  EXPECT_EQ(l.acquire("chat-b", t0 + 7s), dur::zero());
}

TEST(RateLimiter, AccountPauseHoldsBackAnAccountWithoutALimit) {
  rate_limiter l({{1, 3}, {0, 1}});  // Messenger: paced per chat only
  l.pause("psid-a", limit_scope::account, t0, t0 + 30s);  // a 613 from the Send API
  EXPECT_EQ(l.acquire("psid-a", t0), 30s);
  EXPECT_EQ(l.acquire("psid-b", t0 + 10s), 20s);
  EXPECT_EQ(l.acquire("psid-b", t0 + 30s), dur::zero());
}

TEST(RateLimiter, AChatPauseHoldsBackOnlyThatChat) {
  rate_limiter l({{0, 1}, {80, 80}});  // WhatsApp: no per-chat rate of our own
  EXPECT_EQ(l.acquire("customer-a", t0), dur::zero());
  EXPECT_EQ(l.pause("customer-a", limit_scope::chat, t0, t0 + 6s), limit_scope::chat);  // 131056
  EXPECT_EQ(l.acquire("customer-a", t0 + 1s), 5s);
  EXPECT_EQ(l.acquire("customer-b", t0 + 1s), dur::zero());
  EXPECT_EQ(l.acquire("customer-a", t0 + 6s), dur::zero());
}

TEST(RateLimiter, AnUnknownScopeHoldsBackAChatSentToInARowElseTheAccount) {
  rate_limiter l({{1, 1}, {30, 30}});  // Telegram
  // Two sends in a row to chat-a, then a 429: chat-a's own limit.
  EXPECT_EQ(l.acquire("chat-a", t0), dur::zero());
  EXPECT_EQ(l.acquire("chat-a", t0 + 1s), dur::zero());
  EXPECT_EQ(l.pause("chat-a", limit_scope::unknown, t0 + 1s, t0 + 4s), limit_scope::chat);
  EXPECT_EQ(l.acquire("chat-b", t0 + 1s), dur::zero());
  EXPECT_EQ(l.acquire("chat-a", t0 + 2s), 2s);
  // A 429 for a chat quiet before its send: the channel's limit.
  EXPECT_EQ(l.acquire("chat-c", t0 + 2s), dur::zero());
  EXPECT_EQ(l.pause("chat-c", limit_scope::unknown, t0 + 2s, t0 + 5s), limit_scope::account);
  EXPECT_EQ(l.acquire("chat-d", t0 + 2s), 3s);
  // So is one for a chat whose previous send was long before.
  rate_limiter m({{1, 1}, {30, 30}});
  m.acquire("chat-e", t0);
  m.acquire("chat-e", t0 + 10s);
  EXPECT_EQ(m.pause("chat-e", limit_scope::unknown, t0 + 10s, t0 + 12s), limit_scope::account);
}

TEST(RateLimiter, ForgetsIdleChatsWhenTrackingTooMany) {
  rate_limiter l({{1, 1}, {0, 1}}, 4);
  for (int i = 0; i < 4; ++i) l.acquire("chat-" + std::to_string(i), t0);
  EXPECT_EQ(l.tracked_chats(), 4u);
  // Ten seconds later every bucket is full again; they are dropped to make room.
  EXPECT_EQ(l.acquire("chat-new", t0 + 10s), dur::zero());
  EXPECT_EQ(l.tracked_chats(), 1u);
  // A busy chat is kept, with its pacing intact.
  EXPECT_EQ(l.acquire("chat-new", t0 + 10s), 1s);
}

}  // namespace
}  // namespace pasokh::routing
