#include "pasokh/routing/business_hours.hpp"

#include <algorithm>
#include <limits>

namespace pasokh::routing {

namespace {
constexpr std::int64_t day_s = 86400;
constexpr int horizon_days = 731;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

void business_hours::for_each_interval(std::int64_t from_ms, const std::function<bool(std::int64_t, std::int64_t)>& f) const {
  if (!tz) {
    f(from_ms, std::numeric_limits<std::int64_t>::max());
    return;
  }
  auto from_s = floor_div(from_ms, 1000);
  // Start a day early: an interval of yesterday's local date may still be open.
  auto first_day = floor_div(from_s + tz->offset_at(from_s), day_s) - 1;
  for (auto d = first_day; d < first_day + horizon_days; ++d) {
    if (holidays.count(d)) continue;
    int weekday = static_cast<int>(((d % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    for (auto [open, close] : weekly[static_cast<std::size_t>(weekday)]) {
      auto o = tz->to_utc(d * day_s + open * 60) * 1000;
      auto c = tz->to_utc(d * day_s + close * 60) * 1000;
      if (c <= from_ms || c <= o) continue;
      if (!f(std::max(o, from_ms), c)) return;
    }
  }
}

bool business_hours::is_open(std::int64_t utc_ms) const {
  bool open = false;
  for_each_interval(utc_ms, [&](std::int64_t o, std::int64_t) {
    open = o <= utc_ms;
    return false;
  });
  return open;
}

std::int64_t business_hours::next_open(std::int64_t utc_ms) const {
  std::int64_t at = -1;
  for_each_interval(utc_ms, [&](std::int64_t o, std::int64_t) {
    at = o;
    return false;
  });
  return at;
}

std::int64_t business_hours::add(std::int64_t start_ms, std::int64_t business_ms) const {
  if (!tz) return start_ms + business_ms;
  std::int64_t left = business_ms, at = -1;
  for_each_interval(start_ms, [&](std::int64_t o, std::int64_t c) {
    if (c - o >= left) {
      at = o + left;
      return false;
    }
    left -= c - o;
    return true;
  });
  return at;
}

std::int64_t business_hours::open_between(std::int64_t from_ms, std::int64_t to_ms) const {
  if (to_ms <= from_ms) return 0;
  if (!tz) return to_ms - from_ms;
  std::int64_t total = 0;
  for_each_interval(from_ms, [&](std::int64_t o, std::int64_t c) {
    if (o >= to_ms) return false;
    total += std::min(c, to_ms) - o;
    return c < to_ms;
  });
  return total;
}

}  // namespace pasokh::routing
