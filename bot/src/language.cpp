#include "pasokh/bot/language.hpp"

#include <array>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "finglish.hpp"
#include "pasokh/bot/normalize.hpp"
#include "utf8.hpp"

namespace pasokh::bot {
namespace {

// Function words that are frequent in one language and rare in the other.
// Written naturally; compared after normalization.
constexpr std::array persian_words{
    "است", "که", "را", "رو", "این", "اون", "آن", "می", "نمی", "چی", "چه", "چرا", "کجا",
    "کجاست", "چطور", "چطوری", "چجوری", "دارید", "داره", "دارم", "میخوام", "میخواهم", "میشه",
    "نمیشه", "هست", "نیست", "برای", "با", "از", "تا", "هم", "یه", "یک", "شده", "کنم", "کنید",
    "کنین", "بدم", "بدید", "دیگه", "الان", "هنوز", "باید", "خیلی", "آیا", "اگه", "اگر", "ولی",
    "چند", "چقدر", "ممنون", "مرسی", "لطفا", "بله", "آره", "نه", "خب", "کی", "هستید", "شما",
    "من", "ما", "تو", "به", "یا", "رو", "بود", "شد", "کرد", "کردم", "میکنم", "ام", "درود",
    "متشکرم", "سپاس", "خسته", "نباشید", "بخیر", "وقت"};
constexpr std::array arabic_words{
    "في", "من", "هل", "ما", "لا", "أن", "على", "إلى", "عن", "هذا", "هذه", "التي", "الذي", "كيف",
    "لماذا", "متى", "أين", "وين", "أريد", "لم", "لن", "قد", "كان", "يمكن", "يمكنني", "هناك",
    "لدي", "لديكم", "عند", "عندكم", "عندي", "مع", "أنا", "شكرا", "نعم", "ايش", "شو", "ليش",
    "بدي", "أبغى", "أبي", "إذا", "لو", "كم", "ذلك", "تلك", "أو", "ثم", "حتى", "بعد", "منكم",
    "لكم", "لكن", "أحتاج", "اللي", "فيه", "هو", "هي", "انا", "الى", "اريد", "ممكن", "مرحبا",
    "أهلا", "اهلا", "السلام", "عليكم", "الخير", "صباح", "مساء", "جزيلا", "مشكور", "يعطيك", "العافية"};

std::unordered_set<std::string> normalized(const auto& words) {
  std::unordered_set<std::string> out;
  for (const char* w : words) out.insert(normalize(w));
  return out;
}

// Words both languages use ("من", "ما") tell them apart in neither direction.
struct word_sets {
  std::unordered_set<std::string> fa, ar;
  word_sets() : fa(normalized(persian_words)), ar(normalized(arabic_words)) {
    std::vector<std::string> shared;
    for (const auto& w : fa)
      if (ar.contains(w)) shared.push_back(w);
    for (const auto& w : shared) fa.erase(w), ar.erase(w);
  }
};

const word_sets& function_words() {
  static const word_sets sets;
  return sets;
}

// Latin script is English unless its words read as Persian ("Finglish").
// Two points at least (one word English lacks, or two borrowed ones) and more
// than its English function words: "salam, where is my order?" and "My name
// is Roshan" stay English. Borrowed greetings alone ("salam", "merci") say
// neither: the conversation's language, the channel's or the page's decides.
// Arabic typed in Latin letters (Arabizi) is not told apart.
language_guess guess_latin(std::string_view text) {
  const detail::latin_evidence e = detail::weigh_latin_words(text);
  constexpr int finglish_points = 2, clear_points = 4;
  if (e.finglish >= finglish_points && detail::leans_finglish(e)) {
    return {language::fa, e.finglish >= clear_points && e.english == 0};
  }
  if (e.finglish > 0 && e.english == 0) return {};
  return {language::en};
}

}  // namespace

std::string_view to_string(language l) noexcept {
  switch (l) {
    case language::fa: return "fa";
    case language::ar: return "ar";
    case language::en: return "en";
  }
  return "fa";
}

std::optional<language> parse_language(std::string_view s) noexcept {
  if (s.size() < 2 || (s.size() > 2 && s[2] != '-' && s[2] != '_')) return std::nullopt;
  const char a = static_cast<char>(s[0] | 0x20), b = static_cast<char>(s[1] | 0x20);
  if (a == 'f' && b == 'a') return language::fa;
  if (a == 'a' && b == 'r') return language::ar;
  if (a == 'e' && b == 'n') return language::en;
  return std::nullopt;
}

std::string_view guess_language_code(std::string_view text) {
  auto guess = detect_language(text);
  return guess ? to_string(*guess) : std::string_view{};
}

std::optional<language> detect_language(std::string_view text) { return guess_language(text).lang; }

bool has_finglish_words(std::string_view text) { return detail::weigh_latin_words(text).finglish > 0; }

language_guess guess_language(std::string_view text) {
  // Words, not letters, per script: "گوشی Samsung Galaxy من خراب شده" is
  // Persian with a product name in it, though most of its letters are Latin.
  int latin_words = 0, arabic_words = 0;
  int fa = 0, ar = 0;  // evidence points
  enum class run { other, latin, arabic, persian_digits, arabic_digits } last = run::other;
  // Counts a run of one kind once: an order number is one mark of the keyboard, not ten.
  const auto starts = [&last](run r) { return std::exchange(last, r) != r; };
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char32_t cp = detail::next_code_point(text, pos);
    if (detail::is_latin_letter(cp)) { latin_words += starts(run::latin); continue; }
    if (cp >= 0x06F0 && cp <= 0x06F9) { fa += starts(run::persian_digits); continue; }
    if (cp >= 0x0660 && cp <= 0x0669) { ar += starts(run::arabic_digits); continue; }
    if (cp >= 0x064B && cp <= 0x064D) { ar += 1; continue; }  // tanween, rare in Persian
    if (!detail::is_arabic_script_letter(cp)) {
      // Diacritics, tatweel and ZWNJ continue a word; anything else ends it.
      if (cp != 0x200C && cp != 0x0640 && !(cp >= 0x064E && cp <= 0x0652)) last = run::other;
      continue;
    }
    arabic_words += starts(run::arabic);
    switch (cp) {
      case 0x067E: case 0x0686: case 0x0698: case 0x06AF: fa += 3; break;  // پ چ ژ گ
      case 0x06CC: case 0x06A9: fa += 1; break;                            // Persian ی ک
      case 0x0629: ar += 3; break;                                         // ة
      case 0x0649: ar += 1; break;                                         // ى
      // Arabic ي ك count for neither: Persian typed on an Arabic keyboard has
      // them too («سفارشم كي ميرسه؟»); the words decide.
      case 0x0623: case 0x0625: case 0x0624: ar += 1; break;               // أ إ ؤ
      default: break;
    }
  }
  if (latin_words == 0 && arabic_words == 0) return {};
  if (latin_words > 2 * arabic_words) return guess_latin(text);

  // Word evidence decides text typed on the "other" keyboard (Persian with ي/ك).
  const std::string norm = normalize(text);
  const auto& fa_words = function_words().fa;
  const auto& ar_words = function_words().ar;
  std::size_t start = 0;
  while (start < norm.size()) {
    std::size_t end = norm.find(' ', start);
    if (end == std::string::npos) end = norm.size();
    const std::string word = norm.substr(start, end - start);
    if (fa_words.contains(word)) fa += 2;
    if (ar_words.contains(word)) ar += 2;
    // The article ال opens most Arabic nouns; Persian keeps it to a few loanwords.
    if (word.size() >= 8 && word.compare(0, 4, "\u0627\u0644") == 0 && word != normalize("الان")) ar += 1;
    start = end + 1;
  }
  constexpr int clear_points = 3;
  if (fa > ar) return {language::fa, fa >= clear_points && ar == 0};
  if (ar > fa) return {language::ar, ar >= clear_points && fa == 0};
  return {};
}

}  // namespace pasokh::bot
