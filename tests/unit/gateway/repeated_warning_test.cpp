#include "pasokh/routing/repeated_warning.hpp"

#include <gtest/gtest.h>

using pasokh::routing::repeated_warning;
using namespace std::chrono_literals;

TEST(RepeatedWarning, FirstIsLoggedThenOnePerIntervalWithTheCountLeftOut) {
  repeated_warning w(10s);
  const auto t0 = repeated_warning::clock::time_point{} + 1h;
  auto first = w.admit(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->left_out, 0u);
  for (int i = 1; i <= 500; ++i) EXPECT_FALSE(w.admit(t0 + i * 10ms)) << i;
  auto next = w.admit(t0 + 10s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->left_out, 500u);
  EXPECT_EQ(next->since_last_logged, 10s);
  EXPECT_FALSE(w.admit(t0 + 19s));
  auto third = w.admit(t0 + 25s);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->left_out, 1u);
}
