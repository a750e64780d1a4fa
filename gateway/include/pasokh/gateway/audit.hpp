#pragma once
// The trail of admin changes: one info line per change on the "audit"
// logger, "admin=<agent id> action=<what> target=<id>[ <detail>]" (agents,
// teams and their hours, canned replies, campaigns, erasures). It names what
// changed, never a secret's value (a new password is "action=agent.password").
#include <string>
#include <string_view>

namespace pasokh::gateway {

// The line; a space or control character in a value becomes '_', so each
// line stays one line of key=value pairs.
std::string audit_line(std::string_view admin, std::string_view action, std::string_view target,
                       std::string_view detail = {});

// Logs the line at info on the "audit" logger (main.cpp keeps it at info
// whatever log_level says, unless that is more verbose).
void audit(std::string_view admin, std::string_view action, std::string_view target, std::string_view detail = {});

}  // namespace pasokh::gateway
