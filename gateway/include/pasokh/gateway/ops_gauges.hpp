#pragma once
// Gauges an operator alerts on, read from Redis when /metrics is scraped:
// each channel's outbox backlog and the age of its oldest entry not done yet,
// each team's queue and its agents free to take work. Reads only (they work
// while Redis is out of memory), bounded by the number of channels and
// teams: one pipelined round trip, and a second for the outboxes whose
// oldest entry is unread or whose unread count Redis cannot give. A reading
// is kept for a few seconds: /metrics may be public.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pasokh/gateway/services.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

// An outbox stream's consumer group "senders", from XINFO GROUPS and the
// summary form of XPENDING.
struct outbox_group_state {
  std::int64_t pending = 0;       // read by a worker, not done (sending, waiting to retry)
  std::int64_t unread = 0;        // queued, read by no worker yet
  bool unread_unknown = false;    // Redis could not tell (entries deleted past the last read, or no group yet)
  std::string last_read_id;        // "" when there is no group: every entry is unread
  std::string oldest_pending_id;  // "" when nothing is pending
  // Whether XRANGE after last_read_id must say what `unread` is (Redis could
  // not) or the oldest entry's id (nothing pending gives it).
  bool needs_unread_entries() const { return unread_unknown || (pending == 0 && unread > 0); }
  // XRANGE's start for the unread entries: after the last read, or the first.
  std::string unread_range_start() const { return last_read_id.empty() ? "-" : "(" + last_read_id; }
};

// Both replies as Redis gave them; an error reply (no such stream, no group)
// is an outbox with nothing in it.
outbox_group_state parse_outbox_group(const store::reply& xinfo_groups, const store::reply& xpending_summary);

// The last reading's text while it is fresh, so scrapes close together read
// Redis once. Not thread-safe: the caller locks.
class gauge_cache {
 public:
  using clock = std::chrono::steady_clock;
  explicit gauge_cache(clock::duration keep) : keep_(keep) {}
  std::optional<std::string> fresh(clock::time_point now) const {
    if (!read_ || now - at_ >= keep_) return std::nullopt;
    return text_;
  }
  void keep(std::string text, clock::time_point now) {
    text_ = std::move(text);
    at_ = now;
    read_ = true;
  }

 private:
  clock::duration keep_;
  std::string text_;
  clock::time_point at_{};
  bool read_ = false;
};

// The milliseconds of a stream entry id ("<ms>-<n>"); nullopt if it is not one.
std::optional<std::int64_t> stream_id_ms(std::string_view id);

// The exposition text of the gauges (pasokh_outbox_pending_messages,
// pasokh_outbox_oldest_pending_age_seconds, pasokh_team_queued_conversations,
// pasokh_team_agents_available); "" while Redis does not answer. A reading
// younger than 5 s is answered again.
boost::asio::awaitable<std::string> read_ops_gauges(services& s);

}  // namespace pasokh::gateway
