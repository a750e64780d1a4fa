#include "ingest_batcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/errc.hpp>

#include <spdlog/spdlog.h>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/repeated_warning.hpp"

namespace pasokh::routing {

namespace asio = boost::asio;

std::vector<std::string> ingest_batch_args(const std::string& prefix, std::vector<std::vector<std::string>> messages) {
  std::size_t total = 2;
  for (const auto& m : messages) total += m.size() + 1;
  std::vector<std::string> args;
  args.reserve(total);
  args.push_back(prefix);
  args.push_back(std::to_string(messages.size()));
  for (auto& m : messages) {
    args.push_back(std::to_string(m.size()));
    for (auto& a : m) args.push_back(std::move(a));
  }
  return args;
}

ingest_batcher::ingest_batcher(asio::any_io_executor ex, store::redis_client& redis, std::string prefix,
                               std::size_t max_batch, int max_in_flight, std::size_t max_queued,
                               std::chrono::milliseconds max_wait)
    : ex_(std::move(ex)), redis_(redis), prefix_(std::move(prefix)), max_batch_(max_batch),
      max_in_flight_(max_in_flight), max_queued_(max_queued),
      max_wait_(max_wait.count() > 0 ? max_wait : 2 * redis.command_timeout()), expiry_(ex_) {}

asio::awaitable<store::result<store::reply>> ingest_batcher::submit(std::vector<std::string> args) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(store::result<store::reply>)>(
      [this](auto handler, std::vector<std::string> a) { enqueue(waiting{std::move(a), completion(std::move(handler))}); },
      asio::use_awaitable, std::move(args));
}

void ingest_batcher::enqueue(waiting w) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= max_queued_) {
    refuse(w, make_error_code(boost::system::errc::resource_unavailable_try_again));
    return;
  }
  w.give_up_at = std::chrono::steady_clock::now() + max_wait_;
  queue_.push_back(std::move(w));
  send_next_locked();
  arm_expiry_locked();
}

void ingest_batcher::arm_expiry_locked() {
  if (expiry_armed_ || queue_.empty()) return;
  expiry_armed_ = true;
  expiry_.expires_at(queue_.front().give_up_at);
  expiry_.async_wait([this](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;  // the batcher is going away
    expire_overdue();
  });
}

void ingest_batcher::expire_overdue() {
  std::lock_guard lock(mutex_);
  expiry_armed_ = false;
  const auto now = std::chrono::steady_clock::now();
  while (!queue_.empty() && queue_.front().give_up_at <= now) {
    refuse(queue_.front(), make_error_code(store::redis_errc::timed_out));
    queue_.pop_front();
  }
  arm_expiry_locked();
}

void ingest_batcher::send_next_locked() {
  if (queue_.empty() || in_flight_ >= max_in_flight_) return;
  std::vector<waiting> batch;
  while (!queue_.empty() && batch.size() < max_batch_) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  ++in_flight_;
  asio::co_spawn(ex_, send(std::move(batch)), asio::detached);
}

asio::awaitable<void> ingest_batcher::send(std::vector<waiting> batch) {
  std::vector<std::vector<std::string>> messages;
  messages.reserve(batch.size());
  for (auto& w : batch) messages.push_back(std::move(w.args));
  auto r = co_await redis_.fcall(script(lua::ingest), store::make_command(),
                                ingest_batch_args(prefix_, std::move(messages)));
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    send_next_locked();
  }
  bool answered = r && r->type == store::reply::kind::array && r->elements.size() == batch.size();
  if (r && !answered) {
    // A script error (or a malformed answer) fails the whole batch: a bug or an
    // outage (Redis out of memory fails every batch), so say it here, at most
    // once per 10 s; each caller answers 503.
    static repeated_warning failures;
    if (auto log = spdlog::get("routing"))
      failures.error(*log, "ingest batch of {} failed: {}", batch.size(), r->is_error() ? r->str : "unexpected answer");
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!r) complete(batch[i], r.error());
    else if (answered) complete(batch[i], std::move(r->elements[i]));
    else complete(batch[i], make_error_code(store::redis_errc::server_error));
  }
}

void ingest_batcher::refuse(waiting& w, boost::system::error_code ec) {
  asio::post(ex_, [done = std::move(w.done), ec]() mutable {
    waiting refused{{}, std::move(done)};
    complete(refused, ec);
  });
}

void ingest_batcher::complete(waiting& w, store::result<store::reply> r) {
  // Each caller resumes on its own executor.
  auto ex = asio::get_associated_executor(w.done);
  asio::dispatch(ex, [done = std::move(w.done), r = std::move(r)]() mutable { std::move(done)(std::move(r)); });
}

}  // namespace pasokh::routing
