#pragma once
// What a customer's text after a CSAT rating is: feedback on the service just
// rated (praise or a complaint), kept as the rating's comment and answered
// with a thank-you only, or a new request for the bot and the agents.
//
//   auto reading = pasokh::bot::read_csat_comment(*bot.snapshot(), text, hint, bot.options());
//   if (reading.kind == comment_kind::request) { /* the conversation goes on */ }
//
// Pure, like decide(): rules over the bot's normalization (letter variants,
// Persian and Arabic digits), its intents (asking for a person, anger), its
// emoji sentiment, and its knowledge base ranking.
#include <string_view>

#include "pasokh/bot/decide.hpp"
#include "pasokh/bot/index.hpp"

namespace pasokh::bot {

enum class comment_kind {
  praise,     // thanks or praise only: "thanks, great service!", «ممنون، عالی بود»
  complaint,  // about the service, asking nothing: "the agent was rude"
  request,    // a question, a request or a new problem: "my other order never arrived"
};

std::string_view to_string(comment_kind) noexcept;

struct comment_reading {
  comment_kind kind = comment_kind::request;
  // Why, for logs and tests: "question", "request", "person", "problem",
  // "faq" or "unclear" for a request; "praise" or "complaint" otherwise.
  std::string_view why;
};

// A comment is feedback (praise or complaint) when it has
//  - no question: no "?" / "؟", no question word ("where", «کجا», «وين»;
//    "what a…", «چه خوب» are exclamations), no leading "can/is/do…";
//  - no request: "please", "I need", «می‌خوام», «أبغى», asking for a person
//    ("I want to thank you" is no request; «ممنون می‌شم» is);
//  - no new problem: "another", "again", "still", "broken", "leaks",
//    "doesn't work", «نرسیده», «نمی‌کنه», «ما وصل», «ما يشتغل»; "problem" /
//    «مشکل» only when not said solved («مشکلم حل شد»);
//  - no knowledge-base entry answering it at `answer_confidence`;
//  - and it speaks of the service: thanks, praise, complaint or service words
//    (or emoji) and few words besides them.
// Anything else is a request: a text the rules do not understand stays
// with the bot and the agents, as before.
// A complaint: more complaint than praise ("slow", «بی‌ادب», «سيئة»,
// «راضی نبودم», 👎, anger), a tie included ("slow but nice").
comment_reading read_csat_comment(const faq_index& index, std::string_view text, std::string_view language_hint,
                                  const bot_options& options = {});

}  // namespace pasokh::bot
