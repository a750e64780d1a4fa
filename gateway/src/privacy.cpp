// Erasing a customer on request: the admin route, the driver of
// routing/src/lua/erase.lua's steps, and the audit trail.
#include "pasokh/gateway/privacy.hpp"

#include <charconv>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/console_api.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/customer_keys.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;

std::vector<std::string> erase_args(services& s, const char* op) {
  return store::make_command(s.cfg.redis.prefix, op, std::to_string(now_ms()));
}

boost::asio::awaitable<store::result<store::reply>> call_erase(services& s, std::vector<std::string> args) {
  auto r = co_await s.redis.fcall(routing::script(routing::lua::erase), store::make_command(), std::move(args));
  if (r && r->is_error()) {
    static routing::repeated_warning failures;  // every step fails alike while Redis is out of memory
    failures.error(*spdlog::get("gateway"), "erase.lua: {}", r->str);
    co_return store::make_error_code(store::redis_errc::server_error);
  }
  co_return r;
}

namespace {

using boost::asio::awaitable;
using nlohmann::json;

// Log entries one erase.lua step copies: a few milliseconds of Redis.
constexpr std::int64_t entries_per_step = 500;
constexpr std::int64_t max_audit_entries = 500;

// The name keys ingest filed the customer under (names:<language>:<key>,
// routing/src/lua/ingest.lua): of the file's name and its identities' names.
awaitable<store::result<std::string>> name_keys_of(services& s, const std::string& id) {
  const auto key = s.cfg.redis.prefix + "cust:" + id;
  std::vector<std::vector<std::string>> reads;
  reads.push_back(store::make_command("HGET", key, "name"));
  reads.push_back(store::make_command("HVALS", key + ":identities"));
  auto r = co_await s.redis.exec_pipeline(std::move(reads));
  if (!r) co_return r.error();
  std::set<std::string> keys;
  auto add = [&](const std::string& name) {
    if (auto k = routing::name_key(name); !k.empty()) keys.insert(std::move(k));
  };
  add((*r)[0].str);
  for (const auto& identity : (*r)[1].elements) {
    auto j = json::parse(identity.str, nullptr, false);
    if (j.is_object()) add(j.value("display_name", ""));
  }
  std::string lines;
  for (const auto& k : keys) lines += k + "\n";
  co_return lines;
}

// { 'erased', conversations, messages }
void take_counts(const store::reply& r, erase_result& out) {
  out.status = "erased";
  if (r.elements.size() > 2) {
    out.conversations = r.elements[1].as_int();
    out.messages = r.elements[2].as_int();
  }
}

// Steps until the erasure is done or the deadline passes ("erasing").
awaitable<store::result<void>> continue_erasure(services& s, const std::string& id,
                                                std::chrono::steady_clock::time_point deadline, erase_result& out) {
  for (;;) {
    auto args = erase_args(s, "step");
    args.push_back(id);
    args.push_back(std::to_string(entries_per_step));
    auto r = co_await call_erase(s, std::move(args));
    if (!r) co_return r.error();
    const auto status = r->elements.empty() ? std::string() : r->elements[0].str;
    if (status == "erased") {
      take_counts(*r, out);
      co_return store::result<void>{};
    }
    if (status != "more") {
      out.status = status;
      co_return store::result<void>{};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      out.status = "erasing";
      co_return store::result<void>{};
    }
  }
}

// Where mail from and to their addresses is kept (erase.lua forget_addresses).
std::string email_channels(const services& s) {
  std::string out;
  for (const auto& ch : s.cfg.channels)
    if (ch.kind == proto::channel_kind::email) out += (out.empty() ? "" : " ") + ch.id;
  return out;
}

}  // namespace

awaitable<store::result<erase_result>> erase_customer(services& s, const std::string& id, const std::string& actor,
                                                      std::chrono::milliseconds time_limit) {
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  auto names = co_await name_keys_of(s, id);
  if (!names) co_return names.error();
  auto args = erase_args(s, "begin");
  for (auto v : {id, actor, *names, email_channels(s)}) args.push_back(std::move(v));
  auto r = co_await call_erase(s, std::move(args));
  if (!r) co_return r.error();
  erase_result out;
  const auto& e = r->elements;
  out.status = e.empty() ? std::string() : e[0].str;
  if (out.status == "merged" && e.size() > 1) out.merged_into = e[1].str;
  if (out.status == "erased") take_counts(*r, out);
  if (out.status != "erasing") co_return out;
  for (std::size_t i = 1; i < e.size(); ++i) out.files.push_back(e[i].str);
  if (auto stepped = co_await continue_erasure(s, id, deadline, out); !stepped) co_return stepped.error();
  co_return out;
}

void add_privacy_routes(router& r, services& s) {
  // The body repeats the id: a mistyped or replayed request erases nothing.
  r.add("POST", "/api/v1/admin/customers/{id}/erase",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "admin");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& a = std::get<agent>(who);
          const auto& id = p.at("id");
          if (!plain_id(id)) co_return reject(400, "invalid_field", "id: not a customer id");
          auto body = json_body(req);
          if (auto* err = std::get_if<http_response>(&body)) co_return *err;
          const auto& j = std::get<json>(body);
          auto confirm = j.contains("confirm") && j["confirm"].is_string() ? j["confirm"].get<std::string>() : std::string();
          if (confirm != id)
            co_return reject(400, "confirmation_required", "confirm: repeat the customer id (\"" + id + "\") to erase it");
          std::set<std::string> teams;
          if (auto err = co_await check_customer(s, a, id, &teams)) co_return *err;
          auto done = co_await erase_customer(s, id, a.id, std::chrono::seconds(10));
          if (!done) co_return unavailable();
          if (done->status == "not_found") co_return reject(404, "not_found", "no customer " + id);
          if (done->status == "merged")
            co_return reject(409, "merged", "customer " + id + " was merged into " + done->merged_into + ": erase " +
                                                done->merged_into + ", which holds its identities and conversations");
          if (done->status != "erased" && done->status != "erasing") co_return unavailable();
          // Asking again while erasing logs again: the status tells the lines apart.
          audit(a.id, "customer.erase", id, "status=" + done->status);
          if (!done->files.empty()) {
            global_metrics().routing_events.inc("customer_erased");
            spdlog::get("gateway")->info("customer={} erased by agent={} ({} files): {}", id, a.id, done->files.size(),
                                         done->status);
          }
          for (const auto& f : done->files) co_await publish_customer_changed(s, f, a.id, teams);
          json out = {{"status", done->status}, {"customer", id}, {"conversations", done->conversations},
                      {"messages", done->messages}};
          // Erasing: the file is gone already; the sweep (or asking again) removes the rest of the texts.
          co_return json_response(done->status == "erased" ? 200 : 202, out.dump());
        });

  // Who erased which customer when, and how much: no personal data. Newest first.
  r.add("GET", "/api/v1/admin/erasures", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    std::int64_t limit = 50;
    if (auto text = req.query_param("limit"); !text.empty()) {
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (ec != std::errc{} || end != text.data() + text.size() || limit < 1 || limit > max_audit_entries)
        co_return reject(400, "invalid_field", "limit: 1 to 500");
    }
    auto r = co_await s.redis.exec(store::make_command("XREVRANGE", s.cfg.redis.prefix + "audit:erasures", "+", "-",
                                                       "COUNT", std::to_string(limit)));
    if (!r || r->is_error()) co_return unavailable();
    json list = json::array();
    for (const auto& entry : r->elements) {
      if (entry.elements.size() < 2 || entry.elements[1].elements.size() < 2) continue;
      auto e = json::parse(entry.elements[1].elements[1].str, nullptr, false);
      if (e.is_object()) list.push_back(std::move(e));
    }
    co_return json_response(200, json{{"erasures", std::move(list)}}.dump());
  });
}

}  // namespace pasokh::gateway
