#include "pasokh/bot/normalize.hpp"

#include "pasokh/proto/utf8.hpp"
#include "utf8.hpp"

namespace pasokh::bot {
namespace {

using detail::append_utf8;
using detail::invalid_code_point;

// What one input code point becomes.
enum class fold_kind { letter, drop, space };
struct folded {
  fold_kind kind;
  char32_t cp;  // for letters
};

constexpr bool is_arabic_diacritic(char32_t cp) noexcept {
  return (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 ||
         (cp >= 0x06D6 && cp <= 0x06DC) || (cp >= 0x06DF && cp <= 0x06E8) ||
         (cp >= 0x06EA && cp <= 0x06ED);
}

// Zero-width and bidi controls that only affect rendering.
constexpr bool is_invisible(char32_t cp) noexcept {
  return cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x200E || cp == 0x200F ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
         cp == 0x00AD || cp == 0x061C;
}

constexpr folded fold(char32_t cp) noexcept {
  if (cp == invalid_code_point) return {fold_kind::space, 0};
  if (cp < 0x80) {
    if (cp >= 'A' && cp <= 'Z') return {fold_kind::letter, cp + 32};
    if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) return {fold_kind::letter, cp};
    if (cp == '\'') return {fold_kind::drop, 0};  // don't → dont, customer's → customers
    return {fold_kind::space, 0};
  }
  if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC) return {fold_kind::drop, 0};  // typographic apostrophes
  if (is_invisible(cp) || is_arabic_diacritic(cp) || cp == 0x0640 /* tatweel */) {
    return {fold_kind::drop, 0};
  }
  // Parts of the character before (the U+FE0F of ❤️, skin tones, keycaps,
  // combining accents): as letters they made words of their own, and
  // «ممنون ❤️» was no thank-you.
  if (proto::extends_grapheme(cp)) return {fold_kind::drop, 0};
  if (cp >= 0x06F0 && cp <= 0x06F9) return {fold_kind::letter, U'0' + (cp - 0x06F0)};  // Persian digits
  if (cp >= 0x0660 && cp <= 0x0669) return {fold_kind::letter, U'0' + (cp - 0x0660)};  // Arabic-Indic digits
  switch (cp) {
    case 0x0622: case 0x0623: case 0x0625: case 0x0671: case 0x0672: case 0x0673:
      return {fold_kind::letter, 0x0627};  // alef forms → ا
    case 0x0624: return {fold_kind::letter, 0x0648};  // ؤ → و
    case 0x0626: case 0x064A: case 0x0649: case 0x06CD: case 0x06D0:
      return {fold_kind::letter, 0x06CC};  // ئ ي ى → ی
    case 0x0643: return {fold_kind::letter, 0x06A9};  // ك → ک
    case 0x0629: case 0x06C0: case 0x06BE: case 0x06C1: case 0x06D5:
      return {fold_kind::letter, 0x0647};  // ة ۀ ھ ہ → ه
    case 0x0621: return {fold_kind::drop, 0};  // lone hamza is spelled inconsistently
    default: break;
  }
  if (detail::is_arabic_script_letter(cp)) return {fold_kind::letter, cp};
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return {fold_kind::letter, cp + 32};  // Latin-1 upper
  if (detail::is_latin_letter(cp)) return {fold_kind::letter, cp};
  // Everything else in the Arabic block is punctuation (، ؛ ؟ ٪ ٫ ٬ ۔).
  if (cp >= 0x0600 && cp <= 0x06FF) return {fold_kind::space, 0};
  // General punctuation, symbols, arrows, emoji and friends separate words.
  if (cp <= 0xBF || (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
      (cp >= 0xFD3E && cp <= 0xFD3F) || (cp >= 0xFE10 && cp <= 0xFE6F) ||
      (cp >= 0xFF00 && cp <= 0xFF0F) || cp >= 0x1F000) {
    return {fold_kind::space, 0};
  }
  return {fold_kind::letter, cp};  // other scripts pass through unchanged
}

}  // namespace

void normalize_into(std::string_view text, std::string& out) {
  out.clear();
  bool pending_space = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const folded f = fold(detail::next_code_point(text, pos));
    switch (f.kind) {
      case fold_kind::drop: break;
      case fold_kind::space: pending_space = true; break;
      case fold_kind::letter:
        if (pending_space && !out.empty()) out.push_back(' ');
        pending_space = false;
        append_utf8(out, f.cp);
        break;
    }
  }
}

std::string normalize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  normalize_into(text, out);
  return out;
}

}  // namespace pasokh::bot
