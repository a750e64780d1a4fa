#include "pasokh/connectors/telegram/outbound.hpp"

#include <charconv>

#include "pasokh/connectors/common/json_read.hpp"
#include "pasokh/connectors/common/text.hpp"

namespace pasokh::connectors::telegram {
namespace {

using json = nlohmann::json;
using namespace json_read;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

provider_request call(const telegram_channel& ch, std::string_view method, const json& body) {
  provider_request r;
  r.url = ch.api_base + "/bot" + ch.bot_token.reveal() + "/" + std::string(method);
  r.headers = {{"Content-Type", "application/json"}};
  r.body = dump(body);
  r.what = "telegram." + std::string(method);
  return r;
}

// Numeric chat ids go as numbers (they exceed 32 bits; JSON integers carry them
// exactly); anything else ("@channel") as a string.
json chat_id_value(const std::string& recipient) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(recipient.data(), recipient.data() + recipient.size(), n);
  if (ec == std::errc{} && end == recipient.data() + recipient.size()) return n;
  return recipient;
}

std::optional<std::int64_t> replied_message_id(const std::string& reply_to) {
  auto colon = reply_to.rfind(':');
  std::string_view id = colon == std::string::npos ? std::string_view(reply_to) : std::string_view(reply_to).substr(colon + 1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size() || id.empty()) return std::nullopt;
  return n;
}

bool keyboard_fits(const std::vector<proto::button>& buttons) {
  for (const auto& b : buttons)
    if (b.id.empty() || b.id.size() > max_callback_data || b.title.empty()) return false;
  return true;
}

json inline_keyboard(const std::vector<proto::button>& buttons) {
  json rows = json::array();
  for (const auto& b : buttons) rows.push_back(json::array({{{"text", b.title}, {"callback_data", b.id}}}));
  return {{"inline_keyboard", rows}};
}

struct media_method {
  proto::attachment_kind kind;
  std::string_view method;
  std::string_view field;
};
constexpr media_method media_methods[] = {
    {proto::attachment_kind::image, "sendPhoto", "photo"},       {proto::attachment_kind::document, "sendDocument", "document"},
    {proto::attachment_kind::file, "sendDocument", "document"},  {proto::attachment_kind::audio, "sendAudio", "audio"},
    {proto::attachment_kind::voice, "sendVoice", "voice"},       {proto::attachment_kind::video, "sendVideo", "video"},
    {proto::attachment_kind::sticker, "sendSticker", "sticker"},
};

struct call_spec {
  std::string method;
  json body;
};

// The call for an attachment; nullopt when it cannot be sent (no reference).
std::optional<call_spec> media_call(const json& chat_id, const proto::attachment& a) {
  if (a.kind == proto::attachment_kind::location) {
    if (!a.latitude || !a.longitude) return std::nullopt;
    return call_spec{"sendLocation", {{"chat_id", chat_id}, {"latitude", *a.latitude}, {"longitude", *a.longitude}}};
  }
  if (a.kind == proto::attachment_kind::contact) {
    if (a.provider_ref.empty()) return std::nullopt;
    return call_spec{"sendContact", {{"chat_id", chat_id},
                                     {"phone_number", a.provider_ref},
                                     {"first_name", a.name.empty() ? a.provider_ref : a.name}}};
  }
  if (a.provider_ref.empty()) return std::nullopt;
  for (const auto& m : media_methods) {
    if (m.kind != a.kind) continue;
    // provider_ref is a file_id we received or an https URL; Telegram takes both.
    json body = {{"chat_id", chat_id}, {std::string(m.field), a.provider_ref}};
    if (!a.caption.empty() && a.kind != proto::attachment_kind::sticker)
      body["caption"] = truncate_text(a.caption, max_caption, text_unit::utf16);
    return call_spec{std::string(m.method), std::move(body)};
  }
  return std::nullopt;
}

std::string category(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 403: return "blocked";
    case 404: return "not_found";
    default: return "http_" + std::to_string(status);
  }
}

}  // namespace

send_window window_rule(std::optional<std::chrono::milliseconds>) { return send_window::open; }

send_plan build_send(const proto::outbound_message& msg, const telegram_channel& ch) {
  send_plan plan;
  if (msg.recipient.empty()) {
    plan.refused = send_outcome::permanent("no_recipient: the outbound message has no chat id");
    return plan;
  }
  json chat_id = chat_id_value(msg.recipient);
  bool keyboard = !msg.buttons.empty() && keyboard_fits(msg.buttons);
  std::string text = msg.buttons.empty() || keyboard ? msg.text : numbered_choices(msg.text, msg.buttons);
  if (text.empty() && !msg.buttons.empty()) {  // a keyboard needs some text to hang on
    text = numbered_choices("", msg.buttons);
    keyboard = false;
  }

  std::vector<call_spec> calls;
  auto parts = split_text(text, max_text, text_unit::utf16);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    json body = {{"chat_id", chat_id}, {"text", parts[i]}};
    if (keyboard && i + 1 == parts.size()) body["reply_markup"] = inline_keyboard(msg.buttons);
    calls.push_back({"sendMessage", std::move(body)});
  }
  for (const auto& a : msg.attachments)
    if (auto c = media_call(chat_id, a)) calls.push_back(std::move(*c));

  if (calls.empty()) {
    plan.refused = send_outcome::permanent("empty: nothing to send");
    return plan;
  }
  // Thread the first part under the customer's message; if that one is gone,
  // send anyway rather than fail.
  if (auto id = replied_message_id(msg.reply_to))
    calls.front().body["reply_parameters"] = {{"message_id", *id}, {"allow_sending_without_reply", true}};
  for (const auto& c : calls) plan.requests.push_back(call(ch, c.method, c.body));
  return plan;
}

provider_request build_answer_callback(std::string_view callback_query_id, const telegram_channel& ch,
                                       std::string_view text) {
  json body = {{"callback_query_id", callback_query_id}};
  if (!text.empty()) body["text"] = truncate_text(text, 200);
  return call(ch, "answerCallbackQuery", body);
}

send_outcome classify(const provider_response& r) {
  if (r.status == 0) return *classify_transport(r);
  auto body = parse_body(r.body);
  const json* params = body ? find_object(*body, "parameters") : nullptr;
  std::string description = body ? opt_string(*body, "description").value_or("") : "";

  if (r.status >= 200 && r.status < 300) {
    if (body && opt_bool(*body, "ok")) {
      const json* result = find_object(*body, "result");
      if (result) {
        auto message_id = opt_id(*result, "message_id");
        const json* chat = find_object(*result, "chat");
        auto chat_id = chat ? opt_id(*chat, "id") : std::nullopt;
        if (message_id && chat_id) return send_outcome::delivered(*chat_id + ":" + *message_id);
      }
      return send_outcome::delivered("");  // answerCallbackQuery and friends answer `true`
    }
    // 2xx means Telegram took it; retrying could duplicate the message.
    if (!body || !find(*body, "ok")) return send_outcome::delivered("");
  }
  // One 429 for the per-chat and the overall limit: the outbox tells them apart.
  if (params) {
    if (auto after = opt_int(*params, "retry_after"))
      return send_outcome::rate_limited(std::chrono::seconds(*after), "rate_limited: " + description, rate_scope::unknown);
  }
  if (auto generic = classify_transport(r)) {
    if (!description.empty()) generic->reason += ": " + description;
    if (generic->kind == outcome_kind::rate_limited) generic->scope = rate_scope::unknown;
    return *generic;
  }
  // A revoked bot token: passing once an admin sets the new one, labelled as
  // Meta's error 190 so that the gateway retries, alerts once and counts it.
  if (r.status == 401) return send_outcome::retry("invalid_token: " + (description.empty() ? "http 401" : description));
  return send_outcome::permanent(category(r.status) + ": " + (description.empty() ? "http " + std::to_string(r.status) : description));
}

}  // namespace pasokh::connectors::telegram
