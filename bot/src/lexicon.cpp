#include "lexicon.hpp"

#include "hash.hpp"
#include "lexicon_data.hpp"
#include "pasokh/bot/normalize.hpp"
#include "stem.hpp"

namespace pasokh::bot::detail {
namespace {

template <class F>
void for_each_item(std::string_view list, F&& f) {
  while (!list.empty()) {
    const auto bar = list.find('|');
    const auto item = list.substr(0, bar);
    if (!item.empty()) f(item);
    if (bar == std::string_view::npos) break;
    list.remove_prefix(bar + 1);
  }
}

bool is_latin_word(std::string_view w) { return !w.empty() && static_cast<unsigned char>(w[0]) < 0x80; }

}  // namespace

const lexicon& lexicon::builtin() {
  static const lexicon instance;
  return instance;
}

lexicon::lexicon() {
  for (auto list : {builtin_stop_words_en(), builtin_stop_words_fa(), builtin_stop_words_ar()}) {
    for_each_item(list, [&](std::string_view w) { stop_.insert(hash_bytes(normalize(w))); });
  }

  const auto concepts = builtin_concepts();
  names_.reserve(concepts.size());
  std::string stem1, stem2;
  for (concept_id id = 0; id < concepts.size(); ++id) {
    const auto& c = concepts[id];
    names_.emplace_back(c.name);
    for (language lang : all_languages) {
      // Each language's keys come from its own list, stemmed the way a query
      // in that language is: Persian and Arabic share letters but not always
      // meanings (وصل is "arrived" in Arabic, "connect" in Persian).
      const auto add = [&](std::string_view raw) {
        const std::string norm = normalize(raw);
        if (norm.empty() || is_latin_word(norm) != (lang == language::en)) return;
        const auto space = norm.find(' ');
        if (space == std::string::npos) {
          stem_into(norm, lang, stem1);
          words_[static_cast<int>(lang)].try_emplace(hash_bytes(stem1), id);
          return;
        }
        // Two-word phrases; longer ones keep their first two words.
        const auto rest = std::string_view(norm).substr(space + 1);
        stem_into(std::string_view(norm).substr(0, space), lang, stem1);
        stem_into(rest.substr(0, rest.find(' ')), lang, stem2);
        pairs_[static_cast<int>(lang)].try_emplace(hash_pair(stem1, stem2), id);
      };
      switch (lang) {
        case language::en: for_each_item(c.en, add); break;
        case language::fa: for_each_item(c.fa, add); break;
        case language::ar: for_each_item(c.ar, add); break;
      }
    }
  }
}

bool lexicon::is_stop(std::string_view word) const noexcept { return stop_.contains(hash_bytes(word)); }

concept_id lexicon::concept_of(std::string_view stem, language lang) const noexcept {
  const auto& map = words_[static_cast<int>(lang)];
  const auto it = map.find(hash_bytes(stem));
  return it == map.end() ? no_concept : it->second;
}

concept_id lexicon::concept_of_pair(std::string_view a, std::string_view b, language lang) const noexcept {
  const auto& map = pairs_[static_cast<int>(lang)];
  const auto it = map.find(hash_pair(a, b));
  return it == map.end() ? no_concept : it->second;
}

}  // namespace pasokh::bot::detail
