#pragma once
// A warning that comes once per request while Redis is down (every ingest
// fails: 2,249 lines a second were measured) would flood the log and hide
// everything else. Each kind is logged the first time, then at most once per
// interval, saying how many like it were left out since the last one logged.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>

namespace pasokh::routing {

class repeated_warning {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr clock::duration default_interval = std::chrono::seconds(10);

  // One object per kind, usually a static at the place that logs it.
  explicit repeated_warning(clock::duration interval = default_interval) : interval_(interval) {}

  template <class... Args>
  void warn(spdlog::logger& log, fmt::format_string<Args...> format, Args&&... args) {
    log_at(spdlog::level::warn, log, format, std::forward<Args>(args)...);
  }
  // For trouble someone must mend (a relay refusing our credentials).
  template <class... Args>
  void error(spdlog::logger& log, fmt::format_string<Args...> format, Args&&... args) {
    log_at(spdlog::level::err, log, format, std::forward<Args>(args)...);
  }

  template <class... Args>
  void log_at(spdlog::level::level_enum level, spdlog::logger& log, fmt::format_string<Args...> format,
              Args&&... args) {
    if (!log.should_log(level)) return;
    auto turn = admit(clock::now());
    if (!turn) return;
    auto text = fmt::format(format, std::forward<Args>(args)...);
    if (turn->left_out == 0)
      log.log(level, "{}", text);
    else
      log.log(level, "{} (and {} more like it in the last {} s, not logged)", text, turn->left_out,
              std::chrono::duration_cast<std::chrono::seconds>(turn->since_last_logged).count());
  }

  struct logged_turn {
    std::uint64_t left_out;               // since the last one logged
    clock::duration since_last_logged;
  };
  // Whether one arriving at `now` is logged; every other one is counted as left out.
  std::optional<logged_turn> admit(clock::time_point now);

 private:
  const clock::duration interval_;
  std::mutex mutex_;
  std::optional<clock::time_point> last_logged_;
  std::uint64_t left_out_ = 0;
};

}  // namespace pasokh::routing
