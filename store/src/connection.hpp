#pragma once
// The life cycle shared by redis_client and redis_subscriber: resolve,
// connect, handshake (AUTH, SELECT, PING) under connect_timeout, then
// reconnect with backoff whenever the link drops, until stop().
#include "hiredis_link.hpp"
#include "pasokh/store/redis_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/logger.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

namespace pasokh::store::detail {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(boost::asio::any_io_executor ex, redis_config cfg, std::string role);
  virtual ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Thread-safe.
  void start();
  void stop();
  bool connected() const noexcept { return ready_.load(std::memory_order_acquire); }

  const strand_type& strand() const noexcept { return strand_; }

 protected:
  // All of the following run on the strand.

  // The handshake succeeded; commands may be sent. Runs inside a hiredis
  // callback: append commands, but don't block.
  virtual void on_ready() = 0;
  // A ready link went away. Runs inside hiredis' teardown (pending reply
  // callbacks may still follow with null replies): update state only.
  virtual void on_lost() {}
  // stop() or abandon(): cancel own timers.
  virtual void on_stopping() {}

  // The context when ready for commands, else nullptr.
  redisAsyncContext* ready_context() const noexcept;
  // Why pending commands of the current link fail.
  redis_errc close_reason() const noexcept { return link_ ? link_->close_reason() : redis_errc::connection_lost; }
  // Drops the link; the connection comes back through the backoff loop.
  void reset(redis_errc reason);
  bool stopped() const noexcept { return state_ == state::stopped; }
  // For the owner's destructor when stop() never ran (io_context gone):
  // frees the context now, and reply callbacks must not resume callers.
  void abandon();
  bool abandoning() const noexcept { return abandoning_; }

  strand_type strand_;
  const redis_config cfg_;
  const std::string role_;  // "client" or "subscriber", for the log
  std::shared_ptr<spdlog::logger> log_;

 private:
  enum class state { idle, connecting, handshaking, ready, waiting, stopped };

  void begin_connect();
  void on_resolved(std::uint64_t generation, const boost::system::error_code& ec,
                   const boost::asio::ip::tcp::resolver::results_type& results);
  void open(const std::string& address);
  void arm_connect_timer();
  void on_connect_timeout();
  void start_handshake();
  void on_handshake_reply(const redisReply* r, const char* step);
  void become_ready();
  void on_link_closed(std::uint64_t generation, std::string_view error);
  void attempt_failed(std::string_view error);
  void schedule_reconnect();
  void shutdown(redis_errc reason);

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_handshake(redisAsyncContext* ac, void* reply, void* privdata);

  state state_ = state::idle;
  std::atomic<bool> ready_{false};
  bool abandoning_ = false;
  std::uint64_t generation_ = 0;  // one per connect attempt; stale callbacks compare it
  unsigned failures_ = 0;         // consecutive failed attempts, drives the backoff
  unsigned handshake_pending_ = 0;
  std::string connect_error_;
  std::shared_ptr<hiredis_link> link_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer backoff_timer_;
  boost::asio::ip::tcp::resolver resolver_;
  std::minstd_rand rng_;
};

}  // namespace pasokh::store::detail
