#include "pasokh/routing/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace pasokh::routing {

// Howard Hinnant's algorithms (public domain).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400) + (m <= 2);
}

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

class reader {
 public:
  explicit reader(std::string_view b) : b_(b) {}
  void need(std::size_t n) const {
    if (pos_ + n > b_.size()) throw std::runtime_error("truncated TZif data");
  }
  std::int64_t be(std::size_t n) {
    need(n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_ + i]);
    pos_ += n;
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  unsigned char byte() { need(1); return static_cast<unsigned char>(b_[pos_++]); }
  void skip(std::size_t n) { need(n); pos_ += n; }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

// [+-]hh[:mm[:ss]] as seconds.
bool parse_hms(std::string_view& s, int& out, bool allow_sign) {
  int sign = 1;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) {
      if (i == 0) return false;
      break;
    }
    int v = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    parts[i] = v;
    if (s.empty() || s[0] != ':' || i == 2) break;
    s.remove_prefix(1);
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool parse_name(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    auto close = s.find('>');
    if (close == std::string_view::npos) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool parse_when(std::string_view& s, time_zone::posix_rule::when& w) {
  if (s.empty() || s[0] != 'M') return false;
  s.remove_prefix(1);
  int vals[3];
  for (int i = 0; i < 3; ++i) {
    int v = 0;
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    vals[i] = v;
    if (i < 2) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
  }
  w.month = vals[0];
  w.week = vals[1];
  w.weekday = vals[2];
  if (w.month < 1 || w.month > 12 || w.week < 1 || w.week > 5 || w.weekday > 6) return false;
  w.time_s = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!parse_hms(s, w.time_s, true)) return false;
  }
  return true;
}

// Local seconds (from the year's start of the epoch) when the rule fires in `year`.
std::int64_t rule_local(const time_zone::posix_rule::when& w, int year) {
  auto first = days_from_civil(year, static_cast<unsigned>(w.month), 1);
  int wd_first = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int day = 1 + (w.weekday - wd_first + 7) % 7 + (w.week - 1) * 7;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int last = mdays[w.month - 1] + (w.month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0));
  while (day > last) day -= 7;
  return (first + day - 1) * 86400 + w.time_s;
}

}  // namespace

bool time_zone::parse_posix(std::string_view s, posix_rule& r) {
  r = {};
  if (!parse_name(s)) return false;
  int off = 0;
  if (!parse_hms(s, off, true)) return false;
  r.std_offset = -off;  // POSIX counts west as positive
  if (s.empty()) return true;
  if (!parse_name(s)) return false;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!parse_hms(s, off, true)) return false;
    r.dst_offset = -off;
  }
  if (s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  if (!parse_when(s, r.start)) return false;
  if (s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  if (!parse_when(s, r.end)) return false;
  return s.empty();
}

int time_zone::posix_offset_at(const posix_rule& r, std::int64_t utc_s) {
  if (!r.has_dst) return r.std_offset;
  int y;
  unsigned m, d;
  civil_from_days(floor_div(utc_s + r.std_offset, 86400), y, m, d);
  // The start is given in standard local time, the end in daylight time.
  std::int64_t start = rule_local(r.start, y) - r.std_offset;
  std::int64_t end = rule_local(r.end, y) - r.dst_offset;
  bool dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
  return dst ? r.dst_offset : r.std_offset;
}

std::shared_ptr<const time_zone> time_zone::fixed(std::string name, int offset_s) {
  auto tz = std::make_shared<time_zone>();
  tz->name_ = std::move(name);
  tz->initial_offset_ = offset_s;
  return tz;
}

std::shared_ptr<const time_zone> time_zone::parse_tzif(std::string_view name, std::string_view bytes) {
  reader in(bytes);
  auto header = [&](int& version, std::int64_t counts[6]) {
    in.need(44);
    if (bytes.substr(in.pos(), 4) != "TZif") throw std::runtime_error("not a TZif file");
    in.skip(4);
    auto v = in.byte();
    version = v == 0 ? 1 : v - '0';
    in.skip(15);
    for (int i = 0; i < 6; ++i) counts[i] = in.be(4);
    for (int i = 0; i < 6; ++i)
      if (counts[i] < 0 || counts[i] > 100000) throw std::runtime_error("implausible TZif counts");
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  int version = 1;
  std::int64_t c[6];
  header(version, c);
  std::size_t time_size = 4;
  if (version >= 2) {
    in.skip(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    header(version, c);
    time_size = 8;
  }
  auto tz = std::make_shared<time_zone>();
  tz->name_ = std::string(name);
  std::vector<std::int64_t> times(c[3]);
  for (auto& t : times) t = in.be(time_size);
  std::vector<int> idx(c[3]);
  for (auto& i : idx) i = in.byte();
  if (c[4] == 0) throw std::runtime_error("TZif file without local time types");
  std::vector<int> utoff(c[4]);
  std::vector<bool> isdst(c[4]);
  for (std::int64_t i = 0; i < c[4]; ++i) {
    utoff[i] = static_cast<int>(in.be(4));
    isdst[i] = in.byte() != 0;
    in.skip(1);
  }
  in.skip(c[5] + c[2] * (time_size + 4) + c[1] + c[0]);
  tz->initial_offset_ = utoff[0];
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (idx[i] >= c[4]) throw std::runtime_error("TZif transition to an unknown type");
    tz->transitions_.push_back(times[i]);
    tz->offsets_.push_back(utoff[idx[i]]);
  }
  if (version >= 2) {
    auto rest = in.rest();
    if (rest.size() >= 2 && rest[0] == '\n') {
      auto end = rest.find('\n', 1);
      auto footer = rest.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
      if (!footer.empty()) tz->has_footer_ = parse_posix(footer, tz->footer_);
    }
  }
  return tz;
}

std::shared_ptr<const time_zone> time_zone::load(std::string_view name, const std::string& dir) {
  // "UTC", "UTC+03:30", "UTC-5": a fixed offset.
  if (name == "UTC" || name.substr(0, 4) == "UTC+" || name.substr(0, 4) == "UTC-") {
    int off = 0;
    auto rest = name.substr(3);
    if (!rest.empty() && (!parse_hms(rest, off, true) || !rest.empty() || off < -14 * 3600 || off > 14 * 3600))
      throw std::runtime_error("bad fixed offset \"" + std::string(name) + "\" (use UTC+hh:mm)");
    return fixed(std::string(name), off);
  }
  // An IANA name: letters, digits, '_', '-', '+', '/'; never "..".
  if (name.empty() || name.size() > 64 || name.find("..") != std::string_view::npos || name[0] == '/' ||
      !std::all_of(name.begin(), name.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '+' || ch == '/';
      }))
    throw std::runtime_error("bad time zone name \"" + std::string(name) + "\"");
  // Each zone file is read once: reports load a zone per request and per
  // version of a team's hours, and a zone file changes only with a package
  // upgrade, which restarts the service.
  static std::mutex loaded_lock;
  static std::map<std::string, std::shared_ptr<const time_zone>> loaded;
  const auto path = dir + "/" + std::string(name);
  {
    std::lock_guard lock(loaded_lock);
    if (auto it = loaded.find(path); it != loaded.end()) return it->second;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("unknown time zone \"" + std::string(name) + "\" (no file in " + dir + ")");
  std::stringstream ss;
  ss << f.rdbuf();
  std::shared_ptr<const time_zone> tz;
  try {
    tz = parse_tzif(name, ss.str());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("time zone \"" + std::string(name) + "\": " + e.what());
  }
  std::lock_guard lock(loaded_lock);
  return loaded.emplace(path, std::move(tz)).first->second;
}

int time_zone::offset_at(std::int64_t utc_s) const {
  if (transitions_.empty() || utc_s < transitions_.front()) {
    if (transitions_.empty() && has_footer_) return posix_offset_at(footer_, utc_s);
    return initial_offset_;
  }
  if (utc_s >= transitions_.back() && has_footer_) return posix_offset_at(footer_, utc_s);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s);
  return offsets_[static_cast<std::size_t>(it - transitions_.begin()) - 1];
}

std::int64_t time_zone::to_utc(std::int64_t local_s) const {
  int guess = offset_at(local_s);
  std::int64_t utc = local_s - guess;
  int actual = offset_at(utc);
  if (actual == guess) return utc;
  std::int64_t other = local_s - actual;
  if (offset_at(other) == actual) return other;
  // A local time skipped by a change (spring forward): read it with the offset before.
  return local_s - std::min(guess, actual);
}

}  // namespace pasokh::routing
