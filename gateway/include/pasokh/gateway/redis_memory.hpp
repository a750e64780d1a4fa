#pragma once
// Whether Redis may lose or refuse what Pasokh stores, from INFO memory.
//
// Pasokh needs maxmemory-policy noeviction: the dedup and presence keys have
// an expiry, so a volatile-* policy evicts them first (a provider's retry of
// a message already answered 201 is stored again), and allkeys-* takes whole
// conversations. INFO is read, not CONFIG GET: managed Redis (ElastiCache,
// Memorystore) often disables CONFIG.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

struct redis_memory_info {
  std::string policy;          // maxmemory_policy
  std::uint64_t used = 0;      // used_memory
  std::uint64_t limit = 0;     // maxmemory; 0 when there is none
  bool full() const { return limit > 0 && used >= limit; }
};

// The fields of an INFO (memory) answer; nullopt without maxmemory_policy.
std::optional<redis_memory_info> parse_info_memory(std::string_view info);

// Why Redis is not fit to serve, for /readyz: an evicting policy, or memory
// full (an OOM error was seen and INFO still says so).
struct redis_memory_problem {
  std::string code;     // "redis_evicts_keys" or "redis_out_of_memory"
  std::string message;
};

class redis_memory_watch {
 public:
  explicit redis_memory_watch(store::redis_client& redis);

  // On every (re)connection: reads the policy; one that is not noeviction is
  // logged at error level (once per connection) and held in /readyz and the
  // metric until a connection finds noeviction.
  boost::asio::awaitable<void> check_policy();
  // For /readyz: nullopt when Redis is fit. After an OOM error reply (Redis at
  // maxmemory), INFO is read on each call until memory is below maxmemory.
  boost::asio::awaitable<std::optional<redis_memory_problem>> problem();

 private:
  store::redis_client& redis_;
  std::mutex mutex_;
  std::string evicting_policy_;    // "" when noeviction or not known
  std::uint64_t oom_replies_seen_ = 0;
  bool out_of_memory_ = false;
};

}  // namespace pasokh::gateway
