#pragma once
// What the bot does with one customer turn: a pure function of the
// conversation's bot state, the customer's input and the knowledge base index.
// No I/O, no clock, no randomness; routing stores `decision::state` and sends
// `decision::text` with `decision::buttons`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pasokh/bot/index.hpp"
#include "pasokh/bot/language.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::bot {

// Per-conversation memory of the bot, small enough for one Redis hash field.
struct bot_state {
  std::string language;              // "fa" / "ar" / "en" once known, else empty
  std::string last_entry;            // entry last answered, waiting for "did this help?"
  std::vector<std::string> offered;  // entry ids last offered as choices
  std::uint32_t answers = 0;         // answers given in this conversation
  std::uint32_t misses = 0;          // low-confidence turns in a row
  bool operator==(const bot_state&) const = default;
};
void to_json(nlohmann::json&, const bot_state&);
void from_json(const nlohmann::json&, bot_state&);  // tolerant: missing keys keep defaults

// One customer turn: text, or a button press (inbound_kind::button), or both.
struct bot_input {
  std::string_view text;
  std::string_view button_payload;  // a payload from one of our buttons, else empty
  std::string_view language;        // the channel's hint ("fa", "ar-SA"...); see resolve order in decide()
  // A photo, file, sticker...: the text is its caption. One without words is
  // for a person to look at; an emoji alone is the customer's reaction.
  bool has_attachment = false;
};

enum class action {
  answer,    // an entry's answer, with "did this help?" buttons (and follow-ups)
  choices,   // several entries are close: buttons to pick one, plus "talk to a person"
  handoff,   // hand the conversation to a person; see `reason`
  greeting,  // a greeting reply
  thanks,    // a "you're welcome" reply
  feedback,  // the customer rated the last answer; see `helpful`
};
// attachment_only: a photo, file or message Pasokh cannot show, with no words to search.
enum class handoff_reason { none, low_confidence, asked_for_human, not_helpful, negative_sentiment, attachment_only };

std::string_view to_string(action) noexcept;
std::string_view to_string(handoff_reason) noexcept;

struct decision {
  action kind = action::handoff;
  handoff_reason reason = handoff_reason::none;
  language lang = language::fa;        // the language of `text`
  std::string text;                    // what to send to the customer
  std::vector<proto::button> buttons;  // ids are the payloads to feed back as bot_input
  std::string entry_id;                // answer: the entry; feedback: the entry rated
  std::vector<std::string> choices;    // choices: entry ids in button order
  std::vector<std::string> tags;       // handoff: best-guess topic tags for routing to a team
  float confidence = 0;                // of the best knowledge-base match, [0,1]
  std::optional<bool> helpful;         // feedback (and thanks right after an answer)
  bot_state state;                     // store and pass back on the next turn

  // The classification this decision implies, as scored by the evaluation:
  // an entry id, "__human__" (asked for a person) or "__none__" (no KB answer).
  std::string_view label() const;
};

struct bot_options {
  // Answer outright when the best entry's confidence (ranking::confidence)
  // reaches this.
  float answer_confidence = 0.6f;
  // Otherwise offer the close candidates as choices when the question is
  // probably one the knowledge base answers (ranking::answerable at or above
  // this), and hand off below it.
  float choice_confidence = 0.5f;
  // Candidates scoring at least this share of the best score are offered.
  float choice_score_ratio = 0.75f;
  std::size_t max_choices = 3;
  // Used when neither the channel nor the text tells the language.
  language default_language = language::fa;
};

// Button payloads the bot emits. Short enough for Telegram's 64-byte
// callback_data with the longest allowed entry id.
namespace payload {
inline constexpr std::string_view entry_prefix = "bot:e:";     // + entry id: answer this entry
inline constexpr std::string_view helpful_prefix = "bot:y:";   // + entry id: it helped
inline constexpr std::string_view unhelpful_prefix = "bot:n:"; // + entry id: it did not help
inline constexpr std::string_view human = "bot:human";         // talk to a person
}  // namespace payload

// Language of the reply: the channel's hint, unless the text is plainly in
// another script (hint "en", Persian text); else the text's language; a one-
// or two-word reply keeps the conversation's language; else
// bot_options::default_language. Always one the knowledge base has.
decision decide(const faq_index& index, const bot_state& state, const bot_input& input,
                const bot_options& options = {});

}  // namespace pasokh::bot
