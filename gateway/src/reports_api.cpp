// Report routes: the summary over a period (JSON or CSV, filters, day/week
// series) and the rebuild from the conversation logs. The time index is kept
// by the conversation scripts (prelude.lua: rpt:created when a conversation's
// first event is logged, rpt:events for each resolve and rating, rpt:active
// for each day a conversation had a message; ingest.lua: rpt:contacts for the
// day a customer answering our campaign message in a resolved conversation
// started a contact in it, by UTC day as rpt:active); timelines
// are cached in the hash rpt:facts (conv -> encoded timeline) and continued
// from the log when the conversation has moved on. What an admin changes
// later leaves the past alone: teams' hours are read as versions
// (team_hours:<team>), removed agents' names from agents_removed. Pure parts:
// reports.hpp.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/agent_checks.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/reports.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {

using routing::now_ms;

namespace {

using boost::asio::awaitable;
using nlohmann::json;
namespace rp = reports;

constexpr std::int64_t max_span_ms = 366LL * 24 * 3600 * 1000;
constexpr std::size_t max_conversations = 500'000;
constexpr std::size_t chunk = 500;
constexpr std::size_t log_chunk = 100;
// rpt:active is by UTC day (prelude.lua's emit_json writes it as messages are
// logged; the rebuild from the logs below, by the messages' times).
const rp::calendar utc{};
std::string day_member(const std::string& conv, std::int64_t day) { return conv + "|" + std::to_string(day); }

awaitable<std::optional<http_response>> admin_only(services& s, const http_request& req) {
  auto token = bearer_token(req);
  if (token.empty()) co_return unauthorized("a Bearer session token is required");
  auto who = co_await s.agents.authenticate(token);
  if (!who) co_return unavailable();
  if (!*who) co_return unauthorized("invalid or expired session");
  if ((*who)->role != "admin") co_return reject(403, "forbidden", "reports need the admin role");
  co_return std::nullopt;
}

// Folds log entries (XRANGE reply) into the timeline; `message_days`, when
// given, gets the UTC days of its messages (the rebuild's rpt:active).
void fold_entries(rp::timeline& t, const store::reply& entries, std::set<std::int64_t>* message_days = nullptr) {
  for (const auto& e : entries.elements) {
    if (e.elements.size() < 2 || e.elements[1].elements.size() < 2) continue;
    auto frame = json::parse(e.elements[1].elements[1].str, nullptr, false);
    rp::fold(t, frame);
    if (message_days && frame.is_object() && frame.value("event", "") == "message")
      if (auto m = frame.find("message"); m != frame.end() && m->is_object() && (*m)["created_at"].is_number())
        message_days->insert(utc.local_day((*m)["created_at"].get<std::int64_t>()));
  }
}

// The timelines of the conversations, from the cache where it is current,
// else continued (or folded from the start) from the log and cached again.
// nullopt when Redis failed.
awaitable<std::optional<std::vector<rp::timeline>>> load_timelines(services& s, const std::vector<std::string>& ids) {
  const auto& pre = s.cfg.redis.prefix;
  std::vector<rp::timeline> out;
  out.reserve(ids.size());
  for (std::size_t first = 0; first < ids.size(); first += chunk) {
    const auto last = std::min(ids.size(), first + chunk);
    std::vector<std::vector<std::string>> cmds;
    for (auto i = first; i < last; ++i) {
      cmds.push_back(store::make_command("HGET", pre + "conv:" + ids[i], "seq"));
      cmds.push_back(store::make_command("HGET", pre + "rpt:facts", ids[i]));
    }
    auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
    if (!rows || rows->size() != 2 * (last - first)) co_return std::nullopt;
    std::vector<std::pair<std::size_t, rp::timeline>> stale;  // index into ids, timeline so far
    for (auto i = first; i < last; ++i) {
      const auto& seq = (*rows)[2 * (i - first)];
      const auto& cached = (*rows)[2 * (i - first) + 1];
      if (seq.is_nil() || seq.is_error()) continue;  // no such conversation
      std::optional<rp::timeline> t;
      if (!cached.is_nil() && !cached.is_error()) t = rp::decode(cached.str);
      if (t && t->seq >= seq.as_int()) {
        rp::add_contacts(out, std::move(*t));
        continue;
      }
      rp::timeline fresh;
      fresh.id = ids[i];
      stale.emplace_back(i, t ? std::move(*t) : std::move(fresh));
    }
    for (std::size_t k = 0; k < stale.size(); k += log_chunk) {
      const auto end = std::min(stale.size(), k + log_chunk);
      std::vector<std::vector<std::string>> reads;
      for (auto j = k; j < end; ++j)
        reads.push_back(store::make_command("XRANGE", pre + "conv:" + ids[stale[j].first] + ":log",
                                            std::to_string(stale[j].second.seq + 1), "+"));
      auto logs = co_await s.redis.exec_pipeline(std::move(reads));
      if (!logs || logs->size() != end - k) co_return std::nullopt;
      std::vector<std::vector<std::string>> writes;
      for (auto j = k; j < end; ++j) {
        auto& t = stale[j].second;
        fold_entries(t, (*logs)[j - k]);
        if (t.seq == 0) continue;  // no log (a conversation from before logs existed)
        writes.push_back(store::make_command("HSET", pre + "rpt:facts", ids[stale[j].first], rp::encode(t)));
        rp::add_contacts(out, std::move(t));
      }
      if (!writes.empty() && !co_await s.redis.exec_pipeline(std::move(writes))) co_return std::nullopt;
    }
  }
  co_return std::move(out);
}

// Customers (of those given) with a non-side conversation created before
// `before`, beyond the timelines already loaded. Their conversation lists
// and the creation index; the side check from their timelines.
awaitable<std::optional<std::set<std::string>>> customers_seen_before(services& s, const std::vector<std::string>& customers,
                                                                      std::int64_t before,
                                                                      const std::unordered_set<std::string>& loaded) {
  const auto& pre = s.cfg.redis.prefix;
  std::set<std::string> seen;
  for (std::size_t first = 0; first < customers.size(); first += chunk) {
    const auto last = std::min(customers.size(), first + chunk);
    std::vector<std::vector<std::string>> cmds;
    for (auto i = first; i < last; ++i)
      cmds.push_back(store::make_command("LRANGE", pre + "cust:" + customers[i] + ":conversations", "0", "-1"));
    auto lists = co_await s.redis.exec_pipeline(std::move(cmds));
    if (!lists || lists->size() != last - first) co_return std::nullopt;
    std::vector<std::vector<std::string>> scores;
    std::vector<std::pair<std::string, std::string>> asked;  // customer, conv
    for (auto i = first; i < last; ++i) {
      for (const auto& c : (*lists)[i - first].elements) {
        if (loaded.count(c.str)) continue;
        scores.push_back(store::make_command("ZSCORE", pre + "rpt:created", c.str));
        asked.emplace_back(customers[i], c.str);
      }
    }
    if (asked.empty()) continue;
    auto found = co_await s.redis.exec_pipeline(std::move(scores));
    if (!found || found->size() != asked.size()) co_return std::nullopt;
    std::vector<std::string> earlier;
    std::unordered_map<std::string, std::string> owner;
    for (std::size_t k = 0; k < asked.size(); ++k) {
      const auto& r = (*found)[k];
      if (r.is_nil() || r.is_error() || seen.count(asked[k].first)) continue;
      if (r.as_int() < before) {
        earlier.push_back(asked[k].second);
        owner[asked[k].second] = asked[k].first;
      }
    }
    auto timelines = co_await load_timelines(s, earlier);
    if (!timelines) co_return std::nullopt;
    for (const auto& t : *timelines)
      if (!t.side) seen.insert(owner[t.id]);
  }
  co_return std::move(seen);
}

// What the report names and times besides the timelines, read in one round
// trip: the agents' names and the teams' hours.
struct names_and_hours {
  std::map<std::string, std::string> names;
  rp::hours_of hours;
};

// The agents' names: as they are now, or a removed agent's last one, marked
// (agent_admin.lua keeps it; its id is never given to anyone else). `rows`:
// the two HGETs of each agent, in the order of `ids`.
std::map<std::string, std::string> agent_names(const std::set<std::string>& ids, std::span<const store::reply> rows) {
  std::map<std::string, std::string> names;
  std::size_t i = 0;
  for (const auto& a : ids) {
    const auto& live = rows[i++];
    const auto& removed = rows[i++];
    if (!live.is_nil() && !live.is_error() && !live.str.empty()) {
      names[a] = live.str;
    } else if (!removed.is_nil() && !removed.is_error()) {
      if (auto name = removed_agent_name(removed.str)) names[a] = *name + " (removed)";
    }
  }
  return names;
}

// The business hours of the teams, each version with the time it took effect
// (routing::hours_history_key, kept as teams are created and edited, and
// after a team is deleted). A team with no recorded history (deleted before
// histories were kept) has its hours of now, if any. `rows`: the ZRANGE of
// each team, in the order of `teams`.
rp::hours_of hours_history(services& s, const std::set<std::string>& teams, std::span<const store::reply> rows) {
  rp::hours_of out;
  auto now = s.routing ? s.routing->teams() : nullptr;  // held: the cache may be swapped meanwhile
  std::size_t i = 0;
  for (const auto& team : teams) {
    rp::hours_history versions;
    for (const auto& member : rows[i++].elements)
      if (auto v = routing::parse_hours_version(team, member.str, s.cfg.routing.zoneinfo_dir))
        versions.push_back({v->since, std::move(v->hours)});
    if (versions.empty() && now)
      for (const auto& t : *now)
        if (t.id == team) versions.push_back({0, t.hours});
    if (!versions.empty()) out.emplace(team, std::move(versions));
  }
  return out;
}

// The names of the agents and the hours of the teams the conversations were in.
awaitable<std::optional<names_and_hours>> read_names_and_hours(services& s, const std::vector<rp::timeline>& timelines) {
  const auto& pre = s.cfg.redis.prefix;
  std::set<std::string> agents, teams;
  for (const auto& t : timelines) {
    agents.insert(t.agents.begin(), t.agents.end());
    for (const auto& stay : t.teams) teams.insert(stay.team);
  }
  names_and_hours out;
  if (agents.empty() && teams.empty()) co_return out;
  std::vector<std::vector<std::string>> reads;
  for (const auto& a : agents) {
    reads.push_back(store::make_command("HGET", pre + "agent:" + a, "name"));
    reads.push_back(store::make_command("HGET", pre + "agents_removed", a));
  }
  for (const auto& t : teams) reads.push_back(store::make_command("ZRANGE", routing::hours_history_key(pre, t), "0", "-1"));
  auto rows = co_await s.redis.exec_pipeline(std::move(reads));
  if (!rows || rows->size() != 2 * agents.size() + teams.size()) co_return std::nullopt;
  const std::span<const store::reply> all(*rows);
  out.names = agent_names(agents, all.first(2 * agents.size()));
  out.hours = hours_history(s, teams, all.subspan(2 * agents.size()));
  co_return out;
}

std::optional<std::int64_t> time_param(std::string_view v, const rp::calendar& cal) {
  if (aftersales::valid_date(v)) return cal.day_start(aftersales::days_from_date(v));
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || out < 0) return std::nullopt;
  return out;
}

// The query from the request's parameters, or the 400 to answer.
std::variant<rp::query, http_response> parse_query(services& s, const http_request& req) {
  rp::query q;
  // Without tz: the shop's zone (config::shop_tz), the one campaigns and warranties use.
  if (const auto& zone = s.cfg.shop_tz) {
    q.cal.tz = zone;
    q.tz_name = zone->name();
  }
  if (auto tz = req.query_param("tz"); !tz.empty()) {
    if (tz.size() > 64) return reject(400, "invalid_field", "tz: an IANA time zone such as Asia/Tehran");
    try {
      q.cal.tz = routing::time_zone::load(tz, s.cfg.routing.zoneinfo_dir);
      q.tz_name = std::string(tz);
    } catch (const std::exception&) {
      return reject(400, "invalid_field", "tz: an IANA time zone such as Asia/Tehran, or UTC+03:30");
    }
  }
  auto to = req.query_param("to").empty() ? std::optional<std::int64_t>(now_ms()) : time_param(req.query_param("to"), q.cal);
  if (!to) return reject(400, "invalid_field", "to: ms since the epoch or a date YYYY-MM-DD");
  auto from = req.query_param("from").empty() ? std::optional<std::int64_t>(*to - 30LL * 86'400'000)
                                              : time_param(req.query_param("from"), q.cal);
  if (!from) return reject(400, "invalid_field", "from: ms since the epoch or a date YYYY-MM-DD");
  if (*from >= *to || *to - *from > max_span_ms)
    return reject(400, "invalid_field", "from must be before to, at most 366 days apart");
  q.from = *from;
  q.to = *to;
  auto group = req.query_param("group");
  if (group == "day") q.group = rp::grouping::day;
  else if (group == "week") q.group = rp::grouping::week;
  else if (!group.empty()) return reject(400, "invalid_field", "group: day or week");
  // Weeks start as they do where the report's days are; week_start overrides.
  q.cal.week_start = q.cal.tz ? rp::week_start_of(*q.cal.tz, s.cfg.routing.zoneinfo_dir, now_ms() / 1000)
                              : rp::week_start_of(q.tz_name);
  static const char* const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  if (auto ws = req.query_param("week_start"); !ws.empty()) {
    auto it = std::find(std::begin(days), std::end(days), ws);
    if (it == std::end(days)) return reject(400, "invalid_field", "week_start: sat, sun or mon (any weekday)");
    q.cal.week_start = static_cast<int>(it - std::begin(days));
  }
  q.channel = std::string(req.query_param("channel"));
  q.team = std::string(req.query_param("team"));
  q.agent = std::string(req.query_param("agent"));
  auto filter_ok = [](const std::string& v) { return v.empty() || plain_id(v); };  // empty: no filter
  if (!filter_ok(q.channel) || !filter_ok(q.team) || !filter_ok(q.agent))
    return reject(400, "invalid_field", "channel, team and agent are ids (letters, digits, _ - .)");
  return q;
}

awaitable<http_response> summary(services& s, const http_request& req) {
  if (auto err = co_await admin_only(s, req)) co_return *err;
  auto parsed = parse_query(s, req);
  if (auto* err = std::get_if<http_response>(&parsed)) co_return *err;
  auto& q = std::get<rp::query>(parsed);
  auto format = req.query_param("format");
  if (!format.empty() && format != "json" && format != "csv") co_return reject(400, "invalid_field", "format: json or csv");
  const auto& pre = s.cfg.redis.prefix;
  const auto started = std::chrono::steady_clock::now();

  // Candidates: opened in this period or the one before it (CRR's S), or a
  // contact started in them later (rpt:contacts), resolved or rated in this
  // period, or with messages on its days (the replies in conversations
  // opened long before).
  const auto span = q.to - q.from;
  const auto until = "(" + std::to_string(q.to);
  auto cmds = std::vector<std::vector<std::string>>{
      store::make_command("ZRANGEBYSCORE", pre + "rpt:created", std::to_string(q.from - span), until),
      store::make_command("ZRANGEBYSCORE", pre + "rpt:events", std::to_string(q.from), until),
      store::make_command("ZRANGEBYSCORE", pre + "rpt:active", std::to_string(utc.day_start(utc.local_day(q.from))), until),
      store::make_command("ZRANGEBYSCORE", pre + "rpt:contacts", std::to_string(utc.day_start(utc.local_day(q.from - span))),
                          until)};
  auto index = co_await s.redis.exec_pipeline(std::move(cmds));
  if (!index || index->size() != 4) co_return unavailable();
  std::vector<std::string> ids;
  std::unordered_set<std::string> loaded;
  for (const auto& r : (*index)[0].elements)
    if (loaded.insert(r.str).second) ids.push_back(r.str);
  for (std::size_t k = 1; k < 4; ++k)
    for (const auto& r : (*index)[k].elements) {
      auto id = r.str.substr(0, r.str.find('|'));
      if (loaded.insert(id).second) ids.push_back(std::move(id));
    }
  if (ids.size() > max_conversations)
    co_return reject(413, "too_many_conversations", "more than 500000 conversations: choose a shorter period");
  auto timelines = co_await load_timelines(s, ids);
  if (!timelines) co_return unavailable();

  // Customers of the period not known from the timelines to have written before.
  std::unordered_set<std::string> known;
  std::vector<std::string> unknown;
  for (const auto& t : *timelines)
    if (!t.side && t.created_at < q.from && !t.customer.empty()) known.insert(t.customer);
  std::unordered_set<std::string> listed;
  for (const auto& t : *timelines)
    if (!t.side && t.created_at >= q.from && t.created_at < q.to && !t.customer.empty() && !known.count(t.customer) &&
        listed.insert(t.customer).second)
      unknown.push_back(t.customer);
  auto returning = co_await customers_seen_before(s, unknown, q.from, loaded);
  if (!returning) co_return unavailable();

  auto named = co_await read_names_and_hours(s, *timelines);
  if (!named) co_return unavailable();

  auto report = rp::build(*timelines, q, named->hours, *returning, named->names);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  report["scanned"] = timelines->size();
  spdlog::get("gateway")->debug("report: {} conversations scanned in {} ms", timelines->size(), ms);
  if (format == "csv") {
    http_response resp{200, "text/csv; charset=utf-8", rp::to_csv(report), {}};
    resp.headers.emplace_back("Content-Disposition", "attachment; filename=\"pasokh-report.csv\"");
    co_return resp;
  }
  co_return json_response(200, report.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The time index of a conversation's contacts, as the scripts write it: its
// first contact in rpt:created, each later one in rpt:contacts, every resolve
// and rating in rpt:events. Answers the number of events.
std::int64_t index_contacts(const std::string& pre, rp::timeline t, std::vector<std::vector<std::string>>& writes) {
  std::vector<rp::timeline> contacts;
  rp::add_contacts(contacts, std::move(t));
  std::int64_t events = 0;
  auto event = [&](const std::string& conv, std::int64_t at) {
    writes.push_back(store::make_command("ZADD", pre + "rpt:events", std::to_string(at), conv + "|" + std::to_string(at)));
    ++events;
  };
  for (std::size_t i = 0; i < contacts.size(); ++i) {
    const auto& c = contacts[i];
    if (c.created_at > 0 && i == 0)
      writes.push_back(store::make_command("ZADD", pre + "rpt:created", std::to_string(c.created_at), c.id));
    if (c.created_at > 0 && i > 0) {
      const auto day = utc.local_day(c.created_at);
      writes.push_back(store::make_command("ZADD", pre + "rpt:contacts", std::to_string(utc.day_start(day)), day_member(c.id, day)));
    }
    for (const auto& seg : c.resolutions) event(c.id, seg.end);
    if (c.csat_at > 0) event(c.id, c.csat_at);
  }
  return events;
}

// Every conversation's timeline folded again from its log, and the time
// index written from them (idempotent: the same members the scripts write).
awaitable<http_response> rebuild(services& s, const http_request& req) {
  if (auto err = co_await admin_only(s, req)) co_return *err;
  const auto& pre = s.cfg.redis.prefix;
  const auto started = std::chrono::steady_clock::now();
  auto last = co_await s.redis.exec(store::make_command("GET", pre + "next:conversation"));
  if (!last || last->is_error()) co_return unavailable();
  const auto n = last->as_int();
  std::int64_t conversations = 0, events = 0;
  for (std::int64_t first = 1; first <= n; first += static_cast<std::int64_t>(log_chunk)) {
    std::vector<std::vector<std::string>> reads;
    std::vector<std::string> ids;
    for (auto i = first; i < first + static_cast<std::int64_t>(log_chunk) && i <= n; ++i) {
      ids.push_back("cv_" + std::to_string(i));
      reads.push_back(store::make_command("XRANGE", pre + "conv:" + ids.back() + ":log", "-", "+"));
    }
    auto logs = co_await s.redis.exec_pipeline(std::move(reads));
    if (!logs || logs->size() != ids.size()) co_return unavailable();
    std::vector<std::vector<std::string>> writes;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      rp::timeline t;
      t.id = ids[k];
      std::set<std::int64_t> message_days;
      fold_entries(t, (*logs)[k], &message_days);
      if (t.seq == 0) continue;
      ++conversations;
      for (auto day : message_days)
        writes.push_back(store::make_command("ZADD", pre + "rpt:active", std::to_string(utc.day_start(day)), day_member(t.id, day)));
      writes.push_back(store::make_command("HSET", pre + "rpt:facts", t.id, rp::encode(t)));
      events += index_contacts(pre, std::move(t), writes);
    }
    if (!writes.empty() && !co_await s.redis.exec_pipeline(std::move(writes))) co_return unavailable();
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  spdlog::get("gateway")->info("reports rebuilt from the logs: {} conversations, {} events in {} ms", conversations, events, ms);
  co_return json_response(200, json{{"conversations", conversations}, {"events", events}, {"ms", ms}}.dump());
}

}  // namespace

void add_report_routes(router& r, services& s) {
  r.add("GET", "/api/v1/reports/summary", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return co_await summary(s, req);
  });
  r.add("POST", "/api/v1/admin/reports/rebuild", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return co_await rebuild(s, req);
  });
}

}  // namespace pasokh::gateway
