#include "pasokh/store/redis_client.hpp"

#include "connection.hpp"
#include "hiredis_reply.hpp"
#include "pending_op.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/errc.hpp>

#include <strings.h>

#include <atomic>

namespace pasokh::store {

namespace asio = boost::asio;
using detail::clock;
using detail::command_batch;
using detail::pending_op;

namespace {


// These switch a hiredis context into push mode, which would break the
// reply-in-order contract of the shared command connection.
bool is_forbidden(const std::vector<std::string>& cmd) {
  for (const char* name :
       {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"})
    if (strcasecmp(cmd.front().c_str(), name) == 0) return true;
  return false;
}

bool valid(std::span<const std::vector<std::string>> commands) {
  for (const auto& cmd : commands)
    if (cmd.empty() || is_forbidden(cmd)) return false;
  return true;
}

// The client's state, on its strand. (redis_client::impl is private; the
// initiation below needs a name it can use.)
struct client_core : detail::connection {
  client_core(asio::any_io_executor ex, redis_config cfg)
      : connection(std::move(ex), std::move(cfg), "client"), watchdog_(strand_) {}
  ~client_core() override { abandon(); }
  std::chrono::milliseconds command_timeout() const noexcept { return cfg_.command_timeout; }
  // OOM error replies (Redis at maxmemory refuses writes) since start.
  std::atomic<std::uint64_t> out_of_memory_replies_{0};

  // Strand: sends the request's commands back to back, or fails it now.
  void submit(std::unique_ptr<pending_op> op) {
    auto commands = op->commands();
    if (stopped()) return finish_now(std::move(op), redis_errc::stopped);
    if (!valid(commands)) return finish_now(std::move(op), make_error_code(boost::system::errc::invalid_argument));
    if (commands.empty()) return op.release()->complete();  // an empty pipeline
    redisAsyncContext* ac = ready_context();
    if (!ac) return finish_now(std::move(op), redis_errc::not_connected);  // fail fast, no queue

    op->sent_at = clock::now();
    op->deadline = op->sent_at + cfg_.command_timeout;
    pending_op* raw = op.release();  // owned by the hiredis callbacks from here
    for (const auto& cmd : commands) {
      if (!detail::append_command(ac, &client_core::on_reply, raw, cmd)) break;
      ++raw->outstanding;
    }
    if (raw->outstanding < commands.size()) {
      // Cannot happen while ready (hiredis refuses only when closing).
      for (auto n = commands.size() - raw->outstanding; n > 0; --n) raw->fail(redis_errc::connection_lost);
      if (raw->outstanding == 0) return raw->complete();
    }
    inflight_.push_back(*raw);
    arm_watchdog();
  }

  void finish_now(std::unique_ptr<pending_op> op, boost::system::error_code ec) {
    for (std::size_t i = 0; i < op->commands().size(); ++i) op->fail(ec);
    if (op->commands().empty()) op->fail(ec);
    op.release()->complete();
  }

  static void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
    auto& self = static_cast<client_core&>(*static_cast<detail::connection*>(ac->data));
    self.on_reply(*static_cast<pending_op*>(privdata), static_cast<const redisReply*>(r));
  }

  void on_reply(pending_op& op, const redisReply* r) {
    if (r) {
      observe_latency(op, "");
      if (r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("OOM "))
        out_of_memory_replies_.fetch_add(1, std::memory_order_relaxed);
      op.add_reply(detail::to_reply(*r));
    } else {  // the link is going away
      observe_latency(op, op.timed_out ? "timed_out" : "connection_lost");
      op.fail(op.timed_out ? redis_errc::timed_out : close_reason());
    }
    if (--op.outstanding > 0) return;
    inflight_.erase(inflight_.iterator_to(op));
    if (abandoning())
      delete &op;  // the caller's executor is gone; just free the handler
    else
      op.complete();
  }

  void observe_latency(const pending_op& op, std::string_view failure) {
    if (!latency_) return;
    try {
      latency_(std::chrono::duration<double>(clock::now() - op.sent_at).count(), failure);
    } catch (const std::exception& e) {
      log_->error("redis client: latency observer threw: {}", e.what());
    }
  }

  // One timer for all requests: replies come in order, so only the oldest
  // request can be overdue. The timer is re-armed lazily when it fires, not
  // on every reply.
  void arm_watchdog() {
    if (watchdog_armed_ || inflight_.empty()) return;
    watchdog_armed_ = true;
    watchdog_.expires_at(inflight_.front().deadline);
    watchdog_.async_wait([self = std::static_pointer_cast<client_core>(shared_from_this())](const boost::system::error_code&) {
      self->on_watchdog();
    });
  }

  void on_watchdog() {
    watchdog_armed_ = false;
    if (stopped() || inflight_.empty()) return;
    auto& oldest = inflight_.front();
    if (clock::now() < oldest.deadline) return arm_watchdog();
    log_->warn("redis client: {} got no reply within {} ms; resetting the connection ({} requests in flight)",
               oldest.commands().front().front(), cfg_.command_timeout.count(), inflight_.size());
    oldest.timed_out = true;
    reset(redis_errc::connection_lost);  // the others fail with connection_lost
  }

  void on_ready() override {
    if (connected_) connected_();
  }
  void on_stopping() override { watchdog_.cancel(); }

  asio::steady_timer watchdog_;
  bool watchdog_armed_ = false;
  boost::intrusive::list<pending_op> inflight_;  // oldest first
  redis_client::latency_observer latency_;
  std::function<void()> connected_;
};

// A load the client can await inside fcall as well (by weak pointer, for the
// reason given at initiate_request).
asio::awaitable<result<reply>> load_library(std::weak_ptr<client_core> client, const lua_library& library);

// Builds the request op around the caller's handler and hands it to the strand.
// Weak: the awaitable frame holding this initiation lives inside the op,
// which the client owns; a strong pointer would be a cycle that nothing
// breaks if the io_context dies before stop() runs.
template <class Value>
struct initiate_request {
  std::weak_ptr<client_core> client;

  template <class Handler>
  void operator()(Handler&& handler, command_batch commands) const {
    auto self = client.lock();
    if (!self) {  // the client is already gone
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [handler = std::forward<Handler>(handler)]() mutable {
        std::move(handler)(result<Value>(boost::system::in_place_error, make_error_code(redis_errc::stopped)));
      });
      return;
    }
    using op_type = detail::request_op<std::decay_t<Handler>, Value>;
    auto op = std::make_unique<op_type>(std::forward<Handler>(handler), std::move(commands), self->strand());
    auto& strand = self->strand();
    asio::post(strand, [self = std::move(self), op = std::move(op)]() mutable { self->submit(std::move(op)); });
  }
};

template <class Value>
asio::awaitable<result<Value>> start_request(std::weak_ptr<client_core> client, command_batch commands) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(result<Value>)>(
      initiate_request<Value>{std::move(client)}, asio::use_awaitable, std::move(commands));
}

// Without REPLACE: Redis refuses a library it has before compiling it, and
// the name says it is this one (calls that all missed it load it once).
asio::awaitable<result<reply>> load_library(std::weak_ptr<client_core> client, const lua_library& library) {
  command_batch load;
  load.one = {"FUNCTION", "LOAD", library.source};
  auto loaded = co_await start_request<reply>(std::move(client), std::move(load));
  if (loaded && detail::is_library_present(*loaded)) {
    reply ok;
    ok.type = reply::kind::status;
    ok.str = "OK";
    co_return ok;
  }
  co_return loaded;
}

}  // namespace

struct redis_client::impl final : client_core {
  using client_core::client_core;
};

redis_client::redis_client(asio::any_io_executor ex, redis_config cfg)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(cfg))) {}

redis_client::~redis_client() {
  if (impl_) impl_->stop();
}

void redis_client::start() { impl_->start(); }
void redis_client::stop() { impl_->stop(); }
bool redis_client::connected() const noexcept { return impl_->connected(); }
std::chrono::milliseconds redis_client::command_timeout() const noexcept { return impl_->command_timeout(); }
std::uint64_t redis_client::out_of_memory_replies() const noexcept {
  return impl_->out_of_memory_replies_.load(std::memory_order_relaxed);
}

asio::awaitable<result<reply>> redis_client::exec(std::vector<std::string> args) {
  command_batch batch;
  batch.one = std::move(args);
  return start_request<reply>(impl_, std::move(batch));
}

asio::awaitable<result<std::vector<reply>>> redis_client::exec_pipeline(std::vector<std::vector<std::string>> commands) {
  command_batch batch;
  batch.many = std::move(commands);
  batch.is_pipeline = true;
  return start_request<std::vector<reply>>(impl_, std::move(batch));
}

asio::awaitable<result<reply>> redis_client::fcall(const lua_script& script, std::vector<std::string> keys,
                                                   std::vector<std::string> args) {
  std::vector<std::string> cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.emplace_back("FCALL");
  cmd.push_back(script.function);
  cmd.push_back(std::to_string(keys.size()));
  for (auto& k : keys) cmd.push_back(std::move(k));
  for (auto& a : args) cmd.push_back(std::move(a));

  // This frame outlives both requests, so they borrow `cmd` instead of
  // copying it. Weak for the reason given at initiate_request.
  std::weak_ptr<client_core> self = impl_;
  command_batch batch;
  batch.borrowed = &cmd;
  auto r = co_await start_request<reply>(self, batch);
  if (r && detail::is_unknown_function(*r)) {
    auto loaded = co_await load_library(self, *script.library);
    if (!loaded || loaded->is_error()) co_return loaded;
    r = co_await start_request<reply>(self, batch);
  }
  co_return r;
}

asio::awaitable<result<reply>> redis_client::load(const lua_library& library) {
  return load_library(impl_, library);
}

void redis_client::on_connected(std::function<void()> observer) {
  asio::post(impl_->strand(), [self = impl_, observer = std::move(observer)]() mutable {
    self->connected_ = std::move(observer);
  });
}


void redis_client::on_latency(latency_observer observer) {
  asio::post(impl_->strand(), [self = impl_, observer = std::move(observer)]() mutable {
    self->latency_ = std::move(observer);
  });
}

}  // namespace pasokh::store
