#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "pasokh/connectors/common/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::meta {

// One Facebook Page (Messenger) or Instagram professional account. Config keys:
// "id", "kind" ("messenger" or "instagram"), "account_id" (page / Instagram
// account id; webhooks for other accounts go to the router), "api_base",
// "api_version", "token_env" (page access token), "app_secret_env",
// "verify_token_env".
struct meta_channel {
  std::string id;
  proto::channel_kind kind = proto::channel_kind::messenger;
  std::string account_id;  // empty: accept every account's entries
  std::string api_base = "https://graph.facebook.com";
  std::string api_version = "v23.0";
  secret page_token;
  rotating_secret app_secret;  // "app_secret_env", "previous_app_secret_env"
  secret verify_token;
};

meta_channel read_channel(config_reader& reader);
meta_channel parse_channel(const nlohmann::json& object, const env_lookup& env = process_env());

}  // namespace pasokh::connectors::meta
