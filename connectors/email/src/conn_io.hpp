#pragma once
// One TCP connection that may switch to TLS (STARTTLS), with a deadline
// watchdog. Every operation of a connection runs on its strand; the watchdog
// cancels the socket when the deadline passes, which works the same for plain
// and TLS streams (cancellation slots do not reach every SSL operation).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string_view>

namespace pasokh::connectors::email::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class conn_io : public std::enable_shared_from_this<conn_io> {
 public:
  explicit conn_io(tcp::socket socket);

  tcp::socket& socket() { return socket_; }
  bool tls_active() const { return tls_ != nullptr; }
  bool timed_out() const { return timed_out_; }

  // Starts the watchdog; call once, on the connection's executor.
  void start_watchdog();
  // The next operation must finish within `d`.
  void arm(std::chrono::steady_clock::duration d);
  void disarm() { arm(std::chrono::hours(24 * 365)); }
  // Ends the watchdog and closes the socket.
  void close();

  asio::awaitable<std::pair<error_code, std::size_t>> read_some(asio::mutable_buffer buffer);
  asio::awaitable<error_code> write(std::string_view bytes);
  asio::awaitable<error_code> handshake(asio::ssl::context& ctx, asio::ssl::stream_base::handshake_type type,
                                        const std::string& sni = {});
  asio::ssl::stream<tcp::socket&>* tls() { return tls_.get(); }

 private:
  asio::awaitable<void> watchdog(std::shared_ptr<conn_io> self);

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool timed_out_ = false;
  bool closed_ = false;
};

// Reads one line ending in LF (CR stripped) into `line`, buffering extra bytes in
// `buffer`. Fails with message_size when the line passes `max`.
asio::awaitable<error_code> read_line(conn_io& io, std::string& buffer, std::string& line, std::size_t max);

}  // namespace pasokh::connectors::email::detail
