#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "pasokh/connectors/common/config.hpp"

namespace pasokh::connectors::telegram {

// One bot. Config keys: "id", "kind" ("telegram"), "api_base",
// "token_env" (env var with the bot token), "secret_env" (env var with the
// setWebhook secret_token).
struct telegram_channel {
  std::string id;
  std::string api_base = "https://api.telegram.org";
  secret bot_token;
  rotating_secret webhook_secret;  // "secret_env", "previous_secret_env"
};

// Reads the Telegram keys from `reader` (the caller may read or allow other keys,
// then calls finish()).
telegram_channel read_channel(config_reader& reader);
// Reads a whole channel object and rejects unknown keys.
telegram_channel parse_channel(const nlohmann::json& object, const env_lookup& env = process_env());

}  // namespace pasokh::connectors::telegram
