#pragma once
// Routing in Redis: presence, queues, assignment, reassignment, transfers,
// snooze/reopen/resolve, SLA timers. Every state change is one atomic Lua
// script (routing/src/lua/route.lua, presence.lua, conv_action.lua, tick.lua
// with routing_lib.lua), so any number of gateway instances may route at once
// without assigning a conversation twice or overfilling an agent. The pure
// decisions (team rules, business hours, SLA due times) are made here in C++
// and handed to the scripts.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/routing/inbox_list.hpp"
#include "pasokh/routing/routing_config.hpp"
#include "pasokh/routing/team_scans.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

class search_service;

template <class T> using rresult = boost::system::result<T>;

struct route_outcome {
  std::string status;    // conversation status after routing
  std::string assignee;  // "" when waiting
};

// A routing decision made before the conversation's script runs, handed to
// it as decision_args in routing_lib.lua reads it.
struct route_plan {
  std::string language;               // the customer's language it assumed
  std::vector<std::string> decision;  // team, priority, vip, SLA due/warn times, closed notice, sticky
  bool closed = false;                // the team is outside business hours (a notice goes out)
  std::string why;                    // which rule chose the team, for the log
  // The team chosen (the channel's, usually) does not exist, deleted while
  // a channel still names it: decision[0] is a stand-in that someone sees.
  std::string unknown_team;
  std::string channel;
};

struct presence_outcome {
  bool found = true;
  std::string before, after;  // online | away | offline
  int assigned = 0;           // conversations drained to the agent
};

// An action on a conversation (conv_action.lua): assign, transfer_team,
// escalate, snooze, reopen, resolve.
struct action_request {
  std::string op;
  std::string conv;
  std::string actor;
  std::string arg1, arg2, arg3;
};

struct action_outcome {
  std::string code;  // ok | unchanged | not_found | invalid_state | agent_not_found | agent_offline | agent_away | agent_full | team_not_found | invalid_until
  std::uint64_t seq = 0;
  std::string detail;
  bool ok() const { return code == "ok" || code == "unchanged"; }
};

struct tick_outcome {
  int expired = 0, reassigned = 0, woken = 0, sla_warnings = 0, sla_breaches = 0;
  int bot_idle_resolved = 0;  // bot conversations the customer left, resolved by the bot
  bool leader = false;  // this instance holds the timer lease and did the work
  std::vector<std::string> unrouted;  // queued conversations the team rules never reached
};

class routing_service {
 public:
  routing_service(store::redis_client& redis, std::string prefix, routing_config cfg);
  ~routing_service();

  const routing_config& config() const { return cfg_; }

  // Settings into Redis and configured teams seeded (kept when an admin has
  // edited them); `channel_teams` get a default team definition if missing.
  boost::asio::awaitable<rresult<void>> sync(std::vector<std::string> channel_teams);
  // The timer loop (tick every tick_interval, team cache refresh) until stop().
  void start(boost::asio::any_io_executor ex, std::vector<std::string> channel_teams);
  // Ends the loop; a timer lease it holds is given up first. `done` once
  // ended (main keeps Redis until then); at once if the loop never ran.
  void stop(std::function<void()> done = {});

  // After a customer message was stored (or the bot handed off).
  // `only_unrouted`: act only if the conversation still waits for its team
  // rules (the timer loop's sweep), never reopen or reassign.
  boost::asio::awaitable<rresult<route_outcome>> route(const std::string& conv, const std::string& language_hint,
                                                       bool only_unrouted = false);

  // The decision for these facts at `at` (ms): team rules, SLA, business hours.
  route_plan plan(const route_facts& facts, std::int64_t at) const;
  // Metrics for a conversation routed with `plan` (also inside ingest).
  void count_routed(std::string_view status, const route_plan& plan) const;

  // op: beat | close | set. availability: "" | online | away.
  boost::asio::awaitable<rresult<presence_outcome>> presence(std::string op, std::string agent, std::string session,
                                                             std::string availability);
  boost::asio::awaitable<rresult<action_outcome>> act(const action_request& request);
  // One round of the timers; only the holder of the timer lease works.
  boost::asio::awaitable<rresult<tick_outcome>> tick();
  // JSON: {"conversations":[...],"total":n,"counts":{"mine","unassigned","team","all"}}
  boost::asio::awaitable<rresult<std::string>> list(const list_request& request);
  // The same for the open conversations, each team's part shared with the
  // other callers of this instance whose need arose before it was read
  // (team_scans.hpp): `need` from scans().now().
  boost::asio::awaitable<rresult<std::string>> list(const list_request& request, team_scans::moment need);
  team_scans& scans() { return scans_; }

  // Teams: cached from Redis (refreshed by the timer loop and after edits).
  std::shared_ptr<const std::vector<team_def>> teams() const;
  // True once the startup sync (settings, the channels' teams, scripts) has
  // landed: before it, requests would see teams missing (/readyz waits).
  bool synced() const { return synced_.load(); }
  boost::asio::awaitable<rresult<void>> refresh_teams();
  boost::asio::awaitable<rresult<void>> put_team(const team_def& team);
  boost::asio::awaitable<rresult<bool>> delete_team(const std::string& id);  // false: not found
  // put_team records the team's hours as a new version when they changed
  // (routing_config.hpp, hours_version); delete_team keeps its versions.

  // After an admin changed an agent's teams or capacity, or removed it.
  boost::asio::awaitable<rresult<void>> reindex_agent(const std::string& agent, const std::string& old_teams);
  // Removes the agent unless it is the last admin ("last_admin"), it is gone
  // already ("not_found"), or `actor` (the admin asking; "" for none) is no
  // admin any more ("not_admin"), checked in the same step; "ok" when done.
  boost::asio::awaitable<rresult<std::string>> delete_agent(const std::string& agent, const std::string& actor);

  // The search index is kept up by the holder of the timer lease, after each
  // tick (search_service.hpp); its first tick as holder starts the backfill
  // of a new index or the re-index of one folded by older rules. Set before start.
  search_service* search = nullptr;

  // Runs the follow-up of a stored customer message (conv, seq) still due
  // routing.followup_grace_s after it was stored: its gateway died before
  // running it (gateway/src/followup.cpp). Called by the holder of the timer
  // lease after each tick; false: it failed (run again later, given up after
  // 8 runs). Set before start.
  std::function<boost::asio::awaitable<bool>(std::string conv, std::uint64_t seq)> on_followup_due;

  // Counts for metrics: ("assigned", n), ("sla_breach", n), ... Set before start.
  std::function<void(std::string_view kind, int n)> on_count;
  // Errors for metrics (pasokh_errors_total): "route_unknown_team". Set before start.
  std::function<void(std::string_view kind)> on_error;

 private:
  boost::asio::awaitable<void> timer_loop(std::vector<std::string> channel_teams);
  boost::asio::awaitable<void> release_lease();
  boost::asio::awaitable<void> index_search();
  boost::asio::awaitable<void> sweep_followups();
  boost::asio::awaitable<void> route_unrouted(const std::vector<std::string>& conversations);
  boost::asio::awaitable<std::int64_t> conversations_active_last_second();
  // Adds to `cmds` the writes recording each team's hours as a new version
  // (hours_history_key) where they differ from its last one.
  boost::asio::awaitable<rresult<void>> add_hours_versions(const std::vector<team_def>& teams,
                                                           std::vector<std::vector<std::string>>& cmds);
  void count(std::string_view kind, int n) const {
    if (on_count && n > 0) on_count(kind, n);
  }

  store::redis_client& redis_;
  std::string prefix_;
  team_scans scans_{redis_, prefix_};
  routing_config cfg_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<team_def>> teams_;
  std::string teams_source_;  // the team hash as last read: unchanged means nothing to parse
  // Refreshes overlap (the timer loop, edits here): each numbers its read
  // (refresh_teams).
  std::atomic<std::uint64_t> team_reads_{0};
  std::uint64_t teams_read_ = 0;
  std::atomic<bool> synced_{false};
  struct loop_state;
  std::shared_ptr<loop_state> loop_;
  std::string instance_;  // holder name for the timer lease
  bool search_backfilled_ = false;
  std::int64_t backfill_marked_ = 0;  // conversations the backfill queued so far
};

}  // namespace pasokh::routing
