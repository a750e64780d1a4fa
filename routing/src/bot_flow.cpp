#include "pasokh/routing/bot_flow.hpp"

#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/proto/json.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {

std::string feedback_of(const bot::decision& d) {
  if (d.kind != bot::action::feedback && !d.helpful) return {};
  if (!d.helpful) return {};
  return *d.helpful ? "yes" : "no";
}

}  // namespace

bot_flow::bot_flow(store::redis_client& redis, std::string prefix, const bot::bot& faq_bot,
                   proto::localized_name bot_name)
    : redis_(redis), prefix_(std::move(prefix)), bot_(faq_bot), bot_name_(std::move(bot_name)) {}

awaitable<result<std::optional<bot::decision>>> bot_flow::on_customer_message(const customer_turn& turn) {
  using none = std::optional<bot::decision>;
  auto current = co_await redis_.exec(
      store::make_command("HMGET", prefix_ + "conv:" + turn.conversation_id, "status", "human_replied", "bot_state"));
  if (!current) co_return current.error();
  const auto& fields = current->elements;
  if (fields.size() != 3 || fields[0].str != "bot" || !fields[1].is_nil()) co_return none{};

  bot::bot_state state;
  if (!fields[2].is_nil()) {
    try {
      state = nlohmann::json::parse(fields[2].str).get<bot::bot_state>();
    } catch (const nlohmann::json::exception&) {
      // A damaged memory only costs the bot its context; start afresh.
    }
  }
  auto decision = bot_.decide(state, {turn.text, turn.button_payload, turn.language, turn.has_attachment});
  bool handoff = decision.kind == bot::action::handoff;
  std::string buttons = decision.buttons.empty() ? "" : nlohmann::json(decision.buttons).dump();

  auto stored = co_await redis_.fcall(
      script(lua::bot_turn), store::make_command(),
      store::make_command(prefix_, turn.conversation_id, nlohmann::json(decision.state).dump(), decision.text, buttons,
                          handoff ? "1" : "0", proto::join(decision.tags, ','), feedback_of(decision), std::to_string(now_ms()),
                          bot_name_.in(bot::to_string(decision.lang)), std::to_string(turn.seq)));
  if (!stored) co_return stored.error();
  if (stored->is_error()) co_return make_error_code(store::redis_errc::server_error);
  if (!stored->elements.empty() && stored->elements[0].str == "skipped") co_return none{};
  spdlog::get("bot")->debug("conv={} action={} reason={} entry={} confidence={:.2f}", turn.conversation_id,
                            bot::to_string(decision.kind), bot::to_string(decision.reason), decision.entry_id,
                            decision.confidence);
  co_return decision;
}

}  // namespace pasokh::routing
