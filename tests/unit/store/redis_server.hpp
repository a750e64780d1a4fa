#pragma once
// A throwaway redis-server for tests: loopback, a free port, a temp dir, no
// persistence. stop()/start() simulate an outage on the same port.
//
// The binary is $PASOKH_REDIS_SERVER, else redis-server on the PATH.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace pasokh::test {

class redis_server {
 public:
  explicit redis_server(std::vector<std::string> extra_args = {})
      : extra_args_(std::move(extra_args)), port_(free_port()), dir_(make_temp_dir()) {
    try {
      start();
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      throw;
    }
  }
  ~redis_server() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

  // Path of the binary, or empty when none is installed (tests then skip).
  static std::string binary() {
    if (const char* env = std::getenv("PASOKH_REDIS_SERVER"); env && *env) return env;
    if (const char* path = std::getenv("PATH")) {
      std::string p = path;
      for (std::size_t begin = 0; begin <= p.size();) {
        auto end = p.find(':', begin);
        if (end == std::string::npos) end = p.size();
        auto candidate = std::filesystem::path(p.substr(begin, end - begin)) / "redis-server";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
        begin = end + 1;
      }
    }
    return {};
  }

  // Starts (again, on the same port) and waits until it answers.
  void start() {
    if (running()) return;
    std::vector<std::string> args = {binary(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", dir_.string(),
                                     "--logfile", (dir_ / "redis.log").string(), "--daemonize", "no",
                                     "--enable-debug-command", "local"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (args[0].empty()) throw std::runtime_error("redis-server not found");
    if (::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot spawn redis-server");
    }
    wait_until_answering();
  }

  // SIGKILL: an abrupt outage, as when the host dies.
  void stop() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("no free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  static std::filesystem::path make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pasokh-redis-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    return tmpl;
  }

  // Any reply counts (+PONG, or -NOAUTH when a password is set).
  bool answers() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{0, 200'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::write(fd, "PING\r\n", 6) == 6) {
      char c = 0;
      ok = ::read(fd, &c, 1) == 1 && (c == '+' || c == '-');
    }
    ::close(fd);
    return ok;
  }

  void wait_until_answering() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!answers()) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited; see " + (dir_ / "redis.log").string());
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server does not answer");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::vector<std::string> extra_args_;
  int port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

}  // namespace pasokh::test
