#include "pasokh/connectors/meta/outbound.hpp"

#include <array>

#include "pasokh/connectors/common/json_read.hpp"
#include "pasokh/connectors/common/text.hpp"

namespace pasokh::connectors::meta {
namespace {

using json = nlohmann::json;
using namespace json_read;
using namespace std::chrono_literals;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

provider_request request(const meta_channel& ch, const json& body) {
  provider_request r;
  r.url = ch.api_base + "/" + ch.api_version + "/me/messages";
  r.headers = {{"Authorization", "Bearer " + ch.page_token.reveal()}, {"Content-Type", "application/json"}};
  r.body = dump(body);
  r.what = ch.kind == proto::channel_kind::instagram ? "instagram.messages" : "messenger.messages";
  return r;
}

bool quick_replies_fit(const std::vector<proto::button>& buttons) {
  if (buttons.size() > max_quick_replies) return false;
  for (const auto& b : buttons)
    if (b.id.empty() || b.id.size() > max_quick_reply_payload || b.title.empty()) return false;
  return true;
}

json quick_replies(const std::vector<proto::button>& buttons) {
  json out = json::array();
  for (const auto& b : buttons)
    out.push_back({{"content_type", "text"}, {"title", truncate_text(b.title, max_quick_reply_title)}, {"payload", b.id}});
  return out;
}

std::optional<json> attachment_message(const proto::attachment& a) {
  using proto::attachment_kind;
  std::string_view type;
  switch (a.kind) {
    case attachment_kind::image:
    case attachment_kind::sticker: type = "image"; break;
    case attachment_kind::audio:
    case attachment_kind::voice: type = "audio"; break;
    case attachment_kind::video: type = "video"; break;
    case attachment_kind::document:
    case attachment_kind::file: type = "file"; break;
    default: return std::nullopt;  // location and contact cannot be sent
  }
  if (a.provider_ref.empty()) return std::nullopt;
  bool is_link = a.provider_ref.rfind("https://", 0) == 0 || a.provider_ref.rfind("http://", 0) == 0;
  json payload = is_link ? json{{"url", a.provider_ref}, {"is_reusable", true}} : json{{"attachment_id", a.provider_ref}};
  return json{{"attachment", {{"type", type}, {"payload", payload}}}};
}

// Graph API error codes the Send API documents.
constexpr std::array<error_rule, 12> error_rules{{
    {10, 2018278, outcome_kind::permanent, 0ms, "window_closed"},
    {10, 2534022, outcome_kind::permanent, 0ms, "window_closed"},  // Instagram's wording of the same
    {551, 0, outcome_kind::permanent, 0ms, "recipient_unavailable"},
    {100, 2018001, outcome_kind::permanent, 0ms, "no_matching_user"},
    // Expired or revoked access token: passing, once an admin renews it.
    {190, 0, outcome_kind::retry, 0ms, "invalid_token"},
    {4, 0, outcome_kind::rate_limited, 30s, "app_rate_limit"},
    {17, 0, outcome_kind::rate_limited, 30s, "user_rate_limit"},
    {32, 0, outcome_kind::rate_limited, 30s, "page_rate_limit"},
    {613, 0, outcome_kind::rate_limited, 30s, "rate_limit"},
    {1200, 0, outcome_kind::retry, 0ms, "temporary_send_failure"},
    {1, 0, outcome_kind::retry, 0ms, "unknown_error"},
    {2, 0, outcome_kind::retry, 0ms, "service_unavailable"},
}};

}  // namespace

text_limit max_text(proto::channel_kind kind) {
  return kind == proto::channel_kind::instagram ? instagram_text_limit : messenger_text_limit;
}

send_window window_rule(std::optional<std::chrono::milliseconds> since, bool automatic) {
  if (!since || *since < 0ms) return send_window::closed;
  if (*since < standard_window) return send_window::open;
  if (*since < human_agent_window && !automatic) return send_window::human_agent_tag;
  return send_window::closed;
}

send_plan build_send(const proto::outbound_message& msg, const meta_channel& ch,
                     std::optional<std::chrono::milliseconds> since_customer_last) {
  send_plan plan;
  if (msg.recipient.empty()) {
    plan.refused = send_outcome::permanent("no_recipient: the outbound message has no recipient id");
    return plan;
  }
  auto window = window_rule(since_customer_last, msg.automatic);
  if (window == send_window::closed) {
    plan.refused = send_outcome::permanent(
        msg.automatic ? "window_closed: more than 24 hours since the customer's last message (bots may not use HUMAN_AGENT)"
                      : "window_closed: more than 7 days since the customer's last message");
    return plan;
  }

  bool with_quick_replies = !msg.buttons.empty() && quick_replies_fit(msg.buttons) && !msg.text.empty();
  std::string text = msg.buttons.empty() || with_quick_replies ? msg.text : numbered_choices(msg.text, msg.buttons);
  std::vector<json> messages;
  auto limit = max_text(ch.kind);
  auto parts = split_text(text, limit.max, limit.unit);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    json m = {{"text", parts[i]}};
    if (with_quick_replies && i + 1 == parts.size()) m["quick_replies"] = quick_replies(msg.buttons);
    messages.push_back(std::move(m));
  }
  for (const auto& a : msg.attachments)
    if (auto m = attachment_message(a)) messages.push_back(std::move(*m));
  if (messages.empty()) {
    plan.refused = send_outcome::permanent("empty: nothing to send");
    return plan;
  }

  for (auto& m : messages) {
    json body = {{"recipient", {{"id", msg.recipient}}}, {"message", std::move(m)}};
    if (window == send_window::human_agent_tag) {
      body["messaging_type"] = "MESSAGE_TAG";
      body["tag"] = "HUMAN_AGENT";
    } else {
      body["messaging_type"] = "RESPONSE";
    }
    plan.requests.push_back(request(ch, body));
  }
  return plan;
}

send_outcome classify(const provider_response& r) {
  if (r.status == 0) return *classify_transport(r);
  auto body = parse_body(r.body);
  if (r.status >= 200 && r.status < 300) {
    auto id = body ? opt_string(*body, "message_id") : std::nullopt;
    return send_outcome::delivered(id.value_or(""));  // accepted; retrying could duplicate
  }
  provider_error e;
  if (const json* error = body ? find_object(*body, "error") : nullptr) {
    e.code = opt_int(*error, "code");
    e.subcode = opt_int(*error, "error_subcode").value_or(0);
    e.transient = opt_bool(*error, "is_transient");
    e.text = opt_string(*error, "message").value_or("");
  }
  return classify_error(r, e, error_rules);
}

}  // namespace pasokh::connectors::meta
