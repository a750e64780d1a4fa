#pragma once
// Which conversation an inbound mail continues. Pure: the caller resolves the
// hints (tokens and Message-IDs) to conversations in its store.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/connectors/email/parse.hpp"

namespace pasokh::connectors::email {

enum class hint_source { reply_token, in_reply_to, references, none };

struct thread_hint {
  hint_source source = hint_source::none;
  std::string value;            // the token, or a Message-ID without <>
  std::string conversation_id;  // when value is one of our Message-IDs, the conversation it encodes
  bool operator==(const thread_hint&) const = default;
};

// Every hint in the order to try them: reply+<token>@support_domain in To/Cc
// (then in the SMTP envelope recipients, which see Bcc), then In-Reply-To, then
// References newest first (duplicates removed). Empty for a new conversation.
std::vector<thread_hint> thread_hints(const parsed_email& mail, std::string_view support_domain,
                                      const std::vector<std::string>& envelope_recipients = {});

// The first of thread_hints(), or {source = none}.
thread_hint first_thread_hint(const parsed_email& mail, std::string_view support_domain,
                              const std::vector<std::string>& envelope_recipients = {});

// Our Message-IDs carry the conversation and message they belong to, and a
// tag that proves we made them: "pasokh.<base64url conversation>.<base64url
// message>.<tag>@<domain>" (no <>), the tag the first 96 bits of
// HMAC-SHA256(key, conversation "\n" message), base64url. Conversation and
// message ids are sequential, so without the tag anyone could name any of our
// mails (a forged bounce). The same outbound message always gets the same
// id, so a retried send is recognisable. An empty key leaves the tag out (the
// form before tags). A mail outside any conversation (a web chat email
// verification) gets "pasokh-mail.<base64url message>@<domain>": a valid id
// that names no thread.
std::string make_message_id(std::string_view conversation_id, std::string_view message_id, std::string_view domain,
                            std::string_view key = {});

struct our_message_id {
  std::string conversation_id;
  std::string message_id;
  // The tag is the one `key` makes (compared in constant time). False for an
  // id from before tags, a wrong tag, or no key given: such an id still
  // threads a mail the conversation's customer sends (the store checks the
  // sender), but never vouches for a stranger's report on our mail.
  bool verified = false;
};
// nullopt for ids that are not ours (other domain or shape). The domain
// compares ignoring case, and <> around the id are dropped.
std::optional<our_message_id> parse_message_id(std::string_view id, std::string_view domain,
                                               std::string_view key = {});

// The seq of the conversation message our id names (its message id is
// "<conversation>:<seq>"), so a bounce finds the message without a lookup;
// nullopt for any other message id.
std::optional<std::uint64_t> message_seq(const our_message_id& id);

// A subject as mail clients keep it across replies and forwards: reply and
// forward prefixes in any stack (Re:, RE[2]:, Fwd:, AW:, «پاسخ:», «رد:», ...)
// removed, white space collapsed, ASCII letters lower-cased. Two mails of one
// case compare equal although the customer did not press reply.
std::string normalized_subject(std::string_view subject);

// The token of "reply+<token>@domain" (case-insensitive domain), else nullopt.
// Tokens are 1..64 characters of [A-Za-z0-9._=-].
std::optional<std::string> reply_token(std::string_view address, std::string_view domain);

}  // namespace pasokh::connectors::email
