#include "pasokh/proto/json.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pasokh::proto {
namespace {

using nlohmann::json;

template <class Enum>
Enum enum_at(const json& j, const char* key, Enum fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  auto parsed = from_string<Enum>(it->get<std::string>());
  if (!parsed) throw std::invalid_argument(std::string("unknown ") + key + ": " + it->get<std::string>());
  return *parsed;
}

template <class T>
void get_opt(const json& j, const char* key, T& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) it->get_to(out);
}

void put_nonempty(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

}  // namespace

void to_json(json& j, const channel_identity& v) {
  j = {{"channel", v.channel}, {"kind", to_string(v.kind)}, {"external_id", v.external_id}};
  put_nonempty(j, "display_name", v.display_name);
  put_nonempty(j, "alt_external_id", v.alt_external_id);
}
void from_json(const json& j, channel_identity& v) {
  j.at("channel").get_to(v.channel);
  v.kind = enum_at(j, "kind", channel_kind::api);
  j.at("external_id").get_to(v.external_id);
  get_opt(j, "display_name", v.display_name);
  get_opt(j, "alt_external_id", v.alt_external_id);
}

void to_json(json& j, const customer& v) {
  j = {{"id", v.id}, {"name", v.name}, {"language", v.language}, {"identities", v.identities},
       {"tags", v.tags}, {"vip", v.vip}, {"created_at", v.created_at}, {"last_seen_at", v.last_seen_at}};
}
void from_json(const json& j, customer& v) {
  j.at("id").get_to(v.id);
  get_opt(j, "name", v.name);
  get_opt(j, "language", v.language);
  get_opt(j, "identities", v.identities);
  get_opt(j, "tags", v.tags);
  get_opt(j, "vip", v.vip);
  get_opt(j, "created_at", v.created_at);
  get_opt(j, "last_seen_at", v.last_seen_at);
}

void to_json(json& j, const conversation& v) {
  j = {{"id", v.id}, {"channel", v.channel}, {"kind", to_string(v.kind)}, {"customer_id", v.customer_id},
       {"status", to_string(v.status)}, {"priority", to_string(v.prio)}, {"assignee", v.assignee},
       {"team", v.team}, {"seq", v.seq}, {"created_at", v.created_at}, {"updated_at", v.updated_at},
       {"last_customer_message_at", v.last_customer_message_at}};
}
void from_json(const json& j, conversation& v) {
  j.at("id").get_to(v.id);
  j.at("channel").get_to(v.channel);
  v.kind = enum_at(j, "kind", channel_kind::api);
  get_opt(j, "customer_id", v.customer_id);
  v.status = enum_at(j, "status", conversation_status::queued);
  v.prio = enum_at(j, "priority", priority::normal);
  get_opt(j, "assignee", v.assignee);
  get_opt(j, "team", v.team);
  get_opt(j, "seq", v.seq);
  get_opt(j, "created_at", v.created_at);
  get_opt(j, "updated_at", v.updated_at);
  get_opt(j, "last_customer_message_at", v.last_customer_message_at);
}

void to_json(json& j, const attachment& v) {
  j = {{"kind", to_string(v.kind)}};
  put_nonempty(j, "name", v.name);
  put_nonempty(j, "mime_type", v.mime_type);
  if (v.size) j["size"] = v.size;
  put_nonempty(j, "provider_ref", v.provider_ref);
  put_nonempty(j, "caption", v.caption);
  if (v.link) j["link"] = true;
  if (v.latitude) j["latitude"] = *v.latitude;
  if (v.longitude) j["longitude"] = *v.longitude;
}
void from_json(const json& j, attachment& v) {
  v.kind = enum_at(j, "kind", attachment_kind::file);
  get_opt(j, "name", v.name);
  get_opt(j, "mime_type", v.mime_type);
  get_opt(j, "size", v.size);
  get_opt(j, "provider_ref", v.provider_ref);
  get_opt(j, "caption", v.caption);
  get_opt(j, "link", v.link);
  if (auto it = j.find("latitude"); it != j.end()) v.latitude = it->get<double>();
  if (auto it = j.find("longitude"); it != j.end()) v.longitude = it->get<double>();
}

void to_json(json& j, const message& v) {
  j = {{"id", v.id}, {"conversation_id", v.conversation_id}, {"seq", v.seq},
       {"direction", to_string(v.dir)}, {"author", to_string(v.author)}, {"text", v.text},
       {"channel", v.channel}, {"created_at", v.created_at}, {"status", to_string(v.status)}};
  put_nonempty(j, "author_id", v.author_id);
  put_nonempty(j, "author_name", v.author_name);
  put_nonempty(j, "author_address", v.author_address);
  put_nonempty(j, "original_text", v.original_text);
  if (!v.attachments.empty()) j["attachments"] = v.attachments;
  put_nonempty(j, "provider_message_id", v.provider_message_id);
  put_nonempty(j, "client_id", v.client_id);
  put_nonempty(j, "reply_to", v.reply_to);
  if (v.edited_at) j["edited_at"] = v.edited_at;
  if (v.deleted_at) j["deleted_at"] = v.deleted_at;
  put_nonempty(j, "failure_reason", v.failure_reason);
}
void from_json(const json& j, message& v) {
  j.at("id").get_to(v.id);
  j.at("conversation_id").get_to(v.conversation_id);
  get_opt(j, "seq", v.seq);
  v.dir = enum_at(j, "direction", direction::inbound);
  v.author = enum_at(j, "author", author_kind::customer);
  get_opt(j, "author_id", v.author_id);
  get_opt(j, "author_name", v.author_name);
  get_opt(j, "author_address", v.author_address);
  get_opt(j, "text", v.text);
  get_opt(j, "original_text", v.original_text);
  get_opt(j, "attachments", v.attachments);
  get_opt(j, "channel", v.channel);
  get_opt(j, "provider_message_id", v.provider_message_id);
  get_opt(j, "client_id", v.client_id);
  get_opt(j, "reply_to", v.reply_to);
  get_opt(j, "created_at", v.created_at);
  get_opt(j, "edited_at", v.edited_at);
  get_opt(j, "deleted_at", v.deleted_at);
  v.status = enum_at(j, "status", delivery_status::pending);
  get_opt(j, "failure_reason", v.failure_reason);
}

void to_json(json& j, const inbound_event& v) {
  j = {{"kind", to_string(v.kind)}, {"from", v.from}, {"provider_message_id", v.provider_message_id},
       {"text", v.text}, {"sent_at", v.sent_at}, {"dedup_key", v.dedup_key}};
  put_nonempty(j, "provider_chat_id", v.provider_chat_id);
  put_nonempty(j, "original_text", v.original_text);
  if (!v.attachments.empty()) j["attachments"] = v.attachments;
  put_nonempty(j, "reply_to", v.reply_to);
  put_nonempty(j, "button_payload", v.button_payload);
  if (v.kind == inbound_kind::status) j["status"] = to_string(v.status);
  put_nonempty(j, "status_error", v.status_error);
  if (v.read_watermark > 0) j["read_watermark"] = v.read_watermark;
  put_nonempty(j, "language", v.language);
  if (v.echo) j["echo"] = true;
  if (v.automatic) j["automatic"] = true;
}
void from_json(const json& j, inbound_event& v) {
  v.kind = enum_at(j, "kind", inbound_kind::message);
  j.at("from").get_to(v.from);
  get_opt(j, "provider_message_id", v.provider_message_id);
  get_opt(j, "provider_chat_id", v.provider_chat_id);
  get_opt(j, "text", v.text);
  get_opt(j, "original_text", v.original_text);
  get_opt(j, "attachments", v.attachments);
  get_opt(j, "sent_at", v.sent_at);
  get_opt(j, "reply_to", v.reply_to);
  get_opt(j, "button_payload", v.button_payload);
  v.status = enum_at(j, "status", delivery_status::pending);
  get_opt(j, "status_error", v.status_error);
  get_opt(j, "read_watermark", v.read_watermark);
  get_opt(j, "language", v.language);
  get_opt(j, "echo", v.echo);
  get_opt(j, "automatic", v.automatic);
  get_opt(j, "dedup_key", v.dedup_key);
}

void to_json(json& j, const button& v) { j = {{"id", v.id}, {"title", v.title}}; }
void from_json(const json& j, button& v) {
  j.at("id").get_to(v.id);
  j.at("title").get_to(v.title);
}

void to_json(json& j, const outbound_message& v) {
  j = {{"message_id", v.message_id}, {"conversation_id", v.conversation_id}, {"seq", v.seq},
       {"channel", v.channel}, {"kind", to_string(v.kind)}, {"recipient", v.recipient}, {"text", v.text}};
  if (!v.buttons.empty()) j["buttons"] = v.buttons;
  if (!v.attachments.empty()) j["attachments"] = v.attachments;
  put_nonempty(j, "reply_to", v.reply_to);
  if (v.automatic) j["automatic"] = true;
  put_nonempty(j, "template_name", v.template_name);
  put_nonempty(j, "template_language", v.template_language);
  if (!v.template_params.empty()) j["template_params"] = v.template_params;
  put_nonempty(j, "campaign", v.campaign);
  put_nonempty(j, "unsubscribe_token", v.unsubscribe_token);
  put_nonempty(j, "subject", v.subject);
  if (v.attempt) j["attempt"] = v.attempt;
}
void from_json(const json& j, outbound_message& v) {
  j.at("message_id").get_to(v.message_id);
  j.at("conversation_id").get_to(v.conversation_id);
  get_opt(j, "seq", v.seq);
  j.at("channel").get_to(v.channel);
  v.kind = enum_at(j, "kind", channel_kind::api);
  get_opt(j, "recipient", v.recipient);
  get_opt(j, "text", v.text);
  get_opt(j, "buttons", v.buttons);
  get_opt(j, "attachments", v.attachments);
  get_opt(j, "reply_to", v.reply_to);
  get_opt(j, "automatic", v.automatic);
  get_opt(j, "template_name", v.template_name);
  get_opt(j, "template_language", v.template_language);
  get_opt(j, "template_params", v.template_params);
  get_opt(j, "campaign", v.campaign);
  get_opt(j, "unsubscribe_token", v.unsubscribe_token);
  get_opt(j, "subject", v.subject);
  get_opt(j, "attempt", v.attempt);
}

}  // namespace pasokh::proto
