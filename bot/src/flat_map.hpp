#pragma once
// Open-addressing map from 64-bit term hashes to 32-bit ids: one flat array,
// linear probing, built once. Lookups touch one or two cache lines, where a
// node-based map chases pointers.
#include <bit>
#include <cstdint>
#include <vector>

namespace pasokh::bot::detail {

class flat_term_map {
 public:
  static constexpr std::uint32_t npos = 0xFFFFFFFF;

  // Keys are hashes already, so their low bits index the table directly.
  void build(const std::vector<std::pair<std::uint64_t, std::uint32_t>>& items) {
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, items.size() * 2));
    mask_ = capacity - 1;
    slots_.assign(capacity, slot{0, npos});
    for (const auto& [key, value] : items) {
      std::size_t i = key & mask_;
      while (slots_[i].value != npos) i = (i + 1) & mask_;
      slots_[i] = {key, value};
    }
  }

  std::uint32_t find(std::uint64_t key) const noexcept {
    if (slots_.empty()) return npos;
    for (std::size_t i = key & mask_;; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (s.value == npos) return npos;
      if (s.key == key) return s.value;
    }
  }

 private:
  struct slot {
    std::uint64_t key;
    std::uint32_t value;
  };
  std::vector<slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace pasokh::bot::detail
