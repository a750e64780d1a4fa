#pragma once
// The bot's three languages and how it tells them apart when the channel does
// not say.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pasokh::bot {

enum class language : std::uint8_t { fa = 0, ar = 1, en = 2 };
inline constexpr std::size_t language_count = 3;
inline constexpr language all_languages[] = {language::fa, language::ar, language::en};

std::string_view to_string(language) noexcept;

// Accepts "fa", "ar", "en" and locale forms such as "fa-IR", "ar_SA", "EN-us".
std::optional<language> parse_language(std::string_view) noexcept;

// Guesses the language of raw customer text from its script, letters that only
// one of Persian/Arabic uses (پ چ ژ گ ی ک vs ة ى أ; not Arabic ي ك, which
// Persian typed on an Arabic keyboard has too), digit style and common
// function words. Latin script is English unless its words are Persian typed
// in Latin letters ("salam, garanti yakhchal chand mahe?" is Persian; "salam,
// where is my order?" English). nullopt when the text carries no usable signal
// (digits, emoji, an even tie, a borrowed greeting alone: "salam", "merci"),
// so the caller can fall back to what it already knows.
std::optional<language> detect_language(std::string_view text);

// The same guess, and whether it is clear: several marks of Persian or of
// Arabic and none of the other (an Arabic sentence typed on a Persian shop
// page), strong enough to overrule the Persian or Arabic a channel or page
// suggests. (English is told by its script; it is never "clear" here.)
struct language_guess {
  std::optional<language> lang;
  bool clear = false;
};
language_guess guess_language(std::string_view text);
// The same guess as "fa", "ar" or "en"; "" when there is none.
std::string_view guess_language_code(std::string_view text);

// Whether the text has words of Persian typed in Latin letters ("salam",
// "garanti", "mersi"), however it was read in the end: the web chat widget
// leaves such text to the server's reading.
bool has_finglish_words(std::string_view text);

}  // namespace pasokh::bot
