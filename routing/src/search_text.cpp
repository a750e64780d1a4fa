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

// Folded words of a text, in order, with repeats.
std::vector<std::string> folded_words(std::string_view text) { return proto::split_nonempty(bot::normalize(text), ' '); }

// Whether a folded word is the query's i-th word (the start of it, for a
// last word still being typed).
bool matches_word(std::string_view w, const search_query& q, std::size_t i) {
  return q.last_is_prefix && i + 1 == q.words.size() ? w.starts_with(q.words[i]) : w == q.words[i];
}

bool term_sized(const std::string& w) {
  auto chars = proto::utf8_length(w);
  return chars >= min_term_chars && chars <= max_term_chars;
}

}  // namespace

std::vector<std::string> search_terms(std::string_view text) {
  std::vector<std::string> out;
  for (auto& w : folded_words(text)) {
    if (term_sized(w) && std::find(out.begin(), out.end(), w) == out.end()) out.push_back(std::move(w));
  }
  return out;
}

search_query parse_search_query(std::string_view text) {
  search_query q;
  q.words = search_terms(text);
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

}  // namespace

std::string search_snippet(std::string_view text, const search_query& q, std::size_t max_chars) {
  if (proto::utf8_length(text) <= max_chars) return std::string(text);
  // A quarter of the room before the hit, the rest after it.
  auto from = advance_chars(text, first_hit(text, q), -static_cast<long>(max_chars / 4));
  if (from > 0)
    if (auto space = text.find(' ', from); space != std::string_view::npos && space < from + 20) from = space + 1;
  auto to = advance_chars(text, from, static_cast<long>(max_chars));
  if (to < text.size())
    if (auto space = text.rfind(' ', to); space != std::string_view::npos && space > from && to - space < 30) to = space;
  return (from > 0 ? "…" : "") + std::string(text.substr(from, to - from)) + (to < text.size() ? "…" : "");
}

}  // namespace pasokh::routing
