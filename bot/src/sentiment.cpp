#include "sentiment.hpp"

#include <array>

#include "utf8.hpp"

namespace pasokh::bot::detail {
namespace {

struct range {
  char32_t first, last;
};

// Thanks, approval, love, smiles and flowers: what customers send for "it helped".
constexpr std::array pleased_emoji{
    range{0x1F44C, 0x1F44D},  // 👌 👍
    range{0x1F44F, 0x1F44F},  // 👏
    range{0x1F64C, 0x1F64C},  // 🙌
    range{0x1F64F, 0x1F64F},  // 🙏
    range{0x1F91D, 0x1F91D},  // 🤝
    range{0x1F4AA, 0x1F4AA},  // 💪
    range{0x270C, 0x270C},    // ✌
    range{0x2764, 0x2764},    // ❤
    range{0x2665, 0x2665},    // ♥
    range{0x1F493, 0x1F493},  // 💓 (💔 is upset)
    range{0x1F495, 0x1F49F},  // 💕 … 💟
    range{0x1F9E1, 0x1F9E1},  // 🧡
    range{0x1F90D, 0x1F90E},  // 🤍 🤎
    range{0x1F600, 0x1F60E},  // 😀 … 😎
    range{0x1F617, 0x1F61A},  // 😗 😘 😙 😚
    range{0x1F642, 0x1F642},  // 🙂
    range{0x263A, 0x263A},    // ☺
    range{0x1F917, 0x1F917},  // 🤗
    range{0x1F923, 0x1F923},  // 🤣
    range{0x1F929, 0x1F929},  // 🤩
    range{0x1F970, 0x1F970},  // 🥰
    range{0x1F973, 0x1F973},  // 🥳
    range{0x1F337, 0x1F339},  // 🌷 🌸 🌹
    range{0x1F33A, 0x1F33A},  // 🌺
    range{0x1F490, 0x1F490},  // 💐
    range{0x1F389, 0x1F389},  // 🎉
    range{0x1F4AF, 0x1F4AF},  // 💯
    range{0x2705, 0x2705},    // ✅
    range{0x2714, 0x2714},    // ✔
    range{0x2B50, 0x2B50},    // ⭐
    range{0x1F31F, 0x1F31F},  // 🌟
};

// Anger: with words too it says how the customer feels ("third time 😡").
constexpr std::array angry_emoji{
    range{0x1F620, 0x1F621},  // 😠 😡
    range{0x1F624, 0x1F624},  // 😤
    range{0x1F92C, 0x1F92C},  // 🤬
    range{0x1F47F, 0x1F47F},  // 👿
    range{0x1F4A2, 0x1F4A2},  // 💢
    range{0x1F595, 0x1F595},  // 🖕
};

// Disapproval and sadness, and anger above: alone, "it did not help". With
// words they may only go with the problem («😢 گوشیم شکست»).
constexpr std::array unhappy_emoji{
    range{0x1F44E, 0x1F44E},  // 👎
    range{0x1F494, 0x1F494},  // 💔
    range{0x1F611, 0x1F612},  // 😑 😒
    range{0x1F614, 0x1F616},  // 😔 😕 😖
    range{0x1F61E, 0x1F61F},  // 😞 😟
    range{0x1F622, 0x1F623},  // 😢 😣
    range{0x1F629, 0x1F629},  // 😩
    range{0x1F62B, 0x1F62B},  // 😫
    range{0x1F62D, 0x1F62D},  // 😭
    range{0x1F641, 0x1F641},  // 🙁
    range{0x2639, 0x2639},    // ☹
    range{0x1F644, 0x1F644},  // 🙄
    range{0x1F926, 0x1F926},  // 🤦
    range{0x1F4A9, 0x1F4A9},  // 💩
    range{0x274C, 0x274C},    // ❌
};

bool in(const auto& ranges, char32_t cp) {
  for (const range& r : ranges) {
    if (cp >= r.first && cp <= r.last) return true;
  }
  return false;
}

bool is_whitespace(char32_t cp) { return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0; }

bool is_exclamation(char32_t cp) { return cp == '!' || cp == 0xFF01; }
bool is_question(char32_t cp) { return cp == '?' || cp == 0x061F || cp == 0xFF1F; }

bool many_exclamations(std::string_view text) {
  int in_run = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char32_t cp = next_code_point(text, pos);
    if (is_exclamation(cp)) {
      if (++in_run >= 3) return true;
    } else if (!is_question(cp)) {
      in_run = 0;
    }
  }
  return false;
}

// At least three words of two or more capitals and ten capitals in all, no
// small letter, and no Persian or Arabic word around them («گوشی SAMSUNG
// GALAXY NOTE خراب شده» names a model).
bool all_capitals(std::string_view text) {
  int words = 0, capitals = 0, in_word = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char32_t c = next_code_point(text, pos);
    if ((c >= 'a' && c <= 'z') || is_arabic_script_letter(c)) return false;
    if (c >= 'A' && c <= 'Z') {
      ++capitals;
      ++in_word;
      continue;
    }
    words += in_word >= 2;
    in_word = 0;
  }
  words += in_word >= 2;
  return words >= 3 && capitals >= 10;
}

}  // namespace

bool shouts(std::string_view text) { return many_exclamations(text) || all_capitals(text); }

bool shows_anger(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (in(angry_emoji, next_code_point(text, pos))) return true;
  }
  return false;
}

feeling emoji_feeling(std::string_view text) {
  int pleased = 0, upset = 0;
  bool visible = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char32_t cp = next_code_point(text, pos);
    visible |= !is_whitespace(cp);
    pleased += in(pleased_emoji, cp);
    upset += in(angry_emoji, cp) || in(unhappy_emoji, cp);
  }
  if (!visible) return feeling::none;
  if (pleased > upset) return feeling::pleased;
  if (upset > pleased) return feeling::upset;
  return feeling::neutral;
}

}  // namespace pasokh::bot::detail
