#include "pasokh/gateway/file_slots.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pasokh::gateway {
namespace {

TEST(FileSlots, OneAddressGetsItsShareAndOthersTheRest) {
  file_slots slots(5, 2);
  auto a1 = slots.try_take("10.0.0.1"), a2 = slots.try_take("10.0.0.1");
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(slots.try_take("10.0.0.1")) << "a third upload from one address waits";
  auto b1 = slots.try_take("10.0.0.2");
  EXPECT_TRUE(b1);
  EXPECT_EQ(slots.in_use(), 3u);
}

TEST(FileSlots, TheTotalCapsEveryAddressTogether) {
  file_slots slots(3, 2);
  std::vector<std::unique_ptr<file_slots::slot>> held;
  for (const char* address : {"a", "b", ""}) held.push_back(slots.try_take(address));
  EXPECT_FALSE(slots.try_take("c"));
  EXPECT_FALSE(slots.try_take(""));
}

TEST(FileSlots, AFinishedUploadGivesItsSlotBack) {
  file_slots slots(1, 1);
  {
    auto held = slots.try_take("a");
    ASSERT_TRUE(held);
    EXPECT_FALSE(slots.try_take("b"));
  }
  EXPECT_EQ(slots.in_use(), 0u);
  EXPECT_TRUE(slots.try_take("a"));
}

}  // namespace
}  // namespace pasokh::gateway
