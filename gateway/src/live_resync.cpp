#include "pasokh/gateway/live_resync.hpp"

#include "pasokh/gateway/live_hub.hpp"

namespace pasokh::gateway {

void live_resync::pubsub_back() {
  // Set before looking: a command reconnection in between then finds it.
  pending_.store(true);
  if (commands_connected_() && pending_.exchange(false)) hub_.resync_all();
}

void live_resync::commands_back() {
  if (pending_.exchange(false)) hub_.resync_all();
}

}  // namespace pasokh::gateway
