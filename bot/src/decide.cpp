#include "pasokh/bot/decide.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "finglish.hpp"
#include "intents.hpp"
#include "pasokh/bot/normalize.hpp"
#include "sentiment.hpp"
#include "strings.hpp"
#include "utf8.hpp"

namespace pasokh::bot {
namespace {

using detail::phrase;
using detail::say;

constexpr std::size_t idx(language l) { return static_cast<std::size_t>(l); }

bool same_script(language a, language b) { return (a == language::en) == (b == language::en); }

std::size_t word_count(std::string_view normalized) {
  return normalized.empty() ? 0 : static_cast<std::size_t>(std::count(normalized.begin(), normalized.end(), ' ')) + 1;
}

// The channel's hint decides between Persian and Arabic (same script, hard
// to tell from a few words) unless the text clearly is one of them, and never
// against the script the customer actually typed in: Telegram's hint is the app's UI language, often English for
// Persian speakers. A one- or two-word reply ("ok", "ممنون") keeps the
// conversation's language. Then the default; and the reply must be in a
// language the knowledge base has.
language resolve_language(const faq_index& index, const bot_state& state, const bot_input& in,
                          std::string_view normalized, const bot_options& options) {
  const std::optional<language> hint = parse_language(in.language);
  const std::optional<language> known = parse_language(state.language);
  const language_guess guess = guess_language(in.text);
  std::optional<language> lang = guess.lang;
  if (lang && known && word_count(normalized) <= 2) lang = known;
  if (hint && (!lang || (same_script(*hint, *lang) && !guess.clear))) lang = hint;
  if (!lang) lang = known;
  if (!lang) lang = options.default_language;
  const auto& kb = index.kb();
  if (!kb.has_language(*lang) && !kb.languages.empty()) {
    lang = kb.has_language(options.default_language) ? options.default_language : kb.languages.front();
  }
  return *lang;
}

decision start(language lang, const bot_state& state, float confidence = 0) {
  decision d;
  d.lang = lang;
  d.state = state;
  d.state.language = std::string(to_string(lang));
  d.confidence = confidence;
  return d;
}

void add_tags(const kb_entry& e, std::vector<std::string>& tags) {
  for (const auto& t : e.tags) {
    if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
  }
}

// Best-guess topic for routing: the tags of the entries that came closest, as
// long as the match was more than noise.
std::vector<std::string> guess_tags(const faq_index& index, const ranking& r, const bot_options& options) {
  std::vector<std::string> tags;
  if (r.empty() || r.top[0].coverage < 0.25f) return tags;
  for (std::size_t i = 0; i < r.size; ++i) {
    if (r.top[i].score < options.choice_score_ratio * r.top[0].score) break;
    add_tags(index.kb().entries[r.top[i].entry], tags);
  }
  return tags;
}

decision handoff(handoff_reason reason, language lang, const bot_state& state, std::vector<std::string> tags,
                 float confidence) {
  decision d = start(lang, state, confidence);
  d.kind = action::handoff;
  d.reason = reason;
  d.tags = std::move(tags);
  switch (reason) {
    case handoff_reason::asked_for_human: d.text = say(phrase::handoff_asked, lang); break;
    case handoff_reason::not_helpful: d.text = say(phrase::handoff_not_helpful, lang); break;
    case handoff_reason::negative_sentiment: d.text = say(phrase::handoff_upset, lang); break;
    case handoff_reason::attachment_only: d.text = say(phrase::handoff_attachment, lang); break;
    default: d.text = say(phrase::handoff_low_confidence, lang); break;
  }
  d.state.last_entry.clear();
  d.state.offered.clear();
  return d;
}

// A handoff that still ranks the text for its topic: "I want an agent about
// my refund" routes to payments.
decision handoff_on_topic(handoff_reason reason, const faq_index& index, const bot_input& in,
                          std::string_view normalized, language lang, const bot_state& state,
                          const bot_options& options) {
  const ranking r = normalized.empty() ? ranking{} : index.search(in.text, lang);
  return handoff(reason, lang, state, guess_tags(index, r, options), r.confidence);
}

decision answer(const faq_index& index, const kb_entry& e, language lang, const bot_state& state,
                float confidence) {
  decision d = start(lang, state, confidence);
  d.kind = action::answer;
  d.entry_id = e.id;
  d.text = e.answer(lang);
  d.text += "\n\n";
  d.text += say(phrase::did_this_help, lang);
  d.buttons.push_back({std::string(payload::helpful_prefix) + e.id, std::string(say(phrase::yes_helped, lang))});
  d.buttons.push_back({std::string(payload::unhelpful_prefix) + e.id, std::string(say(phrase::no_not_helped, lang))});
  for (const auto& f : e.follow_ups) {
    const kb_entry* target = index.kb().find(f.entry);
    if (!target) continue;  // validated at load; a reload may still race a stored button
    const auto& title = f.title[idx(lang)];
    d.buttons.push_back({std::string(payload::entry_prefix) + target->id,
                         title.empty() ? std::string(target->label(lang)) : title});
  }
  d.tags = e.tags;
  d.state.last_entry = e.id;
  d.state.offered.clear();
  d.state.answers += 1;
  d.state.misses = 0;
  return d;
}

decision offer_choices(const faq_index& index, const ranking& r, language lang, const bot_state& state,
                       const bot_options& options) {
  decision d = start(lang, state, r.confidence);
  d.kind = action::choices;
  d.text = say(phrase::which_one, lang);
  for (std::size_t i = 0; i < r.size && d.choices.size() < options.max_choices; ++i) {
    if (r.top[i].score < options.choice_score_ratio * r.top[0].score) break;
    const kb_entry& e = index.kb().entries[r.top[i].entry];
    d.choices.push_back(e.id);
    d.buttons.push_back({std::string(payload::entry_prefix) + e.id, std::string(e.label(lang))});
    // Numbered in the text too: e-mail has no buttons, and "2" picks the second.
    d.text += "\n" + std::to_string(d.choices.size()) + ". " + std::string(e.label(lang));
    add_tags(e, d.tags);
  }
  d.buttons.push_back({std::string(payload::human), std::string(say(phrase::talk_to_person, lang))});
  d.state.offered = d.choices;
  d.state.last_entry.clear();
  return d;
}

decision feedback(bool helpful, const std::string& entry_id, const faq_index& index, language lang,
                  const bot_state& state) {
  if (!helpful) {
    std::vector<std::string> tags;
    if (const kb_entry* e = index.kb().find(entry_id)) tags = e->tags;
    decision d = handoff(handoff_reason::not_helpful, lang, state, std::move(tags), 0);
    d.entry_id = entry_id;
    d.helpful = false;
    return d;
  }
  decision d = start(lang, state);
  d.kind = action::feedback;
  d.entry_id = entry_id;
  d.helpful = true;
  d.text = say(phrase::glad_it_helped, lang);
  d.state.last_entry.clear();
  return d;
}

decision greet(language lang, const bot_state& state) {
  decision d = start(lang, state);
  d.kind = action::greeting;
  d.text = say(phrase::greeting, lang);
  return d;
}

decision thank(language lang, const bot_state& state) {
  decision d = start(lang, state);
  d.kind = action::thanks;
  d.text = say(phrase::thanks, lang);
  if (!state.last_entry.empty()) {
    d.entry_id = state.last_entry;
    d.helpful = true;  // "thanks" right after an answer is a yes
    d.state.last_entry.clear();
  }
  return d;
}

// A message without words (👍, «🙏», "?") asks nothing the knowledge base
// could fail to answer, so it is no reason for a person: right after an answer
// it rates the answer, otherwise it gets the greeting, which says what to ask.
decision react(detail::feeling f, const faq_index& index, language lang, const bot_state& state) {
  if (!state.last_entry.empty()) {
    if (f == detail::feeling::upset) return feedback(false, state.last_entry, index, lang, state);
    if (f == detail::feeling::pleased) return thank(lang, state);
  }
  return greet(lang, state);
}

std::optional<decision> from_button(const faq_index& index, const bot_state& state, std::string_view p,
                                    language lang) {
  if (p == payload::human) return handoff(handoff_reason::asked_for_human, lang, state, {}, 0);
  const auto suffix = [&](std::string_view prefix) -> std::optional<std::string> {
    if (!p.starts_with(prefix)) return std::nullopt;
    return std::string(p.substr(prefix.size()));
  };
  if (auto id = suffix(payload::helpful_prefix)) return feedback(true, *id, index, lang, state);
  if (auto id = suffix(payload::unhelpful_prefix)) return feedback(false, *id, index, lang, state);
  if (auto id = suffix(payload::entry_prefix)) {
    if (const kb_entry* e = index.kb().find(*id)) return answer(index, *e, lang, state, 1.f);
  }
  return std::nullopt;  // stale or foreign payload: treat the turn as text
}

}  // namespace

std::string_view to_string(action a) noexcept {
  switch (a) {
    case action::answer: return "answer";
    case action::choices: return "choices";
    case action::handoff: return "handoff";
    case action::greeting: return "greeting";
    case action::thanks: return "thanks";
    case action::feedback: return "feedback";
  }
  return "handoff";
}

std::string_view to_string(handoff_reason r) noexcept {
  switch (r) {
    case handoff_reason::none: return "none";
    case handoff_reason::low_confidence: return "low_confidence";
    case handoff_reason::asked_for_human: return "asked_for_human";
    case handoff_reason::not_helpful: return "not_helpful";
    case handoff_reason::negative_sentiment: return "negative_sentiment";
    case handoff_reason::attachment_only: return "attachment_only";
  }
  return "none";
}

std::string_view decision::label() const {
  switch (kind) {
    case action::answer: return entry_id;
    case action::choices: return choices.empty() ? std::string_view("__none__") : std::string_view(choices.front());
    case action::handoff: return reason == handoff_reason::asked_for_human ? "__human__" : "__none__";
    default: return "__none__";
  }
}

decision decide(const faq_index& index, const bot_state& state, const bot_input& typed, const bot_options& options) {
  thread_local std::string normalized, spelled;
  normalize_into(detail::utf8_prefix(typed.text, faq_index::max_query_bytes), normalized);
  const language lang = resolve_language(index, state, typed, normalized, options);
  // Persian typed in Latin letters is read as the Persian it spells, so that
  // the knowledge base's Persian phrasings, greetings and thanks match it.
  bot_input in = typed;
  if (lang == language::fa && detail::leans_finglish(detail::weigh_latin_words(typed.text))) {
    detail::finglish_to_persian(detail::utf8_prefix(typed.text, faq_index::max_query_bytes), spelled);
    in.text = spelled;
    normalize_into(detail::utf8_prefix(in.text, faq_index::max_query_bytes), normalized);
  }

  if (!in.button_payload.empty()) {
    if (auto d = from_button(index, state, in.button_payload, lang)) return std::move(*d);
  }

  // A bare number right after choices picks one ("2", "۲").
  if (!state.offered.empty() && normalized.size() == 1 && normalized[0] >= '1' &&
      static_cast<std::size_t>(normalized[0] - '0') <= state.offered.size()) {
    if (const kb_entry* e = index.kb().find(state.offered[static_cast<std::size_t>(normalized[0] - '1')])) {
      return answer(index, *e, lang, state, 1.f);
    }
  }

  // A caption without words keeps the attachment for a person to look at,
  // with a line that says so: "I don't know the answer" reads oddly under a photo.
  if (normalized.empty()) {
    if (in.has_attachment) return handoff(handoff_reason::attachment_only, lang, state, {}, 0);
    if (const auto f = detail::emoji_feeling(in.text); f != detail::feeling::none) return react(f, index, lang, state);
  }

  const detail::intents intent = detail::detect_intents(normalized, lang);

  if (intent.asks_for_human) {
    return handoff_on_topic(handoff_reason::asked_for_human, index, in, normalized, lang, state, options);
  }

  if (!state.last_entry.empty()) {
    if (intent.feedback == detail::feedback_kind::no) return feedback(false, state.last_entry, index, lang, state);
    if (intent.feedback == detail::feedback_kind::yes) return feedback(true, state.last_entry, index, lang, state);
  }
  if (intent.greeting_only) return greet(lang, state);
  if (intent.thanks_only) return thank(lang, state);
  // Anger goes to a person even when the knowledge base has an answer: to
  // someone fed up, a canned answer reads as a brush-off. (A problem report,
  // "my phone is broken", is no anger: the bot answers it.)
  if (intent.upset || detail::shouts(typed.text) || detail::shows_anger(in.text)) {
    return handoff_on_topic(handoff_reason::negative_sentiment, index, in, normalized, lang, state, options);
  }

  const ranking r = index.search(in.text, lang);
  if (!r.empty() && r.answerable >= options.choice_confidence) {
    if (r.confidence >= options.answer_confidence) {
      return answer(index, index.kb().entries[r.top[0].entry], lang, state, r.confidence);
    }
    return offer_choices(index, r, lang, state, options);
  }
  decision d = handoff(handoff_reason::low_confidence, lang, state, guess_tags(index, r, options), r.confidence);
  d.state.misses = state.misses + 1;
  return d;
}

void to_json(nlohmann::json& j, const bot_state& s) {
  j = nlohmann::json{{"language", s.language}, {"last_entry", s.last_entry}, {"offered", s.offered},
                     {"answers", s.answers},   {"misses", s.misses}};
}

void from_json(const nlohmann::json& j, bot_state& s) {
  s = bot_state{};
  if (!j.is_object()) return;
  const auto str = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  const auto num = [&](const char* key, std::uint32_t& out) {
    if (auto it = j.find(key); it != j.end() && it->is_number_unsigned()) out = it->get<std::uint32_t>();
  };
  str("language", s.language);
  str("last_entry", s.last_entry);
  if (auto it = j.find("offered"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) s.offered.push_back(v.get<std::string>());
    }
  }
  num("answers", s.answers);
  num("misses", s.misses);
}

}  // namespace pasokh::bot
