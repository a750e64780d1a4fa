#include "pasokh/routing/team_scans.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <utility>

namespace pasokh::routing {

namespace net = boost::asio;
using net::awaitable;
template <class T> using result = boost::system::result<T>;

struct team_scans::flight {
  moment started = 0;
  bool done = false;
  std::chrono::steady_clock::time_point finished;
  std::optional<result<shared_scan>> outcome;  // set (under the mutex) when done
  // Sessions waiting for it, each resumed on its own executor.
  std::vector<std::pair<net::any_io_executor, net::any_completion_handler<void()>>> waiters;
};

team_scans::moment team_scans::now() {
  std::lock_guard lock(mutex_);
  return clock_;
}

std::uint64_t team_scans::scans_started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

awaitable<void> team_scans::wait_for(const std::shared_ptr<flight>& f) {
  // Named: GCC 12 destroys a lambda made inside the co_await twice.
  auto wait = [this, f](auto handler) {
    auto ex = net::get_associated_executor(handler);
    std::unique_lock lock(mutex_);
    if (!f->done) {
      f->waiters.emplace_back(std::move(ex), std::move(handler));
      return;
    }
    lock.unlock();
    net::post(ex, std::move(handler));
  };
  co_await net::async_initiate<decltype(net::use_awaitable), void()>(wait, net::use_awaitable);
}

void team_scans::finish(flight& f, result<shared_scan> outcome) {
  decltype(f.waiters) waiters;
  {
    std::lock_guard lock(mutex_);
    f.outcome = std::move(outcome);
    f.done = true;
    f.finished = std::chrono::steady_clock::now();
    waiters = std::exchange(f.waiters, {});
  }
  for (auto& [ex, handler] : waiters) net::post(ex, std::move(handler));
}

awaitable<result<team_scans::shared_scan>> team_scans::read(const std::string& team, int scan_cap, int queue_head,
                                                            moment need) {
  const auto key = team + '\n' + std::to_string(scan_cap) + '\n' + std::to_string(queue_head);
  std::shared_ptr<flight> f;
  bool ours = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(latest_, [&](const auto& kept) { return kept.second->done && now - kept.second->finished > kept_for_; });
    auto it = latest_.find(key);
    // Only a scan that started after the need (see the header); not one that failed.
    if (it != latest_.end() && it->second->started > need && !(it->second->done && !*it->second->outcome)) {
      f = it->second;
    } else {
      f = std::make_shared<flight>();
      f->started = ++clock_;
      ++started_;
      latest_[key] = f;
      ours = true;
    }
  }
  if (ours) {
    // Its reads are sent only now, after the start was numbered. Those
    // waiting are woken however it ends.
    result<shared_scan> outcome = store::make_error_code(store::redis_errc::server_error);
    try {
      auto scan = co_await read_team_scan(redis_, prefix_, team, scan_cap, queue_head);
      if (scan) outcome = std::make_shared<const team_scan>(std::move(*scan));
      else outcome = scan.error();
    } catch (...) {
      finish(*f, std::move(outcome));
      throw;
    }
    finish(*f, std::move(outcome));
  } else {
    co_await wait_for(f);
  }
  std::lock_guard lock(mutex_);
  co_return *f->outcome;
}

}  // namespace pasokh::routing
