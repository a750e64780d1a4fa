#include "pasokh/gateway/attachment_blobs.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pasokh::gateway::attachment_blobs
