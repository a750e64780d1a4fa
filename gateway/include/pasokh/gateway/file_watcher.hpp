#pragma once
// Calls back when a file's modification time changes (polling: simple, and
// it works on every file system, including bind mounts and editors that
// replace the file).
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

namespace pasokh::gateway {

class file_watcher {
 public:
  file_watcher(boost::asio::any_io_executor ex, std::filesystem::path file, std::chrono::milliseconds interval,
               std::function<void()> on_change);
  ~file_watcher();
  void start();
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace pasokh::gateway
