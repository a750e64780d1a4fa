#pragma once
// Text limits of the providers: counting and splitting UTF-8 text without
// ever cutting inside a code point.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/proto/types.hpp"

namespace pasokh::connectors {

// How a provider counts "characters". Telegram counts UTF-16 code units
// (an emoji outside the BMP is two); WhatsApp and Messenger count code points;
// Instagram counts UTF-8 bytes (a Persian letter is two).
enum class text_unit { code_point, utf16, utf8_byte };

std::size_t text_length(std::string_view utf8, text_unit unit = text_unit::code_point);

// Splits into parts of at most `limit` units. Prefers the last newline, then the
// last space, in the second half of a part; otherwise cuts between two
// user-perceived characters: never inside a code point, before a combining
// mark, ZWNJ (common in Persian) or emoji modifier, after a ZWJ, or inside a
// flag. The whitespace at a break is dropped; parts are never empty. Empty text
// gives no parts.
std::vector<std::string> split_text(std::string_view utf8, std::size_t limit,
                                    text_unit unit = text_unit::code_point);

// At most `limit` units; when cut, the last one is "…".
std::string truncate_text(std::string_view utf8, std::size_t limit, text_unit unit = text_unit::code_point);

// "text\n\n1. First\n2. Second": buttons as numbered lines, for providers or
// button sets that cannot be shown as real buttons.
std::string numbered_choices(std::string_view text, const std::vector<proto::button>& buttons);

// application/x-www-form-urlencoded decoding: '+' is a space, a malformed %xx
// is kept literally.
std::string form_decode(std::string_view s);

}  // namespace pasokh::connectors
