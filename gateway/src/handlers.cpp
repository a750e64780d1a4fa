#include "pasokh/gateway/handlers.hpp"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/bot/language.hpp"
#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/customer_links.hpp"
#include "pasokh/gateway/followup.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/ops_gauges.hpp"
#include "pasokh/gateway/redis_memory.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {

using routing::now_ms;

namespace {

using boost::asio::awaitable;
using nlohmann::json;

constexpr std::size_t max_message_chars = 10'000;
constexpr std::size_t max_id_chars = 128;
constexpr std::size_t max_name_chars = 100;  // as the web chat's form

http_response bad_field(std::string_view field, std::string_view what) {
  global_metrics().errors.inc("invalid_field");
  return error_response(400, "invalid_field", std::string(field) + ": " + std::string(what));
}

// A non-empty string of at most `max` bytes, or nullopt.
std::optional<std::string> string_field(const json& j, const char* key, std::size_t max) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  auto s = it->get<std::string>();
  if (s.empty() || s.size() > max) return std::nullopt;
  return s;
}

// A field that may be left out: "" when absent, nullopt when not a string.
std::optional<std::string> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string{};
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// /readyz's 503: the error code load balancers and scripts already know, and
// which of the Redis links ("commands", "pubsub", "webchat_pubsub") is down.
http_response redis_links_down(const std::vector<std::string>& down) {
  std::string names;
  for (const auto& d : down) names += (names.empty() ? "" : ", ") + d;
  json body = {{"error", {{"code", "redis_unavailable"}, {"message", "Redis connection down: " + names}, {"down", down}}}};
  return json_response(503, body.dump());
}

}  // namespace

awaitable<bool> run_bot(services& s, const routing::ingest_outcome& stored, const proto::inbound_event& event) {
  co_await note_mentions(s, stored, event);
  // Opt-out words, CSAT ratings and comments are answered there, not by the
  // bot. Failed: neither the bot nor routing may take it for an ordinary
  // message (route() would reopen a rated conversation); run again later.
  const auto after_sales = co_await aftersales::on_customer_message(s, stored, event);
  if (after_sales == aftersales::outcome::handled) co_return true;
  if (after_sales == aftersales::outcome::failed) co_return false;
  // Never the bot for automatic mail (list mail, email_inbound.cpp): a conversation it had goes to people.
  bool route = stored.status != "bot" || event.automatic;
  if (!route) {
    routing::customer_turn turn{stored.conversation_id, event.text, event.button_payload, event.language,
                                !event.attachments.empty(), stored.seq};
    auto r = co_await s.bot_turns.on_customer_message(turn);
    // The customer's message is stored either way; a failed bot turn leaves the
    // conversation with the bot, and the follow-up is run again (followup.cpp).
    if (!r) {
      static routing::repeated_warning bot_turn_failures;
      bot_turn_failures.warn(*spdlog::get("bot"), "conv={} bot turn failed: {}", stored.conversation_id, r.error().message());
      co_return false;
    }
    route = *r && (*r)->kind == bot::action::handoff;
  }
  // Routing: team rules, queue, assignment, reopen (routing_service). A
  // conversation already routed and waiting in its queue stays there: the queue
  // drains when an agent frees up, not when the customer writes again. A new
  // conversation was routed inside ingest when its decision held.
  if (stored.routed && (stored.status == "queued" || stored.new_conversation)) route = false;
  if (route && s.routing) {
    auto routed = co_await s.routing->route(stored.conversation_id, event.language);
    if (!routed) {
      static routing::repeated_warning routing_failures;
      routing_failures.warn(*spdlog::get("routing"), "conv={} routing failed: {}", stored.conversation_id, routed.error().message());
      co_return false;
    }
  }
  co_return true;
}

void add_health_routes(router& r, services& s, redis_memory_watch& redis_memory) {
  r.add("GET", "/healthz", [](const http_request&, const route_params&) -> awaitable<http_response> {
    co_return json_response(200, R"({"status":"ok"})");
  });
  r.add("GET", "/readyz", [&s, &redis_memory](const http_request&, const route_params&) -> awaitable<http_response> {
    // Any link down is not ready: without pub/sub, agents get no live events,
    // and without the web chat's, visitors no queue places or typing.
    auto pong = co_await s.redis.exec(store::make_command("PING"));
    std::vector<std::string> down;
    if (!pong || pong->is_error()) down.emplace_back("commands");
    if (s.subscriber && !s.subscriber->connected()) down.emplace_back("pubsub");
    if (s.webchat_subscriber && !s.webchat_subscriber->connected()) down.emplace_back("webchat_pubsub");
    if (!down.empty()) co_return redis_links_down(down);
    // Redis that may evict keys (dedup first: retries stored twice) or is full.
    auto memory = co_await redis_memory.problem();
    if (memory) co_return error_response(503, memory->code, memory->message);
    // Until the startup sync lands, teams named by the channels are unknown.
    if (s.routing && !s.routing->synced()) co_return error_response(503, "starting", "routing state is still loading");
    co_return json_response(200, R"({"status":"ready"})");
  });
  r.add("GET", "/metrics", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    if (const auto& m = s.cfg.metrics; !m.token.empty()) {
      auto match = connectors::match_secret(bearer_token(req), {connectors::secret(m.token), connectors::secret(m.previous_token)});
      if (match == connectors::secret_match::none) {
        auto res = reject(401, "unauthorized", "GET /metrics needs the metrics token (Authorization: Bearer <token>)");
        res.headers.emplace_back("WWW-Authenticate", "Bearer");
        co_return res;
      }
      if (match == connectors::secret_match::previous) global_metrics().auth_previous_key.inc(metrics_token_label);
    }
    auto& m = global_metrics();
    m.redis_connected.set({"commands"}, s.redis.connected() ? 1 : 0);
    if (s.subscriber) m.redis_connected.set({"pubsub"}, s.subscriber->connected() ? 1 : 0);
    if (s.webchat_subscriber) m.redis_connected.set({"webchat_pubsub"}, s.webchat_subscriber->connected() ? 1 : 0);
    m.errors.set({"redis_oom"}, s.redis.out_of_memory_replies());
    auto text = m.render();
    text += co_await read_ops_gauges(s);  // absent while Redis does not answer
    co_return http_response{200, "text/plain; version=0.0.4", std::move(text), {}};
  });
}

void add_auth_routes(router& r, services& s) {
  r.add("POST", "/api/v1/auth/login", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    auto& j = std::get<json>(body);
    auto login = string_field(j, "login", 128);
    auto password = string_field(j, "password", 1024);
    if (!login || !password) co_return bad_field("login/password", "both are required strings");
    auto address = client_address(req, s.cfg.proxy.trust_forwarded_for);
    auto result = co_await s.agents.login(*login, *password, address);
    if (!result) co_return unavailable();
    if (result->status == login_status::rate_limited) {
      global_metrics().errors.inc("login_rate_limited");
      auto resp = error_response(429, "rate_limited", "too many login attempts; wait a minute");
      resp.headers.emplace_back("Retry-After", "60");
      co_return resp;
    }
    if (result->status != login_status::ok) {
      spdlog::get("gateway")->info("failed login for login={:?} from {}", *login, address);
      co_return unauthorized("wrong login or password");
    }
    const auto& a = result->who;
    json out = {{"token", result->token},
                {"expires_in", s.cfg.auth.session_ttl.count()},
                {"agent", {{"id", a.id}, {"name", a.name}, {"role", a.role}, {"team", a.team}}}};
    co_return json_response(200, out.dump());
  });
  r.add("POST", "/api/v1/auth/logout", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto token = bearer_token(req);
    if (token.empty()) co_return unauthorized("a Bearer token is required");
    if (!co_await s.agents.logout(token)) co_return unavailable();
    co_return json_response(200, R"({"status":"logged_out"})");
  });
}

void add_admin_routes(router& r, services& s) {
  r.add("POST", "/api/v1/admin/bot/reload", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto result = s.faq_bot.reload_file(s.cfg.bot.knowledge_base);
    if (!result.ok()) {
      json errors = json::array();
      for (const auto& e : result.errors) errors.push_back(bot::to_string(e));
      global_metrics().errors.inc("bot_kb_invalid");
      co_return json_response(422, json{{"error", {{"code", "invalid_knowledge_base"},
                                                    {"message", "the knowledge base has errors; the old one stays active"},
                                                    {"details", errors}}}}.dump());
    }
    audit(std::get<agent>(who).id, "bot.reload", "knowledge_base", "generation=" + std::to_string(result.generation));
    co_return json_response(200, json{{"generation", result.generation}, {"entries", result.entries}}.dump());
  });
}

namespace {

// The text of a stored message event ("" when it is not one).
std::string stored_text(const std::string& frame) {
  auto event = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (!event.is_object() || !event.contains("message")) return {};
  return event["message"].value("text", std::string{});
}

}  // namespace

void add_api_channel_routes(router& r, services& s) {
  // The channel must exist, be an API channel, and the caller must hold its key.
  auto authorize = [&s](const http_request& req, const route_params& p) -> std::variant<const channel_config*, http_response> {
    const auto* channel = s.cfg.find_channel(p.at("channel"));
    if (!channel || channel->kind != proto::channel_kind::api) {
      global_metrics().errors.inc("unknown_channel");
      return error_response(404, "unknown_channel", "no API channel named " + p.at("channel"));
    }
    const auto given = bearer_token(req);
    const bool current = connectors::constant_time_equal(given, channel->api_key);
    // Both compared whenever a rotation is on, so the time says nothing of which key matched.
    const bool previous = !channel->previous_api_key.empty() && connectors::constant_time_equal(given, channel->previous_api_key);
    if (!current && !previous) return unauthorized("missing or wrong API key");
    if (!current) global_metrics().auth_previous_key.inc(channel->id);
    return channel;
  };

  r.add("POST", "/api/v1/channels/{channel}/messages",
        [&s, authorize](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto auth = authorize(req, p);
          if (auto* err = std::get_if<http_response>(&auth)) co_return *err;
          const auto* channel = std::get<const channel_config*>(auth);
          auto body = json_body(req);
          if (auto* err = std::get_if<http_response>(&body)) co_return *err;
          auto& j = std::get<json>(body);

          auto message_id = string_field(j, "message_id", max_id_chars);
          if (!message_id) co_return bad_field("message_id", "required, a string of 1 to 128 bytes");
          auto customer = j.find("customer");
          if (customer == j.end() || !customer->is_object()) co_return bad_field("customer", "required, an object");
          auto customer_id = string_field(*customer, "id", max_id_chars);
          if (!customer_id) co_return bad_field("customer.id", "required, a string of 1 to 128 bytes");
          auto text = string_field(j, "text", max_message_chars * 4);
          if (!text || proto::utf8_length(*text) > max_message_chars)
            co_return bad_field("text", "required, a non-empty string of at most 10000 characters");
          auto language = optional_string(j, "language");
          if (!language || (!language->empty() && !proto::known_language(*language)))
            co_return bad_field("language", "one of fa, ar, en");
          auto name = optional_string(*customer, "name");
          if (!name || proto::utf8_length(*name) > max_name_chars)
            co_return bad_field("customer.name", "a string of at most 100 characters");

          proto::inbound_event event;
          event.from = {channel->id, proto::channel_kind::api, *customer_id, *name};
          event.provider_message_id = *message_id;
          // Unique per customer, not per channel: integrations often number
          // each chat's messages from 1. Length-prefixed so that no customer id
          // and message id pair reads as another.
          event.dedup_key = std::to_string(customer_id->size()) + ":" + *customer_id + ":" + *message_id;
          event.text = *text;
          event.sent_at = now_ms();
          // Unsaid: guessed from the text, as the web chat does (routing and
          // the customer file go by it).
          event.language = language->empty() ? std::string(bot::guess_language_code(event.text)) : *language;

          // Named, not a braced temporary: GCC 12 destroys braced temporaries in
          // co_await expressions twice.
          routing::channel_route route{channel->team, channel->bot};
          auto outcome = co_await s.conversations.ingest(event, route);
          if (!outcome) {
            static routing::repeated_warning ingest_failures;
            ingest_failures.warn(*spdlog::get("gateway"), "channel={} ingest failed: {}", channel->id, outcome.error().message());
            co_return unavailable();
          }
          if (outcome->duplicate) {
            // A retry repeats the text; another text under the same id is the
            // caller reusing ids, and answering "duplicate" would drop it.
            auto stored = co_await s.conversations.events_after(outcome->conversation_id, outcome->seq - 1, 1);
            if (!stored) co_return unavailable();
            if (!stored->empty() && stored_text((*stored)[0]) != event.text) {
              global_metrics().errors.inc("message_id_reused");
              co_return error_response(409, "message_id_reused",
                                       "message_id " + *message_id + " was already used for another text of this customer");
            }
            global_metrics().dedup_hits.inc(channel->id);
            co_await follow_up_duplicate(s, *outcome);
          } else {
            global_metrics().inbound_messages.inc(channel->id);
            co_await follow_up(s, *outcome, event);
          }
          json out = {{"conversation_id", outcome->conversation_id},
                      {"customer_id", outcome->customer_id},
                      {"seq", outcome->seq},
                      {"message_id", outcome->conversation_id + ":" + std::to_string(outcome->seq)},
                      {"duplicate", outcome->duplicate}};
          co_return json_response(outcome->duplicate ? 200 : 201, out.dump());
        });

  r.add("GET", "/api/v1/channels/{channel}/conversations/{conversation}/messages",
        [&s, authorize](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto auth = authorize(req, p);
          if (auto* err = std::get_if<http_response>(&auth)) co_return *err;
          const auto* channel = std::get<const channel_config*>(auth);
          std::uint64_t after = 0;
          auto after_text = req.query_param("after");
          if (!after_text.empty()) {
            auto [ptr, ec] = std::from_chars(after_text.data(), after_text.data() + after_text.size(), after);
            if (ec != std::errc{} || ptr != after_text.data() + after_text.size())
              co_return bad_field("after", "a sequence number");
          }
          const auto& conv = p.at("conversation");
          auto owner = co_await s.conversations.channel_of(conv);
          if (!owner && owner.error() != routing::routing_errc::not_found) co_return unavailable();
          if (!owner || *owner != channel->id) {
            global_metrics().errors.inc("not_found");
            co_return error_response(404, "not_found", "no conversation " + conv + " on this channel");
          }
          constexpr std::size_t page = 500;  // log events read per call
          auto frames = co_await s.conversations.events_after(conv, after, page);
          if (!frames) co_return unavailable();
          auto marks_text = co_await s.conversations.delivery_marks(conv);
          if (!marks_text) co_return unavailable();
          // The log keeps a message as it was stored; how far its delivery
          // got (sent, delivered, read, failed) is kept beside it.
          auto marks = json::parse(*marks_text);
          json messages = json::array();
          std::uint64_t last_seq = after;
          for (const auto& f : *frames) {
            auto event = json::parse(f);
            last_seq = event.value("seq", last_seq);
            if (event.value("event", "") != "message") continue;
            auto& message = event["message"];
            auto mark = marks.find(std::to_string(message.value("seq", std::uint64_t{0})));
            if (mark != marks.end() && mark->is_object()) {
              message["status"] = mark->value("status", message.value("status", std::string{}));
              if (mark->contains("reason")) message["status_reason"] = (*mark)["reason"];
            }
            messages.push_back(std::move(message));
          }
          // A full page may have more after it: ask again with after=next_after.
          co_return json_response(200, json{{"conversation_id", conv},
                                            {"messages", messages},
                                            {"has_more", frames->size() == page},
                                            {"next_after", last_seq}}.dump());
        });
}

namespace {

std::string_view content_type_for(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".yaml" || ext == ".yml") return "application/yaml";
  return "application/octet-stream";
}

// Serves files under `root/<folder>`; never outside it.
http_handler static_folder(std::filesystem::path root, std::string folder) {
  // The console is never shown inside another site's page: a page that
  // framed it could trick a signed-in agent into clicks (the widget's files
  // are meant for other sites' pages).
  const bool unframed = folder == "console";
  return [root = std::move(root), folder = std::move(folder), unframed](const http_request&, const route_params& p)
             -> awaitable<http_response> {
    namespace fs = std::filesystem;
    std::string rel = p.count("*") ? p.at("*") : "";
    if (rel.empty()) rel = "index.html";
    auto base = fs::weakly_canonical(root / folder);
    auto file = fs::weakly_canonical(base / rel);
    auto [b, f] = std::mismatch(base.begin(), base.end(), file.begin(), file.end());
    std::error_code ec;
    if (b != base.end() || !fs::is_regular_file(file, ec)) {
      global_metrics().errors.inc("not_found");
      co_return error_response(404, "not_found", "no such file");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    http_response r{200, std::string(content_type_for(file)), body.str(), {}};
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    if (unframed) {
      r.headers.emplace_back("X-Frame-Options", "DENY");
      r.headers.emplace_back("Content-Security-Policy", "frame-ancestors 'none'");
    }
    co_return r;
  };
}

}  // namespace

void add_static_routes(router& r, services& s) {
  std::filesystem::path root = s.cfg.web_root;
  for (const char* folder : {"console", "widget", "demo"}) {
    r.add("GET", std::string("/") + folder + "/*", static_folder(root, folder));
    r.add("GET", std::string("/") + folder, static_folder(root, folder));
  }
  r.add("GET", "/", [](const http_request&, const route_params&) -> awaitable<http_response> {
    http_response res{302, "text/plain", "", {{"Location", "/console/"}}};
    co_return res;
  });
}

}  // namespace pasokh::gateway
