#pragma once
// The outbound side shared by every provider: a built HTTP request, the
// response as the HTTP client returns it, and the classified outcome the
// outbox sender acts on. Builders and classifiers are pure; connectors/http
// performs the call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::connectors {

struct http_header {
  std::string name;
  std::string value;
  bool operator==(const http_header&) const = default;
};

struct provider_request {
  std::string method = "POST";
  std::string url;  // absolute: the channel's configured base URL + the provider path
  std::vector<http_header> headers;
  std::string body;
  // Names the call in logs and metrics ("telegram.sendMessage"). Log this, never
  // `url` or `headers`: Telegram puts the bot token in the path.
  std::string what;
  // A larger answer than the client's max_response_bytes is expected (a
  // customer's file); 0 keeps the client's limit.
  std::size_t max_response_bytes = 0;

  std::optional<std::string_view> header(std::string_view name) const;
};

struct provider_response {
  int status = 0;  // 0: no HTTP answer; transport_error says why
  std::vector<http_header> headers;
  std::string body;
  std::string transport_error;  // "timeout", "connect: Connection refused", ...

  std::optional<std::string_view> header(std::string_view name) const;
};

enum class outcome_kind {
  delivered,     // the provider accepted it; provider_message_id when it told us one
  retry,         // try again later with backoff (timeouts, 5xx, transient provider errors)
  rate_limited,  // try again after retry_after, and slow down
  permanent,     // never retry (blocked, window closed, bad request)
};
std::string_view to_string(outcome_kind);

// Whom a rate limit answer holds back.
enum class rate_scope {
  account,    // every send of the channel (throughput limits)
  recipient,  // only sends to this recipient (WhatsApp's pair rate limit, 131056)
  unknown,    // the answer does not say (Telegram's 429 is either; the outbox decides)
};

struct send_outcome {
  outcome_kind kind = outcome_kind::permanent;
  std::string provider_message_id;
  std::chrono::milliseconds retry_after{0};  // 0: the caller's own backoff
  std::string reason;                        // "window_closed: (#131047) Re-engagement message"
  rate_scope scope = rate_scope::account;    // for rate_limited

  static send_outcome delivered(std::string provider_message_id);
  static send_outcome retry(std::string reason, std::chrono::milliseconds after = {});
  static send_outcome rate_limited(std::chrono::milliseconds after, std::string reason,
                                   rate_scope scope = rate_scope::account);
  static send_outcome permanent(std::string reason);
  bool operator==(const send_outcome&) const = default;
};

// What to send for one outbound message: usually one request, more when the
// text is longer than the provider allows. Send them in order and stop at the
// first outcome that is not `delivered`; the message's provider id is the first
// part's. When nothing may be sent at all (24-hour window closed, nothing to
// say), `requests` is empty and `refused` says why (always permanent).
struct send_plan {
  std::vector<provider_request> requests;
  std::optional<send_outcome> refused;
};

// When a channel lets us write to a customer, given the time since their last
// message (nullopt: they never wrote).
enum class send_window {
  open,             // free-form messages
  template_only,    // WhatsApp after 24 h: approved templates only
  human_agent_tag,  // Messenger/Instagram 24 h - 7 d: a person's reply tagged HUMAN_AGENT
  closed,           // nothing may be sent
};
std::string_view to_string(send_window);

// Outcome for everything that is not provider-specific: no HTTP answer at all
// (retry), 429 (rate_limited, honouring Retry-After), 408/5xx (retry).
// nullopt when the status needs the provider's own reading.
std::optional<send_outcome> classify_transport(const provider_response&);

// Retry-After as delta-seconds; nullopt when absent or not a number.
std::optional<std::chrono::milliseconds> retry_after_header(const provider_response&);

// A provider's documented error code and what it means for the send.
struct error_rule {
  std::int64_t code;
  std::int64_t subcode;  // 0: any
  outcome_kind kind;
  std::chrono::milliseconds after;  // the wait, unless Retry-After says
  std::string_view label;
  rate_scope scope = rate_scope::account;  // for rate_limited
};

// An error answer's error object, as read from the provider's body.
struct provider_error {
  std::optional<std::int64_t> code;
  std::int64_t subcode = 0;
  bool transient = false;  // the provider's own "is_transient" flag
  std::string text;        // its message, for the reason
};

// The outcome of an error answer: the first rule for its code and subcode,
// else a transient error is retried, else classify_transport, else permanent.
send_outcome classify_error(const provider_response&, const provider_error&, std::span<const error_rule> rules);

}  // namespace pasokh::connectors
