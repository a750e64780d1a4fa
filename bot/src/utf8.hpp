#pragma once
// Minimal UTF-8 decoding/encoding for the normalizer and n-gram builder.
#include <cstdint>
#include <string>
#include <string_view>

namespace pasokh::bot::detail {

inline constexpr char32_t invalid_code_point = 0xFFFFFFFF;

// Decodes one code point at `pos` and advances it. Malformed input yields
// invalid_code_point and skips one byte, so callers never loop forever.
inline char32_t next_code_point(std::string_view s, std::size_t& pos) noexcept {
  const auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) { ++pos; return c; }
  int len = 0;
  char32_t cp = 0;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
  else { ++pos; return invalid_code_point; }
  if (s.size() - pos < static_cast<std::size_t>(len)) { ++pos; return invalid_code_point; }
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if ((b & 0xC0) != 0x80) { ++pos; return invalid_code_point; }
    cp = (cp << 6) | (b & 0x3F);
  }
  constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;
    return invalid_code_point;
  }
  pos += len;
  return cp;
}

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The longest prefix of `s` of at most `max` bytes that does not cut a
// multi-byte sequence.
inline std::string_view utf8_prefix(std::string_view s, std::size_t max) noexcept {
  if (s.size() <= max) return s;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

inline bool is_arabic_script_letter(char32_t cp) noexcept {
  return (cp >= 0x0620 && cp <= 0x064A) || (cp >= 0x066E && cp <= 0x06D5) ||
         (cp >= 0x06EE && cp <= 0x06EF) || (cp >= 0x06FA && cp <= 0x06FF) ||
         (cp >= 0x0750 && cp <= 0x077F) || (cp >= 0x08A0 && cp <= 0x08FF && cp < 0x08D3);
}

inline bool is_latin_letter(char32_t cp) noexcept {
  return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
         (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

}  // namespace pasokh::bot::detail
