#pragma once
#include <spdlog/spdlog.h>

namespace pasokh::connectors::email::detail {

// The module's named logger; shares the default logger's sinks and level.
inline spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("email")) return existing;
    auto l = spdlog::default_logger()->clone("email");
    try {
      spdlog::register_logger(l);
    } catch (const spdlog::spdlog_ex&) {  // registered meanwhile by another thread
      if (auto existing = spdlog::get("email")) return existing;
    }
    return l;
  }();
  return *logger;
}

}  // namespace pasokh::connectors::email::detail
