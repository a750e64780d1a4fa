#pragma once
// A live session fills a gap in what it has sent from the conversation log.
// When that read fails (Redis timed out, refused or was unreachable), nothing
// else may come to fill the gap: the pub/sub resync follows only a pub/sub
// outage, and the conversation may get no further event. So the session
// remembers the conversation and reads it again later, waiting longer each
// round while the reads keep failing, until every gap is filled or the
// session closes. All calls on the session's strand.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>

namespace pasokh::gateway {

class catch_up_retry {
 public:
  // Reads the conversation's log after what the session has sent, and calls
  // remember() again when the read fails. It holds the session (shared_ptr)
  // while a retry is under way.
  using catch_up_fn = std::function<boost::asio::awaitable<void>(const std::string& conv)>;

  // The first round waits `first_wait`, each further one twice the last, up to `longest_wait`.
  explicit catch_up_retry(boost::asio::any_io_executor executor,
                          std::chrono::milliseconds first_wait = std::chrono::milliseconds(500),
                          std::chrono::milliseconds longest_wait = std::chrono::seconds(10));

  // A catch-up of `conv` failed: read it again through `catch_up` in a later
  // round. Rounds run while any conversation is remembered.
  void remember(const std::string& conv, catch_up_fn catch_up);
  // The session closed: no more rounds.
  void stop();

 private:
  boost::asio::awaitable<void> run(catch_up_fn catch_up);

  boost::asio::steady_timer timer_;
  std::chrono::milliseconds first_wait_, longest_wait_;
  std::set<std::string> stale_;
  bool running_ = false;
  bool stopped_ = false;
};

}  // namespace pasokh::gateway
