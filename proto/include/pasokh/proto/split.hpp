#pragma once
// Splitting a list kept as text ("a,b,c" in Redis fields, folded words).
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::proto {

// The parts of `text` between `sep`, empty parts left out: "a,,b," -> {a, b}.
std::vector<std::string> split_nonempty(std::string_view text, char sep);

}  // namespace pasokh::proto
