// pasokh: the gateway process. Wires config, Redis, routes and listeners.
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/agent_checks.hpp"
#include "pasokh/gateway/agent_socket.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/console_api.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/file_watcher.hpp"
#include "pasokh/gateway/handlers.hpp"
#include "pasokh/gateway/http_server.hpp"
#include "pasokh/gateway/live_resync.hpp"
#include "pasokh/gateway/messenger.hpp"
#include "pasokh/gateway/meta_media_copies.hpp"
#include "pasokh/gateway/messenger_config.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/privacy.hpp"
#include "pasokh/gateway/redis_memory.hpp"
#include "pasokh/gateway/reports.hpp"
#include "pasokh/gateway/followup.hpp"
#include "pasokh/gateway/routing_api.hpp"
#include "pasokh/gateway/search_api.hpp"
#include "pasokh/gateway/webchat.hpp"
#include "pasokh/gateway/webchat_mail_fallback.hpp"
#include "pasokh/gateway/webchat_uploads.hpp"
#include "pasokh/gateway/webchat_verify.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/channel_servers.hpp"
#include "pasokh/routing/delivery.hpp"

namespace net = boost::asio;
using namespace pasokh;
using namespace pasokh::gateway;

namespace {

// Every connection holds a descriptor, and so do Redis, files and outbound
// HTTPS. Out of descriptors, accept() fails and Redis cannot reconnect, so
// the whole gateway stops; at max_connections new clients get a 503 instead.
// The soft limit goes up to the hard one, and max_connections down to what
// it leaves after a reserve.
void fit_connections_to_descriptors(limits_config& limits) {
  constexpr rlim_t reserve = 512;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    getrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur == RLIM_INFINITY) return;
  const std::size_t room = files.rlim_cur > 2 * reserve ? files.rlim_cur - reserve : files.rlim_cur / 2;
  if (limits.max_connections > room) {
    // A big cut (a low hard limit) is a deployment problem worth a warning.
    const auto level = room < limits.max_connections * 9 / 10 ? spdlog::level::warn : spdlog::level::info;
    spdlog::get("gateway")->log(level, "limits.max_connections {} lowered to {}: the process may open {} files",
                                limits.max_connections, room, files.rlim_cur);
    limits.max_connections = room;
  }
}

// A file or folder a setting names, for a message: the setting, the path as
// written and, for a relative one, the absolute path tried (relative paths are
// from the working directory, not the config file's).
std::string named_path(std::string_view key, const std::string& path) {
  auto out = fmt::format("{} \"{}\"", key, path);
  std::error_code ec;
  if (std::filesystem::path(path).is_relative())
    if (auto absolute = std::filesystem::absolute(path, ec); !ec)
      out += fmt::format(" ({}; a relative path is from the working directory)", absolute.string());
  return out;
}

void print_knowledge_base_errors(const config& cfg, const std::vector<bot::kb_error>& errors) {
  const auto where = named_path("bot.knowledge_base", cfg.bot.knowledge_base);
  for (const auto& e : errors) std::fprintf(stderr, "pasokh: %s: %s\n", where.c_str(), bot::to_string(e).c_str());
}

// Without the console under web_root the gateway still starts, and answers
// 404 to every page of it.
std::optional<std::string> web_root_problem(const config& cfg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(std::filesystem::path(cfg.web_root) / "console" / "index.html", ec))
    return std::nullopt;
  return fmt::format("{}: no console/index.html there", named_path("web_root", cfg.web_root));
}

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
  // The trail of admin changes (audit.hpp) is kept at a quieter log_level too.
  auto audit = std::make_shared<spdlog::logger>("audit", sink);
  const auto configured = spdlog::level::from_str(level);
  audit->set_level(configured == spdlog::level::off ? configured : std::min(configured, spdlog::level::info));
  spdlog::register_logger(audit);
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
  a.name = parts.size() > 1 ? parts[1] : a.login;
  if (parts.size() > 2) a.role = parts[2];
  if (parts.size() > 3) {
    // TEAM may list several teams joined by '+': "warranty+returns".
    std::string_view teams = parts[3];
    while (!teams.empty()) {
      auto plus = teams.find('+');
      if (plus != 0) a.teams.emplace_back(teams.substr(0, plus));
      if (plus == std::string_view::npos) break;
      teams.remove_prefix(plus + 1);
    }
    if (!a.teams.empty()) a.team = a.teams.front();
  }
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

net::awaitable<int> seed_demo(agent_directory& agents, const config& cfg) {
  struct demo_agent { const char* login; const char* name; const char* role; };
  std::printf("Demo agents (passwords are shown only now; they are stored hashed):\n");
  for (auto d : {demo_agent{"sara", "Sara Ahmadi", "admin"}, demo_agent{"reza", "Reza Karimi", "agent"}}) {
    agent a;
    a.login = d.login;
    a.name = d.name;
    a.role = d.role;
    // The demo agents work in every configured team (support first).
    for (const auto& t : cfg.routing.teams) a.teams.push_back(t.id);
    if (!a.teams.empty()) a.team = a.teams.front();
    a.capacity = cfg.routing.default_capacity;
    auto password = random_token(9);
    auto created = co_await agents.create(a, password);
    if (!created) {
      std::fprintf(stderr, "cannot reach Redis: %s\n", created.error().message().c_str());
      co_return 1;
    }
    if (*created)
      std::printf("  %-5s (%s, team %s)  password: %s\n", d.login, d.role, a.team.c_str(), password.c_str());
    else
      std::printf("  %-5s already exists (password unchanged)\n", d.login);
  }
  co_return 0;
}

// Teams an agent made on the command line may work in: those in Redis (made
// in the console) and those a start seeds (the configured ones, the channels').
net::awaitable<store::result<std::vector<std::string>>> known_teams(store::redis_client& redis, const config& cfg) {
  auto stored = co_await redis.exec(store::make_command("HKEYS", cfg.redis.prefix + "teams"));
  if (!stored) co_return stored.error();
  std::vector<std::string> ids;
  for (const auto& id : stored->elements) ids.push_back(id.str);
  co_return known_team_ids(std::move(ids), cfg);
}

// --create-agent LOGIN[,NAME[,ROLE[,TEAM]]]: checked as the admin REST API
// checks a new agent. 0 created, 1 not (the login exists, Redis down), 2 bad input.
net::awaitable<int> create_agent(agent_directory& agents, store::redis_client& redis, const config& cfg,
                                 const std::string& spec_text, const std::string& password) {
  auto spec = parse_agent_spec(spec_text);
  if (spec.role.empty()) spec.role = "agent";
  if (spec.name.empty()) spec.name = spec.login;
  if (spec.teams.empty()) {
    spec.team = default_team(cfg);  // as the REST API
    spec.teams = {spec.team};
  }
  spec.capacity = cfg.routing.default_capacity;
  auto teams = co_await known_teams(redis, cfg);
  if (!teams) {
    std::fprintf(stderr, "pasokh: cannot reach Redis: %s\n", teams.error().message().c_str());
    co_return 1;
  }
  if (auto bad = new_agent_problem(spec, password, *teams); !bad.empty()) {
    std::fprintf(stderr, "pasokh: --create-agent %s: %s\n", spec_text.c_str(), bad.c_str());
    co_return 2;
  }
  auto created = co_await agents.create(spec, password);
  if (!created) {
    std::fprintf(stderr, "pasokh: cannot reach Redis: %s\n", created.error().message().c_str());
    co_return 1;
  }
  if (!*created) {
    std::fprintf(stderr, "pasokh: login %s already exists (nothing changed)\n", spec.login.c_str());
    co_return 1;
  }
  // As the REST API's agent.create line, by "cli": whoever ran the command holds no agent id.
  audit("cli", "agent.create", **created, "login=" + spec.login + " role=" + spec.role + " teams=" + proto::join(spec.teams, ','));
  std::printf("created %s (%s, teams %s)\n", (*created)->c_str(), spec.role.c_str(), proto::join(spec.teams, ',').c_str());
  co_return 0;
}

// For a Redis link's connected hook: every call after the first is a
// reconnect, counted in pasokh_redis_reconnects_total. Each hook runs on its
// link's strand, so the flag needs no lock.
std::function<void()> reconnect_counter(std::string_view connection) {
  global_metrics().redis_reconnects.inc(connection, 0);  // the series shows 0 from the start
  return [connection, first = true]() mutable {
    if (!std::exchange(first, false)) global_metrics().redis_reconnects.inc(connection);
  };
}

// While a key or the web chat secret is rotated, its channels show 0 uses of
// the previous one from the start, so "flat" can be read from the first scrape.
void show_previous_key_series(const config& cfg) {
  for (const auto& ch : cfg.channels)
    if (!ch.previous_api_key.empty() || (ch.kind == proto::channel_kind::webchat && !cfg.webchat.previous_secret.empty()) ||
        (ch.messenger && rotating_webhook_secret(*ch.messenger)))
      global_metrics().auth_previous_key.inc(ch.id, 0);
  if (!cfg.metrics.previous_token.empty()) global_metrics().auth_previous_key.inc(metrics_token_label, 0);
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
    // What a start would load besides the file: the certificate and key,
    // the knowledge base, and the console's files.
    try {
      http_server::check_tls(cfg);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pasokh: %s\n", e.what());
      return 2;
    }
    if (auto kb = bot::bot::from_file(cfg.bot.knowledge_base, {}); !kb) {
      print_knowledge_base_errors(cfg, kb.errors);
      return 2;
    }
    if (auto problem = web_root_problem(cfg)) {
      std::fprintf(stderr, "pasokh: %s\n", problem->c_str());
      return 2;
    }
    for (const auto& w : cfg.warnings) std::fprintf(stderr, "pasokh: warning: %s\n", w.c_str());
    std::printf("%s: OK (%zu channels)\n", opts.config_path.c_str(), cfg.channels.size());
    return 0;
  }
  setup_logging(cfg.log_level);
  auto log = spdlog::get("gateway");
  for (const auto& w : cfg.warnings) log->warn("config {}: {}", opts.config_path, w);
  fit_connections_to_descriptors(cfg.limits);
  show_previous_key_series(cfg);

  int threads = cfg.listen.threads > 0 ? cfg.listen.threads : static_cast<int>(std::thread::hardware_concurrency());
  net::io_context ioc(threads);

  auto redis_cfg = store::parse_redis_url(cfg.redis.url);  // checked with the config
  redis_cfg.command_timeout = cfg.redis.command_timeout;
  redis_cfg.connect_timeout = cfg.redis.connect_timeout;
  store::redis_client redis(ioc.get_executor(), redis_cfg);
  redis.on_latency([](double s, std::string_view failure) {
    global_metrics().redis_latency.observe(s);
    if (!failure.empty()) global_metrics().redis_failures.inc(failure);
  });
  redis.start();

  agent_directory agents(redis, cfg.redis.prefix, cfg.auth.session_ttl,
                         {cfg.auth.login_attempts_per_minute, cfg.auth.login_attempts_per_address_per_minute},
                         cfg.auth.password_rounds);
  if (opts.seed_demo) return run_admin(ioc, redis, [&] { return seed_demo(agents, cfg); });
  if (!opts.create_agent.empty()) {
    const char* password = std::getenv("PASOKH_NEW_AGENT_PASSWORD");
    if (!password || !*password) {
      std::fprintf(stderr, "pasokh: set PASOKH_NEW_AGENT_PASSWORD\n");
      return 2;
    }
    return run_admin(ioc, redis, [&]() -> net::awaitable<int> { co_return co_await create_agent(agents, redis, cfg, opts.create_agent, password); });
  }

  bot::bot_options bot_options;
  bot_options.answer_confidence = cfg.bot.answer_confidence;
  bot_options.choice_confidence = cfg.bot.choice_confidence;
  auto faq_bot = bot::bot::from_file(cfg.bot.knowledge_base, bot_options);
  if (!faq_bot) {
    print_knowledge_base_errors(cfg, faq_bot.errors);
    return 2;
  }
  if (auto problem = web_root_problem(cfg)) log->warn("{}", *problem);
  file_watcher kb_watcher(ioc.get_executor(), cfg.bot.knowledge_base, cfg.bot.watch_interval, [&] {
    auto r = faq_bot.value->reload_file(cfg.bot.knowledge_base);
    if (r.ok())
      spdlog::get("bot")->info("knowledge base reloaded: {} entries (generation {})", r.entries, r.generation);
    else
      for (const auto& e : r.errors) spdlog::get("bot")->error("knowledge base not reloaded: {}", bot::to_string(e));
  });
  if (cfg.bot.watch_interval.count() > 0) kb_watcher.start();

  routing::conversation_service conversations(ioc.get_executor(), redis, cfg.redis.prefix, cfg.dedup_ttl);
  routing::bot_flow bot_turns(redis, cfg.redis.prefix, *faq_bot.value, cfg.bot.name);
  live_hub hub;
  routing::routing_service routing_svc(redis, cfg.redis.prefix, cfg.routing);
  routing_svc.on_count = [](std::string_view kind, int n) { global_metrics().routing_events.inc(kind, n); };
  routing_svc.on_error = [](std::string_view kind) { global_metrics().errors.inc(kind); };
  conversations.route_with(routing_svc);
  routing::search_service search(redis, cfg.redis.prefix);
  routing_svc.search = &search;
  services svc{cfg, redis, conversations, agents, hub, *faq_bot.value, bot_turns, &routing_svc, &search};
  // Files' bytes (mail attachments, web chat uploads, Messenger and Instagram
  // copies; up to many MB each) are written and read on a connection of their
  // own, a chunk a command (attachment_blobs.hpp): ingest and replies never
  // wait behind them. Opened always: any gateway serves GET
  // /api/v1/attachments for files another one stored.
  store::redis_client files_redis(ioc.get_executor(), redis_cfg);
  files_redis.on_connected(reconnect_counter("files"));
  files_redis.start();
  svc.files = &files_redis;
  routing_svc.on_followup_due = [&svc](std::string conv, std::uint64_t seq) {
    return follow_up_due(svc, std::move(conv), seq);
  };
  std::vector<std::string> channel_teams;
  for (const auto& ch : cfg.channels) channel_teams.push_back(ch.team);
  if (channel_teams.empty()) channel_teams.push_back("support");
  routing_svc.start(ioc.get_executor(), channel_teams);

  // Conversation events, and ends of agents' access (their sockets close on every instance).
  store::redis_subscriber subscriber(ioc.get_executor(), redis_cfg,
                                     [&hub, access = agents.access_channel()](std::string_view channel, std::string_view payload) {
                                       bool good = channel == access ? hub.end_access(payload) : hub.dispatch(payload);
                                       if (!good) global_metrics().errors.inc("bad_pubsub_payload");
                                     });
  subscriber.subscribe(conversations.events_channel());
  subscriber.subscribe(agents.access_channel());
  svc.subscriber = &subscriber;
  hub.resync_moment = [&routing_svc] { return routing_svc.scans().now(); };
  live_resync resync(hub, [&redis] { return redis.connected(); });
  redis_memory_watch redis_memory(redis);
  redis.on_connected([&resync, &redis_memory, &ioc, count = reconnect_counter("commands")] {
    count();
    resync.commands_back();
    net::co_spawn(ioc, redis_memory.check_policy(), net::detached);
  });
  subscriber.on_resubscribed(reconnect_counter("pubsub"));
  subscriber.on_resubscribed([&resync] { resync.pubsub_back(); });
  subscriber.start();

  // Outbound delivery: a durable outbox worker per channel that has a sender;
  // email channels also listen for mail.
  messenger_gateway messengers(svc, ioc.get_executor());  // before the outboxes that use its senders
  meta_media_copier meta_copies(svc, files_redis, ioc.get_executor(), &redis_memory);
  if (cfg.meta_media.enabled) {
    messengers.copy_meta_media_with(meta_copies);
    meta_copies.start();
  }
  webchat_mail_fallback mail_fallback(svc, ioc.get_executor());  // the web chat outboxes' sender
  std::vector<std::unique_ptr<email_channel>> email_channels;
  std::vector<std::unique_ptr<routing::outbox_worker>> outboxes;
  std::vector<std::string> served;  // the channels of those outboxes
  auto add_outbox = [&](const channel_config& ch, routing::channel_sender sender) {
    served.push_back(ch.id);
    auto o = routing::outbox_defaults(ch.kind);
    if (ch.sends_per_second > 0) o.limits.per_account = {ch.sends_per_second, ch.sends_per_second};
    o.reader = redis_cfg;
    o.concurrency = cfg.outbox.concurrency;
    o.max_held = cfg.outbox.max_held;
    o.backoff.max_attempts = cfg.outbox.max_attempts;
    o.backoff.retry_for = cfg.outbox.retry_for;
    o.backoff.initial = cfg.outbox.retry_initial;
    o.backoff.max = cfg.outbox.retry_max;
    o.claim_idle = cfg.outbox.claim_idle;
    o.claim_interval = std::min(o.claim_interval, cfg.outbox.claim_idle);
    o.on_result = [channel = ch.id](std::string_view result) {
      global_metrics().outbound_results.inc({channel, result});
      if (result != "sent") global_metrics().errors.inc("outbound_" + std::string(result));
    };
    o.on_new_entries = [channel = ch.id](std::size_t n) { global_metrics().outbound_messages.inc(channel, n); };
    outboxes.push_back(std::make_unique<routing::outbox_worker>(ioc.get_executor(), redis, cfg.redis.prefix, ch.id,
                                                                std::move(sender), std::move(o)));
  };
  for (const auto& ch : cfg.channels) {
    if (ch.kind == proto::channel_kind::api) add_outbox(ch, routing::api_channel_sender());
    if (ch.kind == proto::channel_kind::webchat) add_outbox(ch, mail_fallback.sender(ch));
    if (ch.messenger) add_outbox(ch, messengers.sender(ch));
    if (ch.kind != proto::channel_kind::email) continue;
    auto& mail = *email_channels.emplace_back(std::make_unique<email_channel>(svc, ioc.get_executor(), ch));
    try {
      mail.start();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pasokh: channel %s: cannot listen for SMTP on %s:%u: %s\n", ch.id.c_str(),
                   ch.email->smtp.address.c_str(), ch.email->smtp.port, e.what());
      return 1;
    }
    add_outbox(ch, mail.sender());
  }
  for (auto& o : outboxes) o->start();
  mail_fallback.start();
  // The channels with an outbox worker here, told to the other gateways:
  // an agent's reply on a channel no gateway serves is refused.
  conversations.serve_channels(served);
  routing::channel_servers_options served_opts;
  served_opts.ttl = cfg.outbox.served_ttl;
  served_opts.grace = cfg.outbox.unserved_grace;
  routing::channel_servers channel_servers(ioc.get_executor(), redis, cfg.redis.prefix, served, served_opts);
  channel_servers.on_stranded = [](const std::string& channel) {
    global_metrics().channel_unavailable.inc({channel, "failed"});
  };
  channel_servers.start();

  router routes;
  add_health_routes(routes, svc, redis_memory);
  add_attachment_routes(routes, svc);
  add_email_webhook_routes(routes, svc, email_channels);
  add_auth_routes(routes, svc);
  add_api_channel_routes(routes, svc);
  messengers.add_routes(routes);
  add_admin_routes(routes, svc);
  add_routing_routes(routes, svc);
  add_console_routes(routes, svc);
  add_aftersales_routes(routes, svc);
  add_campaign_routes(routes, svc);
  add_unsubscribe_routes(routes, svc);
  add_webchat_verify_routes(routes);
  add_report_routes(routes, svc);
  add_search_routes(routes, svc);
  add_privacy_routes(routes, svc);
  add_static_routes(routes, svc);
  webchat_service webchat(svc, ioc.get_executor(), redis_cfg);
  svc.webchat_subscriber = &webchat.subscriber();
  webchat.subscriber().on_resubscribed(reconnect_counter("webchat_pubsub"));
  add_webchat_routes(routes, webchat);
  add_webchat_upload_routes(routes, webchat);
  webchat.start();
  routing::set_campaign_status_observer([](std::string_view status) { global_metrics().campaign_messages.inc(status); });
  campaign_runner campaigns(svc, ioc.get_executor());
  campaigns.start();
  retention_sweep retention(svc, ioc.get_executor());
  retention.start();

  std::optional<http_server> server;
  try {
    server.emplace(ioc, cfg, routes,
                   std::map<std::string, ws_endpoint, std::less<>>{
                       {"/ws/agent", webchat.bridge_agent_endpoint(make_agent_endpoint(svc))},
                       {"/ws/chat", make_webchat_endpoint(webchat)}},
                   [&webchat](const http_request& req, http_response& res) { add_webchat_cors(webchat, req, res); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pasokh: %s\n", e.what());
    return 2;
  }
  server->gate_uploads([&webchat](const http_request& head) { return check_upload_sender(webchat, head); });
  std::uint16_t port;
  try {
    port = server->start();
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

  // SIGHUP's default ends the process, with no drain and no word; operators
  // send it out of habit to reload. Nothing is reloaded: the log says so.
  net::signal_set hangups(ioc, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_hangup = [&](boost::system::error_code ec, int) {
    if (ec) return;
    log->warn("SIGHUP: configuration reload is not supported; restart to apply changes");
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    log->info("signal {}: draining connections", signo);
    // An operator who signals again does not want to wait out the drain (up
    // to 10 s): stop at once. Sends in flight are cut off, and another
    // instance sends them again.
    signals.async_wait([&](boost::system::error_code ec, int again) {
      if (ec) return;
      log->warn("signal {} during the drain: stopping at once, drain not finished (forced)", again);
      log->flush();
      std::_Exit(128 + again);
    });
    for (auto& mail : email_channels) mail->stop();
    server->shutdown(std::chrono::seconds(5), [&] {
      // Sends in flight finish and are recorded before Redis goes (at most 5 s):
      // cut off, another instance would send them again. So are the routing,
      // campaign and retention leases given up: left held, the next instance
      // would wait them out.
      auto finish = std::make_shared<std::function<void()>>([&, once = std::make_shared<std::once_flag>()] {
        std::call_once(*once, [&] {
          log->info("stopped");
          subscriber.stop();
          files_redis.stop();
          redis.stop();
          ioc.stop();
        });
      });
      // The handler keeps its timer alive: a destroyed timer fires at once
      // (operation_aborted), which cut in-flight sends off before.
      auto deadline = std::make_shared<net::steady_timer>(ioc, std::chrono::seconds(5));
      deadline->async_wait([finish, deadline](boost::system::error_code) { (*finish)(); });
      auto left = std::make_shared<std::atomic<std::size_t>>(outboxes.size() + 4);
      auto one_done = [finish, left] {
        if (--*left == 0) (*finish)();
      };
      campaigns.stop(one_done);
      retention.stop(one_done);
      meta_copies.stop(one_done);
      routing_svc.stop(one_done);
      kb_watcher.stop();
      channel_servers.stop();
      webchat.stop();
      mail_fallback.stop();
      for (auto& o : outboxes) o->stop(one_done);
    });
  });

  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
