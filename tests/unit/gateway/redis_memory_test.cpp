#include "pasokh/gateway/redis_memory.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

TEST(RedisMemory, ReadsPolicyUsedAndLimitFromInfoMemory) {
  // As Redis 7 answers INFO memory (CRLF lines, a section header, more fields).
  auto info = parse_info_memory(
      "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:1000000\r\n"
      "maxmemory_human:976.56K\r\nmaxmemory_policy:volatile-lru\r\nallocator_frag_ratio:1.02\r\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->policy, "volatile-lru");
  EXPECT_EQ(info->used, 1048576u);
  EXPECT_EQ(info->limit, 1000000u);
  EXPECT_TRUE(info->full());
}

TEST(RedisMemory, NoLimitIsNeverFullAndAnAnswerWithoutAPolicyIsNotRead) {
  auto info = parse_info_memory("used_memory:5000000\nmaxmemory:0\nmaxmemory_policy:noeviction\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->policy, "noeviction");
  EXPECT_FALSE(info->full());
  // A Redis (or proxy) that leaves the field out: unknown, not "noeviction".
  EXPECT_FALSE(parse_info_memory("# Memory\r\nused_memory:1\r\n"));
  EXPECT_FALSE(parse_info_memory(""));
}
