#pragma once
// When pub/sub comes back after an outage, every live session catches up from
// the conversation logs (live_hub::resync_all). The logs are read through the
// command connection, which reconnects on its own schedule: a catch-up that
// ran before it was back would fail, and nothing would retry it (an agent
// would miss what another instance stored meanwhile). So the resync waits
// until the logs are readable.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>

namespace pasokh::gateway {

class live_hub;

// Calls hub.resync_all() on `ex` once `readable()` is true, checking every
// `poll`. Call it from redis_subscriber::on_resubscribed; `hub` must outlive
// the executor's io_context run.
void resync_when_readable(boost::asio::any_io_executor ex, live_hub& hub, std::function<bool()> readable,
                          std::chrono::milliseconds poll = std::chrono::milliseconds(50));

}  // namespace pasokh::gateway
