#include "pasokh/gateway/catch_up_retry.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using reads = std::vector<std::string>;

// A session's catch-up whose log reads fail a set number of times per
// conversation, remembering the conversation as the sessions do.
struct flaky_session {
  explicit flaky_session(net::io_context& io) : retry(io.get_executor(), 1ms, 4ms) {}

  net::awaitable<void> catch_up(const std::string& conv) {
    done.push_back(conv);
    if (failures_left[conv]-- > 0) retry.remember(conv, fn());
    co_return;
  }
  catch_up_retry::catch_up_fn fn() {
    return [this](const std::string& c) { return catch_up(c); };
  }

  catch_up_retry retry;
  std::map<std::string, int> failures_left;
  reads done;
};

TEST(CatchUpRetry, ReadsAFailedConversationAgainUntilTheReadSucceeds) {
  net::io_context io;
  flaky_session s(io);
  s.failures_left["cv_1"] = 2;
  s.retry.remember("cv_1", s.fn());  // the session's first read failed
  EXPECT_TRUE(s.done.empty()) << "the first retry waits";
  io.run();  // returns once no round is left
  EXPECT_EQ(s.done, (reads{"cv_1", "cv_1", "cv_1"}));
}

TEST(CatchUpRetry, ARoundReadsEachRememberedConversationOnce) {
  net::io_context io;
  flaky_session s(io);
  for (const char* conv : {"cv_2", "cv_1", "cv_2"}) s.retry.remember(conv, s.fn());
  io.run();
  EXPECT_EQ(s.done, (reads{"cv_1", "cv_2"}));
}

TEST(CatchUpRetry, AFailureAfterTheRoundsEndedStartsThemAgain) {
  net::io_context io;
  flaky_session s(io);
  s.retry.remember("cv_1", s.fn());
  io.run();
  s.retry.remember("cv_2", s.fn());
  io.restart();
  io.run();
  EXPECT_EQ(s.done, (reads{"cv_1", "cv_2"}));
}

TEST(CatchUpRetry, AClosedSessionReadsNoMore) {
  net::io_context io;
  flaky_session s(io);
  s.failures_left["cv_1"] = 1'000'000;  // Redis stays unreachable
  s.retry.remember("cv_1", s.fn());
  io.run_for(30ms);
  ASSERT_FALSE(s.done.empty());
  s.retry.stop();
  auto reads_at_close = s.done.size();
  io.run_for(2s);
  EXPECT_TRUE(io.stopped()) << "the rounds should end when the session closes";
  EXPECT_EQ(s.done.size(), reads_at_close);
  s.retry.remember("cv_2", s.fn());
  io.restart();
  EXPECT_EQ(io.poll(), 0u) << "nothing should start after the close";
}

}  // namespace
}  // namespace pasokh::gateway
