#pragma once
// Values kept as text: lists ("a,b,c" in Redis fields and script arguments,
// folded words) and numbers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::proto {

// The parts of `text` between `sep`, empty parts left out: "a,,b," -> {a, b}.
std::vector<std::string> split_nonempty(std::string_view text, char sep);

// The parts joined with `sep` between them: {a, b} -> "a,b".
std::string join(const std::vector<std::string>& parts, char sep);

// The integer `text` starts with ("42", a Redis field or script answer); 0
// when it starts with none.
std::int64_t parse_int(std::string_view text);

}  // namespace pasokh::proto
