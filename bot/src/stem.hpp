#pragma once
// Light, rule-based affix stripping. Not a linguistic stemmer: it only needs to
// map the common inflections of one word onto the same key on both the
// knowledge-base side and the query side.
#include <string>
#include <string_view>

#include "pasokh/bot/language.hpp"

namespace pasokh::bot::detail {

// `word` is one normalized token. The rules follow the token's script: Latin
// words always get the English rules; Arabic-script words get the Persian or
// Arabic rules by `lang` (Persian for English conversations).
void stem_into(std::string_view word, language lang, std::string& out);

std::string stem(std::string_view word, language lang);

}  // namespace pasokh::bot::detail
