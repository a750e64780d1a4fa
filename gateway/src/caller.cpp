#include "pasokh/gateway/caller.hpp"

#include <algorithm>

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

bool may_see_team(const agent& a, const std::string& team) {
  if (a.role == "admin" || team == a.team) return true;
  return std::find(a.teams.begin(), a.teams.end(), team) != a.teams.end();
}

boost::asio::awaitable<conversation_access> access_to(services& s, const agent& a, const std::string& conv) {
  auto h = co_await s.redis.exec(store::make_command("HMGET", s.cfg.redis.prefix + "conv:" + conv, "team", "assignee"));
  if (!h || h->is_error() || h->elements.size() != 2) co_return conversation_access::unavailable;
  if (h->elements[0].is_nil()) co_return conversation_access::not_found;
  if (may_see_team(a, h->elements[0].str) || h->elements[1].str == a.id) co_return conversation_access::allowed;
  co_return conversation_access::forbidden;
}

boost::asio::awaitable<conversation_access> file_access(services& s, const agent& a, const std::vector<std::string>& convs) {
  if (convs.empty()) co_return conversation_access::allowed;
  bool unavailable = false;
  for (const auto& conv : convs) {
    auto access = co_await access_to(s, a, conv);
    if (access == conversation_access::allowed) co_return access;
    unavailable = unavailable || access == conversation_access::unavailable;
  }
  co_return unavailable ? conversation_access::unavailable : conversation_access::forbidden;
}

std::optional<http_response> file_refusal(conversation_access access) {
  switch (access) {
    case conversation_access::allowed: return std::nullopt;
    case conversation_access::unavailable: return unavailable();
    case conversation_access::forbidden:
    case conversation_access::not_found: break;
  }
  return reject(403, "forbidden", "the file's conversation is not in your teams");
}

}  // namespace pasokh::gateway
