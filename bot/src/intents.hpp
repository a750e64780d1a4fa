#pragma once
// Conversational intents that are not knowledge-base questions: asking for a
// person, greeting, thanking, and answering "did this help?". Rule-based over
// normalized, stemmed tokens in all three languages at once (customers mix
// them, and a misdetected language must not hide "operator").
#include <string_view>

#include "pasokh/bot/language.hpp"

namespace pasokh::bot::detail {

enum class feedback_kind { none, yes, no };

struct intents {
  bool asks_for_human = false;
  bool greeting_only = false;  // nothing but greetings (and fillers)
  bool thanks_only = false;    // nothing but thanks / acknowledgement
  feedback_kind feedback = feedback_kind::none;  // a bare yes/no or "that didn't help"
  // Words of clear anger or frustration ("ridiculous", «افتضاح», «أسوأ»); not
  // "terrible" said of a symptom ("a terrible noise": a problem report).
  bool upset = false;
};

// `normalized` is the output of normalize().
intents detect_intents(std::string_view normalized, language lang);

}  // namespace pasokh::bot::detail
