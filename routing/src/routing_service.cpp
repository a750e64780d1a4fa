#include "pasokh/routing/routing_service.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <spdlog/spdlog.h>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/instance_name.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/search_service.hpp"

namespace pasokh::routing {

namespace net = boost::asio;
using net::awaitable;
using store::reply;

namespace {

// The "routing" logger (registered by the gateway), or the default one.
std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("routing");
  return l ? l : spdlog::default_logger();
}

rresult<const std::vector<reply>*> answer_of(const rresult<reply>& r) {
  if (!r) return r.error();
  if (r->is_error()) {
    static repeated_warning failures;  // every call fails alike while Redis is out of memory
    failures.error(*log(), "routing script failed: {}", r->str);
    return store::make_error_code(store::redis_errc::server_error);
  }
  if (r->type != reply::kind::array || r->elements.empty()) return store::make_error_code(store::redis_errc::server_error);
  return &r->elements;
}

// The team's SLA from `at` (ms) as the scripts read it (sla_args in
// routing_lib.lua): team, first_due, first_warn, resolve_due, resolve_warn.
// A reopen or a team transfer starts a new one.
std::vector<std::string> sla_args(const std::vector<team_def>& teams, const std::string& team, std::int64_t at) {
  sla_times sla;
  for (const auto& t : teams)
    if (t.id == team) sla = sla_for(t, at);
  return {team, std::to_string(sla.first_due), std::to_string(sla.first_warn), std::to_string(sla.resolve_due),
          std::to_string(sla.resolve_warn)};
}

// The fields of a configured team whose value differs from the stored
// definition's (each as to_json writes it): the stored one is what routing
// uses. Nothing when the stored one cannot be read (refresh_teams says so).
std::vector<std::string> fields_differing(const team_def& configured, const std::string& stored,
                                          const std::string& zoneinfo_dir) {
  nlohmann::json in_store;
  try {
    in_store = to_json(parse_team(nlohmann::json::parse(stored), zoneinfo_dir, "teams." + configured.id));
  } catch (const std::exception&) {
    return {};
  }
  std::vector<std::string> fields;
  const auto in_file = to_json(configured);
  for (const auto& [key, value] : in_file.items())
    if (in_store[key] != value) fields.push_back(key);
  return fields;
}

}  // namespace

struct routing_service::loop_state {
  std::atomic<bool> stopped{false};
  std::shared_ptr<net::steady_timer> timer;
  std::mutex mutex;
  bool running = false;           // the timer loop has started and not ended
  std::function<void()> on_ended;  // stop()'s `done`, once the loop ended
};

routing_service::routing_service(store::redis_client& redis, std::string prefix, routing_config cfg)
    : redis_(redis), prefix_(std::move(prefix)), cfg_(std::move(cfg)),
      teams_(std::make_shared<const std::vector<team_def>>(cfg_.teams)), loop_(std::make_shared<loop_state>()) {
  instance_ = instance_name();
}

routing_service::~routing_service() { stop(); }

std::shared_ptr<const std::vector<team_def>> routing_service::teams() const {
  std::lock_guard lock(mutex_);
  return teams_;
}

awaitable<rresult<void>> routing_service::sync(std::vector<std::string> channel_teams) {
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(store::make_command("HSET", prefix_ + "routing:settings", "reassign_ms",
                                     std::to_string(cfg_.reassign_after.count() * 1000), "reopen_ms",
                                     std::to_string(cfg_.reopen_window.count() * 1000), "bot_idle_ms",
                                     std::to_string(cfg_.bot_idle_resolve.count() * 1000), "default_capacity",
                                     std::to_string(cfg_.default_capacity)));
  // Each team's strategy is kept beside its definition for the Lua scripts
  // (they do not parse JSON); put_team writes both.
  auto seed = [&](const team_def& t) {
    cmds.push_back(store::make_command("HSETNX", prefix_ + "teams", t.id, to_json(t).dump()));
    cmds.push_back(store::make_command("HSETNX", prefix_ + "team_strategy", t.id, t.strategy));
  };
  for (const auto& t : cfg_.teams) seed(t);
  for (const auto& id : channel_teams) {
    team_def t;
    t.id = id;
    t.name = id;
    seed(t);
  }
  // Written by versions before 2026-11 and read by nothing (reports read the logs).
  cmds.push_back(store::make_command("UNLINK", prefix_ + "csat:asked", prefix_ + "csat:ratings"));
  // The configured teams as stored, to say which config edits are not applied.
  auto stored = store::make_command("HMGET", prefix_ + "teams");
  for (const auto& t : cfg_.teams) stored.push_back(t.id);
  if (!cfg_.teams.empty()) cmds.push_back(std::move(stored));
  auto r = co_await redis_.exec_pipeline(std::move(cmds));
  if (!r) co_return r.error();
  if (!cfg_.teams.empty() && !r->empty()) {
    const auto& now_stored = r->back().elements;
    for (std::size_t i = 0; i < cfg_.teams.size() && i < now_stored.size(); ++i) {
      if (now_stored[i].is_nil()) continue;
      auto fields = fields_differing(cfg_.teams[i], now_stored[i].str, cfg_.zoneinfo_dir);
      if (fields.empty()) continue;
      // Admins edit teams in the console: its copy wins over the file's.
      log()->warn("team {}: the config file's {} not applied: the stored team differs (edited in the console or "
                  "through REST, or seeded from an earlier config) and its value is used; change it in the console "
                  "(Admin > Teams) or with PUT /api/v1/admin/teams/{}",
                  cfg_.teams[i].id, proto::join(fields, ','), cfg_.teams[i].id);
    }
  }
  // Loaded ahead, so the first burst of calls does not each find it missing.
  if (auto loaded = co_await load_script_library(redis_); !loaded) co_return loaded.error();
  auto seeded = co_await redis_.fcall(script(lua::bot_idle_seed), store::make_command(),
                                      store::make_command(prefix_, std::to_string(now_ms())));
  if (!seeded) co_return seeded.error();
  if (seeded->is_error()) co_return store::make_error_code(store::redis_errc::server_error);
  if (seeded->integer > 0) log()->info("bot idle timer: {} open bot conversations of an older version put on it", seeded->integer);
  auto refreshed = co_await refresh_teams();
  if (!refreshed) co_return refreshed;
  // Teams from before hours were versioned (or seeded just now) get their first version.
  std::vector<std::vector<std::string>> versions;
  const auto known = teams();
  auto versioned = co_await add_hours_versions(*known, versions);
  if (!versioned) co_return versioned.error();
  if (!versions.empty()) {
    auto w = co_await redis_.exec_pipeline(std::move(versions));
    if (!w) co_return w.error();
  }
  synced_ = true;
  co_return refreshed;
}

awaitable<rresult<void>> routing_service::refresh_teams() {
  // Reads are numbered as they start and an older one never replaces a newer
  // one. An edit's refresh starts after its write landed, so it always
  // installs what it wrote; two refreshes that overlap another instance's
  // edit may install the earlier view until the next poll (10 ticks).
  const auto read = ++team_reads_;
  auto r = co_await redis_.exec(store::make_command("HGETALL", prefix_ + "teams"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return store::make_error_code(store::redis_errc::server_error);
  // Polled every few seconds: parse (time zone files included) only what changed.
  std::string source;
  for (const auto& e : r->elements) source.append(e.str).push_back('\0');
  {
    std::lock_guard lock(mutex_);
    if (read < teams_read_) co_return rresult<void>{};
    if (teams_ && source == teams_source_) {
      teams_read_ = read;  // still current as of this read
      co_return rresult<void>{};
    }
  }
  auto list = std::make_shared<std::vector<team_def>>();
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    try {
      list->push_back(parse_team(nlohmann::json::parse(r->elements[i + 1].str), cfg_.zoneinfo_dir, "teams." + r->elements[i].str));
    } catch (const std::exception& e) {
      log()->error("team {} in Redis is not valid, skipped: {}", r->elements[i].str, e.what());
    }
  }
  std::sort(list->begin(), list->end(), [](const team_def& a, const team_def& b) { return a.id < b.id; });
  std::lock_guard lock(mutex_);
  if (read < teams_read_) co_return rresult<void>{};
  teams_ = std::move(list);
  teams_source_ = std::move(source);
  teams_read_ = read;
  co_return rresult<void>{};
}

awaitable<rresult<void>> routing_service::add_hours_versions(const std::vector<team_def>& teams,
                                                             std::vector<std::vector<std::string>>& cmds) {
  std::vector<std::vector<std::string>> reads;
  for (const auto& t : teams) reads.push_back(store::make_command("ZRANGE", hours_history_key(prefix_, t.id), "-1", "-1"));
  if (reads.empty()) co_return rresult<void>{};
  auto last = co_await redis_.exec_pipeline(std::move(reads));
  if (!last) co_return last.error();
  if (last->size() != teams.size()) co_return store::make_error_code(store::redis_errc::server_error);
  const auto now = now_ms();
  for (std::size_t i = 0; i < teams.size(); ++i) {
    const auto& r = (*last)[i];
    if (r.is_error()) co_return store::make_error_code(store::redis_errc::server_error);
    const bool first = r.elements.empty();  // covers all time before it: the hours reports used so far
    auto member = hours_version_member(first ? 0 : now, teams[i]);
    if (!first && hours_json_of_member(r.elements[0].str) == hours_json_of_member(member)) continue;
    const auto key = hours_history_key(prefix_, teams[i].id);
    cmds.push_back(store::make_command("ZADD", key, first ? "0" : std::to_string(now), member));
    cmds.push_back(store::make_command("ZREMRANGEBYRANK", key, "0", std::to_string(-1 - static_cast<long>(hours_versions_kept))));
  }
  co_return rresult<void>{};
}

awaitable<rresult<void>> routing_service::put_team(const team_def& team) {
  std::vector<std::vector<std::string>> cmds;
  // Written with the definition: reports measure time from now on in these hours, the past in the earlier ones.
  const std::vector<team_def> edited{team};
  auto versioned = co_await add_hours_versions(edited, cmds);
  if (!versioned) co_return versioned.error();
  cmds.push_back(store::make_command("HSET", prefix_ + "teams", team.id, to_json(team).dump()));
  cmds.push_back(store::make_command("HSET", prefix_ + "team_strategy", team.id, team.strategy));
  auto r = co_await redis_.exec_pipeline(std::move(cmds));
  if (!r) co_return r.error();
  co_return co_await refresh_teams();
}

awaitable<rresult<bool>> routing_service::delete_team(const std::string& id) {
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(store::make_command("HDEL", prefix_ + "teams", id));
  cmds.push_back(store::make_command("HDEL", prefix_ + "team_strategy", id));
  auto r = co_await redis_.exec_pipeline(std::move(cmds));
  using out = rresult<bool>;
  if (!r) co_return out(boost::system::in_place_error, r.error());
  bool existed = (*r)[0].integer > 0;
  auto refreshed = co_await refresh_teams();
  if (!refreshed) co_return out(boost::system::in_place_error, refreshed.error());
  co_return existed;
}

route_plan routing_service::plan(const route_facts& facts, std::int64_t at) const {
  auto all = teams();
  auto decision = decide_route(cfg_, *all, facts);
  auto found = std::find_if(all->begin(), all->end(), [&](const team_def& t) { return t.id == decision.team; });
  team_def stand_in;  // no team at all: nobody could take it anywhere
  stand_in.id = decision.team;
  const team_def* team = found != all->end() ? &*found : &stand_in;
  auto sla = sla_for(*team, at);
  std::string closed;
  if (!team->hours.always_open() && !team->hours.is_open(at)) closed = closed_message_for(*team, facts.language);
  route_plan out;
  out.language = facts.language;
  out.closed = !closed.empty();
  out.why = decision.why;
  out.unknown_team = std::move(decision.unknown_team);
  out.channel = facts.channel;
  out.decision = {decision.team, decision.priority, facts.vip ? "1" : "0", std::to_string(sla.first_due),
                  std::to_string(sla.first_warn), std::to_string(sla.resolve_due), std::to_string(sla.resolve_warn),
                  std::move(closed), cfg_.sticky_agent ? "1" : "0"};
  return out;
}

void routing_service::count_routed(std::string_view status, const route_plan& plan) const {
  if (!plan.unknown_team.empty()) {
    static repeated_warning unknown_teams;  // every new customer of the channel comes this way
    unknown_teams.warn(*log(), "channel={} routes to team {}, which does not exist (deleted?): new conversation put in "
                       "team {}; create the team again or change the channel's \"team\"",
                       plan.channel, plan.unknown_team, plan.decision[0]);
    if (on_error) on_error("route_unknown_team");
  }
  if (plan.closed) count("closed_notice", 1);
  if (status == "assigned") count("assigned", 1);
}

awaitable<rresult<route_outcome>> routing_service::route(const std::string& conv, const std::string& language_hint,
                                                         bool only_unrouted) {
  auto now = std::to_string(now_ms());
  auto r = co_await redis_.fcall(script(lua::route), store::make_command(),
                                store::make_command(prefix_, conv, now, only_unrouted ? "u" : "0"));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  // A reopen: again with its team's SLA from now (the team cannot change
  // meanwhile, a resolved conversation is not transferred; a few tries anyway).
  for (int tries = 0; tries < 3 && (**a)[0].str == "sla_for" && (**a).size() >= 2; ++tries) {
    auto at = now_ms();
    auto args = store::make_command(prefix_, conv, std::to_string(at), "0");
    auto sla = sla_args(*teams(), (**a)[1].str, at);
    args.insert(args.end(), sla.begin(), sla.end());
    r = co_await redis_.fcall(script(lua::route), store::make_command(), std::move(args));
    a = answer_of(r);
    if (!a) co_return a.error();
  }
  const auto& v = **a;
  route_plan decided;
  if (v[0].str == "facts" && v.size() >= 6) {
    route_facts facts;
    facts.channel = v[1].str;
    facts.current_team = v[2].str;
    facts.tags = proto::split_nonempty(v[3].str, ',');
    facts.vip = v[4].str == "1";
    facts.language = v[5].str.empty() ? language_hint : v[5].str;
    auto at = now_ms();
    decided = plan(facts, at);
    log()->debug("conv={} team={} ({}) priority={} closed={}", conv, decided.decision[0], decided.why,
                 decided.decision[1], decided.closed);
    auto args = store::make_command(prefix_, conv, std::to_string(at), "1");
    args.insert(args.end(), decided.decision.begin(), decided.decision.end());
    r = co_await redis_.fcall(script(lua::route), store::make_command(), std::move(args));
    a = answer_of(r);
    if (!a) co_return a.error();
  }
  const auto& w = **a;
  route_outcome out;
  out.status = w[0].str;
  if (w.size() > 1) out.assignee = w[1].str;
  count_routed(out.status, decided);
  co_return out;
}

awaitable<rresult<presence_outcome>> routing_service::presence(std::string op, std::string agent, std::string session,
                                                               std::string availability) {
  auto ttl = std::to_string(cfg_.presence_ttl.count() * 1000);
  auto r = co_await redis_.fcall(script(lua::presence), store::make_command(),
                                store::make_command(prefix_, op, agent, session, std::to_string(now_ms()), ttl, availability));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  const auto& v = **a;
  presence_outcome out;
  if (v[0].str == "not_found") {
    out.found = false;
    co_return out;
  }
  out.before = v[0].str;
  if (v.size() > 2) {
    out.after = v[1].str;
    out.assigned = static_cast<int>(v[2].integer);
  }
  // A full batch: there may be more for this agent (capacity above 200).
  for (int batch = out.assigned, rounds = 0; batch == 200 && rounds < 50; ++rounds) {
    auto more = co_await redis_.fcall(script(lua::presence), store::make_command(),
                                     store::make_command(prefix_, "drain", agent, session, std::to_string(now_ms()), ttl, ""));
    auto m = answer_of(more);
    if (!m || (*m)->size() < 3) break;
    batch = static_cast<int>((**m)[2].integer);
    out.assigned += batch;
  }
  count("assigned", out.assigned);
  co_return out;
}

awaitable<rresult<action_outcome>> routing_service::act(const action_request& q) {
  // A conversation the team rules have not reached yet (just stored; its
  // gateway routes it within the grace) is routed first: the escalation
  // raises the priority the rules give it, in the team they pick, as it
  // would a moment later (the rules' priority would otherwise replace it).
  if (q.op == "escalate") {
    auto routed = co_await route(q.conv, "", true);
    if (!routed) co_return routed.error();
  }
  // A transfer or a reopen starts the team's SLA from now: the script names
  // the team it needs it for ('sla_for'), and is called again with it. A
  // transfer's team is known at once.
  auto at = now_ms();
  std::vector<std::string> sla;
  if (q.op == "transfer_team") sla = sla_args(*teams(), q.arg1, at);
  auto args_at = [&](std::int64_t when) {
    auto args = store::make_command(prefix_, q.op, q.conv, q.actor, std::to_string(when), q.arg1, q.arg2, q.arg3);
    args.insert(args.end(), sla.begin(), sla.end());
    return args;
  };
  auto first = args_at(at);
  auto r = co_await redis_.fcall(script(lua::conv_action), store::make_command(), std::move(first));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  for (int tries = 0; tries < 3 && (**a)[0].str == "sla_for" && (**a).size() >= 2; ++tries) {
    at = now_ms();
    sla = sla_args(*teams(), (**a)[1].str, at);
    auto again = args_at(at);
    r = co_await redis_.fcall(script(lua::conv_action), store::make_command(), std::move(again));
    a = answer_of(r);
    if (!a) co_return a.error();
  }
  const auto& v = **a;
  action_outcome out;
  out.code = v[0].str;
  if (v.size() > 1) {
    if (out.ok())
      out.seq = static_cast<std::uint64_t>(v[1].as_int());
    else
      out.detail = v[1].str;
  }

  if (out.code == "ok") count(q.op, 1);
  co_return out;
}

awaitable<rresult<tick_outcome>> routing_service::tick() {
  auto r = co_await redis_.fcall(script(lua::tick), store::make_command(),
                                store::make_command(prefix_, std::to_string(now_ms()), "200", instance_,
                                                    std::to_string(std::max<std::int64_t>(2000, cfg_.tick_interval.count() * 4))));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  const auto& v = **a;
  tick_outcome t;
  if (v.size() >= 5) {
    t.expired = static_cast<int>(v[0].integer);
    t.reassigned = static_cast<int>(v[1].integer);
    t.woken = static_cast<int>(v[2].integer);
    t.sla_warnings = static_cast<int>(v[3].integer);
    t.sla_breaches = static_cast<int>(v[4].integer);
  }
  t.leader = v.size() >= 6 && v[5].integer == 1;
  if (v.size() >= 7) t.bot_idle_resolved = static_cast<int>(v[6].integer);
  for (std::size_t i = 7; i < v.size(); ++i) t.unrouted.push_back(v[i].str);
  count("presence_expired", t.expired);
  count("reassigned_no_reply", t.reassigned);
  count("snooze_ended", t.woken);
  count("sla_warning", t.sla_warnings);
  count("sla_breach", t.sla_breaches);
  count("bot_idle_resolved", t.bot_idle_resolved);
  co_return t;
}

awaitable<rresult<std::string>> routing_service::list(const list_request& q) {
  co_return co_await read_inbox_list(redis_, prefix_, q);
}

awaitable<rresult<std::string>> routing_service::list(const list_request& q, team_scans::moment need) {
  co_return co_await read_inbox_list(redis_, prefix_, q, scans_, need);
}

awaitable<rresult<void>> routing_service::reindex_agent(const std::string& agent, const std::string& old_teams) {
  auto r = co_await redis_.fcall(script(lua::agent_admin), store::make_command(),
                                store::make_command(prefix_, "reindex", agent, std::to_string(now_ms()), old_teams));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  co_return rresult<void>{};
}

awaitable<rresult<std::string>> routing_service::delete_agent(const std::string& agent, const std::string& actor) {
  auto r = co_await redis_.fcall(script(lua::agent_admin), store::make_command(),
                                store::make_command(prefix_, "delete", agent, std::to_string(now_ms()), std::string(), actor));
  auto a = answer_of(r);
  if (!a) co_return a.error();
  co_return (**a)[0].str;
}

void routing_service::start(net::any_io_executor ex, std::vector<std::string> channel_teams) {
  {
    std::lock_guard lock(loop_->mutex);
    loop_->timer = std::make_shared<net::steady_timer>(ex);
    loop_->running = true;
  }
  net::co_spawn(ex, timer_loop(std::move(channel_teams)), net::detached);
}

void routing_service::stop(std::function<void()> done) {
  loop_->stopped = true;
  std::unique_lock lock(loop_->mutex);
  if (!loop_->running) {
    lock.unlock();
    if (done) done();
    return;
  }
  if (done) loop_->on_ended = std::move(done);
  net::post(loop_->timer->get_executor(), [t = loop_->timer] { t->cancel(); });
}

awaitable<void> routing_service::release_lease() {
  auto r = co_await redis_.fcall(script(lua::tick), store::make_command(),
                                store::make_command(prefix_, std::to_string(now_ms()), "0", instance_, "0", "release"));
  if (!r || r->is_error()) log()->warn("routing: timer lease not given up (it lapses by itself)");
}

awaitable<void> routing_service::timer_loop(std::vector<std::string> channel_teams) {
  auto state = loop_;  // outlives this object's destruction order issues
  int round = 0;
  while (!state->stopped) {
    if (!synced_) {
      co_await sync(channel_teams);  // again next tick until it lands
    } else {
      auto t = co_await tick();
      static repeated_warning tick_failures;  // every tick (2 a second) fails alike while Redis is out of memory
      if (!t && redis_.connected()) tick_failures.warn(*log(), "routing tick failed: {}", t.error().message());
      if (t && !t->unrouted.empty()) co_await route_unrouted(t->unrouted);
      if (t && t->leader && on_followup_due) co_await sweep_followups();
      if (t && t->leader && search) co_await index_search();
      // Admin edits on other instances reach this one within a few seconds.
      if (++round % 10 == 0) co_await refresh_teams();
    }
    if (state->stopped) break;
    state->timer->expires_after(cfg_.tick_interval);
    co_await state->timer->async_wait(net::as_tuple(net::use_awaitable));
  }
  // Held at a shutdown, the lease goes now: the next instance takes the
  // timers over within its own tick, not a lease's time later. Given up
  // whatever the last tick said: one that got no answer may still have
  // taken it (the release deletes it only while it names this instance).
  co_await release_lease();
  std::function<void()> done;
  {
    std::lock_guard lock(state->mutex);
    state->running = false;
    done = std::move(state->on_ended);
  }
  if (done) done();
}

// Conversations stored by a gateway that died before routing them. The
// customer's language is on the file by now (ingest keeps it), so no hint.
awaitable<void> routing_service::route_unrouted(const std::vector<std::string>& conversations) {
  for (const auto& conv : conversations) {
    auto routed = co_await route(conv, "", true);
    if (!routed) {
      log()->warn("conv={} left unrouted: {}", conv, routed.error().message());
      co_return;  // Redis trouble: the next sweep tries again
    }
    log()->info("conv={} routed by the sweep: {}", conv, routed->status);
    count("unrouted_swept", 1);
  }
}

// Follow-ups of stored messages that no gateway finished within the grace
// (followup.lua): 20 a tick, the oldest first. One that fails goes to the
// back (its claim rescored it, later each time) and the pass goes on: only
// Redis out of reach ends it.
awaitable<void> routing_service::sweep_followups() {
  constexpr int batch = 20;
  const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.followup_grace).count();
  auto due = co_await redis_.exec(store::make_command("ZRANGEBYSCORE", prefix_ + "followup:due", "-inf",
                                                      std::to_string(now_ms() - grace_ms), "LIMIT", "0",
                                                      std::to_string(batch)));
  if (!due || due->is_error()) co_return;
  for (const auto& member : due->elements) {
    auto bar = member.str.rfind('|');
    if (bar == std::string::npos) continue;
    auto seq = static_cast<std::uint64_t>(proto::parse_int(std::string_view(member.str).substr(bar + 1)));
    const bool done = co_await on_followup_due(member.str.substr(0, bar), seq);
    if (!done && !redis_.connected()) co_return;
  }
}

// Open conversations with an event in the last second, over every team (the
// teams' open sets are scored by last activity): how busy live traffic is.
awaitable<std::int64_t> routing_service::conversations_active_last_second() {
  std::vector<std::vector<std::string>> counts;
  const auto since = std::to_string(now_ms() - 1000);
  auto known = teams();  // held: refresh_teams may swap the cache meanwhile
  for (const auto& t : *known) counts.push_back(store::make_command("ZCOUNT", prefix_ + "team:" + t.id + ":open", since, "+inf"));
  if (counts.empty()) co_return 0;
  auto r = co_await redis_.exec_pipeline(std::move(counts));
  std::int64_t active = 0;
  if (r)
    for (const auto& c : *r) active += c.integer;
  co_return active;
}

// Indexes what changed since the last tick, for at most 100 ms a tick (500 ms
// by default), so the timers stay on time and indexing takes at most about a
// fifth of Redis's time, in passes that each hold Redis for about 1-2 ms (a
// single long conversation more: search_pass.hpp), because a customer's
// message that arrives meanwhile waits for the pass. Under heavy
// live traffic (more than 1,000 open conversations with an event in the last
// second, looked at before every pass: traffic that starts in the middle of
// a catch-up stops it) it does one pass of about 0.5-1 ms a tick and leaves
// Redis to the customers: search lags and catches up later.
awaitable<void> routing_service::index_search() {
  constexpr std::size_t batch = 100, busy_batch = 20;
  constexpr std::size_t pass_terms = 200, busy_pass_terms = 100;  // 5-10 µs of Redis a term
  constexpr auto budget = std::chrono::milliseconds(100);
  constexpr std::int64_t busy_active_conversations = 1000;
  if (!search_backfilled_) {
    // 10,000 a tick: about 10 ms of Redis, however many there are.
    constexpr std::int64_t backfill_slice = 10'000;
    auto marked = co_await search->backfill(backfill_slice);
    if (marked) {
      search_backfilled_ = *marked < backfill_slice;
      backfill_marked_ += std::max<std::int64_t>(*marked, 0);
      if (search_backfilled_ && backfill_marked_ > 0)
        log()->info("search: indexing again in the background ({} conversations and customer numbers looked at, "
                    "text folding version {})", backfill_marked_, search_fold_version);
    }
  }
  const auto until = std::chrono::steady_clock::now() + budget;
  for (;;) {
    const bool busy = co_await conversations_active_last_second() > busy_active_conversations;
    auto n = co_await search->index_pending(busy ? busy_batch : batch, busy ? busy_pass_terms : pass_terms);
    if (!n) {
      static repeated_warning failures;
      if (redis_.connected()) failures.warn(*log(), "search indexing failed: {}", n.error().message());
      co_return;
    }
    count("search_indexed", static_cast<int>(*n));
    if (busy || *n == 0 || std::chrono::steady_clock::now() >= until) co_return;
  }
}

}  // namespace pasokh::routing
