#include "pasokh/connectors/whatsapp/config.hpp"

#include "pasokh/connectors/common/base_url.hpp"
#include "pasokh/connectors/common/text.hpp"

namespace pasokh::connectors::whatsapp {

whatsapp_channel read_channel(config_reader& r) {
  whatsapp_channel ch;
  ch.id = r.required_string("id");
  if (auto kind = r.string_or("kind", "whatsapp"); kind != "whatsapp")
    throw config_error(r.where() + ": \"kind\" must be \"whatsapp\"");
  ch.phone_number_id = r.required_string("phone_number_id");
  ch.api_base = checked_base_url(r.where(), r.string_or("api_base", ch.api_base));
  ch.api_version = r.string_or("api_version", ch.api_version);
  if (ch.api_version.empty() || ch.api_version.find('/') != std::string::npos)
    throw config_error(r.where() + ": \"api_version\" must look like \"v23.0\"");
  ch.access_token = r.required_secret("token_env");
  ch.app_secret = r.required_rotating_secret("app_secret_env", "previous_app_secret_env");
  ch.verify_token = r.required_secret("verify_token_env");
  ch.template_language = r.string_or("template_language", ch.template_language);
  ch.list_button = r.string_or("list_button", ch.list_button);
  if (ch.list_button.empty() || text_length(ch.list_button) > 20)
    throw config_error(r.where() + ": \"list_button\" must be 1-20 characters");
  return ch;
}

whatsapp_channel parse_channel(const nlohmann::json& object, const env_lookup& env) {
  config_reader r(object, "whatsapp channel", env);
  auto ch = read_channel(r);
  r.finish();
  return ch;
}

}  // namespace pasokh::connectors::whatsapp
