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
  // A whole address or phone number also finds the customer file it belongs to.
  auto trimmed = text;
  while (!trimmed.empty() && trimmed.front() == ' ') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  if (auto email = normalize_email(trimmed); !email.empty()) {
    q.key = "email:" + email;
  } else if (auto phone = normalize_phone(trimmed); !phone.empty()) {
    q.key = "phone:" + phone;
  }
  return q;
}

bool text_matches(std::string_view text, const search_query& q) {
  if (q.words.empty()) return false;
  auto words = folded_words(text);
  for (std::size_t i = 0; i < q.words.size(); ++i) {
    const auto& want = q.words[i];
    bool prefix = q.last_is_prefix && i + 1 == q.words.size();
    bool found = std::any_of(words.begin(), words.end(), [&](const std::string& w) {
      return prefix ? std::string_view(w).starts_with(want) : w == want;
    });
    if (!found) return false;
  }
  return true;
}

std::string search_snippet(std::string_view text, std::size_t max_chars) {
  if (proto::utf8_length(text) <= max_chars) return std::string(text);
  // The byte where character max_chars starts (UTF-8 continuation bytes are 10xxxxxx).
  std::size_t chars = 0, end = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80 && chars++ == max_chars) break;
  }
  auto cut = text.substr(0, end);
  if (auto space = cut.find_last_of(" \n"); space != std::string_view::npos && space > cut.size() * 3 / 4)
    cut = cut.substr(0, space);
  return std::string(cut) + "…";
}

}  // namespace pasokh::routing
