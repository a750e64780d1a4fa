#pragma once
// Asynchronous Redis client on Asio over hiredis' async API.
//
// One long-lived connection owns connect, reconnect with backoff and command
// timeouts (hiredis 0.14 has no timer hook, so deadlines are ours). Commands
// are pipelined: many may be in flight at once, replies come back in order.
// Callers co_await results from any executor; all hiredis calls run on the
// client's strand. The header stays free of hiredis and Beast so that it is
// cheap to include.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pasokh::store {

struct redis_config {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // Redis 6 ACL user; empty means AUTH <password> only
  std::string password;  // from the environment, never logged
  int database = 0;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{2000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

// Parses redis://[[user]:password@]host[:port][/db] (user and password may be
// percent-encoded; IPv6 hosts in brackets). Throws std::invalid_argument,
// whose message never contains the password.
redis_config parse_redis_url(std::string_view url);

// Builds a command's argument list. Use it instead of a braced list inside
// co_await expressions: GCC 12 miscompiles braced std::string lists there
// ("array used as initializer").
template <class... Args>
std::vector<std::string> make_command(Args&&... args) {
  std::vector<std::string> out;
  out.reserve(sizeof...(args));
  (out.emplace_back(std::forward<Args>(args)), ...);
  return out;
}

// An owned copy of a hiredis reply tree.
struct reply {
  enum class kind { nil, integer, string, status, error, array };
  kind type = kind::nil;
  long long integer = 0;
  std::string str;  // string, status and error text
  std::vector<reply> elements;

  bool is_nil() const { return type == kind::nil; }
  bool is_error() const { return type == kind::error; }
  // An integer reply, or a string holding one (HGET of a counter); 0 otherwise.
  std::int64_t as_int() const {
    if (type == kind::integer) return integer;
    std::int64_t v = 0;
    std::from_chars(str.data(), str.data() + str.size(), v);
    return v;
  }
};

enum class redis_errc {
  not_connected = 1,  // no connection right now (reconnect in progress)
  timed_out,          // no reply within command_timeout; the connection is reset
  connection_lost,    // the connection dropped while the command was in flight
  server_error,       // Redis answered with an error reply (text in the reply)
  stopped,            // the client was stopped
};
// An empty command, or a pub/sub or MONITOR command on redis_client (it would
// turn the shared connection into a push stream), fails with
// boost::system::errc::invalid_argument without being sent.
const boost::system::error_category& redis_category() noexcept;
boost::system::error_code make_error_code(redis_errc) noexcept;

template <class T> using result = boost::system::result<T>;

// A Redis function library (FUNCTION LOAD): Lua that runs once when loaded
// and registers functions that later calls run without it. Its name must
// identify its code (a hash of it): a library Redis already has under that
// name is taken to be this one, and is not compiled again.
struct lua_library {
  lua_library(std::string name, std::string_view code);  // code without the "#!lua" line
  std::string name;
  std::string source;  // what FUNCTION LOAD takes
};

// Lowercase hex SHA1 (a library's name carries part of its code's).
std::string sha1_hex(std::string_view data);

// A function of a library, called with FCALL; when Redis does not know the
// function (a new Redis, FUNCTION FLUSH, another gateway version deleted the
// library), the library is loaded and the call retried once.
struct lua_script {
  lua_script(const lua_library& library, std::string function);
  const lua_library* library;  // must outlive the script
  std::string function;
};

// Thread-safe: every member may be called from any thread; work is posted to
// the client's strand and each result resumes the caller on its own executor.
// Commands are not cancellable: a cancelled caller still waits for the reply
// or the timeout. Don't send blocking commands (BLPOP...) that may outlast
// command_timeout: the timeout resets the connection.
class redis_client {
 public:
  // Throws std::invalid_argument on a bad config (empty host, non-positive
  // timeouts, reconnect_max < reconnect_min, ...). Does not connect yet.
  redis_client(boost::asio::any_io_executor ex, redis_config cfg);
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // Starts connecting; keeps reconnecting with backoff until stop().
  void start();
  // Final: in-flight and later commands complete with redis_errc::stopped.
  // The destructor stops too; destroy the client before its io_context.
  void stop();
  bool connected() const noexcept;
  std::chrono::milliseconds command_timeout() const noexcept;
  // OOM error replies (Redis at maxmemory refuses writes) since start: for
  // /metrics and /readyz.
  std::uint64_t out_of_memory_replies() const noexcept;

  // One command. A Redis error reply is returned as a reply of kind error
  // (not as a failed result) so callers can inspect it; transport problems
  // are failed results.
  boost::asio::awaitable<result<reply>> exec(std::vector<std::string> args);

  // Several commands written back to back; one reply per command, in order.
  boost::asio::awaitable<result<std::vector<reply>>> exec_pipeline(std::vector<std::vector<std::string>> commands);

  // FCALL of the script's function, loading its library when Redis has lost it.
  // `script` must outlive the awaited call (scripts are normally static).
  boost::asio::awaitable<result<reply>> fcall(const lua_script& script, std::vector<std::string> keys,
                                              std::vector<std::string> args);

  // FUNCTION LOAD of the library unless Redis has it already (then an OK
  // status). A library Redis refuses is an error reply.
  boost::asio::awaitable<result<reply>> load(const lua_library& library);

  // Round-trip latency observer, for the metrics: one call per command sent,
  // with the seconds it waited and, when no reply came, why ("timed_out": its
  // own timeout; "connection_lost": the link dropped or another command's
  // timeout reset it); "" for a reply. Runs on the client's strand: keep it cheap.
  using latency_observer = std::function<void(double seconds, std::string_view failure)>;
  void on_latency(latency_observer observer);

  // Called after every (re)connection, once connected() is true. Runs on the
  // client's strand.
  void on_connected(std::function<void()> observer);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// A dedicated pub/sub connection. Subscriptions are remembered and sent again
// after every reconnect. Handlers run on the subscriber's strand (so never
// concurrently); for pmessage the handler gets the matching channel. Members
// are thread-safe like redis_client's.
class redis_subscriber {
 public:
  using handler = std::function<void(std::string_view channel, std::string_view payload)>;

  redis_subscriber(boost::asio::any_io_executor ex, redis_config cfg, handler on_message);
  ~redis_subscriber();
  redis_subscriber(const redis_subscriber&) = delete;
  redis_subscriber& operator=(const redis_subscriber&) = delete;

  void start();
  void stop();
  void subscribe(std::string channel);
  void psubscribe(std::string pattern);
  bool connected() const noexcept;
  // Called (on the strand) after each successful (re)subscription, so callers
  // can catch up on what was published while disconnected.
  void on_resubscribed(std::function<void()> cb);

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace pasokh::store

template <> struct boost::system::is_error_code_enum<pasokh::store::redis_errc> : std::true_type {};
