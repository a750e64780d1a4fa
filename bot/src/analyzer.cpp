#include "analyzer.hpp"

#include <algorithm>

#include "hash.hpp"
#include "stem.hpp"
#include "utf8.hpp"

namespace pasokh::bot::detail {
namespace {

constexpr std::size_t min_gram = 3;
constexpr std::size_t max_gram = 5;

// Ends with ه and keeps at least three letters without it.
bool ends_with_heh(std::string_view w) { return w.size() >= 8 && w.substr(w.size() - 2) == "\u0647"; }

// Arabic glues the prepositions ب ل ک and the conjunction ف onto a noun that
// has no article (لإرجاع "to return"). The stemmer keeps them, since alone
// they are too often part of the root; this gives the rest of the word, at
// least three letters, to try against the concepts. Empty when there is none.
std::string_view without_arabic_proclitic(std::string_view w) {
  static constexpr std::string_view proclitics[] = {"\u0628", "\u0644", "\u06A9", "\u0641"};
  if (w.size() < 8) return {};
  for (std::string_view p : proclitics) {
    if (w.starts_with(p)) return w.substr(p.size());
  }
  return {};
}

bool all_digits(std::string_view w) {
  return std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct scratch {
  std::string stem, prev_stem, skipped_stem, marked, unglued;
  std::vector<std::uint32_t> offsets;
};

// Word wrapped in boundary markers so that grams at the start and end of a
// word (prefixes, suffixes) differ from the same letters inside it.
void add_grams(std::string_view word, scratch& s, std::vector<std::uint64_t>& out) {
  s.marked.clear();
  s.marked.push_back('\x01');
  s.marked.append(word);
  s.marked.push_back('\x02');
  s.offsets.clear();
  std::size_t pos = 0;
  while (pos < s.marked.size()) {
    s.offsets.push_back(static_cast<std::uint32_t>(pos));
    next_code_point(s.marked, pos);
  }
  const std::size_t n_cp = s.offsets.size();
  s.offsets.push_back(static_cast<std::uint32_t>(s.marked.size()));
  const std::string_view m = s.marked;
  if (n_cp < min_gram) {
    out.push_back(hash_bytes(m, gram_seed));
    return;
  }
  for (std::size_t n = min_gram; n <= max_gram && n <= n_cp; ++n) {
    for (std::size_t i = 0; i + n <= n_cp; ++i) {
      out.push_back(hash_bytes(m.substr(s.offsets[i], s.offsets[i + n] - s.offsets[i]), gram_seed));
    }
  }
}

}  // namespace

void analyze(std::string_view text, language lang, const lexicon& lex, features& out) {
  thread_local scratch s;
  s.prev_stem.clear();
  s.skipped_stem.clear();
  bool have_prev = false, have_skipped = false, prev_stop = false;
  language prev_lang = lang;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;

    // Latin words inside Persian/Arabic text ("آپدیت firmware") use English
    // rules; Arabic-script words in an English conversation use Persian ones.
    const bool latin = static_cast<unsigned char>(word[0]) < 0x80;
    const language word_lang = latin ? language::en : (lang == language::en ? language::fa : lang);
    stem_into(word, word_lang, s.stem);

    // Phrases may contain stop words ("send back", "how much", "تا کی"), so
    // pairs look at every token; single words only when they carry meaning
    // (Arabic ماء "water" normalizes to the stop word ما).
    const bool stop = lex.is_stop(word) || all_digits(word);
    concept_id single = no_concept;
    if (!stop) {
      single = lex.concept_of(s.stem, word_lang);
      if (single == no_concept && s.stem != word) single = lex.concept_of(word, word_lang);
      // Colloquial Persian glues "is" on as ـه (ماهه "is … months", روزه):
      // for concepts only, also try the word without it.
      if (single == no_concept && word_lang == language::fa && ends_with_heh(s.stem)) {
        single = lex.concept_of(std::string_view(s.stem).substr(0, s.stem.size() - 2), word_lang);
      }
      if (single == no_concept && word_lang == language::ar) {
        if (const auto rest = without_arabic_proclitic(word); !rest.empty()) {
          stem_into(rest, word_lang, s.unglued);
          single = lex.concept_of(s.unglued, word_lang);
        }
      }
      if (single != no_concept) out.concepts.push_back(single);
    }
    // Pairs may skip one stop word between them: "give it back", "send them back".
    concept_id pair = no_concept;
    if (have_prev && prev_lang == word_lang) pair = lex.concept_of_pair(s.prev_stem, s.stem, word_lang);
    if (pair == no_concept && have_skipped) pair = lex.concept_of_pair(s.skipped_stem, s.stem, word_lang);
    if (pair != no_concept) out.concepts.push_back(pair);
    // A content word followed by one stop word stays available for a gapped pair.
    have_skipped = stop && have_prev && !prev_stop;
    if (have_skipped) s.skipped_stem = s.prev_stem;
    std::swap(s.prev_stem, s.stem);
    have_prev = true;
    prev_stop = stop;
    prev_lang = word_lang;

    if (stop) continue;
    ++out.content_words;
    out.words.push_back(hash_bytes(s.prev_stem, word_seed));
    if (single != no_concept || pair != no_concept) out.words_with_concept.push_back(out.words.back());
    const auto gram_begin = static_cast<std::uint32_t>(out.grams.size());
    add_grams(word, s, out.grams);
    const auto word_begin = static_cast<std::uint32_t>(word.data() - text.data());
    out.content.push_back({word_begin, word_begin + static_cast<std::uint32_t>(word.size()), out.words.back(), single,
                           pair, gram_begin, static_cast<std::uint32_t>(out.grams.size())});
  }
}

void unique_terms(features& f, std::vector<std::uint64_t>& word_grams) {
  word_grams = f.grams;
  const auto dedupe = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  dedupe(f.words);
  dedupe(f.concepts);
  dedupe(f.grams);
  dedupe(f.words_with_concept);
}

}  // namespace pasokh::bot::detail
