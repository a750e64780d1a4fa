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
