#pragma once
// The gateway's configuration: one JSON file, every field optional with a
// default, unknown keys rejected, secrets read from environment variables
// named in the file (never stored in it).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/proto/types.hpp"
#include "pasokh/routing/routing_config.hpp"

namespace pasokh::connectors::email {
struct email_config;
}

namespace pasokh::gateway {

struct messenger_provider;  // messenger_config.hpp
struct webchat_settings;    // webchat_protocol.hpp

using std::chrono::milliseconds;

struct tls_config {
  std::string cert_file;
  std::string key_file;
};

struct listen_config {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 0;  // 0: one per core
  std::optional<tls_config> tls;
};

struct limits_config {
  std::size_t max_body_bytes = 1 << 20;
  // Providers' webhooks (/webhooks/...): Meta batches reach 3 MB, and a
  // refused batch comes back until Meta gives up on it.
  std::size_t max_webhook_body_bytes = 4 << 20;
  std::size_t max_header_bytes = 16 << 10;
  milliseconds idle_timeout{60'000};  // keep-alive connection without a request
  milliseconds read_timeout{15'000};  // one request, header to last body byte
  std::size_t max_connections = 20'000;
  // One client address may not hold every slot (idle sockets, chat sockets):
  // beyond this it gets the 503 too. 0: off. Off behind a proxy
  // (proxy.trust_forwarded_for), whose one address speaks for every client.
  // High enough for an office of agents or a mobile carrier's NAT, where
  // many real customers share one address.
  std::size_t max_connections_per_address = 1'000;
  std::size_t ws_max_frame_bytes = 64 << 10;
  std::size_t ws_queue_max_messages = 1024;  // per session, then close 1013
  std::size_t ws_queue_max_bytes = 4 << 20;
  milliseconds ws_hello_timeout{10'000};
};

struct redis_section {
  std::string url = "redis://127.0.0.1:6379";  // PASOKH_REDIS_URL overrides
  std::string prefix = "pasokh:";
  milliseconds command_timeout{2'000};
  milliseconds connect_timeout{2'000};
};

struct channel_config {
  std::string id;
  proto::channel_kind kind = proto::channel_kind::api;
  std::string team = "support";
  bool bot = false;
  // Sends a second for the whole channel, across instances: 0 keeps the
  // provider's default (Telegram 30, WhatsApp 80); set it for a higher
  // WhatsApp tier or a lower cap of your own.
  double sends_per_second = 0;
  std::string api_key;           // api channels: from the env var named by api_key_env
  // During a key rotation (previous_api_key_env): the old key, still accepted
  // and counted (pasokh_auth_previous_key_total) until it is removed.
  std::string previous_api_key;
  nlohmann::json provider;       // provider-specific settings, parsed by its connector
  std::shared_ptr<const connectors::email::email_config> email;  // email channels: provider, parsed at load
  std::shared_ptr<const messenger_provider> messenger;  // telegram, whatsapp, messenger, instagram: provider, parsed at load
  std::shared_ptr<const webchat_settings> webchat;     // webchat channels: provider, parsed at load
};

// Durable outbox of every channel with a sender (routing/outbox.hpp).
struct outbox_config {
  std::size_t concurrency = 16;       // messages sent at once per channel and instance
  std::size_t max_held = 1000;        // messages held in memory per channel and instance (more wait in Redis)
  int max_attempts = 10;              // sends before a message is marked failed...
  milliseconds retry_for{86'400'000};  // ...once it has waited this long (a relay down for hours loses nothing)
  milliseconds retry_initial{1'000};  // backoff after the first failure, doubling...
  milliseconds retry_max{300'000};    // ...up to this
  milliseconds claim_idle{30'000};    // a crashed instance's message is taken over after this
  // Gateways tell each other in Redis which channels they send on
  // (routing/channel_servers.hpp): a gateway's word lasts served_ttl, renewed
  // every third of it; replies queued on a channel left without any are
  // marked failed after unserved_grace more.
  milliseconds served_ttl{15'000};
  milliseconds unserved_grace{60'000};
};

struct auth_config {
  std::chrono::seconds session_ttl{8 * 3600};
  int login_attempts_per_minute = 10;               // per login name and address (a success starts it again)
  int login_attempts_per_address_per_minute = 30;   // per client address, successes too
  int password_rounds = 600'000;  // PBKDF2-HMAC-SHA256 rounds of new hashes: OWASP's advice (password.hpp)
};

// Web chat (/api/v1/webchat/*, /ws/chat). Per-channel settings (allowed
// origins, pre-chat form...) live in the channel's "provider" object; see
// webchat_protocol.hpp.
struct webchat_config {
  std::string secret_env = "PASOKH_WEBCHAT_SECRET";  // HMAC key of visitor tokens
  std::string secret;                               // read from secret_env when a webchat channel exists
  // During a rotation: the secret before, read from previous_secret_env, that
  // only verifies tokens (and mailed codes); new tokens are signed with `secret`.
  std::string previous_secret_env;
  std::string previous_secret;
  std::chrono::seconds token_ttl{30 * 24 * 3600};
  std::size_t max_message_chars = 2000;             // code points
  int messages_per_minute = 20;                     // per visitor, across instances
  int sessions_per_ip_per_hour = 30;                // new visitors per client address
  std::chrono::seconds wait_per_position{120};      // estimated wait per queued conversation ahead, per agent
  // Customer sockets (/ws/chat) one visitor holds on an instance; a new one
  // past this closes the visitor's oldest. Several tabs are normal.
  std::size_t max_sockets_per_visitor = 8;
  // Files a visitor sends (POST /api/v1/webchat/uploads): the body limit of
  // that route, and how many one visitor may upload in an hour.
  std::size_t max_upload_bytes = 10 << 20;
  int uploads_per_hour = 30;
};

// Behind a reverse proxy: the client address of every limit (logins, new web
// chat visitors, connections per address) is the last X-Forwarded-For entry,
// the one the proxy appended, and max_connections_per_address is off.
struct proxy_config {
  bool trust_forwarded_for = false;
};

// GET /metrics: open, or behind a bearer token read from the environment
// variable `token_env` (traffic volumes are the shop's business). During a
// rotation `previous_token_env` names the old token, still accepted.
struct metrics_config {
  std::string token_env;
  std::string token;  // from the environment; never logged
  std::string previous_token_env;
  std::string previous_token;
};

// The FAQ bot: its knowledge base file (watched and reloaded on change) and
// the confidence thresholds of its decisions.
struct bot_config {
  std::string knowledge_base = "bot/data/demo-kb.json";
  // Author name of bot messages: one string, or one per language ("fa", "ar",
  // "en"; the English one, else the Persian, else the Arabic, for other languages).
  proto::localized_name name{"Pasokh", {}};
  // Calibrated defaults of the bot library (bench/bot); see bot/README.md.
  float answer_confidence = 0.6f;
  float choice_confidence = 0.5f;
  milliseconds watch_interval{2'000};  // 0: no file watching
};

// The CSAT survey after an agent resolves a conversation (aftersales_api.cpp).
struct csat_config {
  bool enabled = true;
  milliseconds window{7LL * 24 * 3600 * 1000};     // a rating is taken this long after the ask
  milliseconds comment_window{30LL * 60 * 1000};   // the optional comment, this long after the rating
  bool bot_only = false;                           // ask for conversations no person answered too
  // Outside WhatsApp's 24-hour window only a template may be sent: this one
  // (approved with the 1–5 question, quick replies csat:1..csat:5). Without it
  // the survey is skipped there and counted (csat_skipped_outside_window).
  std::string whatsapp_template;
  std::string whatsapp_template_language = "fa";
};

// Proactive outreach (campaigns.hpp): quiet hours in the business-hours time
// zone, the default pace, the loop's lease.
struct campaigns_config {
  bool enabled = true;
  std::string timezone;  // IANA or UTC+hh:mm; "" = the first team's business-hours zone, else UTC (config::shop_tz)
  int quiet_from_s = 21 * 3600;  // local time of day; quiet_from == quiet_to: no quiet hours
  int quiet_to_s = 9 * 3600;
  double rate_per_second = 5;    // per campaign, unless the campaign says
  std::vector<std::string> language_fallback{"fa", "en", "ar"};
  milliseconds tick{250};        // the loop's step
  milliseconds lease{5'000};     // another instance takes over after this
  milliseconds reply_window{7LL * 24 * 3600 * 1000};  // a reply this soon counts, and lands in the campaign's conversation
  milliseconds rescan{3'600'000};  // recurring campaigns look at the customer files again this often
};

// Data retention (privacy.cpp): a leased sweep removes, a bounded amount
// each tick, what nothing needs after a while. 0 days keeps it forever.
struct retention_config {
  // The texts, attachments and search entries of conversations resolved or
  // closed longer ago than this (fractions of a day too); reports are kept.
  double message_text_days = 0;
  double email_automatic_days = 0;  // entries of the email_automatic:<channel> streams
  milliseconds tick{1'000};
  milliseconds lease{10'000};       // another instance takes over after this
};

// Pasokh's copies of Messenger and Instagram attachments, whose URLs expire
// (meta_media_copies.hpp).
struct meta_media_config {
  bool enabled = true;                        // false: files keep Meta's URL, nothing is copied
  std::size_t max_bytes = 10 * 1024 * 1024;   // as mail and web chat files; a larger one keeps its URL
  milliseconds timeout{60'000};               // one download, from the request to its last byte
  int attempts = 3;                           // downloads of a message's files before a failing one keeps its URL
  milliseconds retry{30'000};                 // the wait before another attempt, times the attempts so far
  milliseconds poll{1'000};                   // how often an instance looks for copies nobody made (a restart's)
  // Only files from these hosts (or their subdomains) are fetched: the URL
  // comes from a webhook, and a copy is shown to agents (no reaching into
  // the gateway's own network). https only, unless allow_plain_http_loopback.
  std::vector<std::string> hosts{"fbcdn.net", "fbsbx.com", "cdninstagram.com"};
  bool allow_plain_http_loopback = false;     // tests: a CDN stand-in on 127.0.0.1
  // No copy while Redis holds more than this share of its maxmemory (Pasokh
  // needs noeviction: a full Redis refuses every write, messages too).
  double max_redis_memory_share = 0.8;
  // What one customer's files may put into Redis in an hour; later ones keep their URL.
  std::size_t bytes_per_customer_per_hour = 50 * 1024 * 1024;
};

struct config {
  listen_config listen;
  limits_config limits;
  proxy_config proxy;
  metrics_config metrics;
  redis_section redis;
  auth_config auth;
  bot_config bot;
  csat_config csat;
  campaigns_config campaigns;
  retention_config retention;
  webchat_config webchat;
  std::chrono::seconds dedup_ttl{7 * 24 * 3600};
  outbox_config outbox;
  routing::routing_config routing;  // teams, rules, presence, SLA (routing_config.hpp)
  std::chrono::seconds attachment_ttl{30 * 24 * 3600};  // stored attachment contents (email, web chat, Meta copies)
  meta_media_config meta_media;
  // The shop's time zone, chosen once as the file is read (shop_zone in
  // config.cpp): campaigns plan their days in it, warranties end in it, and
  // reports count their days in it unless the request names another.
  std::shared_ptr<const routing::time_zone> shop_tz;
  std::vector<channel_config> channels;
  std::string web_root = "web";
  // How customers reach this gateway from outside ("https://support.shop.example"):
  // the base of links in outgoing mail (one-click unsubscribe). Optional.
  std::string public_url;
  bool demo = false;
  std::string log_level = "info";
  // What the file says that still works but should change (a key that moved):
  // logged at start and printed by --check-config.
  std::vector<std::string> warnings;

  const channel_config* find_channel(std::string_view id) const;
};

// Throws std::runtime_error naming the offending key. `getenv` is injectable
// so tests need not touch the process environment.
using env_lookup = std::optional<std::string> (*)(const char*);
std::optional<std::string> process_env(const char* name);
config parse_config(const nlohmann::json& j, env_lookup env = process_env);
config load_config_file(const std::string& path, env_lookup env = process_env);

}  // namespace pasokh::gateway
