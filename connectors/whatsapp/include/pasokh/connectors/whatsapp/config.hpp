#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "pasokh/connectors/common/config.hpp"

namespace pasokh::connectors::whatsapp {

// One business phone number. Config keys: "id", "kind" ("whatsapp"),
// "phone_number_id", "api_base", "api_version", "token_env" (access token),
// "app_secret_env" (signs webhooks), "verify_token_env" (GET handshake),
// "template_language", "list_button".
struct whatsapp_channel {
  std::string id;
  std::string phone_number_id;
  std::string api_base = "https://graph.facebook.com";
  std::string api_version = "v23.0";
  secret access_token;
  rotating_secret app_secret;  // "app_secret_env", "previous_app_secret_env"
  secret verify_token;
  std::string template_language = "en";  // when the outbound message names none
  std::string list_button = "Options";   // label of the list message button, at most 20 characters
};

whatsapp_channel read_channel(config_reader& reader);
whatsapp_channel parse_channel(const nlohmann::json& object, const env_lookup& env = process_env());

}  // namespace pasokh::connectors::whatsapp
