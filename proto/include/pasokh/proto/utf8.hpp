#pragma once
#include <string_view>

namespace pasokh::proto {

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view bytes) noexcept;

}  // namespace pasokh::proto
