#pragma once
// Settings of one messenger channel (kind telegram, whatsapp, messenger or
// instagram). The channel's "provider" object is read by the connector's own
// config reader at load, so a typo or a missing secret stops the start with
// an error that names the key; "id" and "kind" come from the channel itself.
//
//   {"id": "wa-main", "kind": "whatsapp", "team": "support", "bot": true,
//    "provider": {"phone_number_id": "1065...", "token_env": "PASOKH_WA_TOKEN",
//                 "app_secret_env": "PASOKH_WA_APP_SECRET", "verify_token_env": "PASOKH_WA_VERIFY",
//                 "window_template": "support_followup", "window_template_text_param": true}}
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <variant>

#include "pasokh/connectors/common/config.hpp"
#include "pasokh/connectors/meta/config.hpp"
#include "pasokh/connectors/telegram/config.hpp"
#include "pasokh/connectors/whatsapp/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::gateway {

// WhatsApp only: what an agent's reply becomes after the 24-hour window, when
// free text is no longer allowed. Provider keys "window_template",
// "window_template_language", "window_template_text_param".
struct window_template {
  std::string name;                // empty: such replies fail ("outside the 24-hour window: send a template")
  std::string language;            // empty: the channel's template_language
  bool text_as_parameter = false;  // pass the reply's text as body parameter {{1}}
};

struct messenger_provider {
  using api_config = std::variant<connectors::telegram::telegram_channel, connectors::whatsapp::whatsapp_channel,
                                  connectors::meta::meta_channel>;
  api_config api;
  window_template after_window;
};

bool is_messenger(proto::channel_kind kind);

// Whether the channel's webhook secret (Telegram's secret token, Meta's app
// secret) is being rotated: a previous one is configured.
bool rotating_webhook_secret(const messenger_provider&);

// Throws connectors::config_error naming the offending key (never a secret).
messenger_provider parse_messenger_provider(const std::string& channel_id, proto::channel_kind kind,
                                            const nlohmann::json& provider, const connectors::env_lookup& env);

}  // namespace pasokh::gateway
