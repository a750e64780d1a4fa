#include "pasokh/proto/utf8.hpp"

namespace pasokh::proto {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t sequence_length(unsigned char c) {
  return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
}

// The start of the code point that ends just before byte `at` (> 0).
std::size_t previous_start(std::string_view s, std::size_t at) {
  do --at; while (at > 0 && continuation(s[at]));
  return at;
}

bool regional_indicator(char32_t cp) { return cp >= 0x1F1E6 && cp <= 0x1F1FF; }

}  // namespace

char32_t code_point_at(std::string_view s, std::size_t at) noexcept {
  auto c = static_cast<unsigned char>(s[at]);
  const std::size_t len = sequence_length(c);
  if (len == 1 || at + len > s.size()) return c;
  char32_t cp = c & (0x7F >> len);
  for (std::size_t i = 1; i < len; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[at + i]) & 0x3F);
  return cp;
}

std::size_t code_point_end(std::string_view s, std::size_t at) noexcept {
  const std::size_t len = sequence_length(static_cast<unsigned char>(s[at]));
  return at + len > s.size() ? at + 1 : at + len;
}

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    int len;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (end - p < len) return false;
    for (int i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    constexpr unsigned min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += len;
  }
  return true;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool extends_grapheme(char32_t cp) noexcept {
  return (cp >= 0x0300 && cp <= 0x036F) ||    // combining diacritics
         (cp >= 0x064B && cp <= 0x065F) ||    // Arabic harakat
         cp == 0x0670 ||                      // superscript alef
         (cp >= 0x06D6 && cp <= 0x06ED) ||    // Quranic marks
         cp == 0x200C || cp == 0x200D ||      // ZWNJ, ZWJ
         cp == 0x20E3 ||                      // combining keycap
         (cp >= 0xFE00 && cp <= 0xFE0F) ||    // variation selectors
         (cp >= 0x1F3FB && cp <= 0x1F3FF) ||  // skin tones
         (cp >= 0xE0020 && cp <= 0xE007F) ||  // tags (subdivision flags)
         (cp >= 0xE0100 && cp <= 0xE01EF);    // variation selectors supplement
}

bool grapheme_boundary(std::string_view s, std::size_t at) noexcept {
  if (at == 0 || at >= s.size()) return true;
  if (continuation(s[at])) return false;
  const char32_t cp = code_point_at(s, at);
  if (extends_grapheme(cp)) return false;
  std::size_t before = previous_start(s, at);
  if (code_point_at(s, before) == 0x200D) return false;
  if (!regional_indicator(cp)) return true;
  // Flags are pairs: a boundary after an even number of indicators.
  std::size_t indicators = 0;
  for (;;) {
    if (!regional_indicator(code_point_at(s, before))) break;
    ++indicators;
    if (before == 0) break;
    before = previous_start(s, before);
  }
  return indicators % 2 == 0;
}

std::size_t grapheme_floor(std::string_view s, std::size_t at) noexcept {
  while (!grapheme_boundary(s, at)) --at;  // true at 0
  return at;
}

std::size_t grapheme_ceil(std::string_view s, std::size_t at) noexcept {
  while (!grapheme_boundary(s, at)) ++at;  // true at the end
  return at;
}

std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace pasokh::proto
