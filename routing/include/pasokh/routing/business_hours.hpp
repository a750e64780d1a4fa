#pragma once
// Business hours of a team: weekly opening intervals in the team's time zone,
// minus holidays (local dates, e.g. Nowruz). SLA targets are counted in open
// time only. Pure functions over values: unit-tested as tables.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "pasokh/routing/time_zone.hpp"

namespace pasokh::routing {

struct business_hours {
  std::shared_ptr<const time_zone> tz;                     // null: open around the clock
  std::array<std::vector<std::pair<int, int>>, 7> weekly;  // [open, close) minutes of the local day; 0 = Sunday
  std::set<std::int64_t> holidays;                         // local dates as days since 1970-01-01

  bool always_open() const { return !tz; }
  bool is_open(std::int64_t utc_ms) const;
  // The instant when `business_ms` of open time have passed since `start_ms`;
  // -1 if the schedule never opens (within two years).
  std::int64_t add(std::int64_t start_ms, std::int64_t business_ms) const;
  // Open time between two instants.
  std::int64_t open_between(std::int64_t from_ms, std::int64_t to_ms) const;
  // The next instant at or after `utc_ms` when it is open; -1 if never.
  std::int64_t next_open(std::int64_t utc_ms) const;

  // Calls `f(open_ms, close_ms)` for each open interval (UTC) that ends after
  // `from_ms`, in order, until `f` returns false or two years have passed.
  void for_each_interval(std::int64_t from_ms, const std::function<bool(std::int64_t, std::int64_t)>& f) const;
};

}  // namespace pasokh::routing
