#include "pasokh/gateway/attachment_blobs.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "pasokh/gateway/retries.hpp"

namespace pasokh::gateway::attachment_blobs {
namespace {

TEST(AttachmentBlobs, StagesAFileInChunksOfAtMostTheSizeGiven) {
  const std::string file(2 * 1024 * 1024 + 5, 'x');
  auto pieces = chunks(file, 1024 * 1024);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].size(), 1024u * 1024);
  EXPECT_EQ(pieces[1].size(), 1024u * 1024);
  EXPECT_EQ(pieces[2].size(), 5u);
  EXPECT_EQ(pieces[2].data(), file.data() + file.size() - 5) << "views of the file, not copies";
}

TEST(AttachmentBlobs, AFileOfExactlyOneChunkIsOneCommandAndAnEmptyOneNone) {
  EXPECT_EQ(chunks(std::string(4, 'x'), 4).size(), 1u);
  EXPECT_TRUE(chunks("", 4).empty());
  EXPECT_EQ(chunks("abc", 0).size(), 1u) << "0: no chunking";
}

TEST(AttachmentBlobs, ReadsAFileInRangesOfAtMostTheSizeGivenEndsIncluded) {
  const std::size_t mb = 1024 * 1024;
  EXPECT_EQ(ranges(2 * mb + 5, mb), (std::vector<byte_range>{{0, mb - 1}, {mb, 2 * mb - 1}, {2 * mb, 2 * mb + 4}}));
  EXPECT_EQ(ranges(4, 4), (std::vector<byte_range>{{0, 3}}));
  EXPECT_TRUE(ranges(0, 4).empty()) << "an empty file: no command";
  EXPECT_EQ(ranges(3, 0), (std::vector<byte_range>{{0, 2}})) << "0: no chunking";
}

TEST(AttachmentBlobs, NamesTheStoredAndTheStagedKeysApart) {
  EXPECT_EQ(key("pasokh:", "att_1"), "pasokh:attachment:att_1");
  EXPECT_EQ(content_key("pasokh:", "att_1"), "pasokh:attachment:att_1:content");
  EXPECT_EQ(part_key("pasokh:", "att_1"), "pasokh:attachment_part:att_1");
}

// Runs with_retries over an attempt that works on call `works_on` (0: never).
struct retried {
  bool worked = false;
  int calls = 0;
  std::chrono::steady_clock::duration took{};
};
retried run_retries(int works_on, retry_policy policy, int give_up_after = 0) {
  boost::asio::io_context io;
  retried out;
  const auto start = std::chrono::steady_clock::now();
  auto attempt = [&]() -> boost::asio::awaitable<bool> { co_return ++out.calls == works_on; };
  auto give_up = [&] { return give_up_after > 0 && out.calls >= give_up_after; };
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { out.worked = co_await with_retries(attempt, policy, give_up); },
      boost::asio::detached);
  io.run();
  out.took = std::chrono::steady_clock::now() - start;
  return out;
}

TEST(Retries, TriesAgainWithDoublingWaitsUntilOneWorksOrTheTriesAreSpent) {
  using std::chrono::milliseconds;
  auto third = run_retries(3, {4, milliseconds(10)});
  EXPECT_TRUE(third.worked);
  EXPECT_EQ(third.calls, 3);
  EXPECT_GE(third.took, milliseconds(30)) << "waited 10 then 20";

  auto never = run_retries(0, {4, milliseconds(5)});
  EXPECT_FALSE(never.worked);
  EXPECT_EQ(never.calls, 4);
  EXPECT_GE(never.took, milliseconds(35)) << "waited 5, 10 and 20; none after the last";

  EXPECT_EQ(run_retries(1, {4, milliseconds(1000)}).calls, 1) << "no wait after one that worked";
}

TEST(Retries, StopsTryingOnceToldToGiveUp) {
  auto stopped = run_retries(0, {4, std::chrono::milliseconds(1)}, 2);
  EXPECT_FALSE(stopped.worked);
  EXPECT_EQ(stopped.calls, 2);
}

}  // namespace
}  // namespace pasokh::gateway::attachment_blobs
