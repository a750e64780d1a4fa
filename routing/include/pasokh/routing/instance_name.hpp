#pragma once

#include <string>

namespace pasokh::routing {

// "host-pid-random": names this process where instances take turns or share
// work in Redis (outbox consumers, the campaign and retention leases), unique
// across restarts on one host.
std::string instance_name();

}  // namespace pasokh::routing
