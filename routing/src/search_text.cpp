#include "pasokh/routing/search_text.hpp"

#include <algorithm>

#include "pasokh/bot/normalize.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/customer_keys.hpp"

namespace pasokh::routing {
namespace {

constexpr std::size_t min_term_chars = 2;
constexpr std::size_t max_term_chars = 40;

bool is_digit(char c) { return c >= '0' && c <= '9'; }  // folding made every script's digits ASCII

// The runs of digits and of letters of a folded word: "ord12345" → "ord",
// "12345". None (and no copy) when the word does not mix them, as most do.
std::vector<std::string> digit_letter_runs(std::string_view word) {
  std::vector<std::string> runs;
  if (std::all_of(word.begin(), word.end(), is_digit) || std::none_of(word.begin(), word.end(), is_digit)) return runs;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= word.size(); ++i) {
    if (i == word.size() || is_digit(word[i]) != is_digit(word[i - 1])) {
      runs.emplace_back(word.substr(start, i - start));
      start = i;
    }
  }
  return runs;
}

// Folded words of a text, in order, with repeats. A word that glues digits to
// letters ("ORD12345", «سفارش۱۲۳۴۵») is there whole and in its runs, so that
// "12345" finds it and so does "4k" (too short to split).
std::vector<std::string> folded_words(std::string_view text) {
  std::vector<std::string> out;
  for (auto& word : proto::split_nonempty(bot::normalize(text), ' ')) {
    auto runs = digit_letter_runs(word);
    out.push_back(std::move(word));
    out.insert(out.end(), runs.begin(), runs.end());
  }
  return out;
}

// Whether a folded word is the query's i-th word (the start of it, for a
// last word still being typed).
bool matches_word(std::string_view w, const search_query& q, std::size_t i) {
  return q.last_is_prefix && i + 1 == q.words.size() ? w.starts_with(q.words[i]) : w == q.words[i];
}

bool term_sized(const std::string& w) {
  auto chars = proto::utf8_length(w);
  return chars >= min_term_chars && chars <= max_term_chars;
}

void add_term(std::vector<std::string>& terms, std::string w) {
  if (term_sized(w) && std::find(terms.begin(), terms.end(), w) == terms.end()) terms.push_back(std::move(w));
}

// A query word that glues digits to letters asks for its runs ("ORD12345":
// "ord" and "12345", which an order number typed "ORD-12345" is also indexed
// under); whole when a run would be too short to be a term ("4k", "a52",
// "ord1" while typing), as indexed whole.
void add_query_terms(std::vector<std::string>& terms, std::string word) {
  auto runs = digit_letter_runs(word);
  if (!runs.empty() && std::all_of(runs.begin(), runs.end(), term_sized)) {
    for (auto& run : runs) add_term(terms, std::move(run));
  } else {
    add_term(terms, std::move(word));
  }
}

}  // namespace

std::vector<std::string> search_terms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : folded_words(text)) add_term(out, std::move(w));
  return out;
}

search_query parse_search_query(std::string_view text) {
  search_query q;
  for (auto& w : proto::split_nonempty(bot::normalize(text), ' ')) add_query_terms(q.words, std::move(w));
  q.last_is_prefix = !q.words.empty() && !text.empty() && text.back() != ' ';
  // A whole address or phone number also finds the customer file it belongs
  // to (both normalizers trim).
  if (auto email = normalize_email(text); !email.empty()) {
    q.key = "email:" + email;
  } else if (auto phone = normalize_phone(text); !phone.empty()) {
    q.key = "phone:" + phone;
  }
  return q;
}

bool text_matches(std::string_view text, const search_query& q) {
  if (q.words.empty()) return false;
  auto words = folded_words(text);
  for (std::size_t i = 0; i < q.words.size(); ++i)
    if (std::none_of(words.begin(), words.end(), [&](const std::string& w) { return matches_word(w, q, i); }))
      return false;
  return true;
}

namespace {

bool char_start(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

// The byte offset `chars` characters after (or, negative, before) `at`.
std::size_t advance_chars(std::string_view text, std::size_t at, long chars) {
  for (; chars > 0 && at < text.size(); --chars)
    do ++at; while (at < text.size() && !char_start(text[at]));
  for (; chars < 0 && at > 0; ++chars)
    do --at; while (at > 0 && !char_start(text[at]));
  return at;
}

// Where the first word matching a query word starts (its own folding decides).
std::size_t first_hit(std::string_view text, const search_query& q) {
  for (std::size_t at = 0; at < text.size();) {
    auto end = text.find_first_of(" \n\t", at);
    if (end == std::string_view::npos) end = text.size();
    for (const auto& w : folded_words(text.substr(at, end - at)))
      for (std::size_t i = 0; i < q.words.size(); ++i)
        if (matches_word(w, q, i)) return at;
    at = end + 1;
  }
  return 0;
}

constexpr std::string_view zwnj = "\u200C", zwj = "\u200D";

// A joiner at a cut joins nothing shown.
std::string_view trim_joiners(std::string_view part) {
  while (part.starts_with(zwnj) || part.starts_with(zwj)) part.remove_prefix(zwnj.size());
  while (part.ends_with(zwnj) || part.ends_with(zwj)) part.remove_suffix(zwnj.size());
  return part;
}

}  // namespace

std::string search_snippet(std::string_view text, const search_query& q, std::size_t max_chars) {
  if (proto::utf8_length(text) <= max_chars) return std::string(text);
  // A quarter of the room before the hit, the rest after it.
  auto from = advance_chars(text, first_hit(text, q), -static_cast<long>(max_chars / 4));
  if (from > 0)
    if (auto space = text.find(' ', from); space != std::string_view::npos && space < from + 20) from = space + 1;
  from = proto::grapheme_ceil(text, from);
  auto to = advance_chars(text, from, static_cast<long>(max_chars));
  if (to < text.size())
    if (auto space = text.rfind(' ', to); space != std::string_view::npos && space > from && to - space < 30) to = space;
  to = proto::grapheme_floor(text, to);  // never before `from`, itself a boundary
  return (from > 0 ? "…" : "") + std::string(trim_joiners(text.substr(from, to - from))) + (to < text.size() ? "…" : "");
}

}  // namespace pasokh::routing
