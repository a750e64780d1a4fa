#include "pasokh/gateway/agent_checks.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {

std::string new_agent_problem(const agent& a, std::string_view password, const std::vector<std::string>& known_teams) {
  if (!plain_id(a.login) || a.login.size() > 64) return "login: 1 to 64 of a-z A-Z 0-9 _ - .";
  if (auto bad = password_problem(password); !bad.empty()) return bad;
  if (a.name.size() > 200 || !proto::valid_utf8(a.name)) return "name: a string of at most 200 bytes";
  if (auto bad = role_problem(a.role); !bad.empty()) return bad;
  return teams_problem(a.teams.empty() ? std::vector<std::string>{a.team} : a.teams, known_teams);
}

std::string password_problem(std::string_view password) {
  return password.size() < 8 || password.size() > 1024 ? "password: 8 to 1024 bytes" : "";
}

std::string role_problem(std::string_view role) { return role != "agent" && role != "admin" ? "role: agent or admin" : ""; }

std::string teams_problem(const std::vector<std::string>& teams, const std::vector<std::string>& known_teams) {
  if (teams.empty() || teams.size() > 20) return "teams: 1 to 20 team ids";
  for (const auto& t : teams)
    if (std::find(known_teams.begin(), known_teams.end(), t) == known_teams.end()) return "teams: unknown team \"" + t + "\"";
  return "";
}

std::vector<std::string> known_team_ids(std::vector<std::string> stored, const config& cfg) {
  auto add = [&stored](const std::string& id) {
    if (std::find(stored.begin(), stored.end(), id) == stored.end()) stored.push_back(id);
  };
  for (const auto& t : cfg.routing.teams) add(t.id);
  for (const auto& ch : cfg.channels) add(ch.team);
  if (cfg.channels.empty()) add("support");  // main.cpp seeds it then
  return stored;
}

std::string default_team(const config& cfg) {
  if (!cfg.routing.teams.empty()) return cfg.routing.teams.front().id;
  if (!cfg.channels.empty()) return cfg.channels.front().team;
  return "support";
}

std::optional<std::string> removed_agent_name(std::string_view tombstone) {
  auto tomb = nlohmann::json::parse(tombstone, nullptr, false);
  if (!tomb.is_object()) return std::nullopt;
  auto name = tomb.find("name");
  if (name == tomb.end() || !name->is_string()) return std::nullopt;
  return name->get<std::string>();
}

}  // namespace pasokh::gateway
