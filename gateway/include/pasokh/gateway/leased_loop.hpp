#pragma once
// The loops one instance at a time runs, taking turns through a lease in
// Redis (the campaign loop, the retention sweep).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <functional>
#include <memory>

namespace pasokh::gateway {

// Stops such a loop: no tick after this, and a lease it holds goes at once,
// so after a restart the next instance takes over within its own tick rather
// than a lease's time later. `done` runs once the lease is given up (main
// keeps Redis until then). `State` has the loop's strand, timer, stopping
// and leader, and release_lease(): the script call that deletes the lease
// only while it still names this instance (release_lease in prelude.lua).
template <class State>
void stop_leased_loop(const std::shared_ptr<State>& st, std::function<void()> done) {
  if (!done) done = [] {};
  boost::asio::post(st->strand, [st, done = std::move(done)] {
    const bool holds = st->leader && !st->stopping;
    st->stopping = true;
    st->timer.cancel();
    if (!holds) return done();
    boost::asio::co_spawn(st->strand, st->release_lease(), [st, done](std::exception_ptr) { done(); });
  });
}

}  // namespace pasokh::gateway
