#pragma once
// Group commit for inbound messages. Messages that arrive while earlier
// batches are in Redis wait and go together in the next ingest call (one
// FCALL, one PUBLISH), so under load Redis and the gateway pay the per-call
// costs once per batch instead of once per message. An idle gateway sends
// each message at once: batching never waits for a timer.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

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
  ingest_batcher(boost::asio::any_io_executor ex, store::redis_client& redis, std::string prefix,
                 std::size_t max_batch = 64, int max_in_flight = 2);

  // One message's arguments (ingest.lua's A[2..]); resolves to its own answer
  // (an array reply) or the transport error of its batch.
  boost::asio::awaitable<store::result<store::reply>> submit(std::vector<std::string> args);

 private:
  using completion = boost::asio::any_completion_handler<void(store::result<store::reply>)>;
  struct waiting {
    std::vector<std::string> args;
    completion done;
  };

  void enqueue(waiting w);
  void send_next_locked();  // starts a batch if the queue has work and a slot is free
  boost::asio::awaitable<void> send(std::vector<waiting> batch);
  static void complete(waiting& w, store::result<store::reply> r);

  boost::asio::any_io_executor ex_;
  store::redis_client& redis_;
  std::string prefix_;
  std::size_t max_batch_;
  int max_in_flight_;
  std::mutex mutex_;
  std::deque<waiting> queue_;
  int in_flight_ = 0;
};

// The ingest call for a batch of messages' arguments, as ingest.lua reads it.
std::vector<std::string> ingest_batch_args(const std::string& prefix, std::vector<std::vector<std::string>> messages);

}  // namespace pasokh::routing
