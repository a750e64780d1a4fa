#include "pasokh/connectors/meta/inbound.hpp"

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/common/hub.hpp"
#include "pasokh/connectors/common/json_read.hpp"

namespace pasokh::connectors::meta {
namespace {

using namespace json_read;
using proto::attachment;
using proto::attachment_kind;

// What every messaging item has in common.
struct item_context {
  const std::string& channel;
  proto::channel_kind kind;
  std::string sender;
  std::string recipient;
  proto::timestamp_ms timestamp;
};

proto::inbound_event base_event(const item_context& c, const std::string& customer) {
  proto::inbound_event ev;
  ev.from = {c.channel, c.kind, customer, ""};  // names need a Graph profile call; not ours
  ev.sent_at = c.timestamp;
  return ev;
}

attachment read_attachment(const json& a) {
  attachment out;
  auto type = opt_string(a, "type").value_or("");
  const json* payload = find_object(a, "payload");
  std::string url = payload ? opt_string(*payload, "url").value_or("") : "";
  out.provider_ref = url;
  if (type == "image") {
    out.kind = payload && find(*payload, "sticker_id") ? attachment_kind::sticker : attachment_kind::image;
  } else if (type == "audio") {
    out.kind = attachment_kind::audio;
  } else if (type == "video") {
    out.kind = attachment_kind::video;
  } else if (type == "file") {
    out.kind = attachment_kind::file;
  } else if (type == "location") {
    out.kind = attachment_kind::location;
    if (const auto* coords = payload ? find_object(*payload, "coordinates") : nullptr) {
      out.latitude = opt_number(*coords, "lat");
      out.longitude = opt_number(*coords, "long");
    }
  } else {
    // fallback (shared links), Instagram share / story_mention / ig_reel ...:
    // keep the link and say what it was.
    out.kind = attachment_kind::file;
    out.link = true;
    out.name = type;
    if (auto title = opt_string(a, "title")) out.caption = *title;
    if (payload && out.caption.empty()) out.caption = opt_string(*payload, "title").value_or("");
  }
  return out;
}

// {"mid", "is_deleted": true}: an Instagram customer unsent a message; its
// text and attachments are to go from what we keep. (One of our own messages
// deleted, an echo, is left alone: the agent's copy is ours.)
void read_unsend(const json& m, const item_context& c, webhook_result& out, std::string_view where) {
  if (opt_bool(m, "is_echo")) {
    out.count("ignored_deleted");
    return;
  }
  auto ev = base_event(c, c.sender);
  ev.kind = proto::inbound_kind::unsend;
  ev.provider_message_id = require_string(m, "mid", where);
  ev.dedup_key = "meta:" + ev.provider_message_id + ":unsend";
  out.events.push_back(std::move(ev));
}

void read_message(const json& m, const item_context& c, webhook_result& out, std::string_view where) {
  if (opt_bool(m, "is_deleted")) {
    read_unsend(m, c, out, where);
    return;
  }
  bool echo = opt_bool(m, "is_echo");
  // An echo is our page's own message: the customer is the recipient.
  auto ev = base_event(c, echo ? c.recipient : c.sender);
  ev.echo = echo;
  ev.provider_message_id = require_string(m, "mid", where);
  ev.dedup_key = "meta:" + ev.provider_message_id;
  ev.text = opt_string(m, "text").value_or("");
  if (const auto* reply = find_object(m, "reply_to")) ev.reply_to = opt_string(*reply, "mid").value_or("");
  if (const auto* qr = find_object(m, "quick_reply")) {
    ev.kind = proto::inbound_kind::button;
    ev.button_payload = opt_string(*qr, "payload").value_or("");
  }
  if (const auto* atts = find_array(m, "attachments")) {
    for (const auto& a : *atts) {
      if (opt_string(a, "type") == "template") continue;  // the echo of our own template
      ev.attachments.push_back(read_attachment(a));
    }
  }
  if (ev.text.empty() && ev.attachments.empty() && ev.kind != proto::inbound_kind::button) {
    if (echo) {  // our own template's echo: nothing to record
      out.count("ignored_unsupported");
      return;
    }
    // The customer sent what Meta does not pass on (Instagram says is_unsupported):
    // a placeholder, so that the conversation opens.
    ev.attachments.push_back(unsupported_content("unsupported"));
  }
  out.events.push_back(std::move(ev));
}

void read_postback(const json& p, const item_context& c, webhook_result& out) {
  auto ev = base_event(c, c.sender);
  ev.kind = proto::inbound_kind::button;
  ev.button_payload = opt_string(p, "payload").value_or("");
  ev.text = opt_string(p, "title").value_or(ev.button_payload);
  // Older postbacks carry no mid: a hash of who, when and what stands in, so a
  // redelivery of the same postback dedupes.
  auto mid = opt_string(p, "mid").value_or("");
  ev.provider_message_id =
      !mid.empty() ? mid : "pb:" + sha256_hex(c.sender + "|" + std::to_string(c.timestamp) + "|" + ev.button_payload).substr(0, 32);
  ev.dedup_key = "meta:" + ev.provider_message_id;
  out.events.push_back(std::move(ev));
}

void read_edit(const json& e, const item_context& c, webhook_result& out, std::string_view where) {
  auto ev = base_event(c, c.sender);
  ev.kind = proto::inbound_kind::edit;
  ev.provider_message_id = require_string(e, "mid", where);
  ev.text = opt_string(e, "text").value_or("");
  ev.dedup_key = "meta:" + ev.provider_message_id + ":edit:" + std::to_string(opt_int(e, "num_edit").value_or(0));
  out.events.push_back(std::move(ev));
}

// {"mid", "action": "react"|"unreact", "reaction": "love", "emoji": "❤"}:
// the customer reacted to a message (usually our reply) or took it back.
void read_reaction(const json& r, const item_context& c, webhook_result& out, std::string_view where) {
  auto ev = base_event(c, c.sender);
  ev.kind = proto::inbound_kind::reaction;
  ev.provider_message_id = require_string(r, "mid", where);
  auto action = opt_string(r, "action").value_or("react");
  if (action == "react") ev.text = opt_string(r, "emoji").value_or("");
  if (action == "react" && ev.text.empty()) {
    out.count("ignored_reaction");  // a reaction with nothing to show
    return;
  }
  // No id of its own: who, when and what stand in, so a redelivery dedupes.
  ev.dedup_key = "meta:" + ev.provider_message_id + ":" + action + ":" + std::to_string(c.timestamp) + ":" + ev.text;
  out.events.push_back(std::move(ev));
}

void add_status(const item_context& c, const std::string& mid, proto::delivery_status status, std::string_view name,
                webhook_result& out) {
  auto ev = base_event(c, c.sender);  // delivery/read come from the customer's side
  ev.kind = proto::inbound_kind::status;
  ev.provider_message_id = mid;
  ev.status = status;
  ev.dedup_key = "meta:" + mid + ":" + std::string(name);
  out.events.push_back(std::move(ev));
}

// Every message the page sent the customer up to `watermark` was read.
void add_read_watermark(const item_context& c, proto::timestamp_ms watermark, webhook_result& out) {
  auto ev = base_event(c, c.sender);
  ev.kind = proto::inbound_kind::status;
  ev.status = proto::delivery_status::read;
  ev.read_watermark = watermark;
  ev.dedup_key = "meta:read:" + c.sender + ":" + std::to_string(watermark);
  out.events.push_back(std::move(ev));
}

void read_item(const json& item, const std::string& channel, proto::channel_kind kind, webhook_result& out,
               std::string_view where) {
  const auto& sender = require_object(item, "sender", where);
  // Someone known only by a user_ref (a plugin opt-in, a postback after one):
  // a documented shape, but no PSID to file them under or answer. Skipped, so
  // that the batch's other items are kept rather than refused and redelivered.
  if (!find(sender, "id") && find(sender, "user_ref")) {
    out.count("ignored_user_ref");
    return;
  }
  const auto* recipient = find_object(item, "recipient");
  item_context c{channel, kind, require_id(sender, "id", std::string(where) + ".sender"),
                 recipient ? opt_id(*recipient, "id").value_or("") : "", opt_int(item, "timestamp").value_or(0)};

  if (const auto* m = find_object(item, "message")) {
    read_message(*m, c, out, std::string(where) + ".message");
  } else if (const auto* p = find_object(item, "postback")) {
    read_postback(*p, c, out);
  } else if (const auto* e = find_object(item, "message_edit")) {
    read_edit(*e, c, out, std::string(where) + ".message_edit");
  } else if (const auto* d = find_object(item, "delivery")) {
    if (const auto* mids = find_array(*d, "mids"))
      for (const auto& mid : *mids)
        if (mid.is_string()) add_status(c, mid.get<std::string>(), proto::delivery_status::delivered, "delivered", out);
  } else if (const auto* r = find_object(item, "read")) {
    // Instagram names the message; Messenger gives a watermark time instead.
    if (auto mid = opt_string(*r, "mid")) add_status(c, *mid, proto::delivery_status::read, "read", out);
    else if (auto watermark = opt_int(*r, "watermark")) add_read_watermark(c, *watermark, out);
    else out.count("ignored_read");
  } else if (const auto* r = find_object(item, "reaction")) {
    read_reaction(*r, c, out, std::string(where) + ".reaction");
  } else {
    out.count("ignored_event");  // referral, optin, pass_thread_control, ...
  }
}

std::optional<proto::channel_kind> kind_of_object(std::string_view object) {
  if (object == "page") return proto::channel_kind::messenger;
  if (object == "instagram") return proto::channel_kind::instagram;
  return std::nullopt;
}

std::string_view object_of(proto::channel_kind kind) {
  return kind == proto::channel_kind::instagram ? "instagram" : "page";
}

// Which channel takes an entry: the URL's channel, the one `route` names for
// another page / account of the same app, or none (nullopt, counted and noted).
// Entries of the other object (both subscriptions pointed at one URL) go only
// to the channel whose account_id is the entry's id.
std::optional<std::string> owner_of(const json& entry, std::string_view where, proto::channel_kind kind,
                                    const meta_channel& ch, const account_router& route,
                                    const account_router& other_kind_route, webhook_result& out) {
  auto account = opt_id(entry, "id").value_or("");
  if (kind != ch.kind) {
    if (auto owner = !account.empty() && other_kind_route ? other_kind_route(account) : std::nullopt) return owner;
    out.skip("ignored_object",
             std::string(where) + ": object \"" + std::string(object_of(kind)) + "\" for account " +
                 (account.empty() ? "(none)" : account) + " came to the " + std::string(object_of(ch.kind)) +
                 " channel " + ch.id + "'s URL and no channel of that kind has that provider.account_id: " +
                 "configure one, or point the Meta app's " + std::string(object_of(kind)) +
                 " webhook at that channel's own /webhooks/meta/{channel}");
    return std::nullopt;
  }
  if (ch.account_id.empty() || account.empty() || account == ch.account_id) return ch.id;
  if (auto owner = route ? route(account) : std::nullopt) return owner;
  out.count("ignored_other_account");
  return std::nullopt;
}

webhook_result parse_notification(const webhook_request& req, const meta_channel& ch, const account_router& route,
                                  const account_router& other_kind_route) {
  auto body = parse_body(req.body);
  if (!body) return webhook_result::failure(webhook_error::invalid_json, "body is not valid JSON");
  if (!body->is_object()) return webhook_result::failure(webhook_error::invalid_payload, "body must be a JSON object");
  webhook_result out;
  auto object = opt_string(*body, "object").value_or("");
  auto kind = kind_of_object(object);
  if (!kind) {
    out.skip("ignored_object", "object \"" + object.substr(0, 40) + "\" came to the Meta channel " + ch.id +
                                   "'s URL, which takes page and instagram: point that webhook at the URL of a " +
                                   "channel of its kind");
    return out;
  }
  const auto& entries = require_array(*body, "entry", "");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::string where = "entry[" + std::to_string(i) + "]";
    const auto& entry = entries[i];
    auto channel = owner_of(entry, where, *kind, ch, route, other_kind_route, out);
    if (!channel) continue;
    bool any = false;
    // standby[]: events while another app holds the thread (handover protocol);
    // the customer still wrote to us, so they count the same.
    for (std::string_view list : {"messaging", "standby"}) {
      const auto* items = find_array(entry, list);
      if (!items) continue;
      any = true;
      read_each(out, *items, where + "." + std::string(list),
                [&](const json& item, const std::string& at) { read_item(item, *channel, *kind, out, at); });
    }
    if (!any) out.count("ignored_changes");  // comments, mentions: the changes[] feed
  }
  return out;
}

}  // namespace

webhook_result parse_webhook(const webhook_request& req, const meta_channel& ch, const account_router& route,
                             const account_router& other_kind_route) {
  if (req.method == "GET") return hub_verify(req, ch.verify_token);
  if (req.method != "POST") return webhook_result::failure(webhook_error::method_not_allowed, "use GET or POST");
  return run_guarded([&] {
    auto signature = hub_check_signature(req, ch.app_secret);
    if (signature.refused) return std::move(*signature.refused);
    auto out = parse_notification(req, ch, route, other_kind_route);
    out.by_previous_secret = signature.by_previous;
    return out;
  });
}

}  // namespace pasokh::connectors::meta
