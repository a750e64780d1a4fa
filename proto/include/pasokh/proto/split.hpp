#pragma once
// A list kept as text ("a,b,c" in Redis fields and script arguments, folded words).
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::proto {

// The parts of `text` between `sep`, empty parts left out: "a,,b," -> {a, b}.
std::vector<std::string> split_nonempty(std::string_view text, char sep);

// The parts joined with `sep` between them: {a, b} -> "a,b".
std::string join(const std::vector<std::string>& parts, char sep);

}  // namespace pasokh::proto
