#pragma once
// Persian typed in Latin letters ("Finglish": "salam, garanti yakhchal chand
// mahe?"), common where a phone has no Persian keyboard. A compact table of
// frequent function words and after-sales words with their usual spellings
// tells it from English and spells those words back in Persian script, so the
// bot can read it like Persian. Words the table does not know stay as typed.
#include <string>
#include <string_view>

namespace pasokh::bot::detail {

// Evidence in the Latin words of a text: points for Finglish words (2 for a
// word English does not have, 1 for one it borrows, like "salam", "merci";
// none for homographs like "to", "in", "man", "model") and one per English
// function word ("the", "my", "where"...).
struct latin_evidence {
  int finglish = 0;
  int english = 0;
};
latin_evidence weigh_latin_words(std::string_view text);

// Whether the Latin words lean Finglish: more of its points than English ones.
inline bool leans_finglish(const latin_evidence& e) { return e.finglish > e.english; }

// `text` with each Finglish word the table knows (and its colloquial suffixes:
// "sefareshamo", "garantish") written in Persian script; everything else kept.
void finglish_to_persian(std::string_view text, std::string& out);

}  // namespace pasokh::bot::detail
