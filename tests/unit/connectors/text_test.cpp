#include <gtest/gtest.h>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::connectors {
namespace {

TEST(Text, Length) {
  EXPECT_EQ(text_length(""), 0u);
  EXPECT_EQ(text_length("abc"), 3u);
  EXPECT_EQ(text_length("سلام"), 4u);  // 8 bytes
  EXPECT_EQ(text_length("a😀"), 2u);
  EXPECT_EQ(text_length("a😀", text_unit::utf16), 3u);
  EXPECT_EQ(text_length("\xff\xfe"), 2u);  // invalid bytes count one each
}

// Properties every split must have.
void check_parts(std::string_view text, const std::vector<std::string>& parts, std::size_t limit, text_unit unit) {
  std::string joined;
  for (const auto& p : parts) {
    EXPECT_FALSE(p.empty());
    EXPECT_LE(text_length(p, unit), limit) << p;
    EXPECT_TRUE(proto::valid_utf8(p)) << p;
    joined += p;
  }
  std::string stripped;
  for (char c : text)
    if (c != ' ' && c != '\n') stripped += c;
  std::string joined_stripped;
  for (char c : joined)
    if (c != ' ' && c != '\n') joined_stripped += c;
  EXPECT_EQ(joined_stripped, stripped);  // nothing but whitespace at breaks is lost
}

TEST(Text, SplitTable) {
  struct row {
    std::string text;
    std::size_t limit;
    std::vector<std::string> want;
  };
  const std::vector<row> rows = {
      {"", 10, {}},
      {"   ", 10, {}},
      {"short", 10, {"short"}},
      {"exactly10!", 10, {"exactly10!"}},
      {"one two three four", 10, {"one two", "three four"}},
      {"first line\nsecond", 12, {"first line", "second"}},
      {"aaaaaaaaaaaaaaa", 10, {"aaaaaaaaaa", "aaaaa"}},             // no space: hard cut
      {"سلام دوست عزیز من", 10, {"سلام دوست", "عزیز من"}},
      {"ab\n\n\ncd", 3, {"ab", "cd"}},
  };
  for (const auto& r : rows) {
    auto parts = split_text(r.text, r.limit);
    EXPECT_EQ(parts, r.want) << r.text;
    check_parts(r.text, parts, r.limit, text_unit::code_point);
  }
}

TEST(Text, NeverCutsInsideACodePointOrBeforeAJoiner) {
  // Persian words joined with ZWNJ (U+200C) and no spaces at all.
  std::string word = "می‌خواهم";
  std::string text;
  for (int i = 0; i < 50; ++i) text += word;
  for (std::size_t limit : {5u, 7u, 13u, 100u}) {
    auto parts = split_text(text, limit);
    check_parts(text, parts, limit, text_unit::code_point);
    for (const auto& p : parts) EXPECT_NE(p.rfind("\u200c", 0), 0u) << "part starts with ZWNJ";
  }
  std::string emoji;
  for (int i = 0; i < 30; ++i) emoji += "👍🏽";  // thumbs up + skin tone
  auto parts = split_text(emoji, 7, text_unit::utf16);
  check_parts(emoji, parts, 7, text_unit::utf16);
  for (const auto& p : parts) EXPECT_NE(p.rfind("🏽", 0), 0u) << "part starts with a skin tone";
}

// Each part of `parts` starts with `unit` and is whole repeats of it.
void expect_whole_units(const std::vector<std::string>& parts, std::string_view unit) {
  ASSERT_FALSE(parts.empty());
  for (const auto& p : parts) {
    EXPECT_EQ(p.size() % unit.size(), 0u) << p;
    for (std::size_t i = 0; i + unit.size() <= p.size(); i += unit.size())
      EXPECT_EQ(std::string_view(p).substr(i, unit.size()), unit) << p;
  }
}

TEST(Text, NeverCutsAnEmojiSequenceAFlagOrAKeycap) {
  struct sequence {
    std::string unit;
    text_unit counted;
    std::vector<std::size_t> limits;
  };
  const sequence cases[] = {
      {"👩\u200d💻", text_unit::utf16, {6, 8, 9, 13}},  // 👩 ZWJ 💻 (5 UTF-16 units): a cut after the ZWJ leaves 👩 and 💻
      {"🇮🇷", text_unit::utf16, {5, 6, 7}},             // a flag is two regional indicators
      {"1\ufe0f\u20e3", text_unit::code_point, {4, 5, 7}},  // 1️⃣ is 1, VS16 and the combining keycap
  };
  for (const auto& c : cases) {
    std::string text;
    for (int i = 0; i < 10; ++i) text += c.unit;
    for (auto limit : c.limits) {
      auto parts = split_text(text, limit, c.counted);
      check_parts(text, parts, limit, c.counted);
      expect_whole_units(parts, c.unit);
    }
  }
}

TEST(Text, SplitsByBytesWithoutCuttingACodePoint) {
  EXPECT_EQ(text_length("سلام", text_unit::utf8_byte), 8u);
  EXPECT_EQ(text_length("a😀", text_unit::utf8_byte), 5u);
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "س";  // 3000 bytes, no space
  auto parts = split_text(text, 1000, text_unit::utf8_byte);
  check_parts(text, parts, 1000, text_unit::utf8_byte);
  EXPECT_EQ(parts.size(), 3u);
  // Words: broken at spaces, every part within the bytes.
  std::string words;
  while (words.size() < 5000) words += "گارانتی دستگاه ";
  auto word_parts = split_text(words, 999, text_unit::utf8_byte);
  check_parts(words, word_parts, 999, text_unit::utf8_byte);
  for (const auto& p : word_parts) EXPECT_TRUE(p.ends_with("گارانتی") || p.ends_with("دستگاه")) << "cut inside a word";
  EXPECT_EQ(truncate_text("سلام دنیا", 9, text_unit::utf8_byte), "سلا…");  // the ellipsis takes 3 bytes
}

TEST(Text, ALimitSmallerThanOneCharacterStillMakesProgress) {
  auto parts = split_text("😀😀", 1, text_unit::utf16);
  EXPECT_EQ(parts, (std::vector<std::string>{"😀", "😀"}));
}

TEST(Text, TruncateAndNumbered) {
  EXPECT_EQ(truncate_text("short", 20), "short");
  EXPECT_EQ(truncate_text("abcdefghij", 5), "abcd…");
  EXPECT_EQ(truncate_text("ab cdefghij", 4), "ab…");
  EXPECT_EQ(text_length(truncate_text("صحبت با یک اپراتور انسانی", 20)), 19u);
  EXPECT_EQ(numbered_choices("کدام؟", {{"a", "الف"}, {"b", "ب"}}), "کدام؟\n\n1. الف\n2. ب");
  EXPECT_EQ(numbered_choices("", {{"a", "A"}}), "\n1. A");
}

}  // namespace
}  // namespace pasokh::connectors
