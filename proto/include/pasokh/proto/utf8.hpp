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

}  // namespace pasokh::proto
