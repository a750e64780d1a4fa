#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace pasokh::proto {

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view bytes) noexcept;

// Code points in valid UTF-8 (what a person counts as characters, roughly).
std::size_t utf8_length(std::string_view s) noexcept;

// Appends the UTF-8 encoding of a code point (the caller passes a valid one).
void append_utf8(std::string& out, char32_t cp);

// The code point that starts at byte `at` of valid UTF-8 (a stray byte reads
// as itself), and the byte just after it.
char32_t code_point_at(std::string_view s, std::size_t at) noexcept;
std::size_t code_point_end(std::string_view s, std::size_t at) noexcept;

// Direction controls: LRM, RLM, the Arabic letter mark, the embeddings and
// overrides U+202A-E and the isolates U+2066-9. They change only how text is
// shown, so where text is compared, or a name must show what it is
// ("card\u202Efdp.bat" shows as "cardtab.pdf"), they are taken out.
constexpr bool is_direction_control(char32_t cp) noexcept {
  return cp == 0x200E || cp == 0x200F || cp == 0x061C || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Arabic yeh ي, alef maksura ى and kaf ك as the Persian ی and ک: the same
// words typed on an Arabic keyboard, or decoded from windows-1256, compare
// equal. Any other code point as it is.
constexpr char32_t persian_letter(char32_t cp) noexcept {
  if (cp == 0x064A || cp == 0x0649) return 0x06CC;
  if (cp == 0x0643) return 0x06A9;
  return cp;
}

// Code points that belong to the character before them, so that text is never
// cut or counted apart there: combining marks (Latin accents, Arabic harakat
// and Quranic marks), ZWNJ and ZWJ, variation selectors (the U+FE0F of ❤️),
// the keycap of 1️⃣, skin tones and the tags of flag sequences.
bool extends_grapheme(char32_t cp) noexcept;

// Whether text may be cut at byte `at` without splitting a character as a
// reader sees it (a simple grapheme cluster rule): not inside a code point,
// not before a code point that extends_grapheme, not after a ZWJ (👨‍👩‍👧),
// not between the two regional indicators of a flag. True at both ends.
bool grapheme_boundary(std::string_view s, std::size_t at) noexcept;
// The nearest grapheme_boundary at or before (floor) / at or after (ceil) byte `at`.
std::size_t grapheme_floor(std::string_view s, std::size_t at) noexcept;
std::size_t grapheme_ceil(std::string_view s, std::size_t at) noexcept;

}  // namespace pasokh::proto
