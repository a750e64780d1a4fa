#include "pasokh/gateway/live_resync.hpp"

#include "pasokh/gateway/live_hub.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace pasokh::gateway {

namespace asio = boost::asio;

namespace {
// By-value parameters: the coroutine outlives its caller.
asio::awaitable<void> wait_then_resync(live_hub& hub, std::function<bool()> readable, std::chrono::milliseconds poll) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!readable()) {
    timer.expires_after(poll);
    co_await timer.async_wait(asio::use_awaitable);
  }
  hub.resync_all();
}
}  // namespace

void resync_when_readable(asio::any_io_executor ex, live_hub& hub, std::function<bool()> readable,
                          std::chrono::milliseconds poll) {
  asio::co_spawn(ex, wait_then_resync(hub, std::move(readable), poll), asio::detached);
}

}  // namespace pasokh::gateway
