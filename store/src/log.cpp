#include "log.hpp"

#include <spdlog/spdlog.h>

namespace pasokh::store::detail {

std::shared_ptr<spdlog::logger> redis_logger() {
  if (auto existing = spdlog::get("redis")) return existing;
  auto logger = spdlog::default_logger()->clone("redis");
  try {
    spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // Another thread registered it first; use theirs.
    if (auto existing = spdlog::get("redis")) return existing;
  }
  return logger;
}

}  // namespace pasokh::store::detail
