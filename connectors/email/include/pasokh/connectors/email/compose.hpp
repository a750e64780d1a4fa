#pragma once
// Outbound mail: a reply in the customer's thread, as RFC 5322 bytes with CRLF
// line ends, ready for the relay. Pure and deterministic (the clock is an input).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::email {

// What the conversation knows about the customer's side of the thread.
struct reply_thread {
  std::string customer_name;            // display name for To (may be empty)
  std::string subject;                  // subject of the customer's last mail ("" for a new thread)
  std::string in_reply_to;              // customer's last Message-ID, without <> ("" for none)
  std::vector<std::string> references;  // that mail's References, oldest first, without <>
  std::string reply_token;              // Reply-To: reply+<token>@reply_domain ("" for none)
};

// The thread data for answering `last`, the customer's latest mail: its subject,
// its Message-ID as In-Reply-To, its References (capped at the newest 50).
reply_thread thread_from(const parsed_email& last, std::string reply_token);

// JSON for keeping reply_thread with the conversation between inbound and outbound
// ({"customer_name","subject","in_reply_to","references","reply_token"}).
void to_json(nlohmann::json&, const reply_thread&);
void from_json(const nlohmann::json&, reply_thread&);

struct outgoing_attachment {
  std::string name;
  std::string mime_type = "application/octet-stream";
  std::string content;
};

struct compose_input {
  proto::timestamp_ms now = 0;
  std::string html;  // HTML alternative; generated from the text when empty
  std::vector<outgoing_attachment> attachments;  // content fetched by the caller
  std::string message_id_key;  // tags the Message-ID (make_message_id); the gateway's, never empty there
};

struct composed_mail {
  std::string message_id;               // without <>
  std::string envelope_from;            // for MAIL FROM
  std::vector<std::string> recipients;  // for RCPT TO
  std::string data;                     // the message, CRLF line ends
};

// msg.recipient is the customer's address; msg.conversation_id and msg.message_id
// make the Message-ID (see make_message_id); msg.subject, when set, is the
// Subject (a mail outside a thread); msg.automatic adds
// "Auto-Submitted: auto-replied". Throws std::invalid_argument when the recipient
// or the configured From address is not a usable address.
composed_mail build_reply(const proto::outbound_message& msg, const reply_thread& thread,
                          const email_config& config, const compose_input& input);

// A message body with its Content-Type header, to follow the other headers:
// text/plain, or multipart/alternative with text/html when `html` is not empty,
// inside multipart/mixed with the attachments. `seed` makes the boundaries.
std::string mime_body(std::string_view text, std::string_view html,
                      const std::vector<outgoing_attachment>& attachments, std::string_view seed);

// "Re: <subject>" with any stack of reply prefixes (Re:, RE[2]:, AW:, SV:, رد:,
// پاسخ:) removed first; the default subject for a thread without one.
std::string reply_subject(std::string_view subject, std::string_view default_subject);

// RFC 2047 for an unstructured header value, folded so that no line passes 78
// characters; `name_length` is the length of "Subject: " before it.
std::string encode_header_text(std::string_view text, std::size_t name_length);

// "Name <addr>" with the name quoted or RFC 2047 encoded as needed.
std::string format_address(std::string_view name, std::string_view address);

// RFC 5322 date ("Tue, 05 Mar 2024 10:15:00 +0000").
std::string format_date(proto::timestamp_ms ms);

}  // namespace pasokh::connectors::email
