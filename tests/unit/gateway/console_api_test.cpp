#include "pasokh/gateway/console_api.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

TEST(ConsoleApi, CleanLabelTrimsAndRefusesWhatBreaksTheStorage) {
  struct row { const char* in; const char* out; };
  const row rows[] = {
      {"warranty", "warranty"},
      {"  repair  ", "repair"},
      {"\tvip\t", "vip"},
      {"گارانتی", "گارانتی"},               // Persian: counted in characters, not bytes
      {"a b", "a b"},
      {"", ""},
      {"   ", ""},
      {"a,b", ""},                           // the separator of the stored list
      {"line\nbreak", ""},
      {"\x7f", ""},
      {"\xff\xfe", ""},                      // not UTF-8
      {"0123456789012345678901234567890123", ""},  // 34 characters
      {"01234567890123456789012345678901", "01234567890123456789012345678901"},  // 32
  };
  for (const auto& r : rows) EXPECT_EQ(clean_label(r.in), r.out) << "input: " << r.in;
  // 32 Persian letters (64 bytes) are fine; 33 are not.
  std::string fa;
  for (int i = 0; i < 32; ++i) fa += "س";
  EXPECT_EQ(clean_label(fa), fa);
  EXPECT_EQ(clean_label(fa + "س"), "");
}

TEST(ConsoleApi, CannedShortcuts) {
  for (const char* ok : {"warranty", "return-policy", "a", "x_1", "01234567890123456789012345678901"})
    EXPECT_TRUE(valid_shortcut(ok)) << ok;
  for (const char* bad : {"", "Warranty", "with space", "/slash", "سلام", "012345678901234567890123456789012", "a.b"})
    EXPECT_FALSE(valid_shortcut(bad)) << bad;
}
