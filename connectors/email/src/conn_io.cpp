#include "conn_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace pasokh::connectors::email::detail {

using asio::as_tuple;
using asio::use_awaitable;
using clock = std::chrono::steady_clock;

conn_io::conn_io(tcp::socket socket) : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

void conn_io::start_watchdog() {
  asio::co_spawn(socket_.get_executor(), watchdog(shared_from_this()), asio::detached);
}

void conn_io::arm(clock::duration d) {
  auto next = clock::now() + d;
  bool earlier = next < deadline_;
  deadline_ = next;
  if (earlier) timer_.cancel();  // wake the watchdog so it waits for the nearer deadline
}

void conn_io::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// `self` keeps the connection alive for as long as the watchdog runs.
asio::awaitable<void> conn_io::watchdog([[maybe_unused]] std::shared_ptr<conn_io> self) {
  while (!closed_) {
    timer_.expires_at(deadline_);
    co_await timer_.async_wait(as_tuple(use_awaitable));  // cancelled or expired: both re-check below
    if (closed_) break;
    if (clock::now() < deadline_) continue;  // moved or cancelled: wait again
    if (!timed_out_) {
      // First expiry: cancel the pending operation so the owner can say goodbye;
      // if that goodbye stalls too, the second expiry closes the socket.
      timed_out_ = true;
      error_code ignored;
      socket_.cancel(ignored);
      deadline_ = clock::now() + std::chrono::seconds(5);
      continue;
    }
    error_code ignored;
    socket_.close(ignored);
    break;
  }
}

asio::awaitable<std::pair<error_code, std::size_t>> conn_io::read_some(asio::mutable_buffer buffer) {
  if (tls_) {
    auto [ec, n] = co_await tls_->async_read_some(buffer, as_tuple(use_awaitable));
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await socket_.async_read_some(buffer, as_tuple(use_awaitable));
  co_return std::pair{ec, n};
}

asio::awaitable<error_code> conn_io::write(std::string_view bytes) {
  if (tls_) {
    auto [ec, n] = co_await asio::async_write(*tls_, asio::buffer(bytes), as_tuple(use_awaitable));
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), as_tuple(use_awaitable));
  co_return ec;
}

asio::awaitable<error_code> conn_io::handshake(asio::ssl::context& ctx, asio::ssl::stream_base::handshake_type type,
                                              const std::string& sni) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx);
  if (!sni.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), sni.c_str());
  auto [ec] = co_await tls_->async_handshake(type, as_tuple(use_awaitable));
  co_return ec;
}

asio::awaitable<error_code> read_line(conn_io& io, std::string& buffer, std::string& line, std::size_t max) {
  for (;;) {
    auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      line.assign(buffer, 0, nl);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      buffer.erase(0, nl + 1);
      co_return error_code{};
    }
    if (buffer.size() > max) co_return asio::error::message_size;
    char chunk[4096];
    auto [ec, n] = co_await io.read_some(asio::buffer(chunk));
    if (ec) co_return ec;
    buffer.append(chunk, n);
  }
}

}  // namespace pasokh::connectors::email::detail
