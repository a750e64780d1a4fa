#pragma once
// HTTP/1.1 + WebSocket listener (Beast, coroutines, a strand per connection),
// with optional TLS, limits and graceful shutdown. Everything Beast lives in
// http_server.cpp.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "pasokh/gateway/config.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/websocket.hpp"

namespace pasokh::gateway {

class http_server {
 public:
  // `ws_endpoints` maps a path ("/ws/agent") to its protocol.
  http_server(boost::asio::io_context& ioc, const config& cfg, const router& routes,
              std::map<std::string, ws_endpoint, std::less<>> ws_endpoints);
  ~http_server();

  // Binds and starts accepting; returns the bound port (the config may say 0).
  // Throws std::system_error when the address cannot be bound.
  std::uint16_t start();

  // Stops accepting, closes WebSockets with 1001 and idle keep-alive
  // connections; requests in flight finish. `done` runs once every connection
  // is gone or `grace` has passed.
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t open_connections() const;

  // Loads the configured certificate and key as start() would; throws naming
  // the problem (for --check-config).
  static void check_tls(const config& cfg);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace pasokh::gateway
