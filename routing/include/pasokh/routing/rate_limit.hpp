#pragma once
// Send pacing for one channel: a token bucket per chat and one for the whole
// account (Telegram: about 1 message/s per chat and 30/s overall; WhatsApp:
// about 80/s per business number). Pure: the clock is an input, nothing sleeps.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pasokh::routing {

using pacing_clock = std::chrono::steady_clock;

struct rate {
  double per_second = 0;  // 0: unlimited
  double burst = 1;       // sends allowed back to back after a quiet period
};

// A token bucket kept as its "theoretical arrival time" (GCRA): a send
// conforms when it is at most `burst - 1` intervals early; each send moves the
// arrival time on by one interval.
class token_bucket {
 public:
  explicit token_bucket(rate r);

  // How long until a send conforms (zero: now).
  pacing_clock::duration wait(pacing_clock::time_point now) const;
  // Counts one send at `now` (call when wait(now) is zero).
  void take(pacing_clock::time_point now);
  // The provider said "slow down": nothing conforms before `until`, even in
  // an unlimited bucket (a channel we do not pace still waits when told to).
  void pause_until(pacing_clock::time_point until);
  // True when the bucket is full again at `now` (it can be forgotten).
  bool idle(pacing_clock::time_point now) const;
  bool unlimited() const { return interval_.count() <= 0; }

 private:
  pacing_clock::duration interval_{};   // time per token
  pacing_clock::duration tolerance_{};  // (burst - 1) intervals
  std::optional<pacing_clock::time_point> tat_;
};

struct rate_limits {
  rate per_chat;
  rate per_account;
};

class rate_limiter {
 public:
  explicit rate_limiter(rate_limits limits, std::size_t max_tracked_chats = 10'000);

  // Zero when a send to `chat` may go now (it is then counted in both
  // buckets); otherwise how long to wait before asking again. Nothing is
  // reserved ahead, so a chat that waits never holds up the others.
  pacing_clock::duration acquire(std::string_view chat, pacing_clock::time_point now);
  // A rate limit answer for the whole account (HTTP 429 with retry_after).
  void pause_account(pacing_clock::time_point until) { account_.pause_until(until); }
  std::size_t tracked_chats() const { return chats_.size(); }

 private:
  void forget_idle(pacing_clock::time_point now);

  rate_limits limits_;
  std::size_t max_tracked_chats_;
  token_bucket account_;
  std::unordered_map<std::string, token_bucket> chats_;
};

}  // namespace pasokh::routing
