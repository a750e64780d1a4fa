#pragma once
// Fan-out of conversation events to this instance's WebSocket sessions.
// Every instance subscribes to <prefix>events; each published payload is a
// small routing header line followed by the event frame, which is shared
// (not copied) between all sessions that receive it.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pasokh::gateway {

struct event_route {
  std::string team;
  std::string conversation;
  std::string customer;
  std::string assignee;
  // Where the conversation was before this event, when it moved (a transfer,
  // an unassign): those consoles learn that it left them.
  std::string from_team;
  std::string previous_assignee;
  std::uint64_t seq = 0;
};

class live_listener {
 public:
  virtual ~live_listener() = default;
  // Called from the hub's thread; implementations post to their own strand.
  virtual void deliver(const event_route& route, std::shared_ptr<const std::string> frame) = 0;
  // Pub/sub was down (and is back): from this call on, live events wait
  // until the listener's resync has sent what it reads. Called from the
  // hub's thread, on every listener before any resync(), so that one moment
  // can serve them all.
  virtual void hold_for_resync() {}
  // Events may have been missed: catch up from the logs. `need`: a moment
  // taken after every listener's hold (resync_moment); lists read for it may
  // be shared from it on (routing/team_scans.hpp).
  virtual void resync(std::uint64_t need) = 0;
  // The agent's access ended or changed (logout, password change, removal,
  // new role or teams): `session` names the one session (its token's hash),
  // "" every session of the agent. Called from the hub's thread.
  virtual void end_access(const std::string& /*session*/, const std::string& /*reason*/, bool /*signed_out*/) {}
};

class live_hub {
 public:
  // Listeners register under a key: "team:<id>", "all" (admins) or "customer:<id>".
  void add(const std::string& key, const std::shared_ptr<live_listener>& listener);
  void remove(const std::string& key, const live_listener* listener);

  // Parses "<header json>\n<frame>" as published by the Lua scripts (an
  // ingest batch: several such pairs joined by newlines) and delivers each
  // event; returns false when any pair was malformed (that one is dropped).
  bool dispatch(std::string_view payload);
  // Parses {"agent","session","reason"} as agent_sessions.lua publishes it
  // on <prefix>agent_access and tells the agent's listeners ("agent:<id>");
  // false when it is malformed.
  bool end_access(std::string_view payload);
  void resync_all();
  // The moment a resync's shared reads must start after (team_scans::now);
  // unset: 0. Set before pub/sub starts.
  std::function<std::uint64_t()> resync_moment;
  std::size_t listener_count() const;

 private:
  bool dispatch_one(std::string_view header, std::string_view frame);
  std::vector<std::shared_ptr<live_listener>> collect(const std::vector<std::string>& keys);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::weak_ptr<live_listener>>> listeners_;
};

}  // namespace pasokh::gateway
