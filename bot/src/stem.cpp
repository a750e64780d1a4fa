#include "stem.hpp"

#include <array>

namespace pasokh::bot::detail {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// Arabic-script letters are two bytes each after normalization.
std::size_t letters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

void stem_english(std::string_view w, std::string& out) {
  out.assign(w);
  if (out.size() <= 3) return;
  // Plurals and third person.
  if (ends_with(out, "ies") && out.size() > 4) {
    out.resize(out.size() - 2);  // batteries → batteri (y → i below)
  } else if (ends_with(out, "sses") || ends_with(out, "shes") || ends_with(out, "ches") ||
             ends_with(out, "xes")) {
    out.resize(out.size() - 2);
  } else if (out.back() == 's' && !ends_with(out, "ss") && !ends_with(out, "us") &&
             !ends_with(out, "is")) {
    out.pop_back();
  }
  // Verb endings; undouble "dropped" → "drop".
  const auto strip_verb = [&](std::size_t n, std::size_t min_left) {
    if (out.size() < n + min_left) return false;
    bool has_vowel = false;
    for (std::size_t i = 0; i + n < out.size(); ++i) has_vowel |= is_vowel(out[i]);
    if (!has_vowel) return false;
    out.resize(out.size() - n);
    const std::size_t k = out.size();
    if (k >= 3 && out[k - 1] == out[k - 2] && !is_vowel(out[k - 1]) && out[k - 1] != 'l' &&
        out[k - 1] != 's' && out[k - 1] != 'z') {
      out.pop_back();
    }
    return true;
  };
  if (ends_with(out, "ing")) strip_verb(3, 3);
  else if (ends_with(out, "ed")) strip_verb(2, 3);
  else if (ends_with(out, "ly") && out.size() >= 6) out.resize(out.size() - 2);
  // Final e and y so that charge/charged and battery/batteries meet.
  if (out.size() > 3 && out.back() == 'e') out.pop_back();
  if (out.size() > 3 && out.back() == 'y') out.back() = 'i';
}

// Affixes in normalized spelling (ي→ی, ك→ک, ة→ه, أ→ا).
constexpr std::array<std::string_view, 7> arabic_articles{"وال", "بال", "کال", "فال", "لل", "ال", "ولل"};
constexpr std::array<std::string_view, 15> arabic_suffixes{
    "هما", "کما", "ها", "ان", "ات", "ون", "ین", "یه", "کم", "هم", "نا", "نی", "ه", "ی", "ا"};

void stem_arabic(std::string_view w, std::string& out) {
  // Conjunction و glued to the next word (وأريد, والضمان).
  if (starts_with(w, "و") && letters(w) > 3) w.remove_prefix(2);
  for (std::string_view a : arabic_articles) {
    if (starts_with(w, a) && letters(w) - letters(a) >= 2) {
      w.remove_prefix(a.size());
      break;
    }
  }
  // Prepositions ب ل ف ک glued to a noun only when an article follows was
  // handled above; alone they are too often part of the root.
  for (int round = 0; round < 2; ++round) {
    bool stripped = false;
    for (std::string_view s : arabic_suffixes) {
      if (ends_with(w, s) && letters(w) - letters(s) >= (letters(s) == 1 ? 3u : 2u)) {
        w.remove_suffix(s.size());
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  out.assign(w);
}

constexpr std::array<std::string_view, 2> persian_prefixes{"نمی", "می"};
constexpr std::array<std::string_view, 24> persian_suffixes{
    "هایمان", "هایتان", "هایشان", "هایی", "های", "ها", "ترین", "تر", "مون", "تون", "شون",
    "یم", "ید", "ند", "ام", "ات", "اش", "ای", "یی", "م", "ت", "ش", "ی", "و"};

void stem_persian(std::string_view w, std::string& out) {
  for (std::string_view p : persian_prefixes) {
    if (starts_with(w, p) && letters(w) - letters(p) >= 2) {
      w.remove_prefix(p.size());
      break;
    }
  }
  // An infinitive is its past stem plus ن: برگرداندن → برگرداند, so that
  // "to return" meets "returned" and the colloquial «میشه برگردوند» ("can
  // one return it"), which uses the bare past stem.
  if (letters(w) >= 5 && (ends_with(w, "دن") || ends_with(w, "تن"))) w.remove_suffix(2);
  // Up to three rounds: سفارشمو → سفارشم → سفارش.
  for (int round = 0; round < 3; ++round) {
    bool stripped = false;
    for (std::string_view s : persian_suffixes) {
      // Three letters must remain: shorter Persian stems are mostly whole
      // words that happen to end like a suffix (روند, رسید).
      if (ends_with(w, s) && letters(w) >= letters(s) + 3) {
        w.remove_suffix(s.size());
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  out.assign(w);
}

}  // namespace

void stem_into(std::string_view word, language lang, std::string& out) {
  if (word.empty()) { out.clear(); return; }
  const auto first = static_cast<unsigned char>(word[0]);
  if (first < 0x80) {
    stem_english(word, out);
  } else if (lang == language::ar) {
    stem_arabic(word, out);
  } else {
    stem_persian(word, out);
  }
}

std::string stem(std::string_view word, language lang) {
  std::string out;
  stem_into(word, lang, out);
  return out;
}

}  // namespace pasokh::bot::detail
