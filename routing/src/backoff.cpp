#include "pasokh/routing/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace pasokh::routing {

std::chrono::milliseconds retry_delay(const backoff_policy& policy, int failures, double random01) {
  const double cap = static_cast<double>(policy.max.count());
  // Grow in double and cap before converting: factor^failures overflows any integer.
  double base = static_cast<double>(policy.initial.count()) * std::pow(policy.factor, std::max(0, failures - 1));
  base = std::min(base, cap);
  double spread = std::clamp(policy.jitter, 0.0, 1.0);
  double r = std::clamp(random01, 0.0, 1.0);
  double delay = base * (1.0 - spread + 2.0 * spread * r);
  return std::chrono::milliseconds(static_cast<long long>(std::clamp(delay, 0.0, cap)));
}

}  // namespace pasokh::routing
