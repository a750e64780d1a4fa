#include "pasokh/gateway/routing_api.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <spdlog/spdlog.h>

#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/agent_checks.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;

namespace {

using boost::asio::awaitable;
using nlohmann::json;

constexpr std::size_t max_note_bytes = 2000;
constexpr std::int64_t max_snooze_ms = 366LL * 24 * 3600 * 1000;

bool is_admin(const agent& a) { return a.role == "admin"; }

// The optional string field, checked: absent -> "", wrong -> nullopt.
std::optional<std::string> opt_string(const json& j, const char* key, std::size_t max) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::nullopt;
  auto v = it->get<std::string>();
  if (v.size() > max || !proto::valid_utf8(v)) return std::nullopt;
  return v;
}

// What still sends conversations to a team or holds some of its own: a
// team deleted under them would leave new customers in a queue nobody sees.
// Empty when nothing does.
json team_users(const config& cfg, const std::string& team, std::int64_t queued, std::int64_t open) {
  json users = json::object();
  json channels = json::array(), rules = json::array();
  for (const auto& ch : cfg.channels)
    if (ch.team == team) channels.push_back(ch.id);
  for (std::size_t i = 0; i < cfg.routing.rules.size(); ++i)
    if (cfg.routing.rules[i].team == team) rules.push_back(i + 1);
  if (!channels.empty()) users["channels"] = channels;
  if (!rules.empty()) users["rules"] = rules;
  if (open > 0) {
    // A queued conversation is open too (in team:<id>:open from ingest until
    // resolved, moved with it on a transfer), so `open` already counts it.
    users["open_conversations"] = open;
    users["queued"] = queued;
  }
  return users;
}

http_response team_in_use(const std::string& team, const json& users) {
  std::vector<std::string> why;
  if (auto c = users.find("channels"); c != users.end()) {
    std::vector<std::string> ids;
    for (const auto& id : *c) ids.push_back(id.get<std::string>());
    why.push_back(fmt::format("channel{} {} route{} to it (config \"team\")", ids.size() > 1 ? "s" : "",
                              proto::join(ids, ','), ids.size() > 1 ? "" : "s"));
  }
  if (auto r = users.find("rules"); r != users.end()) {
    std::vector<std::string> numbers;
    for (const auto& n : *r) numbers.push_back(std::to_string(n.get<int>()));
    why.push_back(fmt::format("routing rule{} {} name{} it", numbers.size() > 1 ? "s" : "", proto::join(numbers, ','),
                              numbers.size() > 1 ? "" : "s"));
  }
  if (auto o = users.find("open_conversations"); o != users.end())
    why.push_back(fmt::format("it has {} open conversations ({} queued): transfer them first", o->get<std::int64_t>(),
                              users["queued"].get<std::int64_t>()));
  std::string message = "team " + team + " is still in use: " + why.front();
  for (std::size_t i = 1; i < why.size(); ++i) message += "; " + why[i];
  if (users.contains("channels") || users.contains("rules")) message += "; change the configuration and restart first";
  auto res = reject(409, "team_in_use", message);
  json body = json::parse(res.body);
  body["error"].update(users);
  res.body = body.dump();
  return res;
}

// What agent_admin.lua answered a demotion or removal of `id` when it
// refused it; nullopt when it went through.
std::optional<http_response> admin_change_refused(std::string_view code, const std::string& id) {
  if (code == "ok") return std::nullopt;
  if (code == "last_admin") return reject(409, "last_admin", "agent " + id + " is the last admin");
  if (code == "not_admin") return reject(403, "forbidden", "you are no longer an admin");
  return unavailable();
}

unsigned status_of(std::string_view code) {
  if (code == "ok" || code == "unchanged") return 200;
  if (code == "not_found") return 404;
  if (code == "agent_not_found" || code == "team_not_found" || code == "invalid_until") return 422;
  if (code == "invalid_state" || code == "agent_offline" || code == "agent_away" || code == "agent_full") return 409;
  return 500;
}

// `detail`: what the script named (for agent_offline, agent_away and
// agent_full the agent's display name, conv_action.lua).
std::string message_of(std::string_view code, std::string_view detail) {
  const std::string who(detail);
  if (code == "not_found") return "no such conversation";
  if (code == "invalid_state") return "not possible while the conversation is " + std::string(detail);
  if (code == "agent_not_found") return "no agent " + std::string(detail);
  if (code == "agent_offline") return who + " is offline";
  if (code == "agent_away") return who + " is away (admins may force)";
  if (code == "agent_full") return who + " has no free capacity (admins may force)";
  if (code == "team_not_found") return "no team " + std::string(detail);
  if (code == "invalid_until") return "until must be in the future";
  if (code == "unchanged") return "nothing to change";
  return "done";
}

http_response action_response(const action_result& r) {
  if (r.status >= 400) return reject(r.status, r.code, r.message);
  return json_response(200, json{{"status", r.code}, {"seq", r.seq}}.dump());
}

}  // namespace

namespace {

// The fields each action reads. Anything else is refused: a misspelt field
// (the WebSocket frame's "agent" for "agent_id") would be ignored, and the
// action would do something the caller did not ask for.
std::vector<std::string> action_fields(const std::string& op) {
  if (op == "assign") return {"agent_id", "force", "note"};
  if (op == "transfer") return {"team", "agent_id", "force", "note"};
  if (op == "snooze") return {"until", "minutes", "note"};
  return {"note"};
}

// The first field of `body` the action does not read, with what it reads.
std::optional<std::string> unknown_action_field(const std::string& op, const json& body) {
  auto allowed = action_fields(op);
  for (const auto& [key, _] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string known;
    for (const auto& f : allowed) known += (known.empty() ? "" : ", ") + f;
    return "unknown field " + key + " for " + op + " (it takes " + known + ")";
  }
  return std::nullopt;
}

// The removed agents by their last name (agent_admin.lua's tombstones), by id,
// for GET /api/v1/agents. A tombstone is only ever added (its id is never given
// again), so the list read last holds while the hash has as many entries: each
// call asks for the count and reads the tombstones only after a removal.
class removed_agents_cache {
 public:
  awaitable<std::optional<json>> list(services& s) {
    const auto key = s.cfg.redis.prefix + "agents_removed";
    auto count = co_await s.redis.exec(store::make_command("HLEN", key));
    if (!count || count->is_error()) co_return std::nullopt;
    if (auto kept = cached(count->as_int())) co_return kept;
    auto tombs = co_await s.redis.exec(store::make_command("HGETALL", key));
    if (!tombs || tombs->is_error()) co_return std::nullopt;
    json removed = json::array();
    for (std::size_t i = 0; i + 1 < tombs->elements.size(); i += 2) {
      const auto& id = tombs->elements[i].str;
      removed.push_back({{"id", id}, {"name", removed_agent_name(tombs->elements[i + 1].str).value_or(id)}});
    }
    std::sort(removed.begin(), removed.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
    std::lock_guard lock(mutex_);
    count_ = static_cast<std::int64_t>(removed.size());
    list_ = removed;
    co_return removed;
  }

 private:
  std::optional<json> cached(std::int64_t count) {
    std::lock_guard lock(mutex_);
    if (count != count_) return std::nullopt;
    return list_;
  }
  std::mutex mutex_;
  std::int64_t count_ = -1;  // none read yet
  json list_;
};

}  // namespace

awaitable<action_result> perform_action(services& s, const agent& who, const std::string& conv, const std::string& op,
                                        const json& body) {
  action_result out;
  auto fail = [&](unsigned status, std::string code, std::string message) {
    out.status = status;
    out.code = std::move(code);
    out.message = std::move(message);
    return out;
  };
  if (!s.routing) co_return fail(503, "unavailable", "routing is not running");
  if (!plain_id(conv)) co_return fail(400, "invalid_field", "conv: a conversation id");
  if (!body.is_object()) co_return fail(400, "invalid_body", "the body must be a JSON object");
  auto note = opt_string(body, "note", max_note_bytes);
  if (!note) co_return fail(400, "invalid_field", "note: a string of at most 2000 bytes of UTF-8");

  auto access = co_await access_to(s, who, conv);
  switch (access) {
    case conversation_access::allowed: break;
    case conversation_access::not_found: co_return fail(404, "not_found", "no such conversation");
    case conversation_access::forbidden: co_return fail(403, "forbidden", "the conversation is not in your teams");
    case conversation_access::unavailable: co_return fail(503, "unavailable", "storage unavailable, retry");
  }

  routing::action_request q;
  q.conv = conv;
  q.actor = who.id;
  if (op == "assign" || (op == "transfer" && body.contains("agent_id"))) {
    auto target = opt_string(body, "agent_id", 128);
    if (!target) co_return fail(400, "invalid_field", "agent_id: an agent id");
    q.op = "assign";
    q.arg1 = target->empty() ? who.id : *target;
    bool force = body.value("force", json(false)).is_boolean() && body.value("force", false);
    if (force && !is_admin(who)) co_return fail(403, "forbidden", "force needs the admin role");
    q.arg2 = force ? "1" : "0";
    q.arg3 = *note;
  } else if (op == "transfer") {
    auto team = opt_string(body, "team", 64);
    if (!team || team->empty()) co_return fail(400, "invalid_field", "transfer needs agent_id or team");
    q.op = "transfer_team";
    q.arg1 = *team;
    q.arg2 = *note;
  } else if (op == "escalate") {
    q.op = "escalate";
    q.arg1 = *note;
  } else if (op == "snooze") {
    std::int64_t until = 0;
    if (auto u = body.find("until"); u != body.end() && u->is_number_integer()) until = u->get<std::int64_t>();
    else if (auto m = body.find("minutes"); m != body.end() && m->is_number_integer() && m->get<std::int64_t>() > 0)
      until = now_ms() + m->get<std::int64_t>() * 60'000;
    if (until <= now_ms() || until > now_ms() + max_snooze_ms)
      co_return fail(400, "invalid_field", "snooze needs until (ms, in the future, within a year) or minutes > 0");
    q.op = "snooze";
    q.arg1 = std::to_string(until);
    q.arg2 = *note;
  } else if (op == "reopen" || op == "resolve") {
    q.op = op;
  } else {
    co_return fail(400, "unknown_action", "unknown action " + op);
  }
  auto r = co_await s.routing->act(q);
  if (!r) co_return fail(503, "unavailable", "storage unavailable, retry");
  out.code = r->code;
  out.status = status_of(r->code);
  out.seq = r->seq;
  out.message = message_of(r->code, r->detail);
  if (out.status < 400)
    spdlog::get("routing")->info("conv={} action={} by agent={} -> {}", conv, op, who.id, r->code);
  // The CSAT survey, once, when an agent resolved it (aftersales_api.cpp).
  if (op == "resolve" && r->code == "ok") co_await aftersales::on_resolved(s, conv);
  co_return out;
}

void add_routing_routes(router& r, services& s) {
  // ---- conversations -------------------------------------------------------
  r.add("GET", "/api/v1/conversations", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto& a = std::get<agent>(who);
    routing::list_request q;
    q.agent = a.id;
    q.teams = visible_teams(s, a);
    q.my_teams = own_teams(a);
    q.view = req.query_param("view").empty() ? "all" : std::string(req.query_param("view"));
    if (q.view != "mine" && q.view != "unassigned" && q.view != "team" && q.view != "all")
      co_return reject(400, "invalid_field", "view: mine, unassigned, team or all");
    q.status = std::string(req.query_param("status"));
    static const char* statuses[] = {"", "open", "bot", "queued", "assigned", "snoozed", "resolved"};
    if (std::find(std::begin(statuses), std::end(statuses), q.status) == std::end(statuses))
      co_return reject(400, "invalid_field", "status: open, bot, queued, assigned, snoozed or resolved");
    q.team = std::string(req.query_param("team"));
    if (!q.team.empty() && std::find(q.teams.begin(), q.teams.end(), q.team) == q.teams.end())
      co_return reject(403, "forbidden", "team " + q.team + " is not one of yours");
    auto number = [&](std::string_view name, int def, int max, int& out) {
      auto v = req.query_param(name);
      if (v.empty()) { out = def; return true; }
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      return ec == std::errc{} && p == v.data() + v.size() && out >= 0 && out <= max;
    };
    if (!number("limit", 50, 500, q.limit) || !number("offset", 0, 100000, q.offset))
      co_return reject(400, "invalid_field", "limit is 0..500 and offset 0..100000");
    auto list = co_await s.routing->list(q);
    if (!list) co_return unavailable();
    co_return json_response(200, std::move(*list));
  });

  for (const char* op : {"assign", "transfer", "escalate", "snooze", "reopen", "resolve"}) {
    r.add("POST", std::string("/api/v1/conversations/{conv}/") + op,
          [&s, op = std::string(op)](const http_request& req, const route_params& p) -> awaitable<http_response> {
            auto who = co_await require_agent(s, req, "");
            if (auto* err = std::get_if<http_response>(&who)) co_return *err;
            json body = json::object();
            if (!req.body.empty()) {
              auto parsed = json_body(req);
              if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
              body = std::move(std::get<json>(parsed));
            }
            if (auto unknown = unknown_action_field(op, body)) co_return reject(400, "invalid_field", *unknown);
            auto result = co_await perform_action(s, std::get<agent>(who), p.at("conv"), op, body);
            co_return action_response(result);
          });
  }

  // ---- presence -----------------------------------------------------------
  r.add("PUT", "/api/v1/presence", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto parsed = json_body(req);
    if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
    auto& j = std::get<json>(parsed);
    auto status = string_or_empty(j, "status");
    if (status != "online" && status != "away") co_return reject(400, "invalid_field", "status: online or away");
    auto& a = std::get<agent>(who);
    auto p = co_await s.routing->presence("set", a.id, "", status);
    if (!p) co_return unavailable();
    co_return json_response(200, json{{"agent", a.id}, {"availability", status}, {"status", p->after},
                                      {"assigned", p->assigned}}.dump());
  });

  // Agents with presence and load: any agent may read (for transfers). The
  // removed ones (`with_removed`) only for /api/v1/agents: presence is polled.
  auto removed_agents = std::make_shared<removed_agents_cache>();
  auto list_agents = [&s, removed_agents](const http_request& req, bool with_removed) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    bool admin = is_admin(std::get<agent>(who));
    const auto& pre = s.cfg.redis.prefix;
    auto ids = co_await s.redis.exec(store::make_command("SMEMBERS", pre + "agents"));
    if (!ids || ids->is_error()) co_return unavailable();
    std::vector<std::vector<std::string>> cmds;
    for (const auto& id : ids->elements) {
      cmds.push_back(store::make_command("HMGET", pre + "agent:" + id.str, "id", "login", "name", "role", "team", "teams",
                                         "capacity", "availability"));
      cmds.push_back(store::make_command("SCARD", pre + "agent:" + id.str + ":convs"));
      cmds.push_back(store::make_command("ZSCORE", pre + "presence", id.str));
    }
    json list = json::array();
    if (!cmds.empty()) {
      auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
      if (!rows) co_return unavailable();
      auto now = now_ms();
      for (std::size_t i = 0; i + 2 < rows->size(); i += 3) {
        const auto& f = (*rows)[i].elements;
        if (f.size() != 8 || f[0].is_nil()) continue;
        std::int64_t expiry = 0;
        const auto& e = (*rows)[i + 2].str;
        std::from_chars(e.data(), e.data() + e.size(), expiry);
        bool alive = !(*rows)[i + 2].is_nil() && expiry > now;
        std::string availability = f[7].is_nil() ? "away" : f[7].str;
        json teams = proto::split_nonempty(f[5].is_nil() ? f[4].str : f[5].str, ',');
        json row = {{"id", f[0].str}, {"name", f[2].str}, {"teams", teams},
                    {"status", alive ? availability : "offline"}, {"availability", availability},
                    {"load", (*rows)[i + 1].integer}, {"capacity", std::atoi(f[6].str.c_str())}};
        if (admin) {
          row["login"] = f[1].str;
          row["role"] = f[3].str;
        }
        list.push_back(std::move(row));
      }
    }
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a["id"] < b["id"]; });
    // default_capacity: what a new agent gets when the admin's form leaves its capacity empty.
    json out{{"agents", list}, {"default_capacity", s.cfg.routing.default_capacity}};
    if (with_removed) {
      // So their past replies and the reports' filter name them.
      auto removed = co_await removed_agents->list(s);
      if (!removed) co_return unavailable();
      out["removed"] = std::move(*removed);
    }
    co_return json_response(200, out.dump());
  };
  r.add("GET", "/api/v1/agents", [list_agents](const http_request& req, const route_params&) { return list_agents(req, true); });
  r.add("GET", "/api/v1/presence", [list_agents](const http_request& req, const route_params&) { return list_agents(req, false); });

  // ---- agents (admin) ------------------------------------------------------
  auto parse_teams = [](const json& j, std::vector<std::string>& out) -> std::optional<std::string> {
    auto it = j.find("teams");
    if (it == j.end()) return std::nullopt;
    if (!it->is_array() || it->empty() || it->size() > 20) return "teams: an array of 1 to 20 team ids";
    for (const auto& t : *it) {
      if (!t.is_string()) return "teams: an array of 1 to 20 team ids";
      out.push_back(t.get<std::string>());
    }
    return std::nullopt;  // whether they exist: teams_problem, by the caller
  };

  r.add("POST", "/api/v1/admin/agents", [&s, parse_teams](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto parsed = json_body(req);
    if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
    auto& j = std::get<json>(parsed);
    agent a;
    a.login = string_or_empty(j, "login");
    auto password = string_or_empty(j, "password");
    auto name = opt_string(j, "name", 200);
    if (!name) co_return reject(400, "invalid_field", "name: a string of at most 200 bytes");
    a.name = name->empty() ? a.login : *name;
    a.role = j.contains("role") ? string_or_empty(j, "role") : "agent";
    if (auto bad = parse_teams(j, a.teams)) co_return reject(400, "invalid_field", *bad);
    if (a.teams.empty()) a.teams.push_back(default_team(s.cfg));
    a.team = a.teams.front();
    if (auto bad = new_agent_problem(a, password, all_team_ids(s)); !bad.empty()) co_return reject(400, "invalid_field", bad);
    a.capacity = s.cfg.routing.default_capacity;
    if (auto c = j.find("capacity"); c != j.end()) {
      if (!c->is_number_integer() || c->get<int>() < 0 || c->get<int>() > 1000)
        co_return reject(400, "invalid_field", "capacity: 0 to 1000");
      a.capacity = c->get<int>();
    }
    auto created = co_await s.agents.create(a, password);
    if (!created) co_return unavailable();
    if (!*created) co_return reject(409, "exists", "login " + a.login + " is taken");
    a.id = **created;  // a login used before by a removed agent gets a new id: its history stays that agent's
    audit(std::get<agent>(who).id, "agent.create", a.id,
          "login=" + a.login + " role=" + a.role + " teams=" + proto::join(a.teams, ','));
    co_await s.routing->reindex_agent(a.id, "");
    co_return json_response(201, json{{"id", a.id}, {"login", a.login}, {"name", a.name}, {"role", a.role},
                                      {"teams", a.teams}, {"capacity", a.capacity}}.dump());
  });

  r.add("PATCH", "/api/v1/admin/agents/{id}", [&s, parse_teams](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto parsed = json_body(req);
    if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
    auto& j = std::get<json>(parsed);
    const auto& id = p.at("id");
    const auto key = s.cfg.redis.prefix + "agent:" + id;
    auto old = co_await s.redis.exec(store::make_command("HMGET", key, "id", "team", "teams", "role"));
    if (!old || old->is_error() || old->elements.size() != 4) co_return unavailable();
    if (old->elements[0].is_nil()) co_return reject(404, "not_found", "no agent " + id);
    std::string old_teams = old->elements[2].is_nil() ? old->elements[1].str : old->elements[2].str;
    const std::string old_role = old->elements[3].str;
    bool rights_changed = false;  // role or teams: what the agent's sockets were opened with
    bool password_changed = false;
    bool demote = false;  // admin to agent: only while another admin remains
    std::vector<std::pair<std::string, std::string>> changes;  // for the audit log: action, detail
    std::vector<std::string> hset{"HSET", key};
    if (j.contains("name")) {
      auto name = opt_string(j, "name", 200);
      if (!name || name->empty()) co_return reject(400, "invalid_field", "name: 1 to 200 bytes");
      hset.insert(hset.end(), {"name", *name});
      changes.emplace_back("agent.name", "");
    }
    if (j.contains("role")) {
      auto role = string_or_empty(j, "role");
      if (auto bad = role_problem(role); !bad.empty()) co_return reject(400, "invalid_field", bad);
      demote = old_role == "admin" && role != "admin";
      // Nobody left to give the role back: only an admin can.
      if (demote && id == std::get<agent>(who).id)
        co_return reject(409, "self", "you cannot remove your own admin role; ask another admin");
      if (!demote) hset.insert(hset.end(), {"role", role});  // a demotion is written by demote_admin
      rights_changed |= role != old_role;
      changes.emplace_back("agent.role", "role=" + role);
    }
    std::vector<std::string> teams;
    if (auto bad = parse_teams(j, teams)) co_return reject(400, "invalid_field", *bad);
    if (!teams.empty()) {
      if (auto bad = teams_problem(teams, all_team_ids(s)); !bad.empty()) co_return reject(400, "invalid_field", bad);
      auto joined = proto::join(teams, ',');
      hset.insert(hset.end(), {"team", teams.front(), "teams", joined});
      rights_changed |= joined != old_teams;
      changes.emplace_back("agent.teams", "teams=" + joined);
    }
    if (auto c = j.find("capacity"); c != j.end()) {
      if (!c->is_number_integer() || c->get<int>() < 0 || c->get<int>() > 1000)
        co_return reject(400, "invalid_field", "capacity: 0 to 1000");
      hset.insert(hset.end(), {"capacity", std::to_string(c->get<int>())});
      changes.emplace_back("agent.capacity", "capacity=" + std::to_string(c->get<int>()));
    }
    if (j.contains("password")) {
      auto pw = string_or_empty(j, "password");
      if (auto bad = password_problem(pw); !bad.empty()) co_return reject(400, "invalid_field", bad);
      auto hashed = co_await s.agents.hash(std::move(pw));
      hset.insert(hset.end(), {"password", std::move(hashed)});
      password_changed = true;
      changes.emplace_back("agent.password", "");  // that it changed, never the password
    }
    if (hset.size() == 2 && !demote) co_return reject(400, "invalid_body", "nothing to change: name, role, teams, capacity, password");
    if (demote) {
      // Counted and written in one script: two admins demoting each other at
      // once would otherwise each see the other and leave no admin.
      auto args = store::make_command(s.cfg.redis.prefix, "demote", id, std::to_string(routing::now_ms()), "",
                                      std::get<agent>(who).id);
      auto demoted = co_await s.redis.fcall(routing::script(routing::lua::agent_admin), store::make_command(), std::move(args));
      if (!demoted || demoted->is_error() || demoted->elements.empty()) co_return unavailable();
      if (auto refused = admin_change_refused(demoted->elements[0].str, id)) co_return *refused;
    }
    if (hset.size() > 2) {
      auto w = co_await s.redis.exec(std::move(hset));
      if (!w || w->is_error()) co_return unavailable();
    }
    for (const auto& [action, detail] : changes) audit(std::get<agent>(who).id, action, id, detail);
    auto idx = co_await s.routing->reindex_agent(id, old_teams);
    if (!idx) co_return unavailable();
    // A new password ends every session (a stolen token with it); new rights
    // only reconnect the sockets, which were opened with the old ones (REST
    // reads them on every request).
    if (password_changed) {
      auto ended = co_await s.agents.end_sessions(id, "your password was changed; sign in again");
      if (!ended) co_return unavailable();
    } else if (rights_changed) {
      auto closed = co_await s.agents.close_sockets(id, "your role or teams changed; reconnect");
      if (!closed) co_return unavailable();
    }
    co_return json_response(200, R"({"status":"updated"})");
  });

  r.add("DELETE", "/api/v1/admin/agents/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    if (id == std::get<agent>(who).id) co_return reject(409, "self", "you cannot remove yourself");
    // Checked (gone already: 404) and done in one script, as a demotion: two
    // admins removing each other at once would otherwise both succeed and
    // leave no admin.
    auto d = co_await s.routing->delete_agent(id, std::get<agent>(who).id);
    if (!d) co_return unavailable();
    if (*d == "not_found") co_return reject(404, "not_found", "no agent " + id);
    if (auto refused = admin_change_refused(*d, id)) co_return *refused;
    audit(std::get<agent>(who).id, "agent.remove", id);
    auto ended = co_await s.agents.end_sessions(id, "your account was removed");
    if (!ended) co_return unavailable();
    co_return json_response(200, R"({"status":"deleted"})");
  });

  // ---- teams ---------------------------------------------------------------
  r.add("GET", "/api/v1/teams", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto teams = s.routing->teams();
    std::vector<std::vector<std::string>> cmds;
    for (const auto& t : *teams) {
      cmds.push_back(store::make_command("ZCARD", s.cfg.redis.prefix + "queue:" + t.id));
      cmds.push_back(store::make_command("ZCARD", s.cfg.redis.prefix + "team:" + t.id + ":avail"));
    }
    std::vector<store::reply> counts;
    if (!cmds.empty()) {
      auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
      if (!rows) co_return unavailable();
      counts = std::move(*rows);
    }
    json list = json::array();
    auto now = now_ms();
    for (std::size_t i = 0; i < teams->size(); ++i) {
      const auto& t = (*teams)[i];
      auto j = routing::to_json(t);
      j["queued"] = counts.size() > 2 * i ? counts[2 * i].integer : 0;
      j["available_agents"] = counts.size() > 2 * i + 1 ? counts[2 * i + 1].integer : 0;
      j["open_now"] = t.hours.always_open() || t.hours.is_open(now);
      list.push_back(std::move(j));
    }
    co_return json_response(200, json{{"teams", list}}.dump());
  });

  auto save_team = [&s](const http_request& req, std::string id, bool create) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto parsed = json_body(req);
    if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
    auto j = std::get<json>(parsed);
    if (!j.is_object()) co_return reject(400, "invalid_body", "a team object");
    if (!id.empty()) j["id"] = id;
    routing::team_def team;
    try {
      team = routing::parse_team(j, s.cfg.routing.zoneinfo_dir, "team");
    } catch (const std::runtime_error& e) {
      co_return reject(422, "invalid_team", e.what());
    }
    auto teams = s.routing->teams();
    bool exists = std::any_of(teams->begin(), teams->end(), [&](const routing::team_def& t) { return t.id == team.id; });
    if (create && exists) co_return reject(409, "exists", "team " + team.id + " exists");
    if (!create && !exists) co_return reject(404, "not_found", "no team " + team.id);
    auto w = co_await s.routing->put_team(team);
    if (!w) co_return unavailable();
    audit(std::get<agent>(who).id, create ? "team.create" : "team.update", team.id);
    co_return json_response(create ? 201 : 200, routing::to_json(team).dump());
  };
  r.add("POST", "/api/v1/admin/teams", [save_team](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return co_await save_team(req, std::string(), true);
  });
  r.add("PUT", "/api/v1/admin/teams/{id}", [save_team](const http_request& req, const route_params& p) -> awaitable<http_response> {
    co_return co_await save_team(req, p.at("id"), false);
  });
  r.add("DELETE", "/api/v1/admin/teams/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    std::vector<std::vector<std::string>> reads{store::make_command("ZCARD", s.cfg.redis.prefix + "queue:" + id),
                                                store::make_command("ZCARD", s.cfg.redis.prefix + "team:" + id + ":open")};
    auto counts = co_await s.redis.exec_pipeline(std::move(reads));
    if (!counts || counts->size() != 2 || (*counts)[0].is_error() || (*counts)[1].is_error()) co_return unavailable();
    auto users = team_users(s.cfg, id, (*counts)[0].integer, (*counts)[1].integer);
    if (!users.empty()) co_return team_in_use(id, users);
    auto d = co_await s.routing->delete_team(id);
    if (!d) co_return unavailable();
    if (!*d) co_return reject(404, "not_found", "no team " + id);
    audit(std::get<agent>(who).id, "team.delete", id);
    co_return json_response(200, R"({"status":"deleted"})");
  });

  // Business hours and SLA of one team, as parts of its definition.
  for (const char* part : {"hours", "sla"}) {
    r.add("GET", std::string("/api/v1/admin/teams/{id}/") + part,
          [&s, part = std::string(part)](const http_request& req, const route_params& p) -> awaitable<http_response> {
            auto who = co_await require_agent(s, req, "admin");
            if (auto* err = std::get_if<http_response>(&who)) co_return *err;
            auto teams = s.routing->teams();  // held: the cache may be swapped meanwhile
            for (const auto& t : *teams)
              if (t.id == p.at("id")) {
                auto j = routing::to_json(t);
                json out = {{part, j[part]}};
                if (part == "hours") {
                  out["closed_message"] = j["closed_message"];
                  out["open_now"] = t.hours.always_open() || t.hours.is_open(now_ms());
                }
                co_return json_response(200, out.dump());
              }
            co_return reject(404, "not_found", "no team " + p.at("id"));
          });
    r.add("PUT", std::string("/api/v1/admin/teams/{id}/") + part,
          [&s, part = std::string(part)](const http_request& req, const route_params& p) -> awaitable<http_response> {
            auto who = co_await require_agent(s, req, "admin");
            if (auto* err = std::get_if<http_response>(&who)) co_return *err;
            auto parsed = json_body(req, /*or_null=*/part == "hours");  // null hours: open around the clock
            if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
            auto& j = std::get<json>(parsed);
            const routing::team_def* found = nullptr;
            auto teams = s.routing->teams();
            for (const auto& t : *teams)
              if (t.id == p.at("id")) found = &t;
            if (!found) co_return reject(404, "not_found", "no team " + p.at("id"));
            auto def = routing::to_json(*found);
            if (part == "hours") {
              // {"timezone","weekly","holidays"} or null (always open); closed_message optional beside.
              json hours = j;
              if (j.is_object() && j.contains("closed_message")) {
                def["closed_message"] = j["closed_message"];
                hours.erase("closed_message");
              }
              def["hours"] = hours;
            } else {
              def["sla"] = j;
            }
            routing::team_def team;
            try {
              team = routing::parse_team(def, s.cfg.routing.zoneinfo_dir, "team");
            } catch (const std::runtime_error& e) {
              co_return reject(422, "invalid_team", e.what());
            }
            auto w = co_await s.routing->put_team(team);
            if (!w) co_return unavailable();
            audit(std::get<agent>(who).id, "team." + part, team.id);  // team.hours, team.sla
            co_return json_response(200, routing::to_json(team).dump());
          });
  }

  // ---- OpenAPI ---------------------------------------------------------------
  r.add("GET", "/api/v1/openapi.json", [&s](const http_request&, const route_params&) -> awaitable<http_response> {
    std::ifstream in(std::filesystem::path(s.cfg.web_root) / "console" / "openapi.json", std::ios::binary);
    if (!in) co_return reject(404, "not_found", "openapi.json is not installed");
    std::ostringstream body;
    body << in.rdbuf();
    http_response res{200, "application/json", body.str(), {}};
    res.headers.emplace_back("Cache-Control", "no-cache");
    co_return res;
  });
}

}  // namespace pasokh::gateway
