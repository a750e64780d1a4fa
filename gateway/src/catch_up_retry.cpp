#include "pasokh/gateway/catch_up_retry.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <utility>

namespace pasokh::gateway {

namespace net = boost::asio;

catch_up_retry::catch_up_retry(net::any_io_executor executor, std::chrono::milliseconds first_wait,
                               std::chrono::milliseconds longest_wait)
    : timer_(std::move(executor)), first_wait_(first_wait), longest_wait_(longest_wait) {}

void catch_up_retry::remember(const std::string& conv, catch_up_fn catch_up) {
  if (stopped_) return;
  stale_.insert(conv);
  if (!std::exchange(running_, true)) net::co_spawn(timer_.get_executor(), run(std::move(catch_up)), net::detached);
}

net::awaitable<void> catch_up_retry::run(catch_up_fn catch_up) {
  auto wait = first_wait_;
  while (!stale_.empty() && !stopped_) {
    timer_.expires_after(wait);
    boost::system::error_code cancelled;
    co_await timer_.async_wait(net::redirect_error(net::use_awaitable, cancelled));
    if (stopped_) break;
    // A conversation whose read fails again is remembered for the next round.
    auto round = std::exchange(stale_, {});
    for (const auto& conv : round) co_await catch_up(conv);
    wait = std::min(wait * 2, longest_wait_);
  }
  running_ = false;
}

void catch_up_retry::stop() {
  stopped_ = true;
  stale_.clear();
  timer_.cancel();
}

}  // namespace pasokh::gateway
