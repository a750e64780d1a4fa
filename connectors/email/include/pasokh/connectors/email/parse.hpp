#pragma once
// Raw RFC 5322 message → canonical inbound event plus the email-specific data
// threading and replies need. Pure (no I/O); GMime stays inside the .cpp.
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/connectors/email/automatic.hpp"
#include "pasokh/connectors/email/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::email {

struct mail_address {
  std::string address;  // lower-case
  std::string name;     // display name, decoded; may be empty
  bool operator==(const mail_address&) const = default;
};

struct mail_attachment {
  proto::attachment meta;   // kind, name, mime_type, size (decoded bytes); provider_ref left to the caller
  std::string disposition;  // "attachment" or "inline"
  std::string content_id;   // without <>, for inline images of multipart/related
  std::string content;      // decoded bytes; empty when dropped
  bool content_dropped = false;  // over max_attachment_bytes or the total budget
};

struct parsed_email {
  // from (lower-cased address, display name: From's, or a single Reply-To's
  // when it differs, as a contact form sends), provider_message_id = Message-ID,
  // provider_chat_id = the first Reply-To when it differs from that, text (quotes
  // stripped), original_text (full_text when it differs), attachments (metadata), sent_at, reply_to = In-Reply-To,
  // language hint, automatic, echo (the Message-ID is one of ours, or the sender is one of
  // the channel's own addresses), dedup_key ("from:<sender's hash>:<Message-ID>", a hash of
  // the mail without one). Without a readable From, the sender is the envelope's (our
  // Return-Path on top).
  proto::inbound_event event;

  std::string subject;                  // decoded
  std::string message_id;               // without <>
  std::string in_reply_to;              // without <>
  std::vector<std::string> references;  // without <>, oldest first
  mail_address from;
  std::vector<mail_address> reply_to;
  std::vector<mail_address> to;
  std::vector<mail_address> cc;
  header_list headers;                  // top-level, in order

  std::string full_text;   // the whole body text, quotes included
  std::string html;        // the chosen HTML body, decoded to UTF-8 (may be empty)
  std::vector<mail_attachment> attachments;

  std::string automatic_reason;     // empty for a person's mail
  bool sender_unverified = false;   // DMARC failed at the trusted MTA (config trusted_authserv_id)
  bool list_mail = false;           // automatic only as list traffic: a person's message, never answered
  delivery_report report;           // a bounce: which of our mails failed, and why
  std::vector<std::string> notes;   // charset decisions, dropped content, parser warnings
  std::string warning;              // non-empty when the mail could not be parsed properly
  std::string raw;                  // the input, kept only when parsing failed
};

// Never throws and never drops: an unparseable message still yields an event
// (text from the raw bytes, a synthetic dedup key) with `warning` set.
parsed_email parse_email(std::string_view raw, const email_config& config);

}  // namespace pasokh::connectors::email
