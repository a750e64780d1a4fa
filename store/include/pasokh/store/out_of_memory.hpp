#pragma once
// OOM error replies (Redis at maxmemory refuses writes) seen by every
// redis_client of the process since it started: for /metrics and /readyz.
#include <cstdint>

namespace pasokh::store {

std::uint64_t out_of_memory_replies() noexcept;

}  // namespace pasokh::store
