#pragma once
// When pub/sub comes back after an outage, every live session catches up from
// the conversation logs (live_hub::resync_all). The logs are read through the
// command connection, which reconnects on its own schedule: a catch-up that
// ran before it was back would fail, and nothing would retry it (an agent
// would miss what another instance stored meanwhile). So the resync runs once
// both are back, whichever comes last.
#include <atomic>
#include <functional>

namespace pasokh::gateway {

class live_hub;

class live_resync {
 public:
  // `commands_connected`: whether the command connection is up now.
  live_resync(live_hub& hub, std::function<bool()> commands_connected)
      : hub_(hub), commands_connected_(std::move(commands_connected)) {}

  // From redis_subscriber::on_resubscribed.
  void pubsub_back();
  // From redis_client::on_connected (connected() is already true).
  void commands_back();

 private:
  live_hub& hub_;
  std::function<bool()> commands_connected_;
  // Pub/sub came back and the sessions have not caught up yet. Whichever of
  // the two callbacks (on different strands) clears it runs the resync.
  std::atomic<bool> pending_{false};
};

}  // namespace pasokh::gateway
