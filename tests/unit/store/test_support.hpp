#pragma once
// Running coroutines and waiting for conditions on a single-threaded
// io_context, with a time limit so a hang fails the test instead.
#include "pasokh/store/redis_client.hpp"
#include "redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>

namespace pasokh::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <class T>
T run(asio::io_context& io, asio::awaitable<T> task, std::chrono::milliseconds limit = 10s) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (future.wait_for(0s) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("coroutine did not finish in time");
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  return future.get();
}

inline bool wait_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(5ms);
  }
  return true;
}

// Lets stop()'s posted work finish so nothing is abandoned at teardown.
inline void drain(asio::io_context& io) {
  io.restart();
  io.run_for(100ms);
}

// A fresh redis-server per test; short timeouts so outages resolve fast.
class redis_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (redis_server::binary().empty()) GTEST_SKIP() << "redis-server not installed";
    server_.emplace(server_args());
  }
  void TearDown() override { drain(io_); }

  virtual std::vector<std::string> server_args() const { return {}; }

  store::redis_config config() const {
    store::redis_config cfg;
    cfg.port = server_->port();
    cfg.connect_timeout = 1000ms;
    cfg.command_timeout = 1000ms;
    cfg.reconnect_min = 20ms;
    cfg.reconnect_max = 200ms;
    return cfg;
  }

  // Blocks until `c` is connected (or fails the test).
  template <class Client>
  void start_and_wait(Client& c) {
    c.start();
    ASSERT_TRUE(wait_until(io_, [&] { return c.connected(); })) << "no connection to redis";
  }

  store::result<store::reply> exec(store::redis_client& c, std::vector<std::string> args) {
    return run(io_, c.exec(std::move(args)));
  }

  asio::io_context io_;
  std::optional<redis_server> server_;
};

// A redis_test with one client already connected.
class connected_redis_test : public redis_test {
 protected:
  void SetUp() override {
    redis_test::SetUp();
    if (IsSkipped()) return;
    client_.emplace(io_.get_executor(), config());
    start_and_wait(*client_);
  }
  void TearDown() override {
    if (client_) client_->stop();
    redis_test::TearDown();
  }
  std::optional<store::redis_client> client_;
};

}  // namespace pasokh::test
