#include "pasokh/gateway/agent_checks.hpp"

#include <algorithm>

#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {

std::string new_agent_problem(const agent& a, std::string_view password, const std::vector<std::string>& known_teams) {
  if (!plain_id(a.login) || a.login.size() > 64) return "login: 1 to 64 of a-z A-Z 0-9 _ - .";
  if (password.size() < 8 || password.size() > 1024) return "password: 8 to 1024 bytes";
  if (a.name.size() > 200 || !proto::valid_utf8(a.name)) return "name: a string of at most 200 bytes";
  if (a.role != "agent" && a.role != "admin") return "role: agent or admin";
  const auto& teams = a.teams.empty() ? std::vector<std::string>{a.team} : a.teams;
  if (teams.size() > 20) return "teams: 1 to 20 team ids";
  for (const auto& t : teams)
    if (std::find(known_teams.begin(), known_teams.end(), t) == known_teams.end()) return "teams: unknown team \"" + t + "\"";
  return "";
}

}  // namespace pasokh::gateway
