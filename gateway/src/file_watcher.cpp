#include "pasokh/gateway/file_watcher.hpp"

#include <boost/asio/steady_timer.hpp>

namespace pasokh::gateway {

struct file_watcher::impl : std::enable_shared_from_this<impl> {
  impl(boost::asio::any_io_executor ex, std::filesystem::path f, std::chrono::milliseconds i, std::function<void()> cb)
      : timer(ex), file(std::move(f)), interval(i), on_change(std::move(cb)) {}

  std::filesystem::file_time_type modified() const {
    std::error_code ec;
    auto t = std::filesystem::last_write_time(file, ec);
    return ec ? std::filesystem::file_time_type{} : t;
  }

  void arm() {
    timer.expires_after(interval);
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      auto now = self->modified();
      if (now != self->last) {
        self->last = now;
        self->on_change();
      }
      self->arm();
    });
  }

  boost::asio::steady_timer timer;
  std::filesystem::path file;
  std::chrono::milliseconds interval;
  std::function<void()> on_change;
  std::filesystem::file_time_type last;
};

file_watcher::file_watcher(boost::asio::any_io_executor ex, std::filesystem::path file,
                           std::chrono::milliseconds interval, std::function<void()> on_change)
    : impl_(std::make_shared<impl>(ex, std::move(file), interval, std::move(on_change))) {}

file_watcher::~file_watcher() { stop(); }

void file_watcher::start() {
  impl_->last = impl_->modified();
  impl_->arm();
}

void file_watcher::stop() { impl_->timer.cancel(); }

}  // namespace pasokh::gateway
