#pragma once
// Reports (issue 8), computed from the conversation event logs so they can be
// rebuilt: each conversation's log is folded into a timeline of raw instants
// (cached per conversation, continued from where it stopped when new events
// arrive), and the figures apply the team's business hours to those instants
// at report time. The pure parts are here (unit-tested in tests/unit/reports/);
// reports_api.cpp reads Redis and serves the routes.
//
// Rules (also in the report's "rules" member):
//   clock start  when the conversation reaches the queue or a person (a
//                status other than bot); time with the bot does not count.
//   first response  business time from the clock start to the first agent
//                reply; measured once per contact, in the period it opened.
//   resolution   per resolved segment: from the clock start to the first
//                resolve, then from each reopen to the next resolve; each
//                segment counts in the period of its resolve.
//   responses    every agent reply that answers a waiting customer: business
//                time from the first unanswered customer message (or the
//                clock start, if later) to the reply.
//   business time  the open hours of the team the conversation was in when
//                the reply or resolve happened (its time zone, weekly hours,
//                minus holidays), as they were at each instant counted (a
//                change of hours or the team's removal leaves the past as it
//                was); a team without hours is always open.
//   contacts     a conversation is a contact from when it opened; a customer
//                answering our campaign message starts one (not a reopen), in
//                the conversation the message opened or in a resolved one.
//   teams        a conversation counts for every team it passed through;
//                replies, first responses, resolves and ratings for the
//                team it was in when they happened.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/routing/business_hours.hpp"
#include "pasokh/routing/routing_config.hpp"

namespace pasokh::gateway {

// GET /api/v1/reports/summary, POST /api/v1/admin/reports/rebuild.
void add_report_routes(router& r, services& s);

namespace reports {

struct agent_reply {
  std::string agent;
  std::int64_t at = 0;
  std::int64_t waiting_since = 0;  // the customer's unanswered message (or the clock start); 0: a follow-up
};
struct team_stay {
  std::string team;
  std::int64_t since = 0;  // when the conversation came to the team
};
struct assignment {
  std::string agent;
  std::int64_t at = 0;
};
struct resolved_segment {
  std::int64_t start = 0, end = 0;
  std::string agent;  // the assignee when it was resolved
};

// One conversation folded from its log (raw instants, ms).
struct timeline {
  std::string id, channel, customer;
  std::vector<team_stay> teams;  // every team it was in, in order (a transfer adds one); the last: its team now
  std::int64_t seq = 0;  // the last log entry folded in
  std::int64_t created_at = 0;  // opened; a campaign's conversation: when the customer answered it
  std::int64_t clock_start = 0;  // reached the queue or a person; 0: never (bot only)
  std::int64_t first_response_at = 0;
  std::string first_responder;
  bool bot = false;   // opened with the bot
  bool side = false;  // only a CSAT reply (a rating, feedback), an opt-out or an unanswered campaign message: not a contact
  bool sla_first = false, sla_resolve = false;  // which targets it has (first response, resolution)
  std::int64_t first_breached_at = 0, resolution_breached_at = 0;  // when the breach was logged; 0: never
  int reopens = 0;
  std::vector<agent_reply> replies;
  std::vector<resolved_segment> resolutions;
  std::vector<std::string> agents;  // every agent assigned to it or replying, in order of first appearance
  std::vector<assignment> assignments;  // each time it was given to a person (a new assignee), in order
  std::int64_t csat_asked_at = 0, csat_at = 0;
  int csat_rating = 0;
  std::string csat_agent;
  bool csat_complaint = false;  // the rating's comment complains about the service (bot/csat_comment.hpp)
  // Fold state, so a cached timeline continues with the next events.
  std::string status;
  std::int64_t segment_start = 0, waiting_since = 0;
  bool campaign_sent = false;  // our campaign message came while it was resolved: the customer's reopen answers it
  // The contacts before this one in the same conversation, oldest first: a
  // customer answering our campaign message in a resolved conversation starts
  // a new one (this timeline), the earlier staying as it was.
  std::vector<timeline> earlier;
};

// The team the conversation was in at `at` (the first one before it came to any).
const std::string& team_at(const timeline& t, std::int64_t at);
// The teams it was in before `before`, each once (its first team always).
std::vector<std::string> teams_before(const timeline& t, std::int64_t before);

// Folds one log frame (`{"type":"event","seq":..,"event":..,"conversation":{..},..}`) in.
void fold(timeline& t, const nlohmann::json& frame);
// The conversation's contacts as the report counts them, each a timeline of
// its own: `t`'s earlier ones, then `t`; appended to `out`.
void add_contacts(std::vector<timeline>& out, timeline t);
// The compact cache form and back (nullopt for a damaged or old entry: refold).
std::string encode(const timeline& t);
std::optional<timeline> decode(std::string_view text);

// Nearest-rank percentile (p in (0,100]); 0 when empty.
std::int64_t percentile(std::vector<std::int64_t> values, double p);

// Where a report's days begin (its dates and day/week buckets).
struct calendar {
  std::shared_ptr<const routing::time_zone> tz;  // null: UTC
  int week_start = 1;                            // 0 Sunday .. 6 Saturday
  std::int64_t local_day(std::int64_t utc_ms) const;   // days since 1970-01-01, local
  std::int64_t day_start(std::int64_t local_day) const;  // UTC ms of local midnight
  std::string local_time(std::int64_t utc_ms) const;     // "YYYY-MM-DD HH:MM", local
};
// The first day of the week (0 Sunday .. 6 Saturday) where the IANA zone is, as
// CLDR has it for its country: Saturday in Iran, Afghanistan and most Arab
// countries, Sunday in Saudi Arabia and Yemen, else Monday (ISO).
int week_start_of(std::string_view zone);
// The same for a loaded zone, whatever it was called: an alias (a link in
// `zoneinfo_dir`, e.g. Iran -> Asia/Tehran) as the zone it names, and a
// fixed UTC+03:30 or +04:30 (Iran's and Afghanistan's offsets at `now_s`,
// no one else's) Saturday.
int week_start_of(const routing::time_zone& tz, const std::string& zoneinfo_dir, std::int64_t now_s);
enum class grouping { none, day, week };
// The buckets covering [from, to): each [start, next start), the first
// clipped to `from`, labelled by its local date YYYY-MM-DD.
struct bucket {
  std::int64_t start = 0, end = 0;
  std::string label;
};
std::vector<bucket> buckets(const calendar& cal, grouping g, std::int64_t from, std::int64_t to);

struct query {
  std::int64_t from = 0, to = 0;
  std::string channel, team, agent;  // filters; "" = all
  grouping group = grouping::none;
  calendar cal;
  std::string tz_name = "UTC";
};

// A team's business hours over time: the versions oldest first, each in
// force from its `since` to the next one's (the first also before it).
using hours_history = std::vector<routing::hours_version>;
// Team id -> its hours history (teams missing here are always open).
using hours_of = std::map<std::string, hours_history>;
// Open time in [a, b): each part of it in the version in force then.
std::int64_t business_time(const hours_history& versions, std::int64_t a, std::int64_t b);

// The report over `q` from the timelines of every conversation that may
// count (created in [from − L, to), L = to − from, or resolved or rated in
// [from, to)). `returning`: customers with a contact (a non-side
// conversation) before `from`, beyond the timelines given. `agent_names`
// label the agents.
nlohmann::json build(const std::vector<timeline>& convs, const query& q, const hours_of& hours,
                     const std::set<std::string>& returning, const std::map<std::string, std::string>& agent_names);

// The report as CSV (metric,key,value), UTF-8 with a BOM (Excel shows
// Persian and Arabic), text cells quoted and defused against formulas.
std::string to_csv(const nlohmann::json& report);
// One CSV text cell: quoted, "" escaped, a leading = + - @ tab or CR
// prefixed with ' so a spreadsheet never runs it.
std::string csv_text(std::string_view s);

}  // namespace reports
}  // namespace pasokh::gateway
