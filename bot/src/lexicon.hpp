#pragma once
// Compiled stop words and concepts: lookups by hash, no allocation.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pasokh/bot/language.hpp"

namespace pasokh::bot::detail {

using concept_id = std::uint32_t;
inline constexpr concept_id no_concept = 0xFFFFFFFF;

class lexicon {
 public:
  // The built-in tables, compiled once.
  static const lexicon& builtin();

  // `word` is a normalized token; the script picks the list (Arabic-script
  // words are checked against Persian and Arabic lists both, since customers
  // mix them and misdetection must not let "في" or "که" through).
  bool is_stop(std::string_view word) const noexcept;

  // Concept of one stemmed word / of two adjacent stemmed words in `lang`.
  concept_id concept_of(std::string_view stem, language lang) const noexcept;
  concept_id concept_of_pair(std::string_view stem1, std::string_view stem2, language lang) const noexcept;

  std::size_t concept_count() const noexcept { return names_.size(); }
  std::string_view concept_name(concept_id id) const { return names_.at(id); }

 private:
  lexicon();
  std::unordered_set<std::uint64_t> stop_;
  // Per language: stem hash → concept.
  std::unordered_map<std::uint64_t, concept_id> words_[language_count];
  std::unordered_map<std::uint64_t, concept_id> pairs_[language_count];
  std::vector<std::string> names_;
};

}  // namespace pasokh::bot::detail
