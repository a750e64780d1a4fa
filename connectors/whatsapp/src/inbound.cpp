#include "pasokh/connectors/whatsapp/inbound.hpp"

#include "pasokh/connectors/common/hub.hpp"
#include "pasokh/connectors/common/json_read.hpp"

namespace pasokh::connectors::whatsapp {
namespace {

using namespace json_read;
using proto::attachment;
using proto::attachment_kind;

struct contact_info {
  std::string wa_id;
  std::string user_id;
  std::string name;
};

std::vector<contact_info> read_contacts(const json& value) {
  std::vector<contact_info> out;
  if (const auto* contacts = find_array(value, "contacts")) {
    for (const auto& c : *contacts) {
      contact_info info;
      info.wa_id = opt_string(c, "wa_id").value_or("");
      info.user_id = opt_string(c, "user_id").value_or("");
      if (const auto* profile = find_object(c, "profile")) info.name = opt_string(*profile, "name").value_or("");
      out.push_back(std::move(info));
    }
  }
  return out;
}

// The customer who sent `msg`: the phone-number wa_id when shared, else the
// business-scoped user id (usernames hide the phone number).
proto::channel_identity sender(const json& msg, const std::vector<contact_info>& contacts, const std::string& channel,
                               std::string_view where) {
  auto from = opt_string(msg, "from").value_or("");
  auto from_user = opt_string(msg, "from_user_id").value_or("");
  const contact_info* match = nullptr;
  for (const auto& c : contacts)
    if ((!from.empty() && c.wa_id == from) || (!from_user.empty() && c.user_id == from_user)) match = &c;
  if (!match && contacts.size() == 1) match = &contacts.front();
  if (match && from.empty()) from = match->wa_id;
  if (match && from_user.empty()) from_user = match->user_id;
  if (from.empty() && from_user.empty()) throw shape_error{std::string(where) + ".from must be a string"};

  proto::channel_identity id{channel, proto::channel_kind::whatsapp, from.empty() ? from_user : from,
                             match ? match->name : ""};
  if (!from.empty() && from_user != from) id.alt_external_id = from_user;
  return id;
}

attachment media(const json& m, attachment_kind kind, std::string_view where) {
  attachment a;
  a.kind = kind;
  a.provider_ref = require_string(m, "id", where);  // media id: GET /{id} gives a download URL
  a.mime_type = opt_string(m, "mime_type").value_or("");
  a.name = opt_string(m, "filename").value_or("");
  return a;
}

// A type we cannot show: a placeholder naming it (proto::attachment_kind::
// unsupported). `unsupported` says its own kind (poll_creation, edit, ...);
// `system` what happened (a number change), `order` the customer's note.
// False for request_welcome: the customer opened the chat and wrote nothing.
bool read_unsupported(const json& msg, const std::string& type, proto::inbound_event& ev) {
  if (type == "request_welcome") return false;
  const json* body = find_object(msg, type);
  auto field = [&](const char* key) { return body ? opt_string(*body, key).value_or("") : std::string(); };
  auto name = type == "unsupported" && !field("type").empty() ? field("type") : type;
  auto detail = type == "system" ? field("body") : type == "order" ? field("text") : "";
  ev.attachments.push_back(unsupported_content(name.empty() ? "unknown" : name, detail));
  return true;
}

// Fills text/attachments/button of a message; false when it is nothing to
// keep (counted by the caller).
bool read_content(const json& msg, const std::string& type, proto::inbound_event& ev, const std::string& where) {
  struct media_type {
    std::string_view type;
    attachment_kind kind;
  };
  static constexpr media_type media_types[] = {
      {"image", attachment_kind::image}, {"document", attachment_kind::document}, {"audio", attachment_kind::audio},
      {"video", attachment_kind::video}, {"sticker", attachment_kind::sticker},
  };
  if (type == "text") {
    ev.text = require_string(require_object(msg, "text", where), "body", where + ".text");
    return true;
  }
  for (const auto& mt : media_types) {
    if (type != mt.type) continue;
    const auto& m = require_object(msg, mt.type, where);
    auto a = media(m, mt.kind, where + "." + std::string(mt.type));
    if (mt.kind == attachment_kind::audio && opt_bool(m, "voice")) a.kind = attachment_kind::voice;
    ev.text = opt_string(m, "caption").value_or("");
    ev.attachments.push_back(std::move(a));
    return true;
  }
  if (type == "location") {
    const auto& loc = require_object(msg, "location", where);
    attachment a;
    a.kind = attachment_kind::location;
    a.latitude = opt_number(loc, "latitude");
    a.longitude = opt_number(loc, "longitude");
    if (!a.latitude || !a.longitude) throw shape_error{where + ".location needs latitude and longitude"};
    a.name = opt_string(loc, "name").value_or("");
    a.caption = opt_string(loc, "address").value_or("");
    ev.attachments.push_back(std::move(a));
    return true;
  }
  if (type == "contacts") {
    for (const auto& c : require_array(msg, "contacts", where)) {
      attachment a;
      a.kind = attachment_kind::contact;
      if (const auto* name = find_object(c, "name")) a.name = opt_string(*name, "formatted_name").value_or("");
      if (const auto* phones = find_array(c, "phones"); phones && !phones->empty())
        a.provider_ref = opt_string(phones->front(), "phone").value_or("");
      ev.attachments.push_back(std::move(a));
    }
    return !ev.attachments.empty();
  }
  if (type == "interactive") {
    const auto& in = require_object(msg, "interactive", where);
    auto kind = opt_string(in, "type").value_or("");
    if (kind != "button_reply" && kind != "list_reply") {  // e.g. nfm_reply (a flow's answers)
      const auto* other = find_object(in, kind);
      auto detail = other ? opt_string(*other, "body").value_or("") : "";
      ev.attachments.push_back(unsupported_content(kind.empty() ? type : kind, detail));
      return true;
    }
    const auto& reply = require_object(in, kind, where + ".interactive");
    ev.kind = proto::inbound_kind::button;
    ev.button_payload = require_string(reply, "id", where + ".interactive." + kind);
    ev.text = opt_string(reply, "title").value_or(ev.button_payload);
    return true;
  }
  if (type == "button") {  // quick-reply button of a template
    const auto& b = require_object(msg, "button", where);
    ev.kind = proto::inbound_kind::button;
    ev.button_payload = opt_string(b, "payload").value_or("");
    ev.text = opt_string(b, "text").value_or(ev.button_payload);
    return true;
  }
  return read_unsupported(msg, type, ev);  // order, system, unsupported, ...
}

void read_message(const json& msg, const std::vector<contact_info>& contacts, const std::string& channel,
                  webhook_result& out, const std::string& where) {
  auto type = opt_string(msg, "type").value_or("");
  proto::inbound_event ev;
  ev.provider_message_id = require_string(msg, "id", where);
  ev.dedup_key = "wa:" + ev.provider_message_id;
  ev.from = sender(msg, contacts, channel, where);
  ev.sent_at = require_int(msg, "timestamp", where) * 1000;
  if (type == "reaction") {  // not a message of its own: it names the one reacted to
    const auto& r = require_object(msg, "reaction", where);
    ev.kind = proto::inbound_kind::reaction;
    ev.provider_message_id = require_string(r, "message_id", where + ".reaction");
    ev.text = opt_string(r, "emoji").value_or("");  // none: the reaction was taken back
    out.events.push_back(std::move(ev));
    return;
  }
  if (const auto* ctx = find_object(msg, "context")) ev.reply_to = opt_string(*ctx, "id").value_or("");
  if (!read_content(msg, type, ev, where)) {
    out.count("ignored_unsupported");
    return;
  }
  out.events.push_back(std::move(ev));
}

void read_messages(const json& value, const std::string& channel, webhook_result& out, std::string_view where) {
  const auto* messages = find_array(value, "messages");
  if (!messages) return;
  auto contacts = read_contacts(value);
  read_each(out, *messages, std::string(where) + ".messages",
            [&](const json& m, const std::string& at) { read_message(m, contacts, channel, out, at); });
}

std::optional<proto::delivery_status> status_of(std::string_view s) {
  if (s == "sent") return proto::delivery_status::sent;
  if (s == "delivered") return proto::delivery_status::delivered;
  if (s == "read" || s == "played") return proto::delivery_status::read;
  if (s == "failed") return proto::delivery_status::failed;
  return std::nullopt;
}

// "131047 Re-engagement message: <details>" from the first error.
std::string status_error(const json& status) {
  const auto* errors = find_array(status, "errors");
  if (!errors || errors->empty()) return {};
  const auto& e = errors->front();
  std::string text = opt_id(e, "code").value_or("");
  auto title = opt_string(e, "title").value_or(opt_string(e, "message").value_or(""));
  if (!title.empty()) text += (text.empty() ? "" : " ") + title;
  if (const auto* data = find_object(e, "error_data"))
    if (auto details = opt_string(*data, "details"); details && !details->empty()) text += ": " + *details;
  return text;
}

void read_status(const json& st, const std::string& channel, webhook_result& out, const std::string& where) {
  auto name = require_string(st, "status", where);
  auto status = status_of(name);
  if (!status) {
    out.count("ignored_status");
    return;
  }
  proto::inbound_event ev;
  ev.kind = proto::inbound_kind::status;
  ev.provider_message_id = require_string(st, "id", where);
  ev.dedup_key = "wa:" + ev.provider_message_id + ":" + name;
  ev.status = *status;
  ev.status_error = status_error(st);
  ev.sent_at = opt_int(st, "timestamp").value_or(0) * 1000;
  auto recipient = opt_string(st, "recipient_id").value_or("");
  auto recipient_user = opt_string(st, "recipient_user_id").value_or("");
  ev.from = {channel, proto::channel_kind::whatsapp, recipient.empty() ? recipient_user : recipient, ""};
  if (!recipient.empty() && recipient_user != recipient) ev.from.alt_external_id = recipient_user;
  out.events.push_back(std::move(ev));
}

void read_statuses(const json& value, const std::string& channel, webhook_result& out, std::string_view where) {
  const auto* statuses = find_array(value, "statuses");
  if (!statuses) return;
  read_each(out, *statuses, std::string(where) + ".statuses",
            [&](const json& st, const std::string& at) { read_status(st, channel, out, at); });
}

// One change of an entry: its messages and statuses, on the channel that owns its number.
void read_change(const json& change, const whatsapp_channel& ch, const account_router& route, webhook_result& out,
                 const std::string& where) {
  if (opt_string(change, "field").value_or("messages") != "messages") {
    out.count("ignored_field");  // template status, account updates, ...
    return;
  }
  const auto& value = require_object(change, "value", where);
  std::string number;
  if (const auto* meta = find_object(value, "metadata")) number = opt_string(*meta, "phone_number_id").value_or("");
  std::string channel = ch.id;
  if (!number.empty() && number != ch.phone_number_id) {
    auto owner = route ? route(number) : std::nullopt;
    if (!owner) {
      out.count("ignored_other_account");
      return;
    }
    channel = *owner;
  }
  read_messages(value, channel, out, where + ".value");
  read_statuses(value, channel, out, where + ".value");
}

webhook_result parse_notification(const webhook_request& req, const whatsapp_channel& ch, const account_router& route) {
  auto body = parse_body(req.body);
  if (!body) return webhook_result::failure(webhook_error::invalid_json, "body is not valid JSON");
  if (!body->is_object()) return webhook_result::failure(webhook_error::invalid_payload, "body must be a JSON object");
  webhook_result out;
  auto object = opt_string(*body, "object").value_or("");
  if (object != "whatsapp_business_account") {
    out.skip("ignored_object", "object \"" + object.substr(0, 40) + "\" came to the WhatsApp channel " + ch.id +
                                   "'s URL, which takes whatsapp_business_account: point that Meta webhook at " +
                                   "/webhooks/meta/{channel} of its own channel");
    return out;
  }
  const auto& entries = require_array(*body, "entry", "");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    std::string where = "entry[" + std::to_string(i) + "]";
    // The messages and statuses in a change are read one by one; this guards
    // the entry's and each change's own shape.
    read_one(out, where, [&] {
      read_each(out, require_array(entries[i], "changes", where), where + ".changes",
                [&](const json& change, const std::string& at) { read_change(change, ch, route, out, at); });
    });
  }
  return out;
}

}  // namespace

webhook_result parse_webhook(const webhook_request& req, const whatsapp_channel& ch, const account_router& route) {
  if (req.method == "GET") return hub_verify(req, ch.verify_token);
  if (req.method != "POST") return webhook_result::failure(webhook_error::method_not_allowed, "use GET or POST");
  return run_guarded([&] {
    auto signature = hub_check_signature(req, ch.app_secret);
    if (signature.refused) return std::move(*signature.refused);
    auto out = parse_notification(req, ch, route);
    out.by_previous_secret = signature.by_previous;
    return out;
  });
}

}  // namespace pasokh::connectors::whatsapp
