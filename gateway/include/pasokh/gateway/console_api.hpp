#pragma once
// REST routes of the agent console that routing does not own: private notes,
// labels, the customer file (identities and every conversation) and canned
// responses. Every route needs a session token; admin routes the admin role.
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

void add_console_routes(router& r, services& s);

// Merges of customer files, their undo and merge suggestions
// (customer_links_api.cpp); add_console_routes adds them.
void add_customer_link_routes(router& r, services& s);

// Admins reach every customer; an agent the customers with a conversation in
// one of its teams (returned in `teams_out` when given). The error to answer, if any.
boost::asio::awaitable<std::optional<http_response>> check_customer(services& s, const agent& a, const std::string& id,
                                                                    std::set<std::string>* teams_out = nullptr);
// Tells the consoles of these teams that the customer's file changed, and
// the search index to read it again.
boost::asio::awaitable<void> publish_customer_changed(services& s, const std::string& id, const std::string& actor,
                                                      const std::set<std::string>& teams);

// Pure checks, unit-testable. A label: trimmed, 1..32 characters of UTF-8,
// no commas or control characters. Returns the cleaned label or "" if invalid.
std::string clean_label(std::string_view raw);
// A canned response shortcut: 1..32 of [a-z0-9_-].
bool valid_shortcut(std::string_view s);

}  // namespace pasokh::gateway
