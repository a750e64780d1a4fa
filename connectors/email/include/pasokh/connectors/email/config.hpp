#pragma once
// Configuration of the email channel: plain structs with defaults, read from the
// channel's "provider" JSON object (unknown keys are an error). The relay
// password comes from the environment variable the file names.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace pasokh::connectors::email {

using std::chrono::milliseconds;

// Which RCPT TO addresses are ours. Shared by the listener and the threading helper.
struct recipient_policy {
  std::vector<std::string> addresses;  // exact support addresses, lower-case
  std::vector<std::string> domains;    // any local part at these domains
  std::string reply_domain;            // domain of reply+<token>@ and of our Message-IDs

  // True for a configured address, any address at a configured domain,
  // reply+<token>@reply_domain, and the RFC 5321 "postmaster" mailbox.
  bool accepts(std::string_view address) const;
};

// Inbound SMTP listener (RFC 5321), placed behind the organisation's MTA.
struct smtp_config {
  std::string address = "127.0.0.1";
  std::uint16_t port = 2525;           // 0: pick a free port (tests)
  std::string hostname = "localhost";  // our name in the greeting and EHLO reply
  std::size_t max_message_bytes = 25u << 20;
  std::size_t max_recipients = 50;
  std::size_t max_line_length = 4096;  // command and data lines, CRLF excluded
  std::size_t max_connections = 256;
  // From one client address: one host must not hold every slot. An MTA in
  // front opens a few at most (Postfix: 20 per destination).
  std::size_t max_connections_per_peer = 20;
  std::size_t max_errors = 10;         // bad commands before we hang up
  // Waiting for a command that moves mail on (RFC 5321: 5 min): NOOP, RSET,
  // HELP and VRFY do not count, or a client could hold its slot with them.
  milliseconds idle_timeout{300'000};
  milliseconds data_timeout{600'000};  // between data chunks
  milliseconds max_session{600'000};   // one connection's whole life, however busy
  std::string tls_cert_file;           // STARTTLS offered when both are set
  std::string tls_key_file;
  bool require_tls = false;            // refuse MAIL before STARTTLS
  recipient_policy recipients;

  bool tls_configured() const { return !tls_cert_file.empty() && !tls_key_file.empty(); }
};

enum class relay_tls {
  starttls,        // required: fail (retry) when the relay does not offer it
  opportunistic,   // use STARTTLS when offered
  none,            // plain text (only sensible on loopback)
};

// Outbound relay the replies go through.
struct relay_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 25;
  relay_tls tls = relay_tls::starttls;
  std::string ca_file;                 // extra trust anchor; system store otherwise
  std::string helo_name = "localhost";
  std::string username;                // AUTH when non-empty
  std::string password;                // filled from password_env, never logged
  milliseconds connect_timeout{10'000};
  milliseconds command_timeout{60'000};
  milliseconds data_timeout{120'000};  // sending the body and waiting for its reply
  std::size_t max_reply_line = 4096;
};

// The Mailgun-style inbound webhook (POST /webhooks/email/{channel}); off
// unless a signing key is configured.
struct mailgun_webhook_config {
  std::string signing_key;                 // from signing_key_env, never logged
  std::chrono::seconds max_age{300};       // older or newer timestamps are refused
  bool enabled() const { return !signing_key.empty(); }
};

struct email_config {
  std::string channel = "email";       // configured channel id, copied into events
  recipient_policy recipients;
  std::string from_address;            // From of our replies
  std::string from_name;
  std::string bounce_address;          // envelope sender; from_address when empty
  std::string default_subject = "Your support request";
  // Key of the tag that makes our Message-IDs unforgeable (make_message_id),
  // from the environment variable message_id_secret_env names; never logged.
  // Empty: the gateway makes one per installation and keeps it in Redis.
  std::string message_id_secret;
  // The authserv-id of the organisation's own MTA (RFC 8601): its
  // Authentication-Results header is believed, and a mail whose DMARC
  // failed there is marked for the agent (sender_unverified). Empty: none.
  std::string trusted_authserv_id;
  // Where a campaign mail's one-click unsubscribe link points, the token
  // appended ("https://support.example/unsubscribe/"); set from the gateway's
  // public_url. Without it the mail offers only a "stop" reply.
  std::string unsubscribe_base;
  // Parsing limits: content beyond them is dropped with a note, never the message.
  std::size_t max_attachment_bytes = 10u << 20;  // one attachment's kept content
  std::size_t max_total_attachment_bytes = 25u << 20;
  std::size_t max_attachments = 50;
  std::size_t max_text_bytes = 512u << 10;       // shown and full text, each
  std::size_t max_parts = 500;                   // MIME parts walked
  smtp_config smtp;
  relay_config relay;
  mailgun_webhook_config webhook;
};

using env_lookup = std::optional<std::string> (*)(const char*);
std::optional<std::string> process_env(const char* name);

// Reads the channel's provider object; throws std::runtime_error naming the bad key.
// smtp.recipients is copied from the channel's recipients.
email_config parse_email_config(const nlohmann::json& provider, std::string channel_id,
                                env_lookup env = process_env);

}  // namespace pasokh::connectors::email
