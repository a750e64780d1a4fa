#pragma once
// The FAQ knowledge base: what admins edit, what the index is built from.
//
// JSON shape (same as the shared test KB, plus optional "title" and
// "follow_ups" per entry):
//   {
//     "version": 1,
//     "languages": ["fa", "ar", "en"],          // optional, default all three
//     "name": "...", "description": "...",      // optional
//     "entries": [{
//       "id": "warranty_period",                // [a-z0-9_.-]{1,48}, unique
//       "tags": ["warranty"],                    // optional; routing hints on handoff
//       "title": {"en": "Warranty length", ...}, // optional; label on choice buttons
//       "questions": {"en": ["How long is the warranty?", ...], "fa": [...], "ar": [...]},
//       "answers": {"en": "...", "fa": "...", "ar": "..."},
//       "follow_ups": [{"entry": "warranty_claim", "title": {"en": "Make a claim"}}]
//     }]
//   }
// Every declared language needs at least one question and an answer per entry.
#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/bot/language.hpp"

namespace pasokh::bot {

// One string per language, indexed by static_cast<size_t>(language).
using localized = std::array<std::string, language_count>;

struct follow_up {
  std::string entry;  // id of another entry
  localized title;    // empty strings fall back to that entry's title
};

struct kb_entry {
  std::string id;
  std::vector<std::string> tags;
  localized title;  // empty → the first question in that language
  std::array<std::vector<std::string>, language_count> questions;
  localized answers;
  std::vector<follow_up> follow_ups;

  const std::string& answer(language l) const { return answers[static_cast<std::size_t>(l)]; }
  // Short label for buttons: the title, else the first question.
  std::string_view label(language l) const;
};

struct knowledge_base {
  int version = 1;
  std::vector<language> languages;
  std::string name;
  std::vector<kb_entry> entries;

  // nullptr when there is no such entry.
  const kb_entry* find(std::string_view id) const;
  bool has_language(language l) const;
};

// One validation problem, precise enough to fix the file without guessing.
struct kb_error {
  std::string entry_id;  // empty when the problem is not inside an entry
  std::string path;      // JSON pointer, e.g. "/entries/3/answers/fa"
  std::string message;
};
// "entry 'warranty_period' at /entries/0/answers/fa: answer is empty"
std::string to_string(const kb_error&);

struct kb_load_result {
  knowledge_base kb;             // meaningful only when ok()
  std::vector<kb_error> errors;  // every problem found, not just the first
  bool ok() const { return errors.empty(); }
};

// Limits that keep a bad upload from hurting the gateway or the channels.
inline constexpr std::size_t max_kb_entries = 20000;
// Button payloads carry the id; Telegram allows 64 bytes of callback_data.
inline constexpr std::size_t max_entry_id_bytes = 48;
inline constexpr std::size_t max_question_bytes = 1000;
inline constexpr std::size_t max_answer_bytes = 4096;  // Telegram's message limit
inline constexpr std::size_t max_kb_errors = 100;

kb_load_result parse_knowledge_base(std::string_view json_text);
kb_load_result load_knowledge_base(const std::filesystem::path& file);

}  // namespace pasokh::bot
