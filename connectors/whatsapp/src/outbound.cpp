#include "pasokh/connectors/whatsapp/outbound.hpp"

#include <array>

#include "pasokh/connectors/common/json_read.hpp"
#include "pasokh/connectors/common/text.hpp"

namespace pasokh::connectors::whatsapp {
namespace {

using json = nlohmann::json;
using namespace json_read;
using namespace std::chrono_literals;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool is_phone_number(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '+'))) return false;
  return true;
}

// The envelope every message shares.
json envelope(const proto::outbound_message& msg, std::string_view type) {
  json j = {{"messaging_product", "whatsapp"}, {"recipient_type", "individual"}, {"type", type}};
  j[is_phone_number(msg.recipient) ? "to" : "recipient"] = msg.recipient;
  return j;
}

provider_request request(const whatsapp_channel& ch, const json& body) {
  provider_request r;
  r.url = ch.api_base + "/" + ch.api_version + "/" + ch.phone_number_id + "/messages";
  r.headers = {{"Authorization", "Bearer " + ch.access_token.reveal()}, {"Content-Type", "application/json"}};
  r.body = dump(body);
  r.what = "whatsapp.messages";
  return r;
}

enum class button_mode { none, reply_buttons, list, numbered };

bool all_fit(const std::vector<proto::button>& buttons, std::size_t title_max, std::size_t id_max) {
  for (const auto& b : buttons)
    if (b.id.empty() || b.id.size() > id_max || b.title.empty() || text_length(b.title) > title_max) return false;
  return true;
}

button_mode choose_mode(const proto::outbound_message& msg) {
  if (msg.buttons.empty()) return button_mode::none;
  if (msg.text.empty()) return button_mode::numbered;  // interactive messages need a body
  if (msg.buttons.size() <= max_reply_buttons && all_fit(msg.buttons, max_button_title, 256))
    return button_mode::reply_buttons;
  if (msg.buttons.size() <= max_list_rows && all_fit(msg.buttons, max_row_title, 200)) return button_mode::list;
  return button_mode::numbered;
}

json interactive(const proto::outbound_message& msg, const whatsapp_channel& ch, button_mode mode, const std::string& body) {
  json j = envelope(msg, "interactive");
  json action;
  if (mode == button_mode::reply_buttons) {
    json buttons = json::array();
    for (const auto& b : msg.buttons) buttons.push_back({{"type", "reply"}, {"reply", {{"id", b.id}, {"title", b.title}}}});
    action = {{"buttons", buttons}};
  } else {
    json rows = json::array();
    for (const auto& b : msg.buttons) rows.push_back({{"id", b.id}, {"title", b.title}});
    action = {{"button", ch.list_button}, {"sections", json::array({{{"rows", rows}}})}};
  }
  j["interactive"] = {{"type", mode == button_mode::reply_buttons ? "button" : "list"},
                      {"body", {{"text", body}}},
                      {"action", action}};
  return j;
}

std::optional<json> media_message(const proto::outbound_message& msg, const proto::attachment& a) {
  using proto::attachment_kind;
  if (a.kind == attachment_kind::location) {
    if (!a.latitude || !a.longitude) return std::nullopt;
    json j = envelope(msg, "location");
    j["location"] = {{"latitude", *a.latitude}, {"longitude", *a.longitude}};
    if (!a.name.empty()) j["location"]["name"] = a.name;
    if (!a.caption.empty()) j["location"]["address"] = a.caption;
    return j;
  }
  std::string_view type;
  switch (a.kind) {
    case attachment_kind::image: type = "image"; break;
    case attachment_kind::audio:
    case attachment_kind::voice: type = "audio"; break;
    case attachment_kind::video: type = "video"; break;
    case attachment_kind::sticker: type = "sticker"; break;
    case attachment_kind::document:
    case attachment_kind::file: type = "document"; break;
    default: return std::nullopt;  // contacts: not sent as attachments
  }
  if (a.provider_ref.empty()) return std::nullopt;
  json media;
  bool is_link = a.provider_ref.rfind("https://", 0) == 0 || a.provider_ref.rfind("http://", 0) == 0;
  media[is_link ? "link" : "id"] = a.provider_ref;
  if (!a.caption.empty() && (type == "image" || type == "video" || type == "document")) media["caption"] = a.caption;
  if (type == "document" && !a.name.empty()) media["filename"] = a.name;
  json j = envelope(msg, type);
  j[std::string(type)] = media;
  return j;
}

json template_message(const proto::outbound_message& msg, const whatsapp_channel& ch) {
  json j = envelope(msg, "template");
  json tpl = {{"name", msg.template_name},
              {"language", {{"code", msg.template_language.empty() ? ch.template_language : msg.template_language}}}};
  if (!msg.template_params.empty()) {
    json params = json::array();
    for (const auto& p : msg.template_params) params.push_back({{"type", "text"}, {"text", p}});
    tpl["components"] = json::array({{{"type", "body"}, {"parameters", params}}});
  }
  j["template"] = tpl;
  return j;
}

// Cloud API error codes that need more than "4xx = permanent, 5xx = retry".
constexpr std::array<error_rule, 11> error_rules{{
    // Expired or revoked access token: passing, once an admin renews it.
    {190, 0, outcome_kind::retry, 0ms, "invalid_token"},
    {131047, 0, outcome_kind::permanent, 0ms, "window_closed"},
    {130429, 0, outcome_kind::rate_limited, 1s, "throughput_limit"},
    // Too many messages to one customer (~1 per 6 s after a burst): only they wait.
    {131056, 0, outcome_kind::rate_limited, 6s, "pair_rate_limit", rate_scope::recipient},
    {131048, 0, outcome_kind::rate_limited, 60s, "spam_rate_limit"},
    {80007, 0, outcome_kind::rate_limited, 60s, "account_rate_limit"},
    {4, 0, outcome_kind::rate_limited, 60s, "app_rate_limit"},
    {131000, 0, outcome_kind::retry, 0ms, "provider_error"},
    {131016, 0, outcome_kind::retry, 0ms, "service_unavailable"},
    {133004, 0, outcome_kind::retry, 0ms, "server_unavailable"},
    {2, 0, outcome_kind::retry, 0ms, "temporary"},
}};

}  // namespace

send_window window_rule(std::optional<std::chrono::milliseconds> since) {
  return since && *since >= 0ms && *since < customer_window ? send_window::open : send_window::template_only;
}

send_plan build_send(const proto::outbound_message& msg, const whatsapp_channel& ch,
                     std::optional<std::chrono::milliseconds> since_customer_last) {
  send_plan plan;
  if (msg.recipient.empty()) {
    plan.refused = send_outcome::permanent("no_recipient: the outbound message has no wa_id");
    return plan;
  }
  if (!msg.template_name.empty()) {
    plan.requests.push_back(request(ch, template_message(msg, ch)));
    return plan;
  }
  if (window_rule(since_customer_last) != send_window::open) {
    plan.refused = send_outcome::permanent(
        "window_closed: more than 24 hours since the customer's last message; only a template may be sent");
    return plan;
  }

  std::vector<json> bodies;
  auto mode = choose_mode(msg);
  std::string text = mode == button_mode::numbered ? numbered_choices(msg.text, msg.buttons) : msg.text;
  auto parts = split_text(text, max_text);
  bool with_buttons = mode == button_mode::reply_buttons || mode == button_mode::list;
  if (with_buttons && !parts.empty() && text_length(parts.back()) > max_interactive_body) {
    // The interactive body is shorter than a text message: split the last part again.
    auto tail = split_text(parts.back(), max_interactive_body);
    parts.pop_back();
    parts.insert(parts.end(), tail.begin(), tail.end());
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (with_buttons && i + 1 == parts.size()) {
      bodies.push_back(interactive(msg, ch, mode, parts[i]));
    } else {
      json j = envelope(msg, "text");
      j["text"] = {{"body", parts[i]}, {"preview_url", false}};
      bodies.push_back(std::move(j));
    }
  }
  for (const auto& a : msg.attachments)
    if (auto j = media_message(msg, a)) bodies.push_back(std::move(*j));

  if (bodies.empty()) {
    plan.refused = send_outcome::permanent("empty: nothing to send");
    return plan;
  }
  if (!msg.reply_to.empty()) bodies.front()["context"] = {{"message_id", msg.reply_to}};
  for (const auto& b : bodies) plan.requests.push_back(request(ch, b));
  return plan;
}

send_outcome classify(const provider_response& r) {
  if (r.status == 0) return *classify_transport(r);
  auto body = parse_body(r.body);
  if (r.status >= 200 && r.status < 300) {
    if (body)
      if (const auto* messages = find_array(*body, "messages"); messages && !messages->empty())
        return send_outcome::delivered(opt_string(messages->front(), "id").value_or(""));
    return send_outcome::delivered("");  // accepted; retrying could duplicate
  }
  provider_error e;
  if (const json* error = body ? find_object(*body, "error") : nullptr) {
    e.code = opt_int(*error, "code");
    e.transient = opt_bool(*error, "is_transient");
    e.text = opt_string(*error, "message").value_or("");
    if (const auto* data = find_object(*error, "error_data"))
      if (auto details = opt_string(*data, "details"); details && !details->empty()) e.text += ": " + *details;
  }
  return classify_error(r, e, error_rules);
}

}  // namespace pasokh::connectors::whatsapp
