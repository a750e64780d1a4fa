#pragma once
// The Mailgun-style inbound webhook (a route's forward() to
// POST /webhooks/email/{channel}): form decoding, the signature and freshness
// check, and the fields turned back into one RFC 5322 message, so webhook mail
// takes the same parse → thread → ingest path as mail from the SMTP listener.
// Pure: no I/O; the clock is an input.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::email {

struct form_field {
  std::string name;
  std::string value;         // decoded text, or a file part's bytes
  std::string filename;      // non-empty for a file part (attachment-1, ...)
  std::string content_type;  // of a file part
};

struct form_result {
  std::vector<form_field> fields;  // in the order received
  std::string error;               // non-empty: not a form we can read (safe to show)
  bool unsupported_type = false;   // neither urlencoded nor multipart/form-data (415)
};

// application/x-www-form-urlencoded or multipart/form-data, at most `max_fields` fields.
form_result parse_form(std::string_view content_type, std::string_view body, std::size_t max_fields = 1000);

// First field with this name, compared ASCII case-insensitively (Mailgun spells
// header fields "Message-Id", "In-Reply-To"); nullptr when absent.
const form_field* find_field(const std::vector<form_field>& fields, std::string_view name);

enum class mailgun_check {
  ok,
  missing_signature,  // no timestamp, token or signature field
  bad_signature,      // not hex HMAC-SHA256(signing key, timestamp + token)
  stale_timestamp,    // further than max_age from now, either way
};
std::string_view to_string(mailgun_check);

// signature = hex HMAC-SHA256(signing_key, timestamp + token), compared in
// constant time; then |now - timestamp| <= max_age.
mailgun_check check_mailgun_signature(const std::vector<form_field>& fields, std::string_view signing_key,
                                      std::chrono::seconds now, std::chrono::seconds max_age);

struct mailgun_mail {
  std::string raw;                      // RFC 5322, CRLF line ends
  std::string sender;                   // envelope sender ("sender"), may be empty
  std::vector<std::string> recipients;  // envelope recipients ("recipient", comma separated), lower-case
};

// `body-mime` as is when the route asked for raw MIME; otherwise a message
// rebuilt from the parsed fields: the original headers from `message-headers`
// (minus the MIME structure ones), From/To/Cc/Subject/Date/Message-Id/
// In-Reply-To/References from their fields, body-plain and body-html as
// multipart/alternative, file parts as attachments. `now` dates a message
// that has no Date.
mailgun_mail mailgun_message(const std::vector<form_field>& fields, proto::timestamp_ms now);

}  // namespace pasokh::connectors::email
