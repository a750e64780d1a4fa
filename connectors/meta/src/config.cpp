#include "pasokh/connectors/meta/config.hpp"

#include "pasokh/connectors/common/base_url.hpp"

namespace pasokh::connectors::meta {

meta_channel read_channel(config_reader& r) {
  meta_channel ch;
  ch.id = r.required_string("id");
  auto kind = r.required_string("kind");
  if (kind == "messenger") ch.kind = proto::channel_kind::messenger;
  else if (kind == "instagram") ch.kind = proto::channel_kind::instagram;
  else throw config_error(r.where() + ": \"kind\" must be \"messenger\" or \"instagram\"");
  ch.account_id = r.string_or("account_id", "");
  ch.api_base = checked_base_url(r.where(), r.string_or("api_base", ch.api_base));
  ch.api_version = r.string_or("api_version", ch.api_version);
  if (ch.api_version.empty() || ch.api_version.find('/') != std::string::npos)
    throw config_error(r.where() + ": \"api_version\" must look like \"v23.0\"");
  ch.page_token = r.required_secret("token_env");
  ch.app_secret = r.required_rotating_secret("app_secret_env", "previous_app_secret_env");
  ch.verify_token = r.required_secret("verify_token_env");
  return ch;
}

meta_channel parse_channel(const nlohmann::json& object, const env_lookup& env) {
  config_reader r(object, "meta channel", env);
  auto ch = read_channel(r);
  r.finish();
  return ch;
}

}  // namespace pasokh::connectors::meta
