#pragma once
#include <spdlog/logger.h>

#include <memory>

namespace pasokh::store::detail {

// The "redis" logger: the one the application registered, else a clone of
// the default logger registered under that name.
std::shared_ptr<spdlog::logger> redis_logger();

}  // namespace pasokh::store::detail
