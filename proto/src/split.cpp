#include "pasokh/proto/split.hpp"

#include <charconv>

namespace pasokh::proto {

std::vector<std::string> split_nonempty(std::string_view text, char sep) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto cut = text.find(sep);
    if (cut != 0) out.emplace_back(text.substr(0, cut));
    if (cut == std::string_view::npos) break;
    text.remove_prefix(cut + 1);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += sep;
    out += part;
  }
  return out;
}

std::int64_t parse_int(std::string_view text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

}  // namespace pasokh::proto
