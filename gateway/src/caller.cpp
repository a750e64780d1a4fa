#include "pasokh/gateway/caller.hpp"

#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

boost::asio::awaitable<std::variant<agent, http_response>> require_agent(services& s, const http_request& req,
                                                                         std::string_view role) {
  auto token = bearer_token(req);
  if (token.empty()) co_return unauthorized("a Bearer session token is required");
  auto who = co_await s.agents.authenticate(token);
  if (!who) co_return unavailable();
  if (!*who) co_return unauthorized("invalid or expired session");
  if (!role.empty() && (*who)->role != role) co_return reject(403, "forbidden", "this needs the " + std::string(role) + " role");
  co_return **who;
}

std::vector<std::string> all_team_ids(services& s) {
  std::vector<std::string> ids;
  auto teams = s.routing->teams();  // held: the cache may be swapped meanwhile
  for (const auto& t : *teams) ids.push_back(t.id);
  return ids;
}

std::vector<std::string> visible_teams(services& s, const agent& a) {
  if (a.role == "admin") return all_team_ids(s);
  return a.teams.empty() ? std::vector<std::string>{a.team} : a.teams;
}

}  // namespace pasokh::gateway
