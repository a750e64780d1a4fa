#pragma once
// REST routes of the agent console that routing does not own: private notes,
// labels, the customer file (identities and every conversation) and canned
// responses. Every route needs a session token; admin routes the admin role.
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

void add_console_routes(router& r, services& s);

// Pure checks, unit-testable. A label: trimmed, 1..32 characters of UTF-8,
// no commas or control characters. Returns the cleaned label or "" if invalid.
std::string clean_label(std::string_view raw);
// A canned response shortcut: 1..32 of [a-z0-9_-].
bool valid_shortcut(std::string_view s);

}  // namespace pasokh::gateway
