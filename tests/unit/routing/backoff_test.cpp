#include <gtest/gtest.h>

#include "pasokh/routing/backoff.hpp"

namespace pasokh::routing {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesFromTheInitialDelayWithoutJitter) {
  backoff_policy p;
  p.jitter = 0;
  EXPECT_EQ(retry_delay(p, 1, 0.5), milliseconds(1'000));
  EXPECT_EQ(retry_delay(p, 2, 0.5), milliseconds(2'000));
  EXPECT_EQ(retry_delay(p, 3, 0.5), milliseconds(4'000));
  EXPECT_EQ(retry_delay(p, 9, 0.5), milliseconds(256'000));
}

TEST(Backoff, IsCappedAtTheMaximumEvenForHugeAttemptCounts) {
  backoff_policy p;
  p.jitter = 0;
  EXPECT_EQ(retry_delay(p, 10, 0.5), milliseconds(300'000));
  EXPECT_EQ(retry_delay(p, 5000, 0.5), milliseconds(300'000));
  p.jitter = 0.5;
  EXPECT_LE(retry_delay(p, 5000, 0.999), milliseconds(300'000));
}

TEST(Backoff, JitterSpreadsAroundTheBaseDelay) {
  backoff_policy p;  // 20 %
  EXPECT_EQ(retry_delay(p, 3, 0.0), milliseconds(3'200));
  EXPECT_EQ(retry_delay(p, 3, 0.5), milliseconds(4'000));
  EXPECT_NEAR(static_cast<double>(retry_delay(p, 3, 0.9999).count()), 4'800, 1);
  // Out-of-range draws are clamped, not trusted.
  EXPECT_EQ(retry_delay(p, 3, -4), milliseconds(3'200));
}

TEST(Backoff, ZeroOrNegativeFailureCountsUseTheInitialDelay) {
  backoff_policy p;
  p.jitter = 0;
  EXPECT_EQ(retry_delay(p, 0, 0.5), milliseconds(1'000));
  EXPECT_EQ(retry_delay(p, -3, 0.5), milliseconds(1'000));
}

TEST(Backoff, AttemptsAreExhaustedAtTheConfiguredMaximumOnceTheMessageWaitedLongEnough) {
  backoff_policy p;
  p.max_attempts = 3;
  p.retry_for = std::chrono::hours(6);
  const auto long_ago = std::chrono::hours(7);
  EXPECT_FALSE(attempts_exhausted(p, 2, long_ago));
  EXPECT_TRUE(attempts_exhausted(p, 3, long_ago));
  EXPECT_TRUE(attempts_exhausted(p, 4, long_ago));
  // A relay down for an hour: ten failures in eight minutes are no reason to drop the reply.
  EXPECT_FALSE(attempts_exhausted(p, 10, std::chrono::hours(1)));
}

}  // namespace
}  // namespace pasokh::routing
