#pragma once
// One read of a team's open conversations (the bulk of an agent's welcome or
// resync snapshot: the newest scan_cap of the team's open list with their
// scores, the head of its queue, and an HMGET of each one's state) shared by
// the sessions of this gateway that need it at about the same moment. When
// pub/sub comes back, every agent socket resyncs at once: 200 agents of a
// team with 5,000 open conversations read the same 5,000 rows 200 times
// (about 5 s of Redis), while customers' messages waited behind them.
//
// Single flight per team, and who may join it. A session may use a scan
// only if the scan started after the session's need arose (now()): then no
// event can fall between the session's subscription and the data it gets.
//
//   - The caller's need is a now() taken only once every event from then on
//     reaches it and is held until the data has gone out: at hello, after
//     registering with the live hub, its events held until the welcome is
//     sent (agent_socket.cpp); at a resync, pub/sub being back
//     (resubscribed), the hub holds every session's events until its
//     snapshot is sent and then takes one now() for all of them
//     (live_hub::resync_all), so that they can all share one scan.
//   - A scan's start is numbered under the same mutex, after every such
//     now() it can be joined by (started > need), and its reads are sent
//     after that. An event E is stored and published by one Lua script, so
//     in Redis it is either before the scan's reads (its state is in them)
//     or after them; in the latter case it was published after the scan
//     started, hence after the session's now(), hence after its
//     subscription: the hub hands E to the session, which holds it until
//     its data is sent and forwards it then (sequence numbers drop what it
//     already has). So nothing is missed, and nothing the data already
//     shows is sent before the data (a snapshot never forgets a
//     conversation it had just been told about).
//   - A scan that started before a session's need (it may predate an event
//     the session's pub/sub link dropped) is never joined: the session
//     waits for, or starts, a later one.
//
// Each session still reads its own parts (the agent's own conversations,
// read marks) and the page's rows. Callers pass `team` as an lvalue that
// outlives the read (it is a coroutine). A finished scan is kept for `kept_for` so
// that sessions whose need came before its start but which ask later (a
// resync's catch-ups took a while) use it too; at most one per team.
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pasokh/routing/inbox_list.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

class team_scans {
 public:
  using moment = std::uint64_t;
  using shared_scan = std::shared_ptr<const team_scan>;

  team_scans(store::redis_client& redis, std::string prefix,
             std::chrono::steady_clock::duration kept_for = std::chrono::seconds(2))
      : redis_(redis), prefix_(std::move(prefix)), kept_for_(kept_for) {}

  // The caller's need: only scans started after this may serve it.
  moment now();
  // The team's scan: a running or kept one that started after `need`, or a
  // new one (which later callers join).
  boost::asio::awaitable<boost::system::result<shared_scan>> read(const std::string& team, int scan_cap,
                                                                  int queue_head, moment need);
  // Scans read from Redis so far (tests, metrics).
  std::uint64_t scans_started() const;

 private:
  struct flight;
  boost::asio::awaitable<void> wait_for(const std::shared_ptr<flight>& f);
  void finish(flight& f, boost::system::result<shared_scan> outcome);

  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::steady_clock::duration kept_for_;
  mutable std::mutex mutex_;
  moment clock_ = 0;  // numbers needs and starts, under mutex_
  std::uint64_t started_ = 0;
  std::map<std::string, std::shared_ptr<flight>> latest_;  // per team and sizes: its newest scan
};

// read_inbox_list (inbox_list.hpp) for the open conversations, each team's
// part read through `scans` for a caller whose need arose at `need`: the
// same JSON as read_inbox_list gives for the same Redis state.
boost::asio::awaitable<boost::system::result<std::string>> read_inbox_list(store::redis_client& redis,
                                                                            const std::string& prefix,
                                                                            const list_request& q, team_scans& scans,
                                                                            team_scans::moment need);

}  // namespace pasokh::routing
