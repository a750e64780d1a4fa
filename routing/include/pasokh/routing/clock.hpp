#pragma once
#include <cstdint>

namespace pasokh::routing {

// Wall-clock milliseconds since the epoch: every time stamp stored in Redis.
std::int64_t now_ms();

}  // namespace pasokh::routing
