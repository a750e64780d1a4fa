#pragma once
// The words search works on: what is indexed from a message or a customer
// file, how a query is read, and which message of a conversation best shows
// why it matched. Pure functions; the index itself is routing/src/lua/search.lua.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::routing {

// The rules search_terms() folds text by. Bump it with any change to them
// (bot::normalize included) that gives a word other terms: on its first
// leader tick a gateway of the new version re-indexes every conversation in
// the background (search_service::backfill), else messages indexed before are
// not found by the new query terms. 1: before the index recorded it (a ZWNJ
// joined words everywhere, digits glued to letters made one term only).
inline constexpr int search_fold_version = 2;

// Search terms of a text: folded as the FAQ bot folds questions
// (bot::normalize: Arabic letter forms as Persian, any script's digits as
// ASCII, Latin lower-cased, punctuation as spaces), then split into words of
// 2 to 40 characters, duplicates dropped, in order of first use. A word that
// glues digits to letters ("ORD12345", «سفارش۱۲۳۴۵») gives itself and its
// runs of digits and letters ("ord", "12345").
std::vector<std::string> search_terms(std::string_view text);

// A query as typed into the console's search box.
struct search_query {
  std::vector<std::string> words;  // search_terms of the query, glued digits and letters as their runs
  bool last_is_prefix = false;     // the last word is still being typed (no space after it)
  std::string key;                 // "email:…" / "phone:…" when the whole query is one address or number
};
search_query parse_search_query(std::string_view text);

// True when the folded words of `text` contain every query word (the last one
// as the start of a word when `last_is_prefix`).
bool text_matches(std::string_view text, const search_query& q);

// At most `max_chars` characters of the text around the first word that
// matches the query (from the start when none does), cut at spaces when one
// is near, with "…" where text was left out.
std::string search_snippet(std::string_view text, const search_query& q, std::size_t max_chars = 160);

}  // namespace pasokh::routing
