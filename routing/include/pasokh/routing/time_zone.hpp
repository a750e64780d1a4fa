#pragma once
// Time zones without the C++20 tzdb (GCC 12's libstdc++ lacks it): IANA zones
// read from the system's compiled TZif files (/usr/share/zoneinfo), including
// the POSIX TZ footer that gives the rules after the last listed transition,
// or a fixed offset written "UTC+03:30" / "UTC-05".
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::routing {

class time_zone {
 public:
  // Throws std::runtime_error naming the problem (unknown zone, bad file).
  static std::shared_ptr<const time_zone> load(std::string_view name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static std::shared_ptr<const time_zone> parse_tzif(std::string_view name, std::string_view bytes);
  static std::shared_ptr<const time_zone> fixed(std::string name, int offset_s);

  // Seconds east of UTC in effect at the UTC instant `utc_s`.
  int offset_at(std::int64_t utc_s) const;
  // The UTC instant of a local wall-clock time (seconds since the epoch as if
  // local were UTC). In a gap or overlap, the offset before the change wins.
  std::int64_t to_utc(std::int64_t local_s) const;
  const std::string& name() const { return name_; }

  // The rule of a POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3"
  // (M-format rules only; Jn/n rules are rejected).
  struct posix_rule {
    int std_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    int dst_offset = 0;
    struct when { int month = 0, week = 0, weekday = 0, time_s = 7200; } start, end;
  };
  static bool parse_posix(std::string_view tz, posix_rule& out);
  static int posix_offset_at(const posix_rule& r, std::int64_t utc_s);

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int> offsets_;               // offset after each transition
  int initial_offset_ = 0;                 // before the first transition
  bool has_footer_ = false;
  posix_rule footer_;
};

// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d);

}  // namespace pasokh::routing
