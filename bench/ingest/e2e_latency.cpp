// Sends API-channel messages at a fixed rate and measures, for each one, the
// time from writing the POST to its 201 and to the agent WebSocket frame that
// carries it.
//   e2e_latency <rate/s> <seconds> [even|poisson]   (env PASOKH_URL, BENCH_API_KEY, BENCH_AGENT_PASSWORD)
// "even" spaces the messages evenly (1/rate apart); "poisson" draws the gaps
// from an exponential distribution with the same mean, so messages also come
// in bursts, as independent customers do.
//
// Written against plain sockets and epoll so that the load generator costs a
// few microseconds of CPU per message: on a 2-core machine shared with Redis
// and the gateway, a heavier client (the earlier node script used ~90 µs per
// message) takes the CPU the measured processes need and shows up as their
// latency. The sender is paced by a timerfd; the agent socket is read by its
// own thread so that a busy sender never delays reading frames.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "e2e_latency: %s\n", what.c_str());
  std::exit(1);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) fail(std::string(name) + " is not set");
  return v;
}

struct endpoint {
  std::string host;  // "127.0.0.1"
  int port = 0;
};

endpoint parse_url(const std::string& url) {  // http://HOST:PORT[/]
  auto rest = std::string_view(url);
  if (!rest.starts_with("http://")) fail("PASOKH_URL must be http://HOST:PORT");
  rest.remove_prefix(7);
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) fail("PASOKH_URL needs a port");
  return {std::string(rest.substr(0, colon)), std::atoi(std::string(rest.substr(colon + 1)).c_str())};
}

int connect_to(const endpoint& at) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(at.port));
  if (::inet_pton(AF_INET, at.host.c_str(), &addr.sin_addr) != 1) fail("PASOKH_URL host must be an IPv4 address");
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("connect: " + std::string(strerror(errno)));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("send: " + std::string(strerror(errno)));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Length of one complete HTTP response at the front of buf (0 if incomplete).
std::size_t response_length(std::string_view buf) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return 0;
  std::size_t body = 0;
  auto head = buf.substr(0, end);
  for (std::size_t p = head.find("\r\n"); p != std::string_view::npos; p = head.find("\r\n", p + 2)) {
    auto line = head.substr(p + 2, head.find("\r\n", p + 2) - (p + 2));
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) body = std::strtoul(line.data() + 15, nullptr, 10);
  }
  return buf.size() >= end + 4 + body ? end + 4 + body : 0;
}

// One blocking request/response (login, upgrade); returns the whole response.
std::string exchange(int fd, const std::string& request, bool until_headers = false) {
  write_all(fd, request);
  std::string buf;
  char chunk[4096];
  for (;;) {
    if (until_headers && buf.find("\r\n\r\n") != std::string::npos) return buf;
    if (!until_headers && response_length(buf)) return buf;
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) fail("connection closed during setup");
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string login_token(const endpoint& at, const std::string& password) {
  int fd = connect_to(at);
  std::string body = R"({"login":"bench","password":")" + password + "\"}";
  auto res = exchange(fd, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  ::close(fd);
  auto key = res.find("\"token\":\"");
  if (key == std::string::npos) fail("login failed: " + res.substr(0, res.find("\r\n")));
  key += 9;
  return res.substr(key, res.find('"', key) - key);
}

// A client WebSocket frame (always masked, as RFC 6455 requires of clients).
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  f.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

// The agent's side: logs in, says hello, records when each probe's frame arrives.
class agent_reader {
 public:
  agent_reader(const endpoint& at, const std::string& password) : fd_(connect_to(at)) {
    auto token = login_token(at, password);
    auto res = exchange(fd_,
                        "GET /ws/agent HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                        true);
    if (!res.starts_with("HTTP/1.1 101")) fail("WebSocket upgrade refused: " + res.substr(0, res.find("\r\n")));
    buf_ = res.substr(res.find("\r\n\r\n") + 4);
    write_all(fd_, client_frame(1, R"({"type":"hello","v":1,"token":")" + token + "\"}"));
    thread_ = std::thread([this] { run(); });
  }

  // Stops reading and returns (probe number, arrival time) pairs.
  std::vector<std::pair<std::uint64_t, clock_type::time_point>> stop() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    return std::move(arrivals_);
  }

 private:
  void run() {
    char chunk[65536];
    for (;;) {
      while (auto payload = next_frame()) record(*payload);
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Unmasked server frame at the front of buf_, if complete. Pings are answered.
  std::optional<std::string> next_frame() {
    if (buf_.size() < 2) return std::nullopt;
    auto b = reinterpret_cast<const unsigned char*>(buf_.data());
    std::uint8_t opcode = b[0] & 0x0f;
    std::uint64_t len = b[1] & 0x7f;
    std::size_t head = 2;
    if (len == 126) {
      if (buf_.size() < 4) return std::nullopt;
      len = (std::uint64_t{b[2]} << 8) | b[3];
      head = 4;
    } else if (len == 127) {
      if (buf_.size() < 10) return std::nullopt;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      head = 10;
    }
    if (buf_.size() < head + len) return std::nullopt;
    std::string payload = buf_.substr(head, len);
    buf_.erase(0, head + len);
    if (opcode == 9) write_all(fd_, client_frame(10, payload));
    return payload;
  }

  void record(std::string_view payload) {
    auto at = clock_type::now();
    // The message's own event: a list or snapshot frame (a lagging socket's
    // resync) shows the newest message too, and is no arrival.
    if (payload.find(R"("event":"message")") == std::string_view::npos) return;
    for (auto p = payload.find("lat-"); p != std::string_view::npos; p = payload.find("lat-", p + 4)) {
      auto digits = p + 4;
      auto end = digits;
      while (end < payload.size() && payload[end] >= '0' && payload[end] <= '9') ++end;
      if (end > digits && payload.substr(end, 4) == "-end") {
        arrivals_.emplace_back(std::strtoull(payload.data() + digits, nullptr, 10), at);
        return;
      }
    }
  }

  int fd_;
  std::string buf_;
  std::thread thread_;
  std::vector<std::pair<std::uint64_t, clock_type::time_point>> arrivals_;
};

// A keep-alive connection with at most one request in flight.
struct sender_connection {
  int fd = -1;
  std::string in;
  std::uint64_t in_flight = 0;
};

// When each message is due, from the start of the run.
std::vector<std::chrono::nanoseconds> send_schedule(std::uint64_t total, int rate, bool poisson) {
  std::vector<std::chrono::nanoseconds> at(total);
  const double mean_gap_ns = 1e9 / rate;
  std::mt19937_64 random(42);  // the same bursts in every run
  std::exponential_distribution<double> gap(1 / mean_gap_ns);
  double t = 0;
  for (auto& when : at) {
    t += poisson ? gap(random) : mean_gap_ns;
    when = std::chrono::nanoseconds(static_cast<std::int64_t>(t));
  }
  return at;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p / 100 * static_cast<double>(sorted.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int rate = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  const bool poisson = argc > 3 && std::string_view(argv[3]) == "poisson";
  constexpr int connections = 64;
  const auto at = parse_url(env("PASOKH_URL"));
  const auto api_key = env("BENCH_API_KEY");

  agent_reader agent(at, env("BENCH_AGENT_PASSWORD"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the welcome frame

  int epoll = ::epoll_create1(0);
  std::vector<sender_connection> conns(connections);
  std::vector<int> idle;
  for (int i = 0; i < connections; ++i) {
    conns[i].fd = connect_to(at);
    epoll_event ev{.events = EPOLLIN, .data = {.u32 = static_cast<std::uint32_t>(i)}};
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, conns[i].fd, &ev);
    idle.push_back(i);
  }
  const std::uint64_t total = static_cast<std::uint64_t>(rate) * seconds;
  const auto schedule = send_schedule(total, rate, poisson);
  // A one-shot timer set to the next message's time; every message due by
  // then goes out when it fires.
  int timer = ::timerfd_create(CLOCK_MONOTONIC, 0);
  epoll_event tev{.events = EPOLLIN, .data = {.u32 = UINT32_MAX}};
  ::epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &tev);
  const auto run_id = std::to_string(std::random_device{}());
  std::vector<clock_type::time_point> sent_at(total);
  std::vector<double> answered;
  answered.reserve(total);
  std::uint64_t sent = 0, due = 0, failed = 0, waited = 0;

  auto send_next = [&] {
    int i = idle.back();
    idle.pop_back();
    auto n = sent++;
    std::string body = R"({"message_id":"lat-)" + run_id + "-" + std::to_string(n) + R"(","customer":{"id":"lc)" +
                       std::to_string(n % 5000) + R"("},"text":"latency probe lat-)" + std::to_string(n) + "-end\"}";
    std::string req = "POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Authorization: Bearer " + api_key + "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body;
    conns[i].in_flight = n;
    sent_at[n] = clock_type::now();
    write_all(conns[i].fd, req);
  };

  const auto start = clock_type::now();
  auto arm_timer = [&] {
    if (due >= total) return;
    // steady_clock is CLOCK_MONOTONIC (libstdc++ on Linux), the timer's clock.
    auto due_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch() + schedule[due]).count();
    itimerspec spec{.it_interval = {}, .it_value = {due_ns / 1'000'000'000, due_ns % 1'000'000'000}};
    ::timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, nullptr);
  };
  arm_timer();
  epoll_event events[128];
  while (sent < total || idle.size() < conns.size()) {  // until every answer is in
    int n = ::epoll_wait(epoll, events, 128, 1000);
    for (int k = 0; k < n; ++k) {
      if (events[k].data.u32 == UINT32_MAX) {
        std::uint64_t fired = 0;
        if (::read(timer, &fired, sizeof fired) != sizeof fired) continue;
        auto now = clock_type::now() - start;
        while (due < total && schedule[due] <= now) ++due;
        arm_timer();
        continue;
      }
      auto& c = conns[events[k].data.u32];
      char chunk[8192];
      auto got = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (got <= 0) fail("the gateway closed a sender connection");
      c.in.append(chunk, static_cast<std::size_t>(got));
      while (auto len = response_length(c.in)) {
        if (!c.in.starts_with("HTTP/1.1 201")) ++failed;
        answered.push_back(ms_between(sent_at[c.in_flight], clock_type::now()));
        c.in.erase(0, len);
        idle.push_back(static_cast<int>(events[k].data.u32));
      }
    }
    if (sent < due && idle.empty()) ++waited;  // every connection busy: the gateway is behind
    while (sent < due && !idle.empty()) send_next();
  }
  const double elapsed = ms_between(start, clock_type::now()) / 1000;
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the last frames
  auto arrivals = agent.stop();

  std::vector<double> latencies;
  for (auto& [n, when] : arrivals)
    if (n < total) latencies.push_back(ms_between(sent_at[n], when));
  std::sort(latencies.begin(), latencies.end());
  std::sort(answered.begin(), answered.end());
  std::printf("  offered %d/s (%s) for %ds: sent %llu at %.0f/s, frames received %zu, failed posts %llu", rate, poisson ? "poisson" : "even", seconds,
              static_cast<unsigned long long>(sent), static_cast<double>(sent) / elapsed, latencies.size(),
              static_cast<unsigned long long>(failed));
  if (waited) std::printf(", sender waited for a free connection %llu times", static_cast<unsigned long long>(waited));
  std::printf("\n");
  auto line = [](const char* label, const std::vector<double>& v) {
    std::printf("  %-28s p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", label, percentile(v, 50),
                percentile(v, 90), percentile(v, 99), v.empty() ? 0.0 : v.back());
  };
  line("POST → 201 latency:", answered);
  line("POST → agent frame latency:", latencies);
}
