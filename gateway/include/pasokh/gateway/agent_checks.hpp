#pragma once
// The checks on a new agent that the admin REST API and `pasokh
// --create-agent` share, so the command line cannot make an agent the
// console would have refused (a role "superuser", a team that does not exist).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/agent_directory.hpp"
#include "pasokh/gateway/config.hpp"

namespace pasokh::gateway {

// What is wrong with the agent ("" when nothing), worded for whoever sent
// it: login, name, role (agent or admin), password, and each of its teams
// among `known_teams`.
std::string new_agent_problem(const agent& a, std::string_view password, const std::vector<std::string>& known_teams);
// What is wrong with a password or a role ("" when nothing); PATCH checks a changed one alone.
std::string password_problem(std::string_view password);
std::string role_problem(std::string_view role);
// What is wrong with an agent's teams ("" when nothing): 1 to 20, each among `known_teams`.
std::string teams_problem(const std::vector<std::string>& teams, const std::vector<std::string>& known_teams);

// The teams there are: `stored` (routing's, or the Redis teams hash: the
// configured, the channels' and the admin-made ones) and those every start
// seeds (routing.teams, the channels' teams, "support" when there is no
// channel), each once. The command line may run before the first start.
std::vector<std::string> known_team_ids(std::vector<std::string> stored, const config& cfg);
// A new agent's team when it names none: the first configured team, else the
// first channel's, else "support" (always among known_team_ids).
std::string default_team(const config& cfg);

// A removed agent's last name, from its agents_removed tombstone (agent_admin.lua).
std::optional<std::string> removed_agent_name(std::string_view tombstone);

}  // namespace pasokh::gateway
