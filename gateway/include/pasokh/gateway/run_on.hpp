#pragma once
// CPU-bound work (a password hash, parsing a large mail) off the I/O threads:
// the connections those threads serve do not wait for it.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>
#include <utility>

namespace pasokh::gateway {

// `work()` on the pool; the caller resumes on its own executor.
template <class Work>
boost::asio::awaitable<std::invoke_result_t<Work>> run_on(boost::asio::thread_pool& pool, Work work) {
  using value = std::invoke_result_t<Work>;
  // Named, not a temporary inside co_await (GCC 12 mishandles those).
  auto task = [work = std::move(work)]() -> boost::asio::awaitable<value> { co_return work(); };
  co_return co_await boost::asio::co_spawn(pool.get_executor(), std::move(task), boost::asio::use_awaitable);
}

}  // namespace pasokh::gateway
