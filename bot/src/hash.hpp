#pragma once
#include <cstdint>
#include <string_view>

namespace pasokh::bot::detail {

// FNV-1a, 64 bit. Term keys are hashes so the hot path never builds strings;
// with a few hundred thousand terms a collision is practically impossible and
// would only blur one term's score.
inline std::uint64_t hash_bytes(std::string_view s, std::uint64_t seed = 0xcbf29ce484222325ULL) noexcept {
  std::uint64_t h = seed;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Key of a word pair: the first word, a space, the second word.
inline std::uint64_t hash_pair(std::string_view a, std::string_view b) noexcept {
  std::uint64_t h = hash_bytes(a);
  h ^= ' ';
  h *= 0x100000001b3ULL;
  return hash_bytes(b, h);
}

// Distinct seeds keep word, n-gram and concept keys apart.
inline constexpr std::uint64_t word_seed = 0x9e3779b97f4a7c15ULL;
inline constexpr std::uint64_t gram_seed = 0xc2b2ae3d27d4eb4fULL;

}  // namespace pasokh::bot::detail
