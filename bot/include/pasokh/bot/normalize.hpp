#pragma once
// Text folding shared by the knowledge base index and customer queries, so
// that spelling variants of one word meet on a single form.
#include <string>
#include <string_view>

namespace pasokh::bot {

// Folds text for matching and returns words separated by single ASCII spaces:
// - Arabic/Persian letter variants: ي ى ئ → ی, ك → ک, ة ۀ ھ → ه, أ إ آ ٱ → ا,
//   ؤ → و; a lone hamza ء is dropped;
// - harakat and other Arabic diacritics, tatweel, ZWJ and bidi marks are
//   removed;
// - a ZWNJ joins after می/نمی and before suffixes (ها, ام, ترین…), so
//   می‌خوام, میخوام meet ("می خوام" is handled by the stemmer), and is a space
//   between the words of a compound, so پس‌بدم, پس بدم meet;
// - parts of an emoji or of the letter before (variation selectors, skin
//   tones, keycaps, tags, combining marks) are removed: "👍🏽" and "❤️" are no
//   word;
// - Persian ۰-۹ and Arabic-Indic ٠-٩ digits become 0-9;
// - Latin letters are lower-cased; apostrophes inside words are dropped
//   (don't → dont); all other punctuation and symbols become spaces.
// Invalid UTF-8 bytes are treated as spaces; the result is valid UTF-8.
std::string normalize(std::string_view text);

// Same, writing into `out` (cleared first) so hot paths can reuse a buffer.
void normalize_into(std::string_view text, std::string& out);

}  // namespace pasokh::bot
