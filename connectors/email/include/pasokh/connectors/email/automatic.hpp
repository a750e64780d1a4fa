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
// postmaster as sender, and a multipart/report top-level type.
std::string automatic_reason(const header_list& headers, std::string_view from_address,
                             std::string_view content_type);

}  // namespace pasokh::connectors::email
