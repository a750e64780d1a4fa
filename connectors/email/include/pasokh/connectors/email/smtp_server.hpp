#pragma once
// The inbound SMTP listener: accepts connections, runs one smtp_session per
// connection on its own strand (C++20 coroutines), and answers DATA only after
// the gateway's store callback said what happened to the message.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/smtp_session.hpp"

namespace pasokh::connectors::email {

// Stores one received message (raw bytes with our Return-Path/Received on top).
// stored → 250, temporary_failure → 451 (the MTA retries), rejected → 554.
// An exception counts as a temporary failure. The callback bounds its own time.
using store_callback = std::function<boost::asio::awaitable<store_outcome>(smtp_envelope, std::string)>;

class smtp_server {
 public:
  smtp_server(boost::asio::any_io_executor executor, smtp_config config, store_callback store);
  ~smtp_server();  // stop()
  smtp_server(const smtp_server&) = delete;
  smtp_server& operator=(const smtp_server&) = delete;

  // Binds and starts accepting; returns the bound port (useful with port 0).
  // Throws on bind errors or an unreadable certificate (start-up time).
  std::uint16_t start();
  // Stops accepting and closes every connection; a client in mid-transaction
  // gets no 250 and retries later. Safe to call more than once, from any thread.
  void stop();
  std::size_t active_connections() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace pasokh::connectors::email
