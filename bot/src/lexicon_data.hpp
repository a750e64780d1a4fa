#pragma once
// Built-in vocabulary tables. Words are written naturally (any spelling
// variant) and are normalized and stemmed when the lexicon is compiled.
#include <span>
#include <string_view>

namespace pasokh::bot::detail {

// One language-neutral concept and its words per language, '|' separated.
// A word may be a two-word phrase ("send back"). Concepts let a Persian
// question match an entry whose Persian phrasings use a synonym, and let all
// three languages of an entry vote for it.
struct concept_words {
  std::string_view name;
  std::string_view en;
  std::string_view fa;
  std::string_view ar;
};

std::span<const concept_words> builtin_concepts();

// Words that carry no topic in each language ('|' separated).
std::string_view builtin_stop_words_en();
std::string_view builtin_stop_words_fa();
std::string_view builtin_stop_words_ar();

}  // namespace pasokh::bot::detail
