#pragma once
// Canonical, channel-neutral types. Every connector translates provider
// payloads into these; routing, store and gateway only ever see these.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::proto {

// Milliseconds since the Unix epoch, UTC. Providers that send seconds are
// converted at the connector boundary.
using timestamp_ms = std::int64_t;

enum class channel_kind { api, webchat, email, telegram, whatsapp, messenger, instagram };

enum class conversation_status { bot, queued, assigned, resolved, closed };

enum class priority { low = 0, normal = 1, high = 2, urgent = 3 };

enum class direction { inbound, outbound };

enum class author_kind { customer, agent, bot, system };

// Ordered: a status update only ever moves a message forwards (read stays read).
// `failed` is terminal and ranks above everything.
enum class delivery_status { pending = 0, sent = 1, delivered = 2, read = 3, failed = 4 };

// `unsupported`: the customer sent something Pasokh cannot show (a poll, a
// dice, an order...): `name` is the provider's type, `caption` what it says of it.
enum class attachment_kind { image, document, audio, voice, video, sticker, location, contact, file, unsupported };

// A configured channel instance ("tg-main", "wa-tehran") and the customer's id on it
// (Telegram user id, WhatsApp wa_id, e-mail address, visitor id...).
struct channel_identity {
  std::string channel;      // configured channel id
  channel_kind kind = channel_kind::api;
  std::string external_id;  // provider's id of the customer on this channel
  std::string display_name; // as the provider reports it; may be empty
  // A second stable id of the same person on this channel, when the provider
  // sends two (WhatsApp: the business-scoped `user_id` beside the phone wa_id).
  std::string alt_external_id;
  bool operator==(const channel_identity&) const = default;
};

struct customer {
  std::string id;
  std::string name;
  std::string language;  // "fa", "ar", "en" or empty
  std::vector<channel_identity> identities;
  std::vector<std::string> tags;
  bool vip = false;
  timestamp_ms created_at = 0;
  timestamp_ms last_seen_at = 0;
  bool operator==(const customer&) const = default;
};

struct conversation {
  std::string id;
  std::string channel;
  channel_kind kind = channel_kind::api;
  std::string customer_id;
  conversation_status status = conversation_status::queued;
  priority prio = priority::normal;
  std::string assignee;  // agent id, empty when unassigned
  std::string team;
  std::uint64_t seq = 0; // last sequence number used in the conversation log
  timestamp_ms created_at = 0;
  timestamp_ms updated_at = 0;
  timestamp_ms last_customer_message_at = 0;
  bool operator==(const conversation&) const = default;
};

struct attachment {
  attachment_kind kind = attachment_kind::file;
  std::string name;
  std::string mime_type;
  std::uint64_t size = 0;     // bytes, 0 when unknown
  std::string provider_ref;   // file_id, media id, URL or stored blob key
  std::string caption;
  // location attachments
  std::optional<double> latitude;
  std::optional<double> longitude;
  // A page, post or reel the customer shared (Meta's fallback, share, ig_reel):
  // provider_ref is a link to look at, not a file to keep.
  bool link = false;
  bool operator==(const attachment&) const = default;
};

struct message {
  std::string id;
  std::string conversation_id;
  std::uint64_t seq = 0;
  direction dir = direction::inbound;
  author_kind author = author_kind::customer;
  std::string author_id;  // agent id for agents, empty otherwise
  std::string author_name;     // agents; a customer-side message from someone else (a colleague in Cc)
  std::string author_address;  // that someone's address (their id on the channel)
  std::string text;
  std::string original_text;  // email: the mail as written, quoted history included, when it differs from text
  std::vector<attachment> attachments;
  std::string channel;
  std::string provider_message_id;
  std::string client_id;  // idempotency key supplied by the sender, if any
  std::string reply_to;   // provider message id this one answers
  timestamp_ms created_at = 0;
  timestamp_ms edited_at = 0;
  timestamp_ms deleted_at = 0;  // the customer unsent it (Instagram): text and attachments are gone
  delivery_status status = delivery_status::pending;
  std::string failure_reason;
  bool operator==(const message&) const = default;
};

// What a connector yields for one provider notification item.
// reaction: the customer reacted to a message (provider_message_id names it)
// with the emoji in `text`, or took the reaction back (`text` empty).
// unsend: the customer deleted a message they sent (Instagram is_deleted);
// provider_message_id names it.
enum class inbound_kind { message, edit, status, button, reaction, unsend };

struct inbound_event {
  inbound_kind kind = inbound_kind::message;
  channel_identity from;          // the customer
  std::string provider_message_id;  // update_id / wamid / mid / Message-ID / client id
  std::string provider_chat_id;     // where replies go, when it differs from from.external_id
  std::string text;
  std::string original_text;      // email: the text before quote stripping, when it differs from text
  std::vector<attachment> attachments;
  timestamp_ms sent_at = 0;
  std::string reply_to;           // provider id of the message being answered
  std::string button_payload;     // for kind == button
  delivery_status status = delivery_status::pending;  // for kind == status
  std::string status_error;       // provider error code and reason, for failed statuses
  // A read status naming no message (Messenger's read watermark): every
  // message sent to the customer by then was read. 0: none.
  timestamp_ms read_watermark = 0;
  std::string language;           // hint from the channel, may be empty
  bool echo = false;              // our own outbound copy (Meta is_echo): never opens a conversation
  bool automatic = false;         // auto-reply, bounce, list mail: never answered
  // Key the ingest deduplicates on; connectors set it (statuses use id + status).
  std::string dedup_key;
  bool operator==(const inbound_event&) const = default;
};

struct button {
  std::string id;     // payload sent back when pressed
  std::string title;
  bool operator==(const button&) const = default;
};

// One queued delivery to a channel (an entry of outbox:{channel}).
struct outbound_message {
  std::string message_id;
  std::string conversation_id;
  std::uint64_t seq = 0;
  std::string channel;
  channel_kind kind = channel_kind::api;
  std::string recipient;      // provider address of the customer
  std::string text;
  std::vector<button> buttons;
  std::vector<attachment> attachments;
  std::string reply_to;       // provider message id to thread under
  bool automatic = false;     // sent by the bot or a rule, not a person
  std::string template_name;  // when the channel window requires a template
  std::string template_language;             // e.g. "fa"; empty = the channel's default
  std::vector<std::string> template_params;  // body parameters {{1}}, {{2}}, ...
  std::string campaign;           // set on proactive outreach (not an answer to the customer)
  std::string unsubscribe_token;  // email campaigns: the customer's one-click opt-out link
  std::string subject;            // email outside a thread (a verification mail); empty: the usual subject
  int attempt = 0;
  bool operator==(const outbound_message&) const = default;
};

// Lower-case wire names ("telegram", "queued", ...). from_string returns nullopt
// for unknown names so callers can reject input with a clear error.
std::string_view to_string(channel_kind);
std::string_view to_string(conversation_status);
std::string_view to_string(priority);
std::string_view to_string(direction);
std::string_view to_string(author_kind);
std::string_view to_string(delivery_status);
std::string_view to_string(attachment_kind);
std::string_view to_string(inbound_kind);

template <class Enum> std::optional<Enum> from_string(std::string_view);

// True when `next` may replace `current` (never backwards; failed is final).
bool status_advances(delivery_status current, delivery_status next);

// The languages Pasokh speaks with customers: "fa", "ar", "en".
inline bool known_language(std::string_view code) { return code == "fa" || code == "ar" || code == "en"; }

// A name as each language's customers read it (the bot: "پاسخ" in Persian,
// "Pasokh" in English); `fallback` for any other language.
struct localized_name {
  std::string fallback;
  std::map<std::string, std::string, std::less<>> by_language;

  const std::string& in(std::string_view language) const {
    auto it = by_language.find(language);
    return it == by_language.end() ? fallback : it->second;
  }
};

}  // namespace pasokh::proto
