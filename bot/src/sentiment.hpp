#pragma once
// How a customer feels, from what is not words: emoji, punctuation, capitals.
#include <string_view>

namespace pasokh::bot::detail {

enum class feeling { none, neutral, pleased, upset };

// The feeling shown by the emoji of a text: pleased (👍 🙏 ❤️ 😊 🌹), upset
// (👎 😡 😢 💔), neutral when it shows neither or both as often (🤔, "?",
// "..."), none when the text is empty or only whitespace.
feeling emoji_feeling(std::string_view text);

// Shouting: "!!!" (three or more in one run of ! and ?), or an English
// sentence in capitals ("WHERE IS MY ORDER"; not one shouted word or a model
// name like "LED TV").
bool shouts(std::string_view text);

// An angry emoji anywhere in the text (😠 😡 🤬 👿), words or not: "this is
// the third time 😡". Sad ones (😢 😔) are not anger.
bool shows_anger(std::string_view text);

}  // namespace pasokh::bot::detail
