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

// Time per send (zero: unlimited), and how early a send may be (burst - 1 intervals).
pacing_clock::duration interval_of(rate r);
pacing_clock::duration tolerance_of(rate r);

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

// Whom a provider's rate limit answer holds back.
enum class limit_scope {
  account,  // every send of the channel (a throughput limit)
  chat,     // only the sends to the chat it answered (WhatsApp's pair rate limit)
  unknown,  // the answer does not say (Telegram's 429 means either): see rate_limiter::pause
};

// Two sends to one chat at most this far apart are "in a row": a chat paced at
// Telegram's 1 message/s sends every ~1 s, plus timer slack.
inline constexpr auto in_a_row_within = std::chrono::milliseconds(1500);

class rate_limiter {
 public:
  explicit rate_limiter(rate_limits limits, std::size_t max_tracked_chats = 10'000);

  // Zero when a send to `chat` may go now (it is then counted in both
  // buckets); otherwise how long to wait before asking again. Nothing is
  // reserved ahead, so a chat that waits never holds up the others.
  pacing_clock::duration acquire(std::string_view chat, pacing_clock::time_point now);
  // A rate limit answer to the latest send to `chat`: what it holds back (the
  // account or only that chat) waits until `until`. `unknown` holds back the
  // chat when its latest two sends went in a row (it is the likelier to be
  // over its own limit), else the account. Answers the scope applied.
  limit_scope pause(std::string_view chat, limit_scope scope, pacing_clock::time_point now,
                    pacing_clock::time_point until);
  std::size_t tracked_chats() const { return chats_.size(); }

 private:
  struct chat_pacing {
    token_bucket bucket;
    std::optional<pacing_clock::time_point> last_send, send_before;  // its latest two sends
    bool sent_in_a_row() const { return send_before && *last_send - *send_before <= in_a_row_within; }
  };
  chat_pacing& chat(std::string_view id, pacing_clock::time_point now);
  void forget_idle(pacing_clock::time_point now);

  rate_limits limits_;
  std::size_t max_tracked_chats_;
  token_bucket account_;
  // Every chat sent to lately, limited or not: a pause may hold back one chat.
  std::unordered_map<std::string, chat_pacing> chats_;
};

}  // namespace pasokh::routing
