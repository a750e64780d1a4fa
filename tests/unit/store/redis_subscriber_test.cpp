// redis_subscriber against a real redis-server.
#include "test_support.hpp"

#include <string>
#include <utility>
#include <vector>

namespace pasokh::store {
namespace {

using namespace std::chrono_literals;
using test::run;
using test::wait_until;

class RedisSubscriber : public test::redis_test {
 protected:
  using message = std::pair<std::string, std::string>;

  // PUBLISH returns how many subscribers got it.
  long long publish(redis_client& client, const std::string& channel, const std::string& payload) {
    auto r = exec(client, {"PUBLISH", channel, payload});
    return r ? r->integer : -1;
  }

  std::string dump() const {
    std::string out = "received:";
    for (const auto& [channel, payload] : received_) out += " " + channel + "=" + payload;
    return out;
  }

  std::vector<message> received_;
  int resubscribed_ = 0;
};

TEST_F(RedisSubscriber, DeliversMessagesAndPatternMessages) {
  redis_subscriber sub(io_.get_executor(), config(), [this](std::string_view channel, std::string_view payload) {
    received_.emplace_back(channel, payload);
  });
  sub.on_resubscribed([this] { ++resubscribed_; });
  sub.subscribe("events");
  sub.psubscribe("conv:*");
  sub.start();
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  ASSERT_TRUE(wait_until(io_, [&] { return resubscribed_ == 1; }));
  EXPECT_TRUE(sub.connected());

  EXPECT_EQ(publish(client, "events", "hello"), 1);
  EXPECT_EQ(publish(client, "conv:42", "پیام"), 1);
  EXPECT_EQ(publish(client, "other", "nobody listens"), 0);
  ASSERT_TRUE(wait_until(io_, [&] { return received_.size() == 2; }));
  EXPECT_EQ(received_[0], message("events", "hello"));
  EXPECT_EQ(received_[1], message("conv:42", "پیام"));

  // A subscription added while connected takes effect at once.
  sub.subscribe("late");
  ASSERT_TRUE(wait_until(io_, [&] { return publish(client, "late", "x") == 1; }));
  ASSERT_TRUE(wait_until(io_, [&] { return received_.size() == 3; }));
  EXPECT_EQ(received_[2], message("late", "x"));
  EXPECT_EQ(resubscribed_, 1) << "only (re)connects count as resubscriptions";
}

TEST_F(RedisSubscriber, ResubscribesAfterServerRestart) {
  redis_subscriber sub(io_.get_executor(), config(), [this](std::string_view channel, std::string_view payload) {
    received_.emplace_back(channel, payload);
  });
  sub.on_resubscribed([this] { ++resubscribed_; });
  sub.subscribe("events");
  sub.psubscribe("conv:*");
  sub.start();
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  ASSERT_TRUE(wait_until(io_, [&] { return resubscribed_ == 1; }));
  EXPECT_EQ(publish(client, "events", "before"), 1);
  // Pub/Sub is at-most-once: a message the server had not written yet dies
  // with it (on_resubscribed is there to catch up). Only kill after delivery.
  ASSERT_TRUE(wait_until(io_, [&] { return received_.size() == 1; })) << dump();

  server_->stop();
  ASSERT_TRUE(wait_until(io_, [&] { return !sub.connected() && !client.connected(); }));
  server_->start();
  ASSERT_TRUE(wait_until(io_, [&] { return resubscribed_ == 2 && client.connected(); }));
  EXPECT_TRUE(sub.connected());

  EXPECT_EQ(publish(client, "events", "after"), 1);
  EXPECT_EQ(publish(client, "conv:7", "again"), 1);
  ASSERT_TRUE(wait_until(io_, [&] { return received_.size() == 3; })) << dump();
  EXPECT_EQ(received_[0], message("events", "before"));
  EXPECT_EQ(received_[1], message("events", "after"));
  EXPECT_EQ(received_[2], message("conv:7", "again"));
}

TEST_F(RedisSubscriber, HandlerExceptionsDoNotBreakTheConnection) {
  int calls = 0;
  redis_subscriber sub(io_.get_executor(), config(), [&](std::string_view, std::string_view payload) {
    ++calls;
    if (payload == "boom") throw std::runtime_error("handler failed");
  });
  sub.on_resubscribed([this] { ++resubscribed_; });
  sub.subscribe("events");
  sub.start();
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  ASSERT_TRUE(wait_until(io_, [&] { return resubscribed_ == 1; }));
  EXPECT_EQ(publish(client, "events", "boom"), 1);
  EXPECT_EQ(publish(client, "events", "fine"), 1);
  ASSERT_TRUE(wait_until(io_, [&] { return calls == 2; }));
  EXPECT_TRUE(sub.connected());
}

TEST_F(RedisSubscriber, StopEndsTheSubscription) {
  redis_subscriber sub(io_.get_executor(), config(), [this](std::string_view channel, std::string_view payload) {
    received_.emplace_back(channel, payload);
  });
  sub.on_resubscribed([this] { ++resubscribed_; });
  sub.subscribe("events");
  sub.start();
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  ASSERT_TRUE(wait_until(io_, [&] { return resubscribed_ == 1; }));
  sub.stop();
  ASSERT_TRUE(wait_until(io_, [&] { return publish(client, "events", "x") == 0; }));
  EXPECT_FALSE(sub.connected());
  EXPECT_TRUE(received_.empty());
}

}  // namespace
}  // namespace pasokh::store
