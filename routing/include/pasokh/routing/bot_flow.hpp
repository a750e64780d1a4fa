#pragma once
// Runs the FAQ bot on a customer's message in a conversation that is still
// with the bot: decide (pure, in process), then store the bot's reply, its
// memory and any handoff to the queue in one atomic script. The script skips
// the turn if a person has written in the conversation meanwhile.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "pasokh/bot/bot.hpp"
#include "pasokh/routing/conversation_service.hpp"

namespace pasokh::routing {

struct customer_turn {
  std::string conversation_id;
  std::string text;
  std::string button_payload;
  std::string language;  // the channel's hint, may be empty
  bool has_attachment = false;
  std::uint64_t seq = 0;  // the customer message's: answered once (0: not said)
};

class bot_flow {
 public:
  bot_flow(store::redis_client& redis, std::string prefix, const bot::bot& faq_bot, proto::localized_name bot_name);

  // The decision taken, or nullopt when the conversation is not the bot's.
  awaitable<result<std::optional<bot::decision>>> on_customer_message(const customer_turn& turn);

 private:
  store::redis_client& redis_;
  std::string prefix_;
  const bot::bot& bot_;
  proto::localized_name bot_name_;  // by the language of the answer
};

}  // namespace pasokh::routing
