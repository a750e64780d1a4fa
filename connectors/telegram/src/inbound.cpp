#include "pasokh/connectors/telegram/inbound.hpp"

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/common/json_read.hpp"

namespace pasokh::connectors::telegram {
namespace {

using namespace json_read;
using proto::attachment;
using proto::attachment_kind;

std::string display_name(const json& user) {
  std::string name = opt_string(user, "first_name").value_or("");
  if (auto last = opt_string(user, "last_name"); last && !last->empty()) name += (name.empty() ? "" : " ") + *last;
  if (name.empty()) name = opt_string(user, "username").value_or("");
  return name;
}

// "fa-IR" -> "fa": routing only wants the language.
std::string language_of(const json& user) {
  auto code = opt_string(user, "language_code").value_or("");
  return code.substr(0, code.find_first_of("-_"));
}

attachment file_attachment(const json& f, attachment_kind kind, std::string_view where) {
  attachment a;
  a.kind = kind;
  a.provider_ref = require_string(f, "file_id", where);
  a.name = opt_string(f, "file_name").value_or("");
  a.mime_type = opt_string(f, "mime_type").value_or("");
  a.size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, opt_int(f, "file_size").value_or(0)));
  return a;
}

// The photo array lists sizes smallest first, but pick by area to not rely on it.
attachment largest_photo(const json& sizes) {
  const json* best = nullptr;
  std::int64_t best_area = -1;
  for (const auto& s : sizes) {
    auto area = opt_int(s, "width").value_or(0) * opt_int(s, "height").value_or(0);
    if (area >= best_area) best = &s, best_area = area;
  }
  if (!best) throw shape_error{"message.photo is empty"};
  auto a = file_attachment(*best, attachment_kind::image, "message.photo[]");
  if (a.mime_type.empty()) a.mime_type = "image/jpeg";  // Telegram re-encodes photos as JPEG
  return a;
}

// Content a customer sends that we cannot show: a placeholder naming it, so
// that the conversation opens. False for anything else, e.g. the service
// messages of a private chat (pinned_message, auto-delete timer...).
bool read_unsupported(const json& msg, proto::inbound_event& ev) {
  static constexpr std::string_view kinds[] = {"poll", "dice", "story", "game", "invoice", "paid_media", "checklist"};
  for (auto kind : kinds) {
    const json* o = find_object(msg, kind);
    if (!o) continue;
    // What the agent can read of it: a poll's question, a game's title, the dice thrown.
    auto detail = opt_string(*o, "question").value_or(opt_string(*o, "title").value_or(""));
    if (auto value = opt_int(*o, "value")) detail = opt_string(*o, "emoji").value_or("") + " " + std::to_string(*value);
    ev.attachments.push_back(unsupported_content(std::string(kind), detail));
    return true;
  }
  return false;
}

// Text and attachments of a Message; false when it carries nothing we keep.
bool read_content(const json& msg, proto::inbound_event& ev) {
  ev.text = opt_string(msg, "text").value_or(opt_string(msg, "caption").value_or(""));
  if (const auto* photo = find_array(msg, "photo")) ev.attachments.push_back(largest_photo(*photo));
  struct file_field {
    std::string_view key;
    attachment_kind kind;
  };
  static constexpr file_field files[] = {
      {"document", attachment_kind::document}, {"voice", attachment_kind::voice},
      {"audio", attachment_kind::audio},       {"video", attachment_kind::video},
      {"video_note", attachment_kind::video},
  };
  for (const auto& f : files)
    if (const auto* o = find_object(msg, f.key)) ev.attachments.push_back(file_attachment(*o, f.kind, f.key));
  if (const auto* s = find_object(msg, "sticker")) {
    auto a = file_attachment(*s, attachment_kind::sticker, "sticker");
    a.caption = opt_string(*s, "emoji").value_or("");
    ev.attachments.push_back(std::move(a));
  }
  if (const auto* loc = find_object(msg, "location")) {
    attachment a;
    a.kind = attachment_kind::location;
    a.latitude = opt_number(*loc, "latitude");
    a.longitude = opt_number(*loc, "longitude");
    if (!a.latitude || !a.longitude) throw shape_error{"message.location needs latitude and longitude"};
    ev.attachments.push_back(std::move(a));
  }
  if (const auto* c = find_object(msg, "contact")) {
    attachment a;
    a.kind = attachment_kind::contact;
    a.provider_ref = require_string(*c, "phone_number", "message.contact");
    a.name = display_name(*c);
    ev.attachments.push_back(std::move(a));
  }
  return !ev.text.empty() || !ev.attachments.empty() || read_unsupported(msg, ev);
}

// Common to message and edited_message. Returns false when ignored (counted).
bool read_message(const json& msg, proto::inbound_event& ev, webhook_result& out, const telegram_channel& ch) {
  const auto& chat = require_object(msg, "chat", "message");
  auto chat_type = require_string(chat, "type", "message.chat");
  if (chat_type != "private") {
    out.count(chat_type == "channel" ? "ignored_channel" : "ignored_group");
    return false;
  }
  auto chat_id = require_id(chat, "id", "message.chat");
  auto message_id = require_id(msg, "message_id", "message");
  // In a private chat `from` is the customer; chat.id is the same number.
  const json* from = find_object(msg, "from");
  ev.from = {ch.id, proto::channel_kind::telegram, from ? require_id(*from, "id", "message.from") : chat_id,
             from ? display_name(*from) : display_name(chat)};
  if (from) ev.language = language_of(*from);
  ev.provider_chat_id = chat_id;
  ev.provider_message_id = chat_id + ":" + message_id;
  ev.sent_at = require_int(msg, "date", "message") * 1000;
  if (const auto* reply = find_object(msg, "reply_to_message"))
    if (auto id = opt_id(*reply, "message_id")) ev.reply_to = chat_id + ":" + *id;
  if (!read_content(msg, ev)) {
    out.count("ignored_unsupported");
    return false;
  }
  return true;
}

// The title of the inline button that carried `data`, so the conversation shows
// what the customer pressed rather than an opaque payload.
std::string button_title(const json& message, const std::string& data) {
  const auto* markup = find_object(message, "reply_markup");
  const auto* rows = markup ? find_array(*markup, "inline_keyboard") : nullptr;
  if (!rows) return {};
  for (const auto& row : *rows) {
    if (!row.is_array()) continue;
    for (const auto& b : row)
      if (opt_string(b, "callback_data") == data) return opt_string(b, "text").value_or("");
  }
  return {};
}

bool read_callback(const json& cb, proto::inbound_event& ev, webhook_result& out, const telegram_channel& ch,
                   const webhook_request& req) {
  auto callback_id = require_string(cb, "id", "callback_query");
  const auto& from = require_object(cb, "from", "callback_query");
  auto user_id = require_id(from, "id", "callback_query.from");
  const json* msg = find_object(cb, "message");
  if (msg) {
    const auto& chat = require_object(*msg, "chat", "callback_query.message");
    if (opt_string(chat, "type").value_or("private") != "private") {
      out.count("ignored_group");
      return false;
    }
  }
  auto data = opt_string(cb, "data");
  if (!data) {  // game_short_name callbacks: nothing for support to do
    out.count("ignored_unsupported");
    return false;
  }
  ev.kind = proto::inbound_kind::button;
  ev.from = {ch.id, proto::channel_kind::telegram, user_id, display_name(from)};
  ev.language = language_of(from);
  ev.provider_chat_id = user_id;  // a private chat's id is the user's id
  ev.provider_message_id = "cb:" + callback_id;
  ev.button_payload = *data;
  ev.sent_at = req.received_at;  // callback queries carry no time of their own
  if (msg) {
    auto chat_id = require_id(require_object(*msg, "chat", "callback_query.message"), "id", "callback_query.message.chat");
    ev.provider_chat_id = chat_id;
    if (auto mid = opt_id(*msg, "message_id")) ev.reply_to = chat_id + ":" + *mid;
    ev.text = button_title(*msg, *data);
  }
  if (ev.text.empty()) ev.text = *data;
  out.callback_query_ids.push_back(std::move(callback_id));
  return true;
}

// message_reaction: the customer's reactions to a message now (sent only
// when the bot's setWebhook lists it in allowed_updates). The first emoji
// shows; none (or only custom emoji) takes the reaction back.
bool read_reaction(const json& r, proto::inbound_event& ev, webhook_result& out, const telegram_channel& ch) {
  const auto& chat = require_object(r, "chat", "message_reaction");
  if (opt_string(chat, "type").value_or("private") != "private") {
    out.count("ignored_group");
    return false;
  }
  auto chat_id = require_id(chat, "id", "message_reaction.chat");
  const json* user = find_object(r, "user");
  ev.kind = proto::inbound_kind::reaction;
  ev.from = {ch.id, proto::channel_kind::telegram, user ? require_id(*user, "id", "message_reaction.user") : chat_id,
             user ? display_name(*user) : display_name(chat)};
  ev.provider_chat_id = chat_id;
  ev.provider_message_id = chat_id + ":" + require_id(r, "message_id", "message_reaction");
  ev.sent_at = require_int(r, "date", "message_reaction") * 1000;
  if (const auto* now = find_array(r, "new_reaction"))
    for (const auto& x : *now)
      if (opt_string(x, "type") == "emoji" && !(ev.text = opt_string(x, "emoji").value_or("")).empty()) break;
  return true;
}

webhook_result parse_update(const webhook_request& req, const telegram_channel& ch) {
  auto body = parse_body(req.body);
  if (!body) return webhook_result::failure(webhook_error::invalid_json, "body is not valid JSON");
  if (!body->is_object()) return webhook_result::failure(webhook_error::invalid_payload, "an Update must be a JSON object");
  const json& update = *body;
  auto update_id = require_int(update, "update_id", "update");

  webhook_result out;
  proto::inbound_event ev;
  ev.dedup_key = "tg:" + std::to_string(update_id);
  bool keep = false;
  if (const auto* m = find_object(update, "message")) {
    keep = read_message(*m, ev, out, ch);
  } else if (const auto* e = find_object(update, "edited_message")) {
    if (find(*e, "location")) {  // a live location moving: an edit every few seconds, nothing to read
      out.count("ignored_live_location");
      return out;
    }
    keep = read_message(*e, ev, out, ch);
    ev.kind = proto::inbound_kind::edit;  // provider_message_id names the message that changed
    if (auto edited = opt_int(*e, "edit_date")) ev.sent_at = *edited * 1000;
  } else if (const auto* cb = find_object(update, "callback_query")) {
    keep = read_callback(*cb, ev, out, ch, req);
  } else if (const auto* r = find_object(update, "message_reaction")) {
    keep = read_reaction(*r, ev, out, ch);
  } else if (find(update, "channel_post") || find(update, "edited_channel_post")) {
    out.count("ignored_channel");
  } else {
    out.count("ignored_update");  // my_chat_member, inline queries, polls...
  }
  if (keep) out.events.push_back(std::move(ev));
  return out;
}

}  // namespace

webhook_result parse_webhook(const webhook_request& req, const telegram_channel& ch) {
  if (req.method != "POST") return webhook_result::failure(webhook_error::method_not_allowed, "use POST");
  auto token = req.header("X-Telegram-Bot-Api-Secret-Token");
  if (!token)
    return webhook_result::failure(webhook_error::missing_signature, "X-Telegram-Bot-Api-Secret-Token header is missing");
  auto match = match_secret(*token, ch.webhook_secret);
  if (match == secret_match::none)
    return webhook_result::failure(webhook_error::bad_signature, "X-Telegram-Bot-Api-Secret-Token does not match");
  auto out = run_guarded([&] { return parse_update(req, ch); });
  out.by_previous_secret = match == secret_match::previous;
  return out;
}

}  // namespace pasokh::connectors::telegram
