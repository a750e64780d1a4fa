#include "pasokh/connectors/telegram/config.hpp"

#include "pasokh/connectors/common/base_url.hpp"

namespace pasokh::connectors::telegram {

telegram_channel read_channel(config_reader& r) {
  telegram_channel ch;
  ch.id = r.required_string("id");
  if (auto kind = r.string_or("kind", "telegram"); kind != "telegram")
    throw config_error(r.where() + ": \"kind\" must be \"telegram\"");
  ch.api_base = checked_base_url(r.where(), r.string_or("api_base", ch.api_base));
  ch.bot_token = r.required_secret("token_env");
  ch.webhook_secret = r.required_rotating_secret("secret_env", "previous_secret_env");
  // setWebhook's secret_token: 1-256 characters of A-Z a-z 0-9 _ -
  auto usable = [](const std::string& s) {
    bool ok = s.size() <= 256;
    for (char c : s)
      ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    return ok;
  };
  if (!usable(ch.webhook_secret.current.reveal()) || !usable(ch.webhook_secret.previous.reveal()))
    throw config_error(r.where() + ": the webhook secret must be 1-256 characters of A-Z a-z 0-9 _ -");
  return ch;
}

telegram_channel parse_channel(const nlohmann::json& object, const env_lookup& env) {
  config_reader r(object, "telegram channel", env);
  auto ch = read_channel(r);
  r.finish();
  return ch;
}

}  // namespace pasokh::connectors::telegram
