#pragma once
// Counts heap allocations in this process (operator new is replaced in
// alloc_counter.cpp) so the evaluation can show what the hot path allocates.
#include <atomic>
#include <cstdint>

namespace pasokh::bot::bench {
std::uint64_t allocations() noexcept;
}
