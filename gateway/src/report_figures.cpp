// Report figures from conversation timelines: business-hours durations,
// percentiles, day/week buckets, per-agent figures, CRR, and the CSV form.
// No I/O here.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "pasokh/gateway/reports.hpp"
#include "pasokh/routing/time_zone.hpp"

namespace pasokh::gateway::reports {
namespace {

using nlohmann::json;

constexpr std::int64_t day_ms = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string date_label(std::int64_t day) {
  int y;
  unsigned m, d;
  routing::civil_from_days(day, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

double round2(double x) { return std::round(x * 100.0) / 100.0; }
json ratio(std::int64_t part, std::int64_t whole) {
  return whole ? json(round2(100.0 * static_cast<double>(part) / static_cast<double>(whole))) : json(nullptr);
}
json average(std::int64_t sum, std::int64_t n) {
  return n ? json(round2(static_cast<double>(sum) / static_cast<double>(n))) : json(nullptr);
}
bool has_sla(const timeline& c) { return c.sla_first || c.sla_resolve; }
bool happened_before(std::int64_t at, std::int64_t end) { return at && at < end; }

// A conversation's SLA as of `end` (the end of the report's period, so an
// old period reads the same later): breached when a breach was logged before
// it; pending while a target it has was still running (no first response yet,
// or not resolved yet; its resolve ends both, as for the breach timers); met
// otherwise.
enum class sla_state { met, breached, pending };
sla_state sla_as_of(const timeline& c, std::int64_t end) {
  if (happened_before(c.first_breached_at, end) || happened_before(c.resolution_breached_at, end)) return sla_state::breached;
  const bool resolved = !c.resolutions.empty() && c.resolutions.front().end < end;
  if (!resolved && (c.sla_resolve || (c.sla_first && !happened_before(c.first_response_at, end)))) return sla_state::pending;
  return sla_state::met;
}

json median_or_null(const std::vector<std::int64_t>& v) { return v.empty() ? json(nullptr) : json(percentile(v, 50)); }

json timing(const std::vector<std::int64_t>& v) {
  if (v.empty()) return {{"count", 0}, {"median_ms", nullptr}, {"p90_ms", nullptr}, {"average_ms", nullptr}};
  std::int64_t sum = 0;
  for (auto x : v) sum += x;
  return {{"count", v.size()},
          {"median_ms", percentile(v, 50)},
          {"p90_ms", percentile(v, 90)},
          {"average_ms", sum / static_cast<std::int64_t>(v.size())}};
}

struct agent_figures {
  std::int64_t conversations = 0, replies = 0, resolved = 0, rated = 0, rating_sum = 0;
  std::vector<std::int64_t> first_response, responses;
};

struct point {
  std::int64_t conversations = 0, resolved = 0, replies = 0, rated = 0, rating_sum = 0;
  std::vector<std::int64_t> first_response, resolution;
};

const char* const rules_text[][2] = {
    {"clock_start", "the clock starts when the conversation reaches the queue or a person; time with the bot does not count"},
    {"business_time", "durations count the open hours of the team the conversation was in when the reply or resolve happened (time zone, weekly hours, minus holidays), "
                      "as they were at each instant counted: changing a team's hours or deleting it leaves past figures as they were; a team without hours is always open"},
    {"teams", "a conversation counts for every team it passed through (by_team, the team filter; by_team can add up to more than the total); "
              "each reply, first response, resolve and rating counts for the team the conversation was in when it happened; "
              "under the team filter, an agent's conversations are those they were assigned, replied in or resolved while it was in the team"},
    {"first_response", "from the clock start to the first agent reply, once per contact, in the period it opened"},
    {"resolution", "per resolved segment: clock start to the first resolve, then each reopen to the next resolve; counted in the period of the resolve"},
    {"responses", "every agent reply that answers a waiting customer: from the first unanswered customer message (or the clock start) to the reply; "
                  "automatic mail (out-of-office replies, bounces) waits for nobody; an agent's follow-up on a resolved "
                  "conversation is a reply, but no first response and no clock start"},
    {"contacts", "a conversation counts in the period it opened; one our campaign opened, from the customer's answer on "
                 "(unanswered, or only a rating or an opt-out, it is no contact); a customer answering our campaign message in "
                 "an earlier, resolved conversation starts a contact there then (not a reopen; the earlier one stays in its period)"},
    {"sla", "conversations with SLA targets opened in the period, as they stood at the period's end: breached when a first-response "
            "or resolution SLA breach was logged by then; pending when not breached and a target was still running (no first "
            "response yet, or not resolved yet; the resolve ends both); met otherwise. "
            "met_rate = met / (met + breached): pending ones are not counted"},
    {"csat", "asked: surveys sent in the period; asked_rated: of those, the ones rated (up to now, so never more than asked); "
             "responses, average and distribution: the ratings received in the period; complaints: of those, the ones "
             "whose comment complains about the service and asks nothing (\"the agent was rude\"), whatever the rating: "
             "cases to look at, closed with a thank-you and never reopened by the comment; "
             "under the agent filter, the surveys and ratings about that agent (who had the conversation when it was asked)"},
    {"deflection", "conversations opened with the bot that ended (resolved, also by the bot when the customer left it) "
                   "without reaching the queue or a person; one still with the bot is not counted yet"},
    {"crr", "CRR = retained / S x 100, at most 100%: of the customers of the period before, the share who came back. "
            "S: customers with a conversation in the period of the same length before `from`; E: customers with a "
            "conversation in [from, to); retained: those of E also in S; new: those of E with no conversation ever "
            "before `from`; reactivated: those of E who wrote before but not in S's period (dormant, back). "
            "E = retained + new + reactivated"},
};

// The agents who worked on the conversation: under a team filter, those who
// were assigned it, replied in it or resolved it while it was in that team
// (one who had it only in another team is no row of this team's report); all
// of them without one.
std::vector<std::string> agents_of(const timeline& c, const std::string& team) {
  if (team.empty()) return c.agents;
  std::vector<std::string> out;
  auto add = [&](const std::string& agent, std::int64_t at) {
    if (!agent.empty() && team_at(c, at) == team && std::find(out.begin(), out.end(), agent) == out.end()) out.push_back(agent);
  };
  for (const auto& a : c.assignments) add(a.agent, a.at);
  for (const auto& r : c.replies) add(r.agent, r.at);
  for (const auto& z : c.resolutions) add(z.agent, z.end);
  return out;
}

// Deflected: the bot's conversation ended without a person. One still with
// the bot (the customer may yet ask for one) is in progress, not deflected.
bool deflected_by_bot(const timeline& c) {
  return !c.clock_start && (c.status == "resolved" || c.status == "closed");
}

}  // namespace

std::int64_t percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

std::int64_t business_time(const hours_history& versions, std::int64_t a, std::int64_t b) {
  std::int64_t total = 0;
  for (std::size_t i = 0; i < versions.size() && a < b; ++i) {
    // Version i is in force until the next one starts (the last: for good).
    const auto until = i + 1 < versions.size() ? std::min(b, versions[i + 1].since) : b;
    if (until <= a) continue;
    const auto& h = versions[i].hours;
    total += h.always_open() ? until - a : h.open_between(a, until);
    a = until;
  }
  return total + (versions.empty() ? b - a : 0);
}

std::int64_t calendar::local_day(std::int64_t utc_ms) const {
  auto s = floor_div(utc_ms, 1000);
  return floor_div(s + (tz ? tz->offset_at(s) : 0), 86400);
}

std::string calendar::local_time(std::int64_t utc_ms) const {
  auto s = floor_div(utc_ms, 1000);
  auto local = s + (tz ? tz->offset_at(s) : 0);
  auto minute_of_day = floor_div(local, 60) - floor_div(local, 86400) * 1440;
  return fmt::format("{} {:02}:{:02}", date_label(floor_div(local, 86400)), minute_of_day / 60, minute_of_day % 60);
}

std::int64_t calendar::day_start(std::int64_t day) const {
  return tz ? tz->to_utc(day * 86400) * 1000 : day * day_ms;
}

namespace {

std::optional<int> listed_week_start(std::string_view zone) {
  static constexpr std::string_view saturday[] = {"Asia/Tehran", "Asia/Kabul", "Asia/Baghdad", "Asia/Kuwait", "Asia/Qatar",
                                                  "Asia/Bahrain", "Asia/Muscat", "Asia/Amman", "Asia/Damascus",
                                                  "Africa/Cairo", "Africa/Tripoli", "Africa/Algiers", "Africa/Khartoum"};
  static constexpr std::string_view sunday[] = {"Asia/Riyadh", "Asia/Aden"};
  if (std::find(std::begin(saturday), std::end(saturday), zone) != std::end(saturday)) return 6;
  if (std::find(std::begin(sunday), std::end(sunday), zone) != std::end(sunday)) return 0;
  return std::nullopt;
}

// The zone an alias in `dir` links to ("Iran" -> "Asia/Tehran"); "" when it is none.
std::string linked_zone(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const auto link = std::filesystem::path(dir) / name;
  if (!std::filesystem::is_symlink(link, ec)) return {};
  auto target = std::filesystem::canonical(link, ec);
  if (ec) return {};
  auto base = std::filesystem::canonical(dir, ec);
  if (ec) return {};
  return target.lexically_relative(base).generic_string();
}

}  // namespace

int week_start_of(std::string_view zone) { return listed_week_start(zone).value_or(1); }

int week_start_of(const routing::time_zone& tz, const std::string& zoneinfo_dir, std::int64_t now_s) {
  if (auto listed = listed_week_start(tz.name())) return *listed;
  if (auto linked = listed_week_start(linked_zone(zoneinfo_dir, tz.name()))) return *linked;
  // Iran's and Afghanistan's offsets are theirs alone: a fixed UTC+03:30 is Iran.
  const int offset = tz.offset_at(now_s);
  return offset == 12600 || offset == 16200 ? 6 : 1;
}

std::vector<bucket> buckets(const calendar& cal, grouping g, std::int64_t from, std::int64_t to) {
  std::vector<bucket> out;
  if (g == grouping::none || to <= from) return out;
  auto day = cal.local_day(from);
  if (g == grouping::week) {
    auto weekday = ((day % 7) + 11) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
    day -= (weekday - cal.week_start + 7) % 7;
  }
  const int step = g == grouping::week ? 7 : 1;
  for (; cal.day_start(day) < to; day += step) {
    auto start = std::max(cal.day_start(day), from), end = std::min(cal.day_start(day + step), to);
    if (end > start) out.push_back({start, end, date_label(cal.local_day(start))});
  }
  return out;
}

json build(const std::vector<timeline>& convs, const query& q, const hours_of& hours,
           const std::set<std::string>& returning_before, const std::map<std::string, std::string>& agent_names) {
  const auto from = q.from, to = q.to, span = to - from;
  auto in = [&](std::int64_t x) { return x >= from && x < to; };
  // Business time in the hours of the team the conversation was in at `b`
  // (when the reply or resolve happened).
  auto business = [&](const timeline& c, std::int64_t a, std::int64_t b) -> std::int64_t {
    if (b <= a) return 0;
    auto it = hours.find(team_at(c, b));
    return it == hours.end() ? b - a : business_time(it->second, a, b);
  };
  const auto series_buckets = buckets(q.cal, q.group, from, to);
  std::vector<point> points(series_buckets.size());
  auto point_at = [&](std::int64_t x) -> point* {
    auto it = std::upper_bound(series_buckets.begin(), series_buckets.end(), x,
                               [](std::int64_t v, const bucket& b) { return v < b.start; });
    if (it == series_buckets.begin()) return nullptr;
    --it;
    return x < it->end ? &points[static_cast<std::size_t>(it - series_buckets.begin())] : nullptr;
  };
  const bool by_agent = !q.agent.empty();

  std::int64_t total = 0, bot_started = 0, deflected = 0, asked = 0, rated = 0, rating_sum = 0;
  std::int64_t sla_total = 0, sla_breached = 0, sla_pending_count = 0, first_breached = 0, resolution_breached = 0, reopened = 0;
  std::int64_t asked_rated = 0, complaints = 0;
  json by_channel = json::object(), by_team = json::object();
  std::map<int, std::int64_t> dist = {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}};
  std::vector<std::int64_t> first_response, resolution, responses;
  std::map<std::string, agent_figures> agents;
  std::unordered_map<std::string, std::int64_t> contacts;  // conversations per customer in the period
  std::set<std::string> at_start, at_end, returning = returning_before;

  for (const auto& c : convs) {
    if (c.side || c.created_at <= 0) continue;
    if (!c.customer.empty() && c.created_at < from) returning.insert(c.customer);
    if (!q.channel.empty() && c.channel != q.channel) continue;
    if (!q.team.empty()) {
      const auto teams = teams_before(c, to);
      if (std::find(teams.begin(), teams.end(), q.team) == teams.end()) continue;
    }
    // With a team filter, what happened while the conversation was in another team is not counted.
    auto team_ok = [&](std::int64_t x) { return q.team.empty() || team_at(c, x) == q.team; };
    if (by_agent && std::find(c.agents.begin(), c.agents.end(), q.agent) == c.agents.end()) continue;
    if (!c.customer.empty() && c.created_at >= from - span && c.created_at < from) at_start.insert(c.customer);

    if (in(c.created_at)) {
      ++total;
      if (!c.customer.empty()) {
        at_end.insert(c.customer);
        ++contacts[c.customer];
      }
      by_channel[c.channel] = by_channel.value(c.channel, 0) + 1;
      for (const auto& team : teams_before(c, to)) by_team[team] = by_team.value(team, 0) + 1;
      if (c.bot) {
        ++bot_started;
        if (deflected_by_bot(c)) ++deflected;
      }
      if (has_sla(c)) {
        ++sla_total;
        const auto sla = sla_as_of(c, to);
        if (sla == sla_state::breached) ++sla_breached;
        if (sla == sla_state::pending) ++sla_pending_count;
        if (happened_before(c.first_breached_at, to)) ++first_breached;
        if (happened_before(c.resolution_breached_at, to)) ++resolution_breached;
      }
      auto* p = point_at(c.created_at);
      if (p) ++p->conversations;
      for (const auto& a : agents_of(c, q.team))
        if (!by_agent || a == q.agent) ++agents[a].conversations;
      if (c.first_response_at && c.clock_start && team_ok(c.first_response_at)) {
        auto v = business(c, c.clock_start, c.first_response_at);
        first_response.push_back(v);
        if (p) p->first_response.push_back(v);
        if (!by_agent || c.first_responder == q.agent) agents[c.first_responder].first_response.push_back(v);
      }
    }
    for (std::size_t i = 0; i < c.resolutions.size(); ++i) {
      const auto& seg = c.resolutions[i];
      if (!in(seg.end) || (by_agent && seg.agent != q.agent) || !team_ok(seg.end)) continue;
      auto v = business(c, seg.start, seg.end);
      resolution.push_back(v);
      if (i > 0) ++reopened;
      if (!seg.agent.empty()) ++agents[seg.agent].resolved;
      if (auto* p = point_at(seg.end)) {
        ++p->resolved;
        p->resolution.push_back(v);
      }
    }
    for (const auto& r : c.replies) {
      if (!in(r.at) || (by_agent && r.agent != q.agent) || !team_ok(r.at)) continue;
      auto& a = agents[r.agent];
      ++a.replies;
      if (auto* p = point_at(r.at)) ++p->replies;
      if (!r.waiting_since) continue;
      auto v = business(c, r.waiting_since, r.at);
      a.responses.push_back(v);
      responses.push_back(v);
    }
    if (in(c.csat_asked_at) && (!by_agent || c.csat_agent == q.agent) && team_ok(c.csat_asked_at)) {
      ++asked;
      if (c.csat_rating >= 1 && c.csat_rating <= 5) ++asked_rated;  // rated since, whenever: never more than asked
    }
    if (c.csat_rating >= 1 && c.csat_rating <= 5 && in(c.csat_at) && (!by_agent || c.csat_agent == q.agent) &&
        team_ok(c.csat_at)) {
      ++rated;
      rating_sum += c.csat_rating;
      if (c.csat_complaint) ++complaints;
      ++dist[c.csat_rating];
      if (!c.csat_agent.empty()) {
        ++agents[c.csat_agent].rated;
        agents[c.csat_agent].rating_sum += c.csat_rating;
      }
      if (auto* p = point_at(c.csat_at)) {
        ++p->rated;
        p->rating_sum += c.csat_rating;
      }
    }
  }

  // Of E: retained (in S too), reactivated (wrote before S's period only), new (never wrote before).
  std::int64_t retained = 0, reactivated = 0, new_customers = 0;
  for (const auto& id : at_end) {
    if (at_start.count(id)) ++retained;
    else if (returning.count(id)) ++reactivated;
    else ++new_customers;
  }
  const auto s = static_cast<std::int64_t>(at_start.size()), e = static_cast<std::int64_t>(at_end.size());
  std::int64_t repeat = 0;
  for (const auto& [id, n] : contacts)
    if (n > 1) ++repeat;

  const auto sla_met = sla_total - sla_breached - sla_pending_count;
  json agents_json = json::object();
  for (const auto& [id, a] : agents) {
    if (id.empty()) continue;
    auto name = agent_names.find(id);
    agents_json[id] = {{"name", name != agent_names.end() ? name->second : id},
                       {"conversations", a.conversations},
                       {"replies", a.replies},
                       {"resolved", a.resolved},
                       {"first_response_median_ms", median_or_null(a.first_response)},
                       {"response_median_ms", median_or_null(a.responses)},
                       {"response_p90_ms", a.responses.empty() ? json(nullptr) : json(percentile(a.responses, 90))},
                       {"csat_responses", a.rated},
                       {"csat_average", average(a.rating_sum, a.rated)}};
  }
  json dist_json = json::object();
  for (auto [k, v] : dist) dist_json[std::to_string(k)] = v;
  json rules = json::object();
  for (const auto& r : rules_text) rules[r[0]] = r[1];
  json resolution_json = timing(resolution);
  resolution_json["reopened"] = reopened;

  json out = {
      {"from", from},
      {"to", to},
      {"tz", q.tz_name},
      // The same instants as people read them (a spreadsheet shows ms as 1.79E+12).
      {"from_date", q.cal.local_time(from)},
      {"to_date", q.cal.local_time(to)},
      {"filters", {{"channel", q.channel}, {"team", q.team}, {"agent", q.agent}}},
      {"conversations", {{"total", total}, {"by_channel", by_channel}, {"by_team", by_team}}},
      {"first_response", timing(first_response)},
      {"resolution", resolution_json},
      {"responses", timing(responses)},
      {"csat",
       {{"asked", asked},
        {"asked_rated", asked_rated},
        {"responses", rated},
        {"average", average(rating_sum, rated)},
        {"complaints", complaints},
        {"distribution", dist_json}}},
      {"agents", agents_json},
      {"sla",
       {{"conversations", sla_total},
        {"met", sla_met},
        {"breached", sla_breached},
        {"pending", sla_pending_count},
        {"first_response_breached", first_breached},
        {"resolution_breached", resolution_breached},
        {"met_rate", ratio(sla_met, sla_met + sla_breached)}}},
      {"repeat_contacts", {{"customers", repeat}, {"rate", ratio(repeat, static_cast<std::int64_t>(contacts.size()))}}},
      {"bot", {{"conversations", bot_started}, {"deflected", deflected}, {"deflection_rate", ratio(deflected, bot_started)}}},
      {"retention",
       {{"customers_at_start", s},
        {"customers_at_end", e},
        {"retained_customers", retained},
        {"new_customers", new_customers},
        {"reactivated_customers", reactivated},
        {"crr", ratio(retained, s)},
        {"definition", rules["crr"]}}},
      {"rules", rules},
  };
  if (q.group != grouping::none) {
    json list = json::array();
    for (std::size_t i = 0; i < series_buckets.size(); ++i) {
      const auto& b = series_buckets[i];
      const auto& p = points[i];
      list.push_back({{"start", b.start},
                      {"end", b.end},
                      {"date", b.label},
                      {"conversations", p.conversations},
                      {"first_response_median_ms", median_or_null(p.first_response)},
                      {"resolved", p.resolved},
                      {"resolution_median_ms", median_or_null(p.resolution)},
                      {"replies", p.replies},
                      {"csat_average", average(p.rating_sum, p.rated)}});
    }
    out["series"] = {{"group", q.group == grouping::day ? "day" : "week"}, {"points", std::move(list)}};
  }
  return out;
}

std::string csv_text(std::string_view s) {
  std::string q = "\"";
  if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    q += '\'';
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string to_csv(const json& r) {
  std::string out = "\xEF\xBB\xBFmetric,key,value\r\n";
  auto cell = [](const json& v) {
    if (v.is_null()) return std::string{};
    if (v.is_string()) return csv_text(v.get<std::string>());
    return v.dump();
  };
  auto row = [&](std::string_view metric, const std::string& key, const json& v) {
    out += fmt::format("{},{},{}\r\n", metric, csv_text(key), cell(v));
  };
  row("period", "from", r["from"]);
  row("period", "to", r["to"]);
  row("period", "from_date", r["from_date"]);
  row("period", "to_date", r["to_date"]);
  row("period", "tz", r["tz"]);
  for (auto& [k, v] : r["filters"].items())
    if (!v.get<std::string>().empty()) row("filter", k, v);
  row("conversations", "total", r["conversations"]["total"]);
  for (auto& [k, v] : r["conversations"]["by_channel"].items()) row("conversations_by_channel", k, v);
  for (auto& [k, v] : r["conversations"]["by_team"].items()) row("conversations_by_team", k, v);
  for (const char* m : {"first_response", "resolution", "responses"})
    for (auto& [k, v] : r[m].items()) row(m, k, v);
  for (const char* k : {"asked", "asked_rated", "responses", "average", "complaints"}) row("csat", k, r["csat"][k]);
  for (auto& [k, v] : r["csat"]["distribution"].items()) row("csat_distribution", k, v);
  for (auto& [k, v] : r["bot"].items()) row("bot", k, v);
  for (auto& [k, v] : r["sla"].items()) row("sla", k, v);
  for (auto& [k, v] : r["repeat_contacts"].items()) row("repeat_contacts", k, v);
  for (auto& [agent, figures] : r["agents"].items())
    for (auto& [k, v] : figures.items()) row("agent_" + k, agent, v);
  for (const char* k : {"customers_at_start", "customers_at_end", "retained_customers", "new_customers", "reactivated_customers", "crr"})
    row("retention", k, r["retention"][k]);
  if (r.contains("series"))
    for (const auto& p : r["series"]["points"])
      for (const char* k : {"conversations", "first_response_median_ms", "resolved", "resolution_median_ms", "replies", "csat_average"})
        row(std::string("series_") + k, p["date"].get<std::string>(), p[k]);
  return out;
}

}  // namespace pasokh::gateway::reports
