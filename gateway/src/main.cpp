// pasokh: the gateway process. Wires config, Redis, routes and listeners.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/agent_socket.hpp"
#include "pasokh/gateway/handlers.hpp"
#include "pasokh/gateway/http_server.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"

namespace net = boost::asio;
using namespace pasokh;
using namespace pasokh::gateway;

namespace {

struct options {
  std::string config_path = "pasokh.json";
  bool check_config = false;
  bool seed_demo = false;
  std::string create_agent;  // login[,name[,role[,team]]]
};

void usage() {
  std::puts(
      "usage: pasokh [--config FILE] [--check-config] [--seed-demo] [--create-agent LOGIN[,NAME[,ROLE[,TEAM]]]]\n"
      "  --config FILE     configuration (default pasokh.json, or $PASOKH_CONFIG)\n"
      "  --check-config    validate the configuration and exit\n"
      "  --seed-demo       create the demo agents (passwords are printed once) and exit\n"
      "  --create-agent    create one agent with the password in $PASOKH_NEW_AGENT_PASSWORD and exit");
}

options parse_args(int argc, char** argv) {
  options o;
  if (const char* env = std::getenv("PASOKH_CONFIG")) o.config_path = env;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--config") o.config_path = value();
    else if (a == "--check-config") o.check_config = true;
    else if (a == "--seed-demo") o.seed_demo = true;
    else if (a == "--create-agent") o.create_agent = value();
    else if (a == "--help" || a == "-h") { usage(); std::exit(0); }
    else throw std::runtime_error("unknown argument " + std::string(a));
  }
  return o;
}

void setup_logging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : {"gateway", "http", "redis", "routing", "bot", "connectors", "smtp"}) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::from_str(level));
    spdlog::register_logger(logger);
  }
  spdlog::set_default_logger(spdlog::get("gateway"));
}

agent parse_agent_spec(const std::string& spec) {
  agent a;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto comma = spec.find(',', start);
    parts.push_back(spec.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  a.login = parts[0];
  a.id = "ag_" + a.login;
  a.name = parts.size() > 1 ? parts[1] : a.login;
  if (parts.size() > 2) a.role = parts[2];
  if (parts.size() > 3) a.team = parts[3];
  return a;
}

// Runs one administrative coroutine to completion against Redis.
int run_admin(net::io_context& ioc, store::redis_client& redis, std::function<net::awaitable<int>()> task) {
  int status = 1;
  net::co_spawn(ioc, [&]() -> net::awaitable<int> {
    // Wait for the first connection instead of failing at once.
    for (int i = 0; i < 50 && !redis.connected(); ++i) {
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(100));
      co_await t.async_wait(net::use_awaitable);
    }
    co_return co_await task();
  }, [&](std::exception_ptr e, int rc) {
    status = e ? 1 : rc;
    redis.stop();
    ioc.stop();
  });
  ioc.run();
  return status;
}

net::awaitable<int> seed_demo(agent_directory& agents) {
  struct demo_agent { const char* login; const char* name; const char* role; };
  std::printf("Demo agents (passwords are shown only now; they are stored hashed):\n");
  for (auto d : {demo_agent{"sara", "Sara Ahmadi", "admin"}, demo_agent{"reza", "Reza Karimi", "agent"}}) {
    agent a;
    a.id = std::string("ag_") + d.login;
    a.login = d.login;
    a.name = d.name;
    a.role = d.role;
    auto password = random_token(9);
    auto created = co_await agents.create(a, password);
    if (!created) {
      std::fprintf(stderr, "cannot reach Redis: %s\n", created.error().message().c_str());
      co_return 1;
    }
    if (*created)
      std::printf("  %-5s (%s, team support)  password: %s\n", d.login, d.role, password.c_str());
    else
      std::printf("  %-5s already exists (password unchanged)\n", d.login);
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  config cfg;
  try {
    opts = parse_args(argc, argv);
    cfg = load_config_file(opts.config_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pasokh: %s\n", e.what());
    return 2;
  }
  if (opts.check_config) {
    std::printf("%s: OK (%zu channels)\n", opts.config_path.c_str(), cfg.channels.size());
    return 0;
  }
  setup_logging(cfg.log_level);
  auto log = spdlog::get("gateway");

  int threads = cfg.listen.threads > 0 ? cfg.listen.threads : static_cast<int>(std::thread::hardware_concurrency());
  net::io_context ioc(threads);

  store::redis_config redis_cfg;
  try {
    redis_cfg = store::parse_redis_url(cfg.redis.url);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pasokh: redis.url: %s\n", e.what());
    return 2;
  }
  redis_cfg.command_timeout = cfg.redis.command_timeout;
  redis_cfg.connect_timeout = cfg.redis.connect_timeout;
  store::redis_client redis(ioc.get_executor(), redis_cfg);
  redis.on_latency([](double s) { global_metrics().redis_latency.observe(s); });
  redis.start();

  agent_directory agents(redis, cfg.redis.prefix, cfg.auth.session_ttl, cfg.auth.login_attempts_per_minute);
  if (opts.seed_demo) return run_admin(ioc, redis, [&] { return seed_demo(agents); });
  if (!opts.create_agent.empty()) {
    const char* password = std::getenv("PASOKH_NEW_AGENT_PASSWORD");
    if (!password || !*password) {
      std::fprintf(stderr, "pasokh: set PASOKH_NEW_AGENT_PASSWORD\n");
      return 2;
    }
    return run_admin(ioc, redis, [&]() -> net::awaitable<int> {
      auto created = co_await agents.create(parse_agent_spec(opts.create_agent), password);
      co_return created && *created ? 0 : 1;
    });
  }

  routing::conversation_service conversations(redis, cfg.redis.prefix, cfg.dedup_ttl);
  live_hub hub;
  services svc{cfg, redis, conversations, agents, hub};

  store::redis_subscriber subscriber(ioc.get_executor(), redis_cfg, [&hub](std::string_view, std::string_view payload) {
    if (!hub.dispatch(payload)) global_metrics().errors.inc("bad_pubsub_payload");
  });
  subscriber.subscribe(conversations.events_channel());
  subscriber.on_resubscribed([&hub] { hub.resync_all(); });
  subscriber.start();

  router routes;
  add_health_routes(routes, svc);
  add_auth_routes(routes, svc);
  add_api_channel_routes(routes, svc);
  add_static_routes(routes, svc);

  http_server server(ioc, cfg, routes, {{"/ws/agent", make_agent_endpoint(svc)}});
  std::uint16_t port;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pasokh: cannot listen on %s:%u: %s\n", cfg.listen.address.c_str(), cfg.listen.port, e.what());
    return 1;
  }
  const char* scheme = cfg.listen.tls ? "https" : "http";
  // Tests and scripts read this line to learn the port.
  std::printf("pasokh listening on %s://%s:%u\n", scheme, cfg.listen.address.c_str(), port);
  std::fflush(stdout);
  log->info("listening on {}://{}:{} with {} threads, redis {}:{}", scheme, cfg.listen.address, port, threads,
            redis_cfg.host, redis_cfg.port);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log->info("signal {}: draining connections", signo);
    server.shutdown(std::chrono::seconds(5), [&] {
      log->info("stopped");
      subscriber.stop();
      redis.stop();
      ioc.stop();
    });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
