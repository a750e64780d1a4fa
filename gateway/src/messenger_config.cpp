#include "pasokh/gateway/messenger_config.hpp"

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

namespace telegram = connectors::telegram;
namespace whatsapp = connectors::whatsapp;
namespace meta = connectors::meta;

bool is_messenger(proto::channel_kind kind) {
  using k = proto::channel_kind;
  return kind == k::telegram || kind == k::whatsapp || kind == k::messenger || kind == k::instagram;
}

bool rotating_webhook_secret(const messenger_provider& p) {
  return std::visit(
      [](const auto& api) {
        if constexpr (std::is_same_v<std::decay_t<decltype(api)>, connectors::telegram::telegram_channel>)
          return !api.webhook_secret.previous.empty();
        else
          return !api.app_secret.previous.empty();
      },
      p.api);
}

messenger_provider parse_messenger_provider(const std::string& channel_id, proto::channel_kind kind,
                                            const nlohmann::json& provider, const connectors::env_lookup& env) {
  if (!provider.is_null() && !provider.is_object()) throw connectors::config_error("provider: must be an object");
  nlohmann::json object = provider.is_null() ? nlohmann::json::object() : provider;
  // The connectors read "id" and "kind" too; they are the channel's, so one
  // place names them.
  for (const char* key : {"id", "kind"})
    if (object.contains(key))
      throw connectors::config_error(std::string("provider: \"") + key + "\" belongs to the channel, not to \"provider\"");
  object["id"] = channel_id;
  object["kind"] = std::string(proto::to_string(kind));

  connectors::config_reader reader(object, "provider", env);
  messenger_provider out;
  switch (kind) {
    case proto::channel_kind::telegram: out.api = telegram::read_channel(reader); break;
    case proto::channel_kind::whatsapp: {
      out.api = whatsapp::read_channel(reader);
      out.after_window.name = reader.string_or("window_template", "");
      out.after_window.language = reader.string_or("window_template_language", "");
      out.after_window.text_as_parameter = reader.boolean_or("window_template_text_param", false);
      break;
    }
    case proto::channel_kind::messenger:
    case proto::channel_kind::instagram: out.api = meta::read_channel(reader); break;
    default: throw connectors::config_error("provider: not a messenger channel");
  }
  reader.finish();
  return out;
}

}  // namespace pasokh::gateway
