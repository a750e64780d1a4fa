#pragma once
// HTTP/1.1 + WebSocket listener (Beast, coroutines, a strand per connection),
// with optional TLS, limits and graceful shutdown. Everything Beast lives in
// http_server.cpp.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pasokh/gateway/config.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/websocket.hpp"

namespace pasokh::gateway {

// Adds headers to every answer to an HTTP request: a route's, and the
// server's own refusals before any route (body or header too large, a
// malformed request), which a browser must be able to read too (web chat CORS).
using answer_decorator = std::function<void(const http_request&, http_response&)>;
// Checks a web chat upload from its headers, before its body is read: a
// refusal, or nothing to go on.
using upload_gate = std::function<boost::asio::awaitable<std::optional<http_response>>(const http_request&)>;

class http_server {
 public:
  // `ws_endpoints` maps a path ("/ws/agent") to its protocol.
  http_server(boost::asio::io_context& ioc, const config& cfg, const router& routes,
              std::map<std::string, ws_endpoint, std::less<>> ws_endpoints, answer_decorator decorate = {});
  ~http_server();

  // Binds and starts accepting; returns the bound port (the config may say 0).
  // Throws std::system_error when the address cannot be bound.
  std::uint16_t start();

  // Stops accepting, closes WebSockets with 1001 and idle keep-alive
  // connections; requests in flight finish. `done` runs once every connection
  // is gone or `grace` has passed.
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  std::size_t open_connections() const;

  // Set before start().
  void gate_uploads(upload_gate gate);

  // Loads the configured certificate and key as start() would; throws naming
  // the problem (for --check-config).
  static void check_tls(const config& cfg);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace pasokh::gateway
