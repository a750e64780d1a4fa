#pragma once
// HTTPS client for the provider APIs. Includes Asio's coroutine types but not
// Beast: requests and responses are the plain provider_request/provider_response.
//
//   http::client c(executor, {});
//   for (auto& r : telegram::build_send(msg, ch).requests) {
//     auto outcome = telegram::classify(co_await c.send(r));
//     if (outcome.kind != outcome_kind::delivered) break;
//   }
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "pasokh/connectors/common/provider.hpp"

namespace pasokh::connectors::http {

struct client_config {
  std::chrono::milliseconds connect_timeout{5000};   // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds request_timeout{20000};  // waiting for a pooled slot, then write + read
  std::chrono::milliseconds idle_timeout{30000};     // pooled connections older than this are closed
  std::size_t max_connections_per_host = 8;          // more requests wait for a free one
  std::size_t max_idle_per_host = 4;
  std::size_t max_response_bytes = 4 * 1024 * 1024;
  // Extra trust anchors (PEM file) on top of the system store; tests use it.
  std::string ca_file;
  // Plain http:// is allowed only to loopback hosts (the fake provider in
  // tests); everything else must be https with a verified certificate.
  bool allow_plain_loopback = true;
  std::string user_agent = "pasokh/0.1";
};

class client {
 public:
  // Throws std::exception when the TLS context cannot be set up (start-up only).
  client(boost::asio::any_io_executor executor, client_config config = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Never throws for network trouble: a failed exchange comes back with
  // status 0 and transport_error ("timeout", "connect: Connection refused",
  // "tls: certificate verify failed", "refused: plain http to a non-loopback host").
  // Safe to call from any executor and concurrently: the client serializes its
  // own work on an internal strand.
  boost::asio::awaitable<provider_response> send(provider_request request);

  // Connections currently open to `scheme://host:port` (idle + in use); for tests and metrics.
  std::size_t open_connections(const std::string& origin) const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace pasokh::connectors::http
