#pragma once
#include <algorithm>
#include <chrono>

namespace pasokh::store::detail {

// Delay before reconnect attempt `attempt` (0 for the first): min * 2^attempt,
// capped at max, then "equal jitter" (uniform in [d/2, d]) so that many
// gateways losing the same Redis do not all come back in lockstep.
// `unit_random` is in [0, 1); injected so tests need no RNG.
inline std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                               std::chrono::milliseconds max, double unit_random) {
  using std::chrono::milliseconds;
  if (max < min) max = min;
  milliseconds d = min;
  for (unsigned i = 0; i < attempt && i < 32 && d < max; ++i) d *= 2;  // stops at max: no overflow
  d = std::min(d, max);
  auto half = d.count() / 2;
  return milliseconds(half + static_cast<milliseconds::rep>(unit_random * static_cast<double>(d.count() - half)));
}

}  // namespace pasokh::store::detail
