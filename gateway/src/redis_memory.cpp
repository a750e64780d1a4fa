#include "pasokh/gateway/redis_memory.hpp"

#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/metrics.hpp"

namespace pasokh::gateway {

namespace {

namespace net = boost::asio;

std::uint64_t to_number(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::optional<redis_memory_info> parse_info_memory(std::string_view info) {
  redis_memory_info out;
  bool has_policy = false;
  while (!info.empty()) {
    auto end = info.find('\n');
    auto line = info.substr(0, end);
    info.remove_prefix(end == std::string_view::npos ? info.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = line.substr(0, colon), value = line.substr(colon + 1);
    if (name == "maxmemory_policy") {
      out.policy = std::string(value);
      has_policy = true;
    } else if (name == "used_memory") {
      out.used = to_number(value);
    } else if (name == "maxmemory") {
      out.limit = to_number(value);
    }
  }
  if (!has_policy) return std::nullopt;
  return out;
}

redis_memory_watch::redis_memory_watch(store::redis_client& redis)
    : redis_(redis), oom_replies_seen_(redis.out_of_memory_replies()) {}

net::awaitable<void> redis_memory_watch::check_policy() {
  auto r = co_await redis_.exec(store::make_command("INFO", "memory"));
  if (!r) co_return;  // the link dropped again: the next connection checks
  auto info = r->is_error() ? std::nullopt : parse_info_memory(r->str);
  {
    std::lock_guard lock(mutex_);
    // pasokh_redis_evicting_policy: 1 for the policy that may evict, 0 for one mended.
    auto& metric = global_metrics().redis_evicting_policy;
    if (!evicting_policy_.empty()) metric.set({evicting_policy_}, 0);
    evicting_policy_ = info && info->policy != "noeviction" ? info->policy : std::string{};
    if (!evicting_policy_.empty()) metric.set({evicting_policy_}, 1);
  }
  auto log = spdlog::get("redis");
  if (!info) {
    log->warn("cannot read Redis's maxmemory_policy from INFO memory ({}): make sure it is noeviction",
              r->is_error() ? r->str : "no maxmemory_policy field");
  } else if (info->policy != "noeviction") {
    log->error("Redis maxmemory-policy is {}: Redis may evict keys Pasokh needs (dedup keys first, so provider "
               "retries are stored twice); set maxmemory-policy noeviction. /readyz answers 503 until then",
               info->policy);
  }
}

net::awaitable<std::optional<redis_memory_problem>> redis_memory_watch::problem() {
  std::string evicting;
  bool out_of_memory;
  {
    std::lock_guard lock(mutex_);
    evicting = evicting_policy_;
    const auto oom_replies = redis_.out_of_memory_replies();
    if (oom_replies != oom_replies_seen_) out_of_memory_ = true;
    oom_replies_seen_ = oom_replies;
    out_of_memory = out_of_memory_;
  }
  if (!evicting.empty())
    co_return redis_memory_problem{
        "redis_evicts_keys",
        fmt::format("Redis maxmemory-policy is {}: it may evict Pasokh's keys; set maxmemory-policy noeviction", evicting)};
  if (!out_of_memory) co_return std::nullopt;
  auto r = co_await redis_.exec(store::make_command("INFO", "memory"));
  auto info = r && !r->is_error() ? parse_info_memory(r->str) : std::nullopt;
  if (info && !info->full()) {
    std::lock_guard lock(mutex_);
    // Unless another OOM came in the meantime: then the next call reads INFO again.
    if (redis_.out_of_memory_replies() == oom_replies_seen_) out_of_memory_ = false;
    co_return std::nullopt;
  }
  co_return redis_memory_problem{
      "redis_out_of_memory",
      info ? fmt::format("Redis is out of memory ({} of maxmemory {} bytes used): writes are refused", info->used,
                         info->limit)
           : std::string("Redis refused writes for lack of memory (OOM)")};
}

}  // namespace pasokh::gateway
