#pragma once
// Mail that must never be answered: auto-replies, bounces, list traffic.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pasokh::connectors::email {

// Top-level header fields in message order; values unfolded, RFC 2047 decoded.
using header_list = std::vector<std::pair<std::string, std::string>>;

// Returns why the mail is automatic ("Auto-Submitted: auto-replied", ...) or an
// empty string for a person's mail. Checks Auto-Submitted (anything but "no"),
// Precedence bulk/junk/list/auto_reply, X-Auto-Response-Suppress, List-Id,
// X-Autoreply/X-Autorespond, an empty Return-Path "<>", MAILER-DAEMON or
// postmaster as sender, and a multipart/report top-level type. Without
// `lists`, List-Id and Precedence: list do not count (list_mail).
std::string automatic_reason(const header_list& headers, std::string_view from_address,
                             std::string_view content_type, bool lists = true);

// Mail a person sent through a list (a Google Group in front of the support
// address, a mailing list): automatic (its `reason`, from automatic_reason)
// only for its List-Id or Precedence: list. Kept as the person's message,
// but never answered automatically.
bool list_mail(std::string_view reason, const header_list& headers, std::string_view from_address,
               std::string_view content_type);

// MAILER-DAEMON@ or postmaster@: the mail system itself (bounces).
bool mail_system_sender(std::string_view address);

// A delivery report (bounce) as far as it concerns the mail it reports on.
struct delivery_report {
  bool present = false;  // multipart/report of delivery-status, or sent by MAILER-DAEMON / postmaster
  bool failed = false;   // a recipient's Action is "failed", or a bounce without a status part
  std::string diagnostic;                // "550 5.1.1 user unknown" (Diagnostic-Code, else Status); may be empty
  std::vector<std::string> message_ids;  // of the returned mail (text/rfc822-headers, message/rfc822), without <>
};

// Reads a message/delivery-status body (RFC 3464) into `report`: failed when a
// recipient's Action is "failed", and the first failed recipient's
// Diagnostic-Code (its type "smtp;" dropped) or else its Status.
void read_delivery_status(std::string_view body, delivery_report& report);

// The Message-ID (without <>) named in a block of header lines (a DSN's
// text/rfc822-headers part, or the copy of the mail an older MTA puts in its
// plain text bounce); empty when there is none.
std::string message_id_in_headers(std::string_view headers);

}  // namespace pasokh::connectors::email
