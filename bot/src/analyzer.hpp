#pragma once
// Turns normalized text into the three kinds of terms the index scores:
// stemmed content words, concepts (synonym groups, cross-language) and
// character 3–5-grams of content words (for affixes, colloquial and
// misspelled forms the stemmer does not know).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lexicon.hpp"
#include "pasokh/bot/language.hpp"

namespace pasokh::bot::detail {

// One content word of a query, with where its terms are, so the index can
// ask "does this entry explain this word?" word by word.
struct word_terms {
  std::uint32_t text_begin = 0, text_end = 0;  // the word in the analyzed text
  std::uint64_t word = 0;
  concept_id single = no_concept;  // the word's own concept
  concept_id pair = no_concept;    // a phrase it completes with the previous token
  std::uint32_t gram_begin = 0, gram_end = 0;  // its grams in features::grams (before unique_terms)
};

struct features {
  std::vector<word_terms> content;  // in text order
  std::vector<std::uint64_t> words;
  std::vector<concept_id> concepts;
  std::vector<std::uint64_t> grams;
  // Words that also produced a concept: if the knowledge base never uses the
  // word itself, the concept already carries its meaning.
  std::vector<std::uint64_t> words_with_concept;
  std::size_t content_words = 0;  // tokens left after stop words and numbers

  void clear() {
    content.clear();
    words.clear();
    words_with_concept.clear();
    concepts.clear();
    grams.clear();
    content_words = 0;
  }
};

// Appends the features of `normalized` (output of normalize()) to `out`.
// Reuses internal scratch buffers: no allocation once they have grown.
void analyze(std::string_view normalized, language lang, const lexicon& lex, features& out);

// Sorts and de-duplicates each list (queries count a term once); the grams of
// `content` are first copied to `word_grams`.
void unique_terms(features& f, std::vector<std::uint64_t>& word_grams);

}  // namespace pasokh::bot::detail
