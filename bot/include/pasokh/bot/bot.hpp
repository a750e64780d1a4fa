#pragma once
// The bot as the gateway holds it: the current knowledge base index behind a
// shared pointer that reload() replaces atomically. Readers take a snapshot
// and keep using it even while a reload swaps in a new one.
//
//   auto bot = pasokh::bot::bot::from_file("kb.json");        // start-up
//   if (!bot) { for (auto& e : bot.errors) log(to_string(e)); exit(1); }
//   auto d = bot.value->decide(state, {.text = msg.text, .language = hint});
//   ... store d.state, send d.text + d.buttons, or hand off on d.kind ...
//   auto r = bot.value->reload_file("kb.json");                // admin API / watcher
//   if (!r.ok()) respond 422 with r.errors (the old KB stays active)
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "pasokh/bot/decide.hpp"
#include "pasokh/bot/index.hpp"
#include "pasokh/bot/knowledge_base.hpp"

namespace pasokh::bot {

struct reload_result {
  std::vector<kb_error> errors;  // empty on success
  std::uint64_t generation = 0;  // of the index now active
  std::size_t entries = 0;       // in the index now active
  bool ok() const { return errors.empty(); }
};

class bot {
 public:
  struct created;
  // Validates and indexes; on any error returns the errors and no bot.
  static created from_file(const std::filesystem::path& kb_file, bot_options options = {});
  static created from_json(std::string_view kb_json, bot_options options = {});

  explicit bot(knowledge_base kb, bot_options options = {});

  // Load, validate and index a new knowledge base, then swap it in. On error
  // the active one stays. Safe to call from any thread, concurrently with
  // decide() and with other reloads (a slower, older reload never replaces a
  // newer one).
  reload_result reload_file(const std::filesystem::path& kb_file);
  reload_result reload_json(std::string_view kb_json);
  reload_result reload(knowledge_base kb);

  // The active index; cheap (one shared_ptr copy under a short lock).
  std::shared_ptr<const faq_index> snapshot() const;
  std::uint64_t generation() const;

  // decide() on the current snapshot.
  decision decide(const bot_state& state, const bot_input& input) const;

  const bot_options& options() const { return options_; }

 private:
  reload_result install(kb_load_result loaded);

  bot_options options_;
  mutable std::mutex mu_;
  std::shared_ptr<const faq_index> current_;
  std::uint64_t generation_ = 0;       // of current_
  std::uint64_t next_generation_ = 1;  // handed out when a reload starts
};

struct bot::created {
  std::unique_ptr<bot> value;  // null on error
  std::vector<kb_error> errors;
  explicit operator bool() const { return value != nullptr; }
};

}  // namespace pasokh::bot
