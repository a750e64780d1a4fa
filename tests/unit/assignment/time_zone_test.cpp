#include <gtest/gtest.h>

#include <filesystem>

#include "pasokh/routing/time_zone.hpp"

namespace pasokh::routing {
namespace {

bool have_zoneinfo() { return std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran"); }

// Expected offsets computed independently (Python zoneinfo on the same tzdata).
struct offset_case {
  const char* zone;
  std::int64_t utc_s;
  int offset_s;
  const char* what;
};

TEST(TimeZone, OffsetsFromTheSystemTzifFiles) {
  if (!have_zoneinfo()) GTEST_SKIP() << "no /usr/share/zoneinfo";
  const offset_case cases[] = {
      {"Asia/Tehran", 1625140800, 16200, "2021 summer: Iran still had DST (+04:30)"},
      {"Asia/Tehran", 1609502400, 12600, "2021 winter +03:30"},
      {"Asia/Tehran", 1782907200, 12600, "2026 summer: no DST since 2022"},
      {"Europe/Berlin", 1774745999, 3600, "a second before DST starts 2026-03-29"},
      {"Europe/Berlin", 1774746000, 7200, "DST starts at 01:00 UTC"},
      {"Europe/Berlin", 1792889999, 7200, "a second before DST ends 2026-10-25"},
      {"Europe/Berlin", 1792890000, 3600, "DST ends at 01:00 UTC"},
      {"Europe/Berlin", 2224713600, 7200, "2040 summer: from the POSIX footer rule"},
      {"Europe/Berlin", 2210198400, 3600, "2040 winter"},
      {"America/New_York", 1772953199, -18000, "before 2026-03-08 07:00 UTC"},
      {"America/New_York", 1772953200, -14400, "EDT"},
      {"America/New_York", 1793512799, -14400, "before 2026-11-01 06:00 UTC"},
      {"America/New_York", 1793512800, -18000, "EST"},
      {"Asia/Kolkata", 1767225600, 19800, "+05:30"},
      {"Australia/Sydney", 1767225600, 39600, "southern summer: DST across the new year"},
      {"Australia/Sydney", 2224713600, 36000, "2040 southern winter from the footer"},
  };
  for (const auto& c : cases) {
    auto tz = time_zone::load(c.zone);
    EXPECT_EQ(tz->offset_at(c.utc_s), c.offset_s) << c.zone << ": " << c.what;
  }
}

TEST(TimeZone, LocalToUtcRoundTripsAndSkipsGaps) {
  if (!have_zoneinfo()) GTEST_SKIP();
  auto berlin = time_zone::load("Europe/Berlin");
  // 2026-07-01 12:00 local (CEST) is 10:00 UTC.
  auto local = days_from_civil(2026, 7, 1) * 86400 + 12 * 3600;
  EXPECT_EQ(berlin->to_utc(local), local - 7200);
  // 02:30 on 2026-03-29 does not exist in Berlin: read with the offset before (CET).
  auto gap = days_from_civil(2026, 3, 29) * 86400 + 2 * 3600 + 1800;
  EXPECT_EQ(berlin->to_utc(gap), gap - 3600);
}

TEST(TimeZone, FixedOffsetsAndErrors) {
  EXPECT_EQ(time_zone::load("UTC")->offset_at(0), 0);
  EXPECT_EQ(time_zone::load("UTC+03:30")->offset_at(1'800'000'000), 12600);
  EXPECT_EQ(time_zone::load("UTC-05")->offset_at(0), -18000);
  for (const char* bad : {"UTC+3x", "UTC+15", "../etc/passwd", "/etc/passwd", "Mars/Olympus", "", "Asia/Tehran\n"})
    EXPECT_THROW(time_zone::load(bad), std::runtime_error) << bad;
  EXPECT_THROW(time_zone::parse_tzif("x", "TZif2 truncated"), std::runtime_error);
  EXPECT_THROW(time_zone::parse_tzif("x", "not a tz file at all, not even close..........."), std::runtime_error);
}

TEST(TimeZone, PosixRules) {
  struct posix_case {
    const char* tz;
    bool ok;
    int std_offset;
    bool dst;
  };
  const posix_case cases[] = {
      {"CET-1CEST,M3.5.0,M10.5.0/3", true, 3600, true},
      {"<+0330>-3:30", true, 12600, false},
      {"EST5EDT,M3.2.0,M11.1.0", true, -18000, true},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", true, 36000, true},
      {"<-03>3", true, -10800, false},
      {"CET-1CEST,J60,J300", false, 0, false},
      {"X", false, 0, false},
  };
  for (const auto& c : cases) {
    time_zone::posix_rule r;
    EXPECT_EQ(time_zone::parse_posix(c.tz, r), c.ok) << c.tz;
    if (!c.ok) continue;
    EXPECT_EQ(r.std_offset, c.std_offset) << c.tz;
    EXPECT_EQ(r.has_dst, c.dst) << c.tz;
  }
  time_zone::posix_rule cet;
  ASSERT_TRUE(time_zone::parse_posix("CET-1CEST,M3.5.0,M10.5.0/3", cet));
  EXPECT_EQ(time_zone::posix_offset_at(cet, 1774745999), 3600);
  EXPECT_EQ(time_zone::posix_offset_at(cet, 1774746000), 7200);
  EXPECT_EQ(time_zone::posix_offset_at(cet, 1792890000), 3600);
}

TEST(TimeZone, CivilDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2026, 3, 21), 20533);
  int y;
  unsigned m, d;
  civil_from_days(20533, y, m, d);
  EXPECT_EQ(y, 2026);
  EXPECT_EQ(m, 3u);
  EXPECT_EQ(d, 21u);
}

}  // namespace
}  // namespace pasokh::routing
