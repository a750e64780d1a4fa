// redis_client against a real redis-server.
#include "test_support.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/errc.hpp>

#include <atomic>
#include <string>
#include <thread>

namespace pasokh::store {
namespace {

using namespace std::chrono_literals;
using test::run;
using test::wait_until;
namespace asio = boost::asio;

class RedisClient : public test::redis_test {};

TEST_F(RedisClient, SetGetRoundTrip) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);

  auto set = exec(client, {"SET", "greeting", "سلام"});
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->type, reply::kind::status);
  EXPECT_EQ(set->str, "OK");

  auto get = exec(client, {"GET", "greeting"});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, reply::kind::string);
  EXPECT_EQ(get->str, "سلام");

  auto missing = exec(client, {"GET", "no-such-key"});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_nil());

  auto binary = std::string("a\0b\r\nc", 6);
  ASSERT_TRUE(exec(client, {"SET", "bin", binary}));
  EXPECT_EQ(exec(client, {"GET", "bin"})->str, binary);
}

// Commands are written without asking epoll first; one that does not fit in
// the socket buffers must still go out whole, the rest after writability.
TEST_F(RedisClient, AValueLargerThanTheSocketBuffersRoundTrips) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);

  std::string value(16 << 20, 'x');
  for (std::size_t i = 0; i < value.size(); i += 4096) value[i] = static_cast<char>('a' + (i / 4096) % 26);
  ASSERT_TRUE(exec(client, {"SET", "big", value}));
  auto get = exec(client, {"GET", "big"});
  ASSERT_TRUE(get);
  EXPECT_TRUE(get->str == value) << "got " << get->str.size() << " bytes";
  auto after = exec(client, {"STRLEN", "big"});  // the connection is still in step
  ASSERT_TRUE(after);
  EXPECT_EQ(after->integer, 16 << 20);
}

// The gateway's model: several threads, a strand per caller. Every caller
// must get its own reply, resumed on its own strand.
TEST_F(RedisClient, ThousandConcurrentExecsEachGetTheirOwnReply) {
  constexpr int n = 1000;
  asio::thread_pool pool(2);
  std::atomic<int> right{0}, wrong{0}, off_strand{0}, remaining{n};
  std::promise<void> all_done;
  {
    redis_client client(pool.get_executor(), config());
    client.start();
    for (int i = 0; i < 500 && !client.connected(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(client.connected());

    for (int i = 0; i < n; ++i) {
      auto strand = asio::make_strand(pool.get_executor());
      asio::co_spawn(
          strand,
          [&, i, strand]() -> asio::awaitable<void> {
            auto expected = "payload-" + std::to_string(i);
            // make_command, not a braced list: GCC 12 mishandles those in co_await.
            auto r = co_await client.exec(make_command("ECHO", expected));
            if (!strand.running_in_this_thread()) ++off_strand;
            if (r && r->str == expected)
              ++right;
            else
              ++wrong;
            co_await client.exec(make_command("INCR", "counter"));
            if (--remaining == 0) all_done.set_value();
          },
          asio::detached);
    }
    ASSERT_EQ(all_done.get_future().wait_for(10s), std::future_status::ready);
    EXPECT_EQ(right, n);
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(off_strand, 0);

    std::promise<result<reply>> counter;
    asio::co_spawn(pool, client.exec({"GET", "counter"}),
                   [&](std::exception_ptr, result<reply> r) { counter.set_value(std::move(r)); });
    auto value = counter.get_future().get();
    ASSERT_TRUE(value);
    EXPECT_EQ(value->str, std::to_string(n));
  }
  pool.join();  // the client's stop runs to completion
}

TEST_F(RedisClient, ExecPipelineReturnsRepliesInOrder) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);

  auto replies = run(io_, client.exec_pipeline({{"SET", "n", "41"},
                                                {"INCR", "n"},
                                                {"GET", "n"},
                                                {"RPUSH", "list", "a", "b"},
                                                {"LRANGE", "list", "0", "-1"},
                                                {"GET", "absent"}}));
  ASSERT_TRUE(replies) << replies.error().message();
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_EQ((*replies)[0].str, "OK");
  EXPECT_EQ((*replies)[1].integer, 42);
  EXPECT_EQ((*replies)[2].str, "42");
  EXPECT_EQ((*replies)[3].integer, 2);
  ASSERT_EQ((*replies)[4].elements.size(), 2u);
  EXPECT_EQ((*replies)[4].elements[0].str, "a");
  EXPECT_EQ((*replies)[4].elements[1].str, "b");
  EXPECT_TRUE((*replies)[5].is_nil());

  auto empty = run(io_, client.exec_pipeline({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(RedisClient, ErrorReplyIsAReplyOfKindError) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);

  ASSERT_TRUE(exec(client, {"SET", "word", "abc"}));
  auto r = exec(client, {"INCR", "word"});
  ASSERT_TRUE(r) << "an error reply is not a transport failure";
  EXPECT_TRUE(r->is_error());
  EXPECT_TRUE(r->str.starts_with("ERR")) << r->str;

  auto unknown = exec(client, {"NO-SUCH-COMMAND"});
  ASSERT_TRUE(unknown);
  EXPECT_TRUE(unknown->is_error());

  // One bad command in a pipeline does not spoil the others.
  auto replies = run(io_, client.exec_pipeline({{"INCR", "word"}, {"GET", "word"}}));
  ASSERT_TRUE(replies);
  EXPECT_TRUE((*replies)[0].is_error());
  EXPECT_EQ((*replies)[1].str, "abc");
}

TEST_F(RedisClient, RejectsCommandsThatWouldBreakTheConnection) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);

  auto empty = exec(client, {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), boost::system::errc::invalid_argument);
  auto sub = exec(client, {"subscribe", "x"});
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.error(), boost::system::errc::invalid_argument);
  auto pipe = run(io_, client.exec_pipeline({{"PING"}, {"MONITOR"}}));
  ASSERT_FALSE(pipe);
  EXPECT_EQ(pipe.error(), boost::system::errc::invalid_argument);

  EXPECT_EQ(exec(client, {"PING"})->str, "PONG");
}

long long command_calls(const std::string& info, const std::string& command) {
  auto at = info.find("cmdstat_" + command + ":calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + command.size() + 15));
}

TEST_F(RedisClient, FunctionCallLoadsItsMissingLibraryOnce) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  static const lua_library library("unit_lib",
                                   "redis.register_function('unit_echo', function(keys, args) return {keys[1], args[1]} end)");
  static const lua_script echo(library, "unit_echo");

  ASSERT_TRUE(exec(client, {"FUNCTION", "FLUSH"}));
  ASSERT_TRUE(exec(client, {"CONFIG", "RESETSTAT"}));
  for (const char* arg : {"a1", "b1"}) {
    auto r = run(io_, client.fcall(echo, {"k"}, {arg}));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->type, reply::kind::array) << r->str;
    EXPECT_EQ(r->elements.at(0).str, "k");
    EXPECT_EQ(r->elements.at(1).str, arg);
  }
  // FCALL twice plus the retry; FUNCTION LOAD only once.
  auto info = exec(client, {"INFO", "commandstats"})->str;
  EXPECT_EQ(command_calls(info, "fcall"), 3) << info;
  EXPECT_EQ(command_calls(info, "function|load"), 1) << info;
}

// The library's name identifies its code: one Redis has is not loaded
// again (no REPLACE, so it is not compiled again either).
TEST_F(RedisClient, LoadingALibraryRedisHasIsOk) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  static const lua_library library("unit_twice", "redis.register_function('unit_twice', function() return 2 end)");
  static const lua_script twice(library, "unit_twice");
  ASSERT_TRUE(exec(client, {"FUNCTION", "FLUSH"}));
  for (int i = 0; i < 2; ++i) {
    auto loaded = run(io_, client.load(library));
    ASSERT_TRUE(loaded) << loaded.error().message();
    EXPECT_FALSE(loaded->is_error()) << loaded->str;
  }
  auto r = run(io_, client.fcall(twice, {}, {}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->integer, 2);
}

TEST_F(RedisClient, FunctionCallSurfacesScriptErrors) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  static const lua_library library(
      "unit_incr", "redis.register_function('unit_incr', function(keys, args) return redis.call('INCR', keys[1]) end)");
  static const lua_script incr(library, "unit_incr");
  ASSERT_TRUE(exec(client, {"SET", "text", "abc"}));
  auto r = run(io_, client.fcall(incr, {"text"}, {}));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->is_error());
  EXPECT_NE(r->str.find("not an integer"), std::string::npos) << r->str;
}

TEST_F(RedisClient, AFunctionLibraryRedisRefusesIsAnErrorReply) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  static const lua_library broken("unit_broken", "redis.register_function('unit_broken', function(keys, args) return 1");
  static const lua_script call(broken, "unit_broken");
  ASSERT_TRUE(exec(client, {"FUNCTION", "FLUSH"}));
  auto r = run(io_, client.fcall(call, {}, {}));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->is_error());
  EXPECT_NE(r->str.find("Error compiling function"), std::string::npos) << r->str;
}

TEST_F(RedisClient, CommandTimeoutResetsTheConnectionThenRecovers) {
  auto cfg = config();
  cfg.command_timeout = 200ms;
  cfg.connect_timeout = 3000ms;  // the server stays blocked for the rest of the second
  redis_client client(io_.get_executor(), cfg);
  // The wait shows in the metrics: both commands, with why they failed.
  std::vector<std::pair<double, std::string>> observed;
  client.on_latency([&](double seconds, std::string_view failure) { observed.emplace_back(seconds, failure); });
  start_and_wait(client);

  auto began = std::chrono::steady_clock::now();
  auto slow = asio::co_spawn(io_, client.exec({"DEBUG", "SLEEP", "1"}), asio::use_future);
  auto behind = asio::co_spawn(io_, client.exec({"PING"}), asio::use_future);  // pipelined behind it
  ASSERT_TRUE(wait_until(io_, [&] { return behind.wait_for(0s) == std::future_status::ready; }));
  auto elapsed = std::chrono::steady_clock::now() - began;

  auto slow_result = slow.get();
  ASSERT_FALSE(slow_result);
  EXPECT_EQ(slow_result.error(), redis_errc::timed_out);
  auto behind_result = behind.get();
  ASSERT_FALSE(behind_result);
  EXPECT_EQ(behind_result.error(), redis_errc::connection_lost);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 800ms) << "the timeout must not wait for the server";
  ASSERT_GE(observed.size(), 2u);
  EXPECT_EQ(observed[observed.size() - 2].second, "timed_out");
  EXPECT_GE(observed[observed.size() - 2].first, 0.19);
  EXPECT_EQ(observed.back().second, "connection_lost");

  ASSERT_TRUE(wait_until(io_, [&] { return client.connected(); }, 5s));
  auto r = exec(client, {"PING"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str, "PONG");
}

TEST_F(RedisClient, NotConnectedWhileDownThenReconnects) {
  redis_client client(io_.get_executor(), config());
  int connections = 0;  // on_connected: connected() is true by then
  client.on_connected([&] { connections += client.connected() ? 1 : 100; });
  start_and_wait(client);
  ASSERT_TRUE(exec(client, {"SET", "k", "v"}));
  EXPECT_EQ(connections, 1);

  server_->stop();
  ASSERT_TRUE(wait_until(io_, [&] { return !client.connected(); }));
  auto began = std::chrono::steady_clock::now();
  auto down = exec(client, {"GET", "k"});
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), redis_errc::not_connected);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 100ms) << "fail fast, don't queue";

  // Let a few backoff rounds fail before the server comes back.
  wait_until(io_, [] { return false; }, 300ms);
  server_->start();
  ASSERT_TRUE(wait_until(io_, [&] { return client.connected(); }));
  auto after = exec(client, {"SET", "k", "again"});
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->str, "OK");
  EXPECT_EQ(connections, 2);
}

TEST(RedisClientConfig, RejectsNonsenseAtConstruction) {
  asio::io_context io;
  auto bad = [&](auto mutate) {
    redis_config cfg;
    mutate(cfg);
    EXPECT_THROW(redis_client(io.get_executor(), cfg), std::invalid_argument);
  };
  bad([](redis_config& c) { c.host.clear(); });
  bad([](redis_config& c) { c.port = 0; });
  bad([](redis_config& c) { c.database = -1; });
  bad([](redis_config& c) { c.command_timeout = 0ms; });
  bad([](redis_config& c) { c.connect_timeout = -1ms; });
  bad([](redis_config& c) { c.reconnect_min = 0ms; });
  bad([](redis_config& c) { c.reconnect_max = c.reconnect_min - 1ms; });
  bad([](redis_config& c) { c.username = "user"; });
  EXPECT_NO_THROW(redis_client(io.get_executor(), redis_config{}));
}

TEST_F(RedisClient, NotConnectedBeforeStart) {
  redis_client client(io_.get_executor(), config());
  auto r = exec(client, {"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), redis_errc::not_connected);
}

TEST_F(RedisClient, StopCompletesInFlightCommandsWithStopped) {
  redis_client client(io_.get_executor(), config());
  start_and_wait(client);
  auto pending = asio::co_spawn(io_, client.exec({"DEBUG", "SLEEP", "0.3"}), asio::use_future);
  wait_until(io_, [] { return false; }, 50ms);  // it is on the wire now
  client.stop();
  ASSERT_TRUE(wait_until(io_, [&] { return pending.wait_for(0s) == std::future_status::ready; }, 200ms));
  auto r = pending.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), redis_errc::stopped);
  EXPECT_FALSE(client.connected());

  auto later = exec(client, {"PING"});
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), redis_errc::stopped);
}

TEST_F(RedisClient, DestroyingTheClientCompletesInFlightCommands) {
  auto client = std::make_unique<redis_client>(io_.get_executor(), config());
  start_and_wait(*client);
  auto pending = asio::co_spawn(io_, client->exec({"DEBUG", "SLEEP", "0.3"}), asio::use_future);
  wait_until(io_, [] { return false; }, 50ms);
  client.reset();
  ASSERT_TRUE(wait_until(io_, [&] { return pending.wait_for(0s) == std::future_status::ready; }, 200ms));
  auto r = pending.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), redis_errc::stopped);
}

// As the gateway's admin mode does: stop(), stop the io_context, destroy the
// client and then the io_context without running the posted stop. The
// in-flight command's coroutine is destroyed with the context; nothing may
// leak or touch freed memory (run under ASAN to see it).
TEST_F(RedisClient, AbandonedWhenTheIoContextStopsFirst) {
  auto io = std::make_unique<asio::io_context>();
  auto client = std::make_unique<redis_client>(io->get_executor(), config());
  client->start();
  ASSERT_TRUE(wait_until(*io, [&] { return client->connected(); }));
  auto pending = asio::co_spawn(*io, client->exec({"DEBUG", "SLEEP", "0.2"}), asio::use_future);
  wait_until(*io, [] { return false; }, 30ms);  // on the wire, watchdog armed
  client->stop();
  io->stop();
  client.reset();
  io.reset();
  EXPECT_EQ(pending.wait_for(0s), std::future_status::ready);  // broken promise: never resumed
}

TEST_F(RedisClient, ConnectsByHostName) {
  auto cfg = config();
  cfg.host = "localhost";  // may resolve to ::1 first; the server listens on 127.0.0.1
  redis_client client(io_.get_executor(), cfg);
  start_and_wait(client);
  EXPECT_EQ(exec(client, {"PING"})->str, "PONG");
}

TEST_F(RedisClient, LatencyObserverSeesEveryReply) {
  redis_client client(io_.get_executor(), config());
  std::vector<double> seen;
  client.on_latency([&](double seconds, std::string_view failure) {
    EXPECT_EQ(failure, "");
    seen.push_back(seconds);
  });
  start_and_wait(client);
  exec(client, {"PING"});
  exec(client, {"PING"});
  run(io_, client.exec_pipeline({{"PING"}, {"PING"}, {"PING"}}));
  ASSERT_EQ(seen.size(), 5u);
  for (double s : seen) {
    EXPECT_GE(s, 0.0);
    EXPECT_LT(s, 1.0);
  }
}

class RedisClientWithAuth : public test::redis_test {
  std::vector<std::string> server_args() const override { return {"--requirepass", "s3cret"}; }
};

TEST_F(RedisClientWithAuth, AuthenticatesAndSelectsTheDatabase) {
  auto cfg = config();
  cfg.password = "s3cret";
  cfg.database = 3;
  redis_client client(io_.get_executor(), cfg);
  start_and_wait(client);
  auto info = exec(client, {"CLIENT", "INFO"});
  ASSERT_TRUE(info);
  EXPECT_NE(info->str.find(" db=3 "), std::string::npos) << info->str;
}

TEST_F(RedisClientWithAuth, WrongPasswordNeverCountsAsConnected) {
  auto cfg = config();
  cfg.password = "wrong";
  redis_client client(io_.get_executor(), cfg);
  client.start();
  EXPECT_FALSE(wait_until(io_, [&] { return client.connected(); }, 500ms));
  auto r = exec(client, {"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), redis_errc::not_connected);
}

// A peer that accepts but never answers: the handshake must time out and
// the client must keep trying (each try is a new accepted connection).
TEST(RedisClientHandshake, ConnectTimeoutAppliesToTheHandshake) {
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::vector<asio::ip::tcp::socket> accepted;
  std::function<void()> accept = [&] {
    silent.async_accept([&](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      accepted.push_back(std::move(s));
      accept();
    });
  };
  accept();

  redis_config cfg;
  cfg.port = silent.local_endpoint().port();
  cfg.connect_timeout = 100ms;
  cfg.reconnect_min = 10ms;
  cfg.reconnect_max = 20ms;
  {
    redis_client client(io.get_executor(), cfg);
    client.start();
    EXPECT_TRUE(wait_until(io, [&] { return accepted.size() >= 3; }, 2s));
    EXPECT_FALSE(client.connected());
    auto r = run(io, client.exec({"PING"}));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), redis_errc::not_connected);
  }
  silent.close();
  test::drain(io);
}

}  // namespace
}  // namespace pasokh::store
