#pragma once
// One way to try a Redis call again: a few times, each wait twice the one
// before, so a connection that is reconnecting (or a Redis that refused for
// a moment: OOM) gets time, and a dead one is given up on soon.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace pasokh::gateway {

struct retry_policy {
  int tries = 4;
  std::chrono::milliseconds first_wait{250};
};

// Calls `attempt` (a coroutine giving whether it worked) until it works, at
// most `policy.tries` times, waiting on the caller's executor in between;
// stops early once `give_up()` (e.g. the service is stopping). Whether an
// attempt worked.
template <class Attempt, class GiveUp>
boost::asio::awaitable<bool> with_retries(Attempt attempt, retry_policy policy, GiveUp give_up) {
  auto wait = policy.first_wait;
  for (int i = 1;; ++i, wait *= 2) {
    if (co_await attempt()) co_return true;
    if (i >= policy.tries || give_up()) co_return false;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, wait);
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

}  // namespace pasokh::gateway
