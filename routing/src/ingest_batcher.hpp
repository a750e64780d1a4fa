#pragma once
// Group commit for inbound messages. Messages that arrive while earlier
// batches are in Redis wait and go together in the next ingest call (one
// FCALL, one PUBLISH), so under load Redis and the gateway pay the per-call
// costs once per batch instead of once per message. An idle gateway sends
// each message at once: batching never waits for a timer.
//
// A slow Redis must not make answers later and later (past a provider's
// webhook timeout, which then retries anyway): at most `max_queued` messages
// wait, later ones are refused at once; one that waited `max_wait` without
// being sent is answered timed_out. Either way the caller answers 503 and
// nothing was stored. A message sent to Redis gets Redis's answer (or the
// client's command timeout): it may be stored, and its retry finds the duplicate.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

class ingest_batcher {
 public:
  // `max_in_flight`: batches in Redis at once; two keep Redis busy while the
  // gateway reads one answer and sends the next batch.
  // `max_wait`: zero means twice the client's command_timeout.
  ingest_batcher(boost::asio::any_io_executor ex, store::redis_client& redis, std::string prefix,
                 std::size_t max_batch = 64, int max_in_flight = 2, std::size_t max_queued = 8 * 64,
                 std::chrono::milliseconds max_wait = std::chrono::milliseconds::zero());

  // One message's arguments (ingest.lua's A[2..]); resolves to its own answer
  // (an array reply), the transport error of its batch, or without being sent:
  // errc::resource_unavailable_try_again (the queue is full) or
  // redis_errc::timed_out (it waited max_wait).
  boost::asio::awaitable<store::result<store::reply>> submit(std::vector<std::string> args);

 private:
  using completion = boost::asio::any_completion_handler<void(store::result<store::reply>)>;
  struct waiting {
    std::vector<std::string> args;
    completion done;
    std::chrono::steady_clock::time_point give_up_at{};
  };

  void enqueue(waiting w);
  void send_next_locked();  // starts a batch if the queue has work and a slot is free
  boost::asio::awaitable<void> send(std::vector<waiting> batch);
  void arm_expiry_locked();  // for the oldest waiting message's give_up_at
  void expire_overdue();
  static void complete(waiting& w, store::result<store::reply> r);
  void refuse(waiting& w, boost::system::error_code ec);  // never inline: the caller may hold mutex_

  boost::asio::any_io_executor ex_;
  store::redis_client& redis_;
  std::string prefix_;
  std::size_t max_batch_;
  int max_in_flight_;
  std::size_t max_queued_;
  std::chrono::milliseconds max_wait_;
  std::mutex mutex_;
  std::deque<waiting> queue_;  // oldest first, so give_up_at only grows
  int in_flight_ = 0;
  boost::asio::steady_timer expiry_;
  bool expiry_armed_ = false;
};

// The ingest call for a batch of messages' arguments, as ingest.lua reads it.
std::vector<std::string> ingest_batch_args(const std::string& prefix, std::vector<std::vector<std::string>> messages);

}  // namespace pasokh::routing
