// Assignment throughput of the routing scripts on a real Redis:
//  1. drain: 10,000 conversations wait in one team's queue; 200 agents
//     (capacity 50) come online at the same moment -> every conversation is
//     assigned; assignments/s, checked for overfill and doubles.
//  2. route: 10,000 new customer messages (ingest + route, 64 in flight) with
//     the 200 agents online and free -> assignments/s and per-call latency.
//   routing_bench redis://127.0.0.1:PORT [agents=200] [conversations=10000]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "pasokh/routing/conversation_service.hpp"
#include "pasokh/routing/routing_service.hpp"

namespace net = boost::asio;
using namespace pasokh;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100 * v.size()))];
}

net::awaitable<void> check(store::redis_client& redis, std::vector<std::vector<std::string>> cmds) {
  for (std::size_t i = 0; i < cmds.size(); i += 2000) {
    std::vector<std::vector<std::string>> part(cmds.begin() + i, cmds.begin() + std::min(cmds.size(), i + 2000));
    auto r = co_await redis.exec_pipeline(std::move(part));
    if (!r) throw std::runtime_error("redis: " + r.error().message());
  }
}

net::awaitable<int> run(store::redis_client& redis, int agents, int conversations) {
  for (int i = 0; i < 100 && !redis.connected(); ++i) {
    net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
    co_await t.async_wait(net::use_awaitable);
  }
  const std::string prefix = "bench:";
  routing::routing_config cfg;
  cfg.presence_ttl = std::chrono::seconds(600);
  cfg.reassign_after = std::chrono::seconds(0);
  cfg.teams.push_back(routing::team_def{});
  cfg.teams.back().id = "bench";
  cfg.teams.back().name = "bench";
  routing::routing_service routing(redis, prefix, cfg);
  routing::conversation_service convs(co_await net::this_coro::executor, redis, prefix, std::chrono::seconds(3600));
  auto none = std::vector<std::string>{};
  if (auto s = co_await routing.sync(none); !s) throw std::runtime_error("sync failed");
  int capacity = (conversations + agents - 1) / agents;

  std::vector<std::vector<std::string>> setup;
  setup.push_back(store::make_command("FLUSHDB"));
  for (int a = 0; a < agents; ++a) {
    auto id = "ag_" + std::to_string(a);
    setup.push_back(store::make_command("HSET", prefix + "agent:" + id, "id", id, "name", "Agent " + std::to_string(a),
                                        "team", "bench", "teams", "bench", "capacity", std::to_string(capacity),
                                        "availability", "away", "role", "agent"));
  }
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int c = 0; c < conversations; ++c) {
    auto id = "cv_q" + std::to_string(c);
    setup.push_back(store::make_command("HSET", prefix + "conv:" + id, "id", id, "channel", "api", "kind", "api",
                                        "customer_id", "cu_" + std::to_string(c), "status", "queued", "priority",
                                        c % 10 == 0 ? "high" : "normal", "assignee", "", "team", "bench", "seq", "1",
                                        "routed", "1", "queued_at", std::to_string(now - conversations + c),
                                        "created_at", std::to_string(now), "updated_at", std::to_string(now)));
    setup.push_back(store::make_command("ZADD", prefix + "queue:bench", std::to_string(now - conversations + c), id));
    setup.push_back(store::make_command("ZADD", prefix + "team:bench:open", std::to_string(now), id));
  }
  co_await check(redis, std::move(setup));
  if (auto s = co_await routing.sync(none); !s) throw std::runtime_error("sync failed");
  // Sessions alive (away): heartbeats without availability.
  for (int a = 0; a < agents; ++a) co_await routing.presence("beat", "ag_" + std::to_string(a), "s1", "");

  std::printf("routing benchmark: %d agents (capacity %d each), %d queued conversations, one team, least_loaded\n",
              agents, capacity, conversations);

  // 1. Everyone comes online at once: the queue drains.
  auto ex = co_await net::this_coro::executor;
  int done = 0, assigned = 0;
  std::vector<double> call_ms;
  auto t0 = clock_type::now();
  for (int a = 0; a < agents; ++a) {
    net::co_spawn(ex, [&, a]() -> net::awaitable<void> {
      auto start = clock_type::now();
      auto r = co_await routing.presence("beat", "ag_" + std::to_string(a), "s1", "online");
      call_ms.push_back(seconds_since(start) * 1000);
      if (r) assigned += r->assigned;
      ++done;
    }, net::detached);
  }
  while (done < agents) {
    net::steady_timer t(ex, std::chrono::milliseconds(1));
    co_await t.async_wait(net::use_awaitable);
  }
  double drain_s = seconds_since(t0);
  auto queue_left = co_await redis.exec(store::make_command("ZCARD", prefix + "queue:bench"));
  std::vector<std::vector<std::string>> loads;
  for (int a = 0; a < agents; ++a) loads.push_back(store::make_command("SCARD", prefix + "agent:ag_" + std::to_string(a) + ":convs"));
  auto load_replies = co_await redis.exec_pipeline(std::move(loads));
  long long total = 0, max_load = 0;
  for (auto& r : *load_replies) {
    total += r.integer;
    max_load = std::max(max_load, r.integer);
  }
  std::printf("  drain on coming online: %d assignments in %.3f s = %.0f assignments/s\n", assigned, drain_s,
              assigned / drain_s);
  std::printf("    per presence call (drains up to its capacity): p50 %.2f ms  p99 %.2f ms\n", pct(call_ms, 50),
              pct(call_ms, 99));
  std::printf("    checks: queue left %lld, max load %lld (capacity %d), sum of loads %lld (= assignments: %s)\n",
              queue_left ? queue_left->integer : -1, max_load, capacity, total, total == assigned ? "yes" : "NO");

  // Resolve everything (frees capacity; each resolve drains an empty queue).
  auto t1 = clock_type::now();
  for (int c = 0; c < conversations; c += 64) {
    int batch = std::min(64, conversations - c);
    int finished = 0;
    for (int k = 0; k < batch; ++k) {
      net::co_spawn(ex, [&, id = "cv_q" + std::to_string(c + k)]() -> net::awaitable<void> {
        routing::action_request q{"resolve", id, "bench", "", "", ""};
        co_await routing.act(q);
        ++finished;
      }, net::detached);
    }
    while (finished < batch) {
      net::steady_timer t(ex, std::chrono::microseconds(200));
      co_await t.async_wait(net::use_awaitable);
    }
  }
  double resolve_s = seconds_since(t1);
  std::printf("  resolve (frees capacity, drains): %d in %.3f s = %.0f/s\n", conversations, resolve_s,
              conversations / resolve_s);

  // 2. New customers write: ingest + route, 64 in flight.
  std::vector<double> lat;
  lat.reserve(conversations);
  int routed_assigned = 0;
  auto t2 = clock_type::now();
  int next = 0, inflight = 0;
  while (next < conversations || inflight > 0) {
    while (inflight < 64 && next < conversations) {
      ++inflight;
      int n = next++;
      net::co_spawn(ex, [&, n]() -> net::awaitable<void> {
        auto start = clock_type::now();
        proto::inbound_event e;
        e.from = {"api", proto::channel_kind::api, "bench-cust-" + std::to_string(n), "Customer"};
        e.provider_message_id = "m" + std::to_string(n);
        e.dedup_key = e.provider_message_id;
        e.text = "my phone does not charge";
        routing::channel_route route{"bench", false};
        auto stored = co_await convs.ingest(e, route);
        if (stored) {
          auto r = co_await routing.route(stored->conversation_id, "en");
          if (r && r->status == "assigned") ++routed_assigned;
        }
        lat.push_back(seconds_since(start) * 1000);
        --inflight;
      }, net::detached);
    }
    net::steady_timer t(ex, std::chrono::microseconds(100));
    co_await t.async_wait(net::use_awaitable);
  }
  double route_s = seconds_since(t2);
  std::printf("  new conversations, ingest + route (64 in flight): %d assigned of %d in %.3f s = %.0f assignments/s\n",
              routed_assigned, conversations, route_s, routed_assigned / route_s);
  std::printf("    per message (ingest + route, 2-3 round trips): p50 %.2f ms  p99 %.2f ms\n", pct(lat, 50), pct(lat, 99));

  auto stats = co_await redis.exec(store::make_command("INFO", "commandstats"));
  if (stats && !stats->str.empty()) {
    auto pos = stats->str.find("cmdstat_fcall:");
    if (pos != std::string::npos) {
      auto end = stats->str.find('\n', pos);
      std::printf("  redis %s\n", stats->str.substr(pos, end - pos).c_str());
    }
  }
  co_return (queue_left && queue_left->integer == 0 && max_load <= capacity && total == assigned) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: routing_bench redis://127.0.0.1:PORT [agents] [conversations]\n");
    return 2;
  }
  auto null_sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  for (const char* name : {"routing", "redis", "bot"}) spdlog::register_logger(std::make_shared<spdlog::logger>(name, null_sink));
  int agents = argc > 2 ? std::atoi(argv[2]) : 200;
  int conversations = argc > 3 ? std::atoi(argv[3]) : 10000;
  net::io_context ioc(1);
  auto cfg = store::parse_redis_url(argv[1]);
  cfg.command_timeout = std::chrono::seconds(30);
  store::redis_client redis(ioc.get_executor(), cfg);
  redis.start();
  int rc = 1;
  net::co_spawn(ioc, run(redis, agents, conversations), [&](std::exception_ptr e, int r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "routing_bench: %s\n", ex.what());
      }
    } else {
      rc = r;
    }
    redis.stop();
    ioc.stop();
  });
  ioc.run();
  return rc;
}
