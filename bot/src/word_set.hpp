#pragma once
// A set of words and two-word phrases, written as '|'-separated lists and
// matched on normalized tokens (intents.cpp, csat_comment.cpp).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>

#include "hash.hpp"
#include "pasokh/bot/language.hpp"
#include "pasokh/bot/normalize.hpp"
#include "stem.hpp"

namespace pasokh::bot::detail {

// A set of words and two-word phrases, matched on normalized surface forms
// and on stems (Arabic-script words stemmed both the Persian and the Arabic way).
class word_set {
 public:
  enum class match { stems, surface };
  explicit word_set(std::initializer_list<std::string_view> lists, match by = match::stems) : by_(by) {
    for (auto list : lists) {
      while (!list.empty()) {
        const auto bar = list.find('|');
        add(list.substr(0, bar));
        if (bar == std::string_view::npos) break;
        list.remove_prefix(bar + 1);
      }
    }
  }
  bool has(std::string_view surface, std::string_view stem) const {
    return keys_.contains(hash_bytes(surface)) || (by_ == match::stems && keys_.contains(hash_bytes(stem)));
  }
  bool has_pair(std::string_view a, std::string_view b) const { return keys_.contains(hash_pair(a, b)); }

 private:
  void add(std::string_view raw) {
    const std::string norm = normalize(raw);
    if (norm.empty()) return;
    const auto space = norm.find(' ');
    if (space == std::string::npos) {
      keys_.insert(hash_bytes(norm));
      if (by_ == match::stems) {
        for (language l : all_languages) keys_.insert(hash_bytes(stem(norm, l)));
      }
      return;
    }
    const std::string_view a = std::string_view(norm).substr(0, space);
    const std::string_view b = std::string_view(norm).substr(space + 1);
    keys_.insert(hash_pair(a, b));
  }
  match by_;
  std::unordered_set<std::uint64_t> keys_;
};

}  // namespace pasokh::bot::detail
