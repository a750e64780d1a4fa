#pragma once
// A request in flight on redis_client: one exec (one command) or one
// pipeline (N commands). One heap allocation holds the caller's completion
// handler, the commands and the replies collected so far.
#include "pasokh/store/redis_client.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/intrusive/list.hpp>

#include <chrono>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace pasokh::store::detail {

using clock = std::chrono::steady_clock;

// The commands of one request: owned (exec, exec_pipeline) or borrowed from
// a coroutine frame that outlives the request (fcall, which needs them again
// to retry after loading the library).
struct command_batch {
  std::vector<std::string> one;
  std::vector<std::vector<std::string>> many;
  const std::vector<std::string>* borrowed = nullptr;
  bool is_pipeline = false;

  std::span<const std::vector<std::string>> view() const {
    if (borrowed) return {borrowed, 1};
    if (is_pipeline) return many;
    return {&one, 1};
  }
};

class pending_op : public boost::intrusive::list_base_hook<> {
 public:
  explicit pending_op(command_batch commands) : commands_(std::move(commands)) {}
  virtual ~pending_op() = default;

  std::span<const std::vector<std::string>> commands() const { return commands_.view(); }

  void add_reply(reply r) { store(received_++, std::move(r)); }
  // Keeps the first error: it says best what went wrong.
  void fail(boost::system::error_code ec) {
    ++received_;
    if (!error_) error_ = ec;
  }
  // Resumes the caller on its executor, then frees this op.
  virtual void complete() = 0;

  std::size_t outstanding = 0;  // callbacks hiredis still owes this op
  bool timed_out = false;       // the watchdog blamed this op for a reset
  clock::time_point sent_at;
  clock::time_point deadline;

 protected:
  virtual void store(std::size_t index, reply r) = 0;

  command_batch commands_;
  std::size_t received_ = 0;
  boost::system::error_code error_;
};

// Value is reply (exec) or std::vector<reply> (exec_pipeline).
template <class Handler, class Value>
class request_op final : public pending_op {
 public:
  request_op(Handler handler, command_batch commands, const boost::asio::any_io_executor& fallback)
      : pending_op(std::move(commands)),
        handler_(std::move(handler)),
        // Keeps the caller's io_context running while we wait for Redis.
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, fallback),
                                  boost::asio::execution::outstanding_work.tracked)) {
    if constexpr (!std::is_same_v<Value, reply>) value_.reserve(this->commands().size());
  }

  void complete() override {
    auto result = error_ ? store::result<Value>(boost::system::in_place_error, error_)
                         : store::result<Value>(std::move(value_));
    auto handler = std::move(handler_);
    auto work = std::move(work_);
    delete this;  // free before the upcall, as Asio's own operations do
    // Posted, never run inline: the caller must not run inside hiredis.
    boost::asio::post(work, [handler = std::move(handler), result = std::move(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  }

 private:
  using executor_type = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
  using work_type = std::decay_t<decltype(boost::asio::prefer(
      std::declval<executor_type>(), boost::asio::execution::outstanding_work.tracked))>;

  void store(std::size_t, reply r) override {
    if constexpr (std::is_same_v<Value, reply>)
      value_ = std::move(r);
    else
      value_.push_back(std::move(r));
  }

  Handler handler_;
  work_type work_;
  Value value_;
};

}  // namespace pasokh::store::detail
