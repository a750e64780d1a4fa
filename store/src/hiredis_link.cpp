#include "hiredis_link.hpp"

#include <boost/asio/post.hpp>

#include <array>
#include <cassert>
#include <vector>

namespace pasokh::store::detail {

namespace asio = boost::asio;

bool append_command(redisAsyncContext* ac, redisCallbackFn* fn, void* privdata, std::span<const std::string> args) {
  // Most commands are short: keep argv on the stack.
  constexpr std::size_t inline_args = 16;
  std::array<const char*, inline_args> argv_small;
  std::array<std::size_t, inline_args> len_small;
  std::vector<const char*> argv_big;
  std::vector<std::size_t> len_big;
  const char** argv = argv_small.data();
  std::size_t* lens = len_small.data();
  if (args.size() > inline_args) {
    argv_big.resize(args.size());
    len_big.resize(args.size());
    argv = argv_big.data();
    lens = len_big.data();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  return redisAsyncCommandArgv(ac, fn, privdata, static_cast<int>(args.size()), argv, lens) == REDIS_OK;
}

std::shared_ptr<hiredis_link> hiredis_link::attach(strand_type strand, redisAsyncContext* ac, closed_handler on_closed) {
  std::shared_ptr<hiredis_link> link(new hiredis_link(std::move(strand), ac, std::move(on_closed)));
  ac->ev.data = link.get();
  ac->ev.addRead = &hiredis_link::add_read;
  ac->ev.delRead = &hiredis_link::del_read;
  ac->ev.addWrite = &hiredis_link::add_write;
  ac->ev.delWrite = &hiredis_link::del_write;
  ac->ev.cleanup = &hiredis_link::cleanup;
  return link;
}

hiredis_link::hiredis_link(strand_type strand, redisAsyncContext* ac, closed_handler on_closed)
    : strand_(std::move(strand)), ac_(ac), fd_(strand_, ac->c.fd), on_closed_(std::move(on_closed)) {}

hiredis_link::~hiredis_link() {
  // Owners close before letting go; this only guards the abandon path.
  if (ac_) {
    on_closed_ = nullptr;
    redisAsyncFree(ac_);
  }
}

void hiredis_link::close(redis_errc reason) {
  if (!ac_) return;
  reason_ = reason;
  if (depth_ > 0) {
    // Freeing now would pull the context from under hiredis' feet.
    asio::post(strand_, [self = shared_from_this(), reason] { self->close(reason); });
    return;
  }
  redisAsyncFree(ac_);  // ends in on_cleanup(), which clears ac_
  assert(ac_ == nullptr);
}

void hiredis_link::want(direction d, bool on) {
  auto& i = of(d);
  i.wanted = on;
  if (!on || i.armed) return;
  // A connected socket is nearly always writable: write on the strand's next
  // turn (commands appended meanwhile go out in the same write) instead of
  // asking epoll first, which costs an epoll_ctl and a wake-up per batch. Only
  // when hiredis could not write everything (the socket buffer is full) do we
  // wait for writability.
  if (d == direction::write && (ac_->c.flags & REDIS_CONNECTED) && !writing_) {
    if (!flush_posted_) {
      flush_posted_ = true;
      asio::post(strand_, [self = shared_from_this()] { self->flush(); });
    }
    return;
  }
  arm(d);
}

void hiredis_link::arm(direction d) {
  of(d).armed = true;
  auto wait = d == direction::read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
  // fd_'s executor is the strand, so the handler runs there.
  fd_.async_wait(wait, [self = shared_from_this(), d](const boost::system::error_code& ec) { self->on_ready(d, ec); });
}

void hiredis_link::flush() {
  flush_posted_ = false;
  if (ac_ && write_.wanted && !write_.armed) handle(direction::write);
}

void hiredis_link::on_ready(direction d, const boost::system::error_code& ec) {
  auto& i = of(d);
  i.armed = false;
  if (!ac_) return;  // hiredis freed the context; this wait was cancelled by release()
  if (ec) {
    close(redis_errc::connection_lost);
    return;
  }
  if (!i.wanted) return;  // hiredis lost interest meanwhile (delRead/delWrite)
  handle(d);
}

void hiredis_link::handle(direction d) {
  ++depth_;
  if (d == direction::read) {
    redisAsyncHandleRead(ac_);  // re-arms through addRead; may free the context
  } else {
    writing_ = true;  // a write wish from inside means the socket is full
    redisAsyncHandleWrite(ac_);
    writing_ = false;
  }
  --depth_;
}

void hiredis_link::on_cleanup() {
  if (!ac_) return;  // hiredis 0.14 calls the cleanup hook twice
  std::string error = ac_->c.err ? ac_->c.errstr : "";
  ac_ = nullptr;
  read_.wanted = write_.wanted = false;
  // hiredis closes the fd in redisFree; release() hands it back without
  // closing it and cancels our waits.
  (void)fd_.release();
  // Synchronous, so that connected() turns false at once; the handler only
  // updates state and arms timers, it never calls back into hiredis.
  if (on_closed_) on_closed_(error);
}

}  // namespace pasokh::store::detail
