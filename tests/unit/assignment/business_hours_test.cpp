#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "pasokh/routing/routing_config.hpp"

namespace pasokh::routing {
namespace {

// A Tehran support desk: Saturday to Wednesday 09:00-17:00, Thursday
// 09:00-13:00, Friday closed; Nowruz (1-4 Farvardin 1405) closed.
team_def tehran_desk(const char* zone = "Asia/Tehran") {
  return parse_team(nlohmann::json::parse(std::string(R"({"id":"desk","hours":{"timezone":")") + zone + R"(",
    "weekly":{"sat":["09:00-17:00"],"sun":["09:00-17:00"],"mon":["09:00-17:00"],"tue":["09:00-17:00"],
              "wed":["09:00-17:00"],"thu":["09:00-13:00"]},
    "holidays":["2026-03-21","2026-03-22","2026-03-23","2026-03-24"]},
    "sla":{"first_response_s":3600,"resolution_s":57600,"warn_before_s":600}})"),
                    "/usr/share/zoneinfo");
}

// Tehran local time (+03:30 since 2022) as UTC ms.
std::int64_t tehran(int y, unsigned m, unsigned d, int hh, int mm) {
  return (days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 - 12600) * 1000;
}

constexpr std::int64_t minute = 60'000, hour = 60 * minute;

TEST(BusinessHours, OpenOrClosed) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran")) GTEST_SKIP();
  for (const char* zone : {"Asia/Tehran", "UTC+03:30"}) {
    auto desk = tehran_desk(zone);
    struct open_case {
      std::int64_t at;
      bool open;
      const char* what;
    };
    const open_case cases[] = {
        {tehran(2026, 3, 16, 10, 0), true, "Monday morning"},
        {tehran(2026, 3, 16, 8, 59), false, "Monday before nine"},
        {tehran(2026, 3, 16, 9, 0), true, "Monday at nine sharp"},
        {tehran(2026, 3, 16, 17, 0), false, "Monday at five (end is exclusive)"},
        {tehran(2026, 3, 19, 12, 59), true, "Thursday before one"},
        {tehran(2026, 3, 19, 13, 0), false, "Thursday at one"},
        {tehran(2026, 3, 20, 10, 0), false, "Friday"},
        {tehran(2026, 3, 21, 10, 0), false, "Nowruz, a Saturday"},
        {tehran(2026, 3, 24, 10, 0), false, "4 Farvardin"},
        {tehran(2026, 3, 25, 10, 0), true, "the Wednesday after Nowruz"},
        {tehran(2026, 3, 16, 2, 0), false, "night"},
    };
    for (const auto& c : cases) EXPECT_EQ(desk.hours.is_open(c.at), c.open) << zone << ": " << c.what;
  }
}

TEST(BusinessHours, AddingBusinessTimeSkipsNightsWeekendsAndHolidays) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran")) GTEST_SKIP();
  auto desk = tehran_desk();
  struct add_case {
    std::int64_t start, business_ms, expected;
    const char* what;
  };
  const add_case cases[] = {
      {tehran(2026, 3, 16, 10, 0), hour, tehran(2026, 3, 16, 11, 0), "within the day"},
      {tehran(2026, 3, 16, 16, 30), hour, tehran(2026, 3, 17, 9, 30), "over the night"},
      {tehran(2026, 3, 16, 20, 0), 30 * minute, tehran(2026, 3, 17, 9, 30), "starting after hours"},
      {tehran(2026, 3, 19, 12, 30), hour, tehran(2026, 3, 25, 9, 30), "Thursday, Friday, then Nowruz"},
      {tehran(2026, 3, 14, 9, 0), 16 * hour, tehran(2026, 3, 15, 17, 0), "two full days end at closing time"},
  };
  for (const auto& c : cases) EXPECT_EQ(desk.hours.add(c.start, c.business_ms), c.expected) << c.what;
  EXPECT_EQ(desk.hours.open_between(tehran(2026, 3, 16, 9, 0), tehran(2026, 3, 17, 9, 0)), 8 * hour);
  EXPECT_EQ(desk.hours.open_between(tehran(2026, 3, 19, 0, 0), tehran(2026, 3, 25, 0, 0)), 4 * hour);
  EXPECT_EQ(desk.hours.next_open(tehran(2026, 3, 20, 12, 0)), tehran(2026, 3, 25, 9, 0));
}

TEST(BusinessHours, SlaDueTimesCountBusinessHoursOnly) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran")) GTEST_SKIP();
  auto desk = tehran_desk();
  // A customer writes on Thursday at 12:30: 30 minutes left that day.
  auto s = sla_for(desk, tehran(2026, 3, 19, 12, 30));
  EXPECT_EQ(s.first_due, tehran(2026, 3, 25, 9, 30));   // 1 business hour
  EXPECT_EQ(s.first_warn, tehran(2026, 3, 25, 9, 20));  // 10 minutes before
  EXPECT_EQ(s.resolve_due, tehran(2026, 3, 28, 12, 30));  // 16 business hours: Thu 0.5, Wed 8, Thu 4, Sat 3.5
  team_def always;
  always.sla.first_response = std::chrono::seconds(60);
  auto a = sla_for(always, 1000);
  EXPECT_EQ(a.first_due, 61'000);
  EXPECT_EQ(a.first_warn, 0);
  EXPECT_EQ(a.resolve_due, 0);
}

TEST(BusinessHours, NeverOpenHasNoDueTime) {
  auto closed = parse_team(nlohmann::json::parse(R"({"id":"closed","hours":{"timezone":"UTC","weekly":{}},
    "sla":{"first_response_s":60}})"), "/usr/share/zoneinfo");
  EXPECT_FALSE(closed.hours.is_open(1'800'000'000'000));
  EXPECT_EQ(closed.hours.add(0, 1000), -1);
  EXPECT_EQ(sla_for(closed, 0).first_due, 0);
}

}  // namespace
}  // namespace pasokh::routing
