#include "pasokh/gateway/caller.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/agent_checks.hpp"
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
  if (s.routing)
    if (auto teams = s.routing->teams())  // held: the cache may be swapped meanwhile
      for (const auto& t : *teams) ids.push_back(t.id);
  return known_team_ids(std::move(ids), s.cfg);
}

std::vector<std::string> visible_teams(services& s, const agent& a) {
  if (a.role == "admin") return all_team_ids(s);
  return own_teams(a);
}

std::vector<std::string> own_teams(const agent& a) { return a.teams.empty() ? std::vector<std::string>{a.team} : a.teams; }

bool may_see_team(const agent& a, const std::string& team) {
  if (a.role == "admin" || team == a.team) return true;
  return std::find(a.teams.begin(), a.teams.end(), team) != a.teams.end();
}

namespace {

std::vector<std::string> team_and_assignee(services& s, const std::string& conv) {
  return store::make_command("HMGET", s.cfg.redis.prefix + "conv:" + conv, "team", "assignee");
}

conversation_access access_of(const agent& a, const store::reply& h) {
  if (h.is_error() || h.elements.size() != 2) return conversation_access::unavailable;
  if (h.elements[0].is_nil()) return conversation_access::not_found;
  if (may_see_team(a, h.elements[0].str) || h.elements[1].str == a.id) return conversation_access::allowed;
  return conversation_access::forbidden;
}

}  // namespace

boost::asio::awaitable<conversation_access> access_to(services& s, const agent& a, const std::string& conv) {
  auto h = co_await s.redis.exec(team_and_assignee(s, conv));
  if (!h) co_return conversation_access::unavailable;
  co_return access_of(a, *h);
}

boost::asio::awaitable<conversation_access> file_access(services& s, const agent& a, const std::vector<std::string>& convs) {
  if (convs.empty()) co_return conversation_access::allowed;
  // One round trip for all of them.
  std::vector<std::vector<std::string>> lookups;
  for (const auto& conv : convs) lookups.push_back(team_and_assignee(s, conv));
  auto r = co_await s.redis.exec_pipeline(std::move(lookups));
  if (!r) co_return conversation_access::unavailable;
  bool unavailable = false;
  for (const auto& h : *r) {
    auto access = access_of(a, h);
    if (access == conversation_access::allowed) co_return access;
    unavailable = unavailable || access == conversation_access::unavailable;
  }
  co_return unavailable ? conversation_access::unavailable : conversation_access::forbidden;
}

boost::asio::awaitable<boost::system::result<std::vector<std::string>>> logged_attachments(services& s,
                                                                                          const std::string& conv,
                                                                                          std::uint64_t seq) {
  std::vector<std::string> refs;
  if (seq == 0) co_return refs;
  auto frames = co_await s.conversations.events_after(conv, seq - 1, 1);
  if (!frames) co_return frames.error();
  if (frames->empty()) co_return refs;
  auto frame = nlohmann::json::parse(frames->front(), nullptr, false);
  if (!frame.is_object() || frame.value("seq", std::uint64_t{0}) != seq || !frame.contains("message")) co_return refs;
  const auto& m = frame["message"];
  if (!m.is_object() || !m.contains("attachments") || !m["attachments"].is_array()) co_return refs;
  for (const auto& a : m["attachments"])
    if (a.is_object() && a.contains("provider_ref") && a["provider_ref"].is_string())
      refs.push_back(a["provider_ref"].get<std::string>());
  co_return refs;
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
