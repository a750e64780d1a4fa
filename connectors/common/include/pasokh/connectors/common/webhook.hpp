#pragma once
// What a webhook route hands to a provider parser, and what the parser gives
// back. Parsers are pure functions (request, channel config) -> webhook_result;
// they never throw and never do I/O. The gateway answers the provider with
// result.status/body only after the events were stored, so the provider
// retries anything we did not keep.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/proto/types.hpp"

namespace pasokh::connectors {

struct header_field {
  std::string_view name;
  std::string_view value;
};

// A view over the gateway's request: it borrows the request buffers, which must
// outlive the parse call.
struct webhook_request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view target;  // path and query as received: "/webhooks/whatsapp/wa-1?hub.mode=..."
  std::vector<header_field> headers;
  std::string_view body;    // raw bytes as received; signatures are checked over exactly these
  // When the request arrived; used where the provider gives no time (Telegram callbacks).
  proto::timestamp_ms received_at = 0;

  // First header with this name, compared ASCII case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
  // First query parameter with this name, percent- and '+'-decoded.
  std::optional<std::string> query(std::string_view name) const;
};

// Why a webhook was refused. Names are metric labels; one table maps them to HTTP.
enum class webhook_error {
  none,
  method_not_allowed,  // 405
  missing_signature,   // 401: no secret token / signature header
  bad_signature,       // 401: present but wrong
  verify_failed,       // 403: hub.verify_token or hub.mode wrong
  invalid_json,        // 400: body is not JSON
  invalid_payload,     // 400: JSON, but not the provider's shape
  internal,            // 500: a bug; logged by the caller
};

std::string_view to_string(webhook_error);
int http_status(webhook_error);

struct webhook_result {
  int status = 200;
  std::string content_type = "application/json";
  std::string body = R"({"ok":true})";
  webhook_error error = webhook_error::none;
  std::string error_message;  // human text, also inside body; safe to log (no secrets, no message text)

  std::vector<proto::inbound_event> events;
  // Telegram callback_query ids: answer each with answerCallbackQuery so the
  // customer's button stops spinning (telegram::build_answer_callback).
  std::vector<std::string> callback_query_ids;
  // What was acknowledged but deliberately not turned into events, for metrics:
  // "ignored_group", "ignored_reaction", "ignored_other_account", ...
  std::map<std::string, std::uint32_t, std::less<>> counters;
  // Items left out that someone should look into (one we could not read, an
  // object no channel here takes), for the gateway to log at warn: the
  // counter's name and a note naming the place and why, never message text.
  struct skipped_item {
    std::string what;
    std::string note;
  };
  std::vector<skipped_item> skipped;
  // Authenticated with the secret being rotated out (the gateway counts it).
  bool by_previous_secret = false;

  bool ok() const { return error == webhook_error::none; }
  void count(std::string_view what, std::uint32_t n = 1);
  // Counts `what` and keeps the note for the log.
  void skip(std::string_view what, std::string note);

  // {"error":{"code":"<name>","message":"<text>"}} with the table's status.
  static webhook_result failure(webhook_error, std::string message);
  // A plain-text 200 (the hub.challenge echo).
  static webhook_result plain_text(std::string text);
};

// Meta sends one app's webhooks for many pages / phone numbers to the same URL.
// Given the provider's account id (entry id, phone_number_id), returns the
// configured channel id that owns it, or nullopt to ignore it (counted).
using account_router = std::function<std::optional<std::string>(std::string_view account_id)>;

// The customer sent something Pasokh cannot show (a poll, a dice, an order):
// kept as a placeholder attachment naming the provider's type, so that the
// conversation opens and the agent sees what came instead of nothing.
// `detail`: what the provider says of it (a poll's question), may be empty.
proto::attachment unsupported_content(std::string type, std::string detail = {});

}  // namespace pasokh::connectors
