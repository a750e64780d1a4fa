#include "pasokh/bot/bot.hpp"

#include <utility>

namespace pasokh::bot {
namespace {

bot::created create(kb_load_result loaded, bot_options options) {
  bot::created out;
  if (!loaded.ok()) {
    out.errors = std::move(loaded.errors);
    return out;
  }
  out.value = std::make_unique<bot>(std::move(loaded.kb), options);
  return out;
}

}  // namespace

bot::created bot::from_file(const std::filesystem::path& kb_file, bot_options options) {
  return create(load_knowledge_base(kb_file), options);
}

bot::created bot::from_json(std::string_view kb_json, bot_options options) {
  return create(parse_knowledge_base(kb_json), options);
}

bot::bot(knowledge_base kb, bot_options options)
    : options_(options), current_(std::make_shared<const faq_index>(std::move(kb))), generation_(1),
      next_generation_(2) {}

reload_result bot::reload_file(const std::filesystem::path& kb_file) { return install(load_knowledge_base(kb_file)); }

reload_result bot::reload_json(std::string_view kb_json) { return install(parse_knowledge_base(kb_json)); }

reload_result bot::reload(knowledge_base kb) {
  kb_load_result loaded;
  loaded.kb = std::move(kb);
  return install(std::move(loaded));
}

reload_result bot::install(kb_load_result loaded) {
  reload_result result;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = next_generation_++;
  }
  std::shared_ptr<const faq_index> fresh;
  if (loaded.ok()) {
    // Indexing takes milliseconds; do it outside the lock so decide() never waits.
    fresh = std::make_shared<const faq_index>(std::move(loaded.kb));
  } else {
    result.errors = std::move(loaded.errors);
  }
  std::shared_ptr<const faq_index> old;  // released after unlocking
  {
    std::lock_guard lock(mu_);
    if (fresh && generation > generation_) {
      old = std::exchange(current_, std::move(fresh));
      generation_ = generation;
    }
    result.generation = generation_;
    result.entries = current_->kb().entries.size();
  }
  return result;
}

std::shared_ptr<const faq_index> bot::snapshot() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::uint64_t bot::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

decision bot::decide(const bot_state& state, const bot_input& input) const {
  const auto index = snapshot();
  return pasokh::bot::decide(*index, state, input, options_);
}

}  // namespace pasokh::bot
