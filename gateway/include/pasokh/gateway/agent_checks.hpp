#pragma once
// The checks on a new agent that the admin REST API and `pasokh
// --create-agent` share, so the command line cannot make an agent the
// console would have refused (a role "superuser", a team that does not exist).
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/agent_directory.hpp"

namespace pasokh::gateway {

// What is wrong with the agent ("" when nothing), worded for whoever sent
// it: login, name, role (agent or admin), password, and each of its teams
// among `known_teams`.
std::string new_agent_problem(const agent& a, std::string_view password, const std::vector<std::string>& known_teams);

}  // namespace pasokh::gateway
