#include "pasokh/proto/utf8.hpp"

#include <gtest/gtest.h>

using pasokh::proto::valid_utf8;

TEST(Utf8, AcceptsPersianArabicEnglishAndEmoji) {
  EXPECT_TRUE(valid_utf8("hello"));
  EXPECT_TRUE(valid_utf8("سلام، گارانتی؟"));
  EXPECT_TRUE(valid_utf8("مرحبا ١٢٣"));
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(valid_utf8(""));
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_FALSE(valid_utf8("\xC3\x28"));              // bad continuation
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));              // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));          // UTF-16 surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));      // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xD8"));                  // truncated
  EXPECT_FALSE(valid_utf8("\xE3\x81\x81\xFF"));      // stray byte
}
