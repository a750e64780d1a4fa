#pragma once
// Which channels a live gateway sends on. Gateways of one Redis may differ
// in configuration (a rolling deploy adds a channel to some first; an admin
// removes one), so each advertises the channels it runs an outbox worker for
// in <prefix>channels:served_until (channel → until when, on Redis's clock),
// renewed every third of `ttl`. An agent's reply on a channel that neither
// the gateway it reaches nor a live one elsewhere sends on is refused
// (append_reply.lua). Replies already queued when a channel's last gateway
// went are marked failed, with a reason the agent sees, once it has had none
// for `grace` (a restart comes back well within it): every gateway looks
// each beat, and two never take the same entry (channel_servers.lua).
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

struct channel_servers_options {
  std::chrono::milliseconds ttl{15'000};    // a gateway gone counts as serving its channels this long after its last beat
  std::chrono::milliseconds grace{60'000};  // then its queued replies wait this long for a gateway to come back
  std::size_t batch = 100;                  // entries failed per channel and beat
};

// The reason a stranded reply's delivery record gives (the console shows it
// in the agent's language: web/console/js/views/conversation.js).
std::string unserved_reason(const std::string& channel);

class channel_servers {
 public:
  // `channels`: those this gateway sends on (an outbox worker each).
  channel_servers(boost::asio::any_io_executor executor, store::redis_client& redis, std::string prefix,
                  std::vector<std::string> channels, channel_servers_options options);
  ~channel_servers();  // stop()
  channel_servers(const channel_servers&) = delete;
  channel_servers& operator=(const channel_servers&) = delete;

  // Beats at once, then every ttl / 3. Nothing is given up at a stop: a
  // gateway restarted within `ttl` never leaves its channels unserved.
  void start();
  void stop();

  // Told of each queued message marked failed for want of a server (metrics).
  std::function<void(const std::string& channel)> on_stranded;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace pasokh::routing
