#include "connection.hpp"

#include "backoff.hpp"
#include "log.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <iterator>
#include <stdexcept>
#include <vector>

namespace pasokh::store::detail {

namespace asio = boost::asio;

namespace {

// Config mistakes surface at start-up, not as a client that never connects.
redis_config validated(redis_config cfg) {
  using std::chrono::milliseconds;
  auto fail = [](const char* what) { throw std::invalid_argument(std::string("redis_config: ") + what); };
  if (cfg.host.empty()) fail("host is empty");
  if (cfg.port < 1 || cfg.port > 65535) fail("port out of range");
  if (cfg.database < 0) fail("database is negative");
  if (cfg.connect_timeout <= milliseconds::zero()) fail("connect_timeout must be positive");
  if (cfg.command_timeout <= milliseconds::zero()) fail("command_timeout must be positive");
  if (cfg.reconnect_min <= milliseconds::zero()) fail("reconnect_min must be positive");
  if (cfg.reconnect_max < cfg.reconnect_min) fail("reconnect_max is below reconnect_min");
  if (!cfg.username.empty() && cfg.password.empty()) fail("username without password");
  return cfg;
}

}  // namespace

connection::connection(asio::any_io_executor ex, redis_config cfg, std::string role)
    : strand_(asio::make_strand(std::move(ex))),
      cfg_(validated(std::move(cfg))),
      role_(std::move(role)),
      log_(redis_logger()),
      connect_timer_(strand_),
      backoff_timer_(strand_),
      resolver_(strand_),
      rng_(std::random_device{}()) {}

connection::~connection() = default;

void connection::start() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->state_ == state::idle) self->begin_connect();
  });
}

void connection::stop() {
  asio::post(strand_, [self = shared_from_this()] { self->shutdown(redis_errc::stopped); });
}

void connection::abandon() {
  abandoning_ = true;
  shutdown(redis_errc::stopped);
}

redisAsyncContext* connection::ready_context() const noexcept {
  // The link may already be gone while its closed notification is queued.
  return state_ == state::ready && link_ ? link_->context() : nullptr;
}

void connection::reset(redis_errc reason) {
  if (link_) link_->close(reason);
}

void connection::shutdown(redis_errc reason) {
  if (state_ == state::stopped) return;
  const bool was_started = state_ != state::idle;
  state_ = state::stopped;
  ready_.store(false, std::memory_order_release);
  connect_timer_.cancel();
  backoff_timer_.cancel();
  resolver_.cancel();
  on_stopping();
  reset(reason);  // pending commands fail with `reason`
  if (was_started) log_->info("redis {}: stopped", role_);
}

void connection::begin_connect() {
  ++generation_;
  state_ = state::connecting;
  connect_error_.clear();
  arm_connect_timer();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(cfg_.host, ec);
  if (!ec) {
    open(address.to_string());
    return;
  }
  // hiredis would resolve with a blocking getaddrinfo on our thread.
  resolver_.async_resolve(cfg_.host, std::to_string(cfg_.port),
                          [self = shared_from_this(), generation = generation_](
                              const boost::system::error_code& ec, const asio::ip::tcp::resolver::results_type& r) {
                            self->on_resolved(generation, ec, r);
                          });
}

void connection::on_resolved(std::uint64_t generation, const boost::system::error_code& ec,
                             const asio::ip::tcp::resolver::results_type& results) {
  if (generation != generation_ || state_ != state::connecting) return;
  if (ec || results.empty()) {
    attempt_failed(ec ? ec.message() : "no address");
    return;
  }
  // Rotate through the addresses across failed attempts: "localhost" may
  // list ::1 first while Redis listens on 127.0.0.1 only.
  auto it = results.begin();
  std::advance(it, failures_ % results.size());
  open(it->endpoint().address().to_string());
}

void connection::open(const std::string& address) {
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), cfg_.port);
  if (!ac) {
    attempt_failed("out of memory");
    return;
  }
  if (ac->err) {  // e.g. refused synchronously; no hooks yet, free it here
    std::string error = ac->errstr;
    redisAsyncFree(ac);
    attempt_failed(error);
    return;
  }
  redisEnableKeepAlive(&ac->c);  // notice a silently dead peer on idle links
  ac->data = this;
  link_ = hiredis_link::attach(strand_, ac,
                               [weak = weak_from_this(), generation = generation_](std::string_view error) {
                                 if (auto self = weak.lock()) self->on_link_closed(generation, error);
                               });
  redisAsyncSetConnectCallback(ac, &connection::on_connect);
}

void connection::arm_connect_timer() {
  connect_timer_.expires_after(cfg_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this(), generation = generation_](const boost::system::error_code& ec) {
    if (!ec && generation == self->generation_) self->on_connect_timeout();
  });
}

void connection::on_connect_timeout() {
  if (state_ != state::connecting && state_ != state::handshaking) return;
  connect_error_ = "timed out after " + std::to_string(cfg_.connect_timeout.count()) + " ms";
  if (link_ && link_->context()) {
    link_->close(redis_errc::timed_out);  // on_link_closed() takes over
    return;
  }
  ++generation_;  // the resolver's late answer is stale now
  resolver_.cancel();
  attempt_failed(connect_error_);
}

void connection::on_connect(const redisAsyncContext* ac, int status) {
  auto& self = *static_cast<connection*>(ac->data);
  if (status != REDIS_OK) {
    // hiredis frees the context right after this; on_link_closed() follows.
    self.connect_error_ = ac->c.errstr;
    return;
  }
  self.start_handshake();
}

void connection::start_handshake() {
  state_ = state::handshaking;
  auto* ac = link_->context();
  auto send = [&](std::vector<std::string> args, const char* step) {
    // `step` is a string literal: it names the failing step in the log.
    if (append_command(ac, &connection::on_handshake, const_cast<char*>(step), args)) ++handshake_pending_;
  };
  handshake_pending_ = 0;
  if (!cfg_.password.empty()) {
    if (cfg_.username.empty())
      send({"AUTH", cfg_.password}, "AUTH");
    else
      send({"AUTH", cfg_.username, cfg_.password}, "AUTH");
  }
  if (cfg_.database != 0) send({"SELECT", std::to_string(cfg_.database)}, "SELECT");
  // Connected means the server answers (not merely that TCP is up, or that
  // it is still LOADING or blocked).
  send({"PING"}, "PING");
}

void connection::on_handshake(redisAsyncContext* ac, void* reply, void* privdata) {
  static_cast<connection*>(ac->data)->on_handshake_reply(static_cast<const redisReply*>(reply),
                                                         static_cast<const char*>(privdata));
}

void connection::on_handshake_reply(const redisReply* r, const char* step) {
  if (!r || state_ != state::handshaking) return;  // link closing
  if (r->type == REDIS_REPLY_ERROR) {
    // Server error texts never echo the password.
    connect_error_ = std::string(step) + " failed: " + std::string(r->str, r->len);
    link_->close(redis_errc::connection_lost);
    return;
  }
  if (--handshake_pending_ == 0) become_ready();
}

void connection::become_ready() {
  state_ = state::ready;
  connect_timer_.cancel();
  ready_.store(true, std::memory_order_release);
  if (failures_ > 0)
    log_->info("redis {}: connected to {}:{} db={} after {} failed attempts", role_, cfg_.host, cfg_.port,
               cfg_.database, failures_);
  else
    log_->info("redis {}: connected to {}:{} db={}", role_, cfg_.host, cfg_.port, cfg_.database);
  failures_ = 0;
  on_ready();
}

void connection::on_link_closed(std::uint64_t generation, std::string_view error) {
  if (generation != generation_) return;
  ready_.store(false, std::memory_order_release);
  if (state_ == state::stopped) return;
  connect_timer_.cancel();
  if (state_ == state::ready) {
    log_->warn("redis {}: connection to {}:{} lost: {}", role_, cfg_.host, cfg_.port,
               error.empty() ? "reset" : error);
    on_lost();
    schedule_reconnect();
    return;
  }
  attempt_failed(!connect_error_.empty() ? std::string_view(connect_error_)
                                         : error.empty() ? std::string_view("closed") : error);
}

void connection::attempt_failed(std::string_view error) {
  // Warn once per outage, then keep quiet while the backoff loop retries.
  if (failures_ == 0)
    log_->warn("redis {}: cannot connect to {}:{}: {}; retrying with backoff", role_, cfg_.host, cfg_.port, error);
  else
    log_->debug("redis {}: connect attempt {} to {}:{} failed: {}", role_, failures_ + 1, cfg_.host, cfg_.port,
                error);
  if (failures_ < 1000) ++failures_;
  schedule_reconnect();
}

void connection::schedule_reconnect() {
  state_ = state::waiting;
  const unsigned attempt = failures_ > 0 ? failures_ - 1 : 0;
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  backoff_timer_.expires_after(backoff_delay(attempt, cfg_.reconnect_min, cfg_.reconnect_max, unit));
  backoff_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && self->state_ == state::waiting) self->begin_connect();
  });
}

}  // namespace pasokh::store::detail
