#pragma once
// Routing configuration and the pure routing decisions: teams (strategy,
// skills, languages, business hours, SLA), rules choosing a team, queue
// priority. Parsed from the "routing" section of the config file; teams are
// also edited by admins at run time (stored in Redis, same JSON form).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/routing/business_hours.hpp"

namespace pasokh::routing {

struct sla_policy {
  std::chrono::seconds first_response{0};  // 0: no target
  std::chrono::seconds resolution{0};
  std::chrono::seconds warn_before{0};     // warning this much business time before the breach
};

struct team_def {
  std::string id;
  std::string name;
  std::string strategy = "least_loaded";  // or "round_robin"
  std::vector<std::string> skills;        // bot topic tags the team handles (warranty, returns, repair, ...)
  std::vector<std::string> languages;     // fa, ar, en; empty: any
  std::string timezone;                   // IANA name or UTC+hh:mm; empty with no hours: always open
  business_hours hours;
  std::vector<std::string> holiday_dates; // YYYY-MM-DD as given
  sla_policy sla;
  std::map<std::string, std::string> closed_message;  // language -> text; built-in defaults otherwise
};

struct routing_rule {
  std::vector<std::string> channels, languages, tags;  // empty: any
  std::optional<bool> vip;
  std::string team;      // where a match goes
  std::string priority;  // "" keeps it; low | normal | high | urgent
};

struct routing_config {
  int default_capacity = 5;                     // open conversations per agent, unless set per agent
  std::chrono::seconds presence_ttl{45};        // a session without a heartbeat for this long is gone
  std::chrono::seconds reassign_after{300};     // no agent reply this long after assignment: offered to another
  std::chrono::seconds reopen_window{0};        // a customer writing this soon after resolve reopens it (0: never, a new one opens)
  std::chrono::seconds bot_idle_resolve{86400}; // a bot conversation without a customer message this long: resolved by the bot (0: never)
  std::chrono::milliseconds tick_interval{500}; // the timer loop (reassign, snooze, SLA, presence expiry)
  std::chrono::seconds followup_grace{30};      // a message's follow-up not done this long after it was stored: run by the timer's sweep
  bool sticky_agent = true;                     // returning customers to their previous agent first
  std::vector<team_def> teams;                  // seeded into Redis at start when absent
  std::vector<routing_rule> rules;              // first match wins
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
};

// Throw std::runtime_error naming the offending key.
team_def parse_team(const nlohmann::json& j, const std::string& zoneinfo_dir, const std::string& path = "team");
routing_config parse_routing_config(const nlohmann::json& j);
nlohmann::json to_json(const team_def& t);

bool valid_team_id(std::string_view id);

// A team's business hours as they were: each version, with when it took
// effect, in the sorted set hours_history_key (score: since; member:
// "<since>|<hours JSON or null>"). The first version is since 0 (it covers
// everything before). Recorded when a team is created or its hours change,
// kept when it is deleted, so reports measure past time in the hours of then.
struct hours_version {
  std::int64_t since = 0;  // ms
  business_hours hours;
};
inline constexpr std::size_t hours_versions_kept = 100;  // per team; beyond, the oldest go
std::string hours_history_key(const std::string& prefix, const std::string& team);
std::string hours_version_member(std::int64_t since, const team_def& t);
// The hours JSON of a member ("": not one).
std::string hours_json_of_member(std::string_view member);
// The version a member holds; nullopt for a damaged one.
std::optional<hours_version> parse_hours_version(const std::string& team, std::string_view member, const std::string& zoneinfo_dir);

struct route_facts {
  std::string channel;
  std::string language;
  std::vector<std::string> tags;  // bot topic tags of the handoff
  bool vip = false;
  std::string current_team;       // the channel's team, where the conversation is now
};

struct route_decision {
  std::string team;      // the chosen team
  std::string priority;  // "" keeps the conversation's
  std::string why;       // "rule 2", "skill warranty", "channel default"
  std::string unknown_team;  // the channel's team, when it does not exist (deleted): `team` stands in for it
};

// Rules in order (`cfg.rules`); else a team whose skills match a tag (one
// speaking the language preferred); else the channel's team. One that does not
// exist (deleted while a channel still names it) would be a queue nobody sees:
// the first of the configured teams that exists takes it, else the first of
// `teams`. VIP lifts priority to high. `teams`: the teams there are now.
route_decision decide_route(const routing_config& cfg, const std::vector<team_def>& teams, const route_facts& facts);

std::string escalated(std::string_view priority);  // one step up; urgent stays

struct sla_times {
  std::int64_t first_due = 0, first_warn = 0, resolve_due = 0, resolve_warn = 0;  // ms, 0: none
};
sla_times sla_for(const team_def& team, std::int64_t start_ms);

// The automatic message outside business hours, in the customer's language
// (fa, ar, en; English otherwise).
std::string closed_message_for(const team_def& team, std::string_view language);

}  // namespace pasokh::routing
