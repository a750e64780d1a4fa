#pragma once
// One hiredis async context driven by Asio: hiredis' event hooks become
// async_waits for readiness on a stream_descriptor (writes are first tried
// without waiting), and readiness calls redisAsyncHandleRead/Write.
// Everything runs on one strand.
#include "pasokh/store/redis_client.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <hiredis/async.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace pasokh::store::detail {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

// Appends one command to hiredis' output buffer; the hooks flush it. False if
// hiredis refused (the context is being torn down).
bool append_command(redisAsyncContext* ac, redisCallbackFn* fn, void* privdata, std::span<const std::string> args);

class hiredis_link : public std::enable_shared_from_this<hiredis_link> {
 public:
  // Called from hiredis' cleanup hook when the context goes away (pending
  // reply callbacks may still run with a null reply right after). It must
  // not call into hiredis nor drop the link.
  using closed_handler = std::function<void(std::string_view error)>;

  // Takes ownership of `ac` (fresh from redisAsyncConnect) and installs the
  // hooks; call before redisAsyncSetConnectCallback, which needs them.
  static std::shared_ptr<hiredis_link> attach(strand_type strand, redisAsyncContext* ac, closed_handler on_closed);
  ~hiredis_link();
  hiredis_link(const hiredis_link&) = delete;
  hiredis_link& operator=(const hiredis_link&) = delete;

  // The live context, or nullptr once hiredis freed it.
  redisAsyncContext* context() const noexcept { return ac_; }
  // Why the pending commands fail when the context goes away.
  redis_errc close_reason() const noexcept { return reason_; }

  // Frees the context: pending callbacks run with a null reply. From inside
  // a hiredis callback the free is deferred (hiredis is still using it).
  void close(redis_errc reason);

 private:
  enum class direction { read, write };
  struct interest {
    bool wanted = false;  // hiredis asked for this event
    bool armed = false;   // an async_wait is outstanding
  };

  hiredis_link(strand_type strand, redisAsyncContext* ac, closed_handler on_closed);
  static hiredis_link& self(void* p) { return *static_cast<hiredis_link*>(p); }
  static void add_read(void* p) { self(p).want(direction::read, true); }
  static void del_read(void* p) { self(p).want(direction::read, false); }
  static void add_write(void* p) { self(p).want(direction::write, true); }
  static void del_write(void* p) { self(p).want(direction::write, false); }
  static void cleanup(void* p) { self(p).on_cleanup(); }

  interest& of(direction d) { return d == direction::read ? read_ : write_; }
  void want(direction d, bool on);
  void arm(direction d);
  void on_ready(direction d, const boost::system::error_code& ec);
  void flush();
  void handle(direction d);  // lets hiredis read or write
  void on_cleanup();

  strand_type strand_;
  redisAsyncContext* ac_;
  boost::asio::posix::stream_descriptor fd_;
  interest read_, write_;
  int depth_ = 0;  // > 0 while hiredis runs (redisAsyncHandleRead/Write)
  bool writing_ = false;        // inside redisAsyncHandleWrite
  bool flush_posted_ = false;   // a flush() is queued on the strand
  redis_errc reason_ = redis_errc::connection_lost;
  closed_handler on_closed_;
};

}  // namespace pasokh::store::detail
