#pragma once
// REST of routing (/api/v1/conversations views and actions, presence, agents,
// teams, business hours, SLA; the OpenAPI document) and the conversation
// actions shared with the agent WebSocket. Role checks on every route.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

void add_routing_routes(router& r, services& s);

struct action_result {
  unsigned status = 200;  // HTTP status of the outcome
  std::string code;       // "ok", "unchanged" or an error code
  std::string message;
  std::uint64_t seq = 0;  // of the event logged
};

// op: assign | transfer | escalate | snooze | reopen | resolve. `body` holds
// the op's fields (agent_id, team, note, until, minutes, force). Checks the
// caller may act on the conversation (admin: any; agent: its teams' and its own).
boost::asio::awaitable<action_result> perform_action(services& s, const agent& who, const std::string& conv,
                                                     const std::string& op, const nlohmann::json& body);

}  // namespace pasokh::gateway
