#pragma once
// Retry delays for outbound deliveries: exponential backoff with jitter, so
// that many messages failing together (a provider outage) do not come back in
// one burst. Pure: the random draw is an input.
#include <chrono>

namespace pasokh::routing {

struct backoff_policy {
  std::chrono::milliseconds initial{1'000};  // delay after the first failure
  std::chrono::milliseconds max{300'000};    // cap (5 min)
  double factor = 2.0;                       // growth per failure
  double jitter = 0.2;                       // ± fraction of the delay
  int max_attempts = 10;                     // sends before giving up (>= 1)...
  // ...and not before the message has waited this long since it was queued:
  // a relay or provider down for hours loses no reply (an MTA retries for days).
  std::chrono::milliseconds retry_for{std::chrono::hours(24)};
};

// Delay before the next send after `failures` failed sends (1 for the first
// failure). `random01` is uniform in [0, 1). Never above policy.max, never negative.
std::chrono::milliseconds retry_delay(const backoff_policy& policy, int failures, double random01);

// True when a message that failed `failures` times and was queued `waited`
// ago gets no further send.
inline bool attempts_exhausted(const backoff_policy& policy, int failures, std::chrono::milliseconds waited) {
  return failures >= policy.max_attempts && waited >= policy.retry_for;
}

}  // namespace pasokh::routing
