#pragma once
// The loops one instance at a time runs, taking turns through a lease in
// Redis (the campaign loop, the retention sweep). `State` has the loop's
// strand and timer, `stopping`, `leader`, `ended`, `on_ended`, and
// release_lease(): the script call that deletes the lease only while it still
// names this instance (release_lease in prelude.lua).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace pasokh::gateway {

// Stops such a loop: no tick after this. `done` runs once the loop has ended
// and given up a lease it held (main keeps Redis until then).
template <class State>
void stop_leased_loop(const std::shared_ptr<State>& st, std::function<void()> done) {
  if (!done) done = [] {};
  boost::asio::post(st->strand, [st, done = std::move(done)]() mutable {
    st->stopping = true;
    st->timer.cancel();
    if (st->ended) return done();
    st->on_ended = std::move(done);
  });
}

// The last step of such a loop's coroutine. A lease it holds goes at once, so
// after a restart the next instance takes over within its own tick rather
// than a lease's time later. Given up here, at the end, not when the stop was
// asked (a lease call in flight then may still have taken it), and whatever
// `leader` says (a lease call that got no answer may have taken it too).
template <class State>
boost::asio::awaitable<void> end_leased_loop(State& st) {
  co_await st.release_lease();
  st.leader = false;
  st.ended = true;
  if (auto done = std::exchange(st.on_ended, nullptr)) done();
}

}  // namespace pasokh::gateway
