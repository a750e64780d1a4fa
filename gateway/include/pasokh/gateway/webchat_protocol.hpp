#pragma once
// The customer WebSocket protocol (/ws/chat), version 1, as pure functions:
// per-channel settings, client frame parsing and validation, and the
// customer's view of conversation events (nothing internal leaks).
//
// Client → server (text frames, JSON objects with a "type"):
//   hello    {v:1, token, conv?, after?, lang?}       first frame, within the hello timeout
//   message  {client_id, text, lang?, button?, uploads?} → ack {client_id, conv, seq, duplicate?}
//            uploads: ids from POST /api/v1/webchat/uploads (webchat_uploads.hpp); text may then be empty
//   typing   {state: bool}                             not stored; relayed through pub/sub
//   seen     {conv, seq, read?: bool}                  delivered (and read) marks up to seq
//   contact  {email, name?}                            stored on the visitor and the customer
//   verify_email {code}                                the code mailed to prove the email (webchat_verify.hpp)
//                                                      → email_verified {email?} | error wrong_code {tries_left}
//                                                        | error code_expired | error bad_code
//   ping                                               → pong
// Server → client:
//   welcome  {v, settings{...}, profile{name?, email?}, agents_online,
//             customer_read_seq{conv: seq}}, then the replay, then
//   synced   {}                                        the replay is complete; live events follow
//   event    {conv, seq, event: "message"|"status", status, message?{seq, author, name?, text, at,
//             client_id?, buttons?, attachments?[{id, name, mime_type, size, kind}]}, previous?}
//             (attachments: the customer's own uploads)
//   ack, queue {conv, position, estimated_wait_s, agents_online}, typing {who, name?, state},
//   contact_saved {email?, name?, verification_sent?}, error {code, message, client_id?, retry_after_s?,
//   tries_left?}, pong
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

// A webchat channel's "provider" object.
struct webchat_settings {
  std::vector<std::string> allowed_origins;  // normalized; the gateway's own origin is always allowed
  bool allow_missing_origin = true;          // non-browser clients send no Origin
  bool pre_chat_form = false;                // ask name and email before the first message
  bool require_email = false;                // the pre-chat form's email is mandatory
  bool offline_email = true;                 // offer "continue by email" when no agent is online
  std::string title;                         // panel title; empty: the widget's default per language
  // Replies the customer has not read in the widget this long after the last
  // one go to the email they left, through this email channel ("" = never).
  std::string email_fallback_channel;
  int email_fallback_after_s = 120;
  bool operator==(const webchat_settings&) const = default;
};

// Throws std::runtime_error naming the offending key; unknown keys are errors.
webchat_settings parse_webchat_settings(const nlohmann::json& provider);
// What the widget may know about its channel (sent in session and welcome
// answers), with the server's limit on a message (webchat.max_message_chars)
// and on a file (webchat.max_upload_bytes; 0: no uploads, no attach button).
nlohmann::json public_settings(const webchat_settings& s, std::size_t max_message_chars, std::size_t max_upload_bytes = 0);

struct frame_limits {
  std::size_t max_text_chars = 2000;  // code points
  std::size_t max_id_bytes = 128;
  std::size_t max_uploads = 10;       // files one message names
};

struct hello_frame {
  std::string token;
  std::string conv;  // the conversation the widget shows, may be empty
  std::uint64_t after = 0;
  std::string lang;
};
struct message_frame {
  std::string client_id;
  std::string text;
  std::string lang;
  std::string button;  // id of the pressed bot choice, if any
  std::vector<std::string> uploads;  // upload ids, as attachments
};
struct typing_frame {
  bool state = true;
};
struct seen_frame {
  std::string conv;
  std::uint64_t seq = 0;
  bool read = false;
};
struct contact_frame {
  std::string email;
  std::string name;
};
struct verify_email_frame {
  std::string code;  // six ASCII digits (normalize_verification_code)
};
struct ping_frame {};
using client_frame =
    std::variant<hello_frame, message_frame, typing_frame, seen_frame, contact_frame, verify_email_frame, ping_frame>;

// A rejected frame: close_code 0 answers with an error frame and keeps the
// session; otherwise the session is closed with that code.
struct frame_error {
  std::uint16_t close_code = 0;
  std::string code;
  std::string message;
  std::string client_id;
};

std::variant<client_frame, frame_error> parse_client_frame(std::string_view text, const frame_limits& limits);

// What the session needs to know about an event besides the customer's view.
struct event_meta {
  std::string conv;
  std::uint64_t seq = 0;
  std::string channel;  // of the conversation
  std::string team;
  std::string status;   // of the conversation after the event
  std::string side_of;  // a side conversation's closing event: the conversation it rated
};

// The customer's view of an event frame as stored in the log, or nullopt for
// events the customer must not see (notes, assignments, internal fields).
// `meta` (optional) is filled whenever the frame is an event at all.
std::optional<std::string> customer_event_frame(std::string_view event_frame, event_meta* meta = nullptr);

// Helpers, exposed for tests.
bool valid_email(std::string_view email);
bool valid_client_id(std::string_view id, std::size_t max_bytes);
std::string normalize_language(std::string_view tag);  // "fa-IR" → "fa"; unsupported → ""
// Six ASCII digits from "۱۲۳ ۴۵۶", "١٢٣-٤٥٦" or "123456" (Persian and
// Arabic-Indic digits, spaces and dashes between groups); "" for anything else.
std::string normalize_verification_code(std::string_view typed);

}  // namespace pasokh::gateway
