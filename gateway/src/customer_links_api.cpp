// One file per person (issue 8): merging two customer files when an agent
// confirms they are one person, undoing a merge, dismissing a suggestion, and
// turning an address or number a customer writes into a merge suggestion.
// The state changes run in routing/src/lua/customer_merge.lua; automatic
// links on verified keys happen in ingest (routing/src/lua/ingest.lua).
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/console_api.hpp"
#include "pasokh/gateway/customer_links.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/customer_keys.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;
namespace {

using boost::asio::awaitable;
using nlohmann::json;

// The caller may act on both files; their teams, or the error to answer.
awaitable<std::variant<std::set<std::string>, http_response>> both_files(services& s, const agent& a, const std::string& x,
                                                                         const std::string& y) {
  std::set<std::string> teams, more;
  if (auto err = co_await check_customer(s, a, x, &teams)) co_return *err;
  if (auto err = co_await check_customer(s, a, y, &more)) co_return *err;
  teams.insert(more.begin(), more.end());
  co_return teams;
}

}  // namespace

awaitable<void> note_mentions(services& s, const routing::ingest_outcome& stored, const proto::inbound_event& event) {
  if (stored.duplicate || event.automatic || stored.customer_id.empty()) co_return;
  auto keys = routing::mentioned_keys(event.text);
  if (keys.empty()) co_return;
  std::string lines;
  for (const auto& k : keys) lines += k + "\n";
  auto r = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(),
                                 store::make_command(s.cfg.redis.prefix, "mention", std::to_string(now_ms()),
                                                     stored.customer_id, lines));
  if (r && !r->is_error() && r->elements.size() > 1 && r->elements[1].as_int() > 0) {
    global_metrics().routing_events.inc("merge_suggested", static_cast<int>(r->elements[1].as_int()));
    spdlog::get("gateway")->info("conv={} customer={} mentioned a key of another file: merge suggested",
                                 stored.conversation_id, stored.customer_id);
  }
}

void add_customer_link_routes(router& r, services& s) {
  // Merges the file named in the body into this one (an agent confirmed they
  // are one person). Undone by .../merges/{merge}/undo.
  r.add("POST", "/api/v1/customers/{id}/merge", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& a = std::get<agent>(who);
    const auto& into = p.at("id");
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    const auto& j = std::get<json>(body);
    auto from = j.contains("from") && j["from"].is_string() ? j["from"].get<std::string>() : std::string{};
    if (!plain_id(into)) co_return reject(400, "invalid_field", "id: not a customer id");
    if (!plain_id(from)) co_return reject(400, "invalid_field", "from: the id of the customer to merge into this one");
    if (from == into) co_return reject(400, "invalid_field", "from: a customer cannot be merged into itself");
    auto teams = co_await both_files(s, a, into, from);
    if (auto* err = std::get_if<http_response>(&teams)) co_return *err;
    auto res = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(),
                                     store::make_command(s.cfg.redis.prefix, "merge", std::to_string(now_ms()), into, from, a.id));
    if (!res || res->is_error() || res->elements.empty()) co_return unavailable();
    const auto& e = res->elements;
    if (e[0].str == "no_customer") co_return reject(404, "not_found", "no customer " + e[1].str);
    if (e[0].str == "merged_away" && e.size() > 2)
      co_return reject(409, "merged", "customer " + e[1].str + " was merged into " + e[2].str);
    if (e[0].str == "erased" && e.size() > 1)
      co_return reject(409, "erased", "customer " + e[1].str + " was erased; an erased file cannot be merged");
    if (e[0].str != "merged" || e.size() < 3) co_return unavailable();
    global_metrics().routing_events.inc("customer_merge");
    spdlog::get("gateway")->info("customer={} merged into customer={} by agent={} ({}, {} conversations)", from, into, a.id,
                                 e[1].str, e[2].str);
    co_await publish_customer_changed(s, into, a.id, std::get<std::set<std::string>>(teams));
    co_await publish_customer_changed(s, from, a.id, std::get<std::set<std::string>>(teams));
    json out = {{"status", "merged"}, {"merge_id", e[1].str}, {"customer", into}, {"from", from},
                {"conversations_moved", e[2].as_int()}};
    co_return json_response(200, out.dump());
  });

  r.add("POST", "/api/v1/customers/{id}/merges/{merge}/undo",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& a = std::get<agent>(who);
          const auto& into = p.at("id");
          const auto& mid = p.at("merge");
          if (!plain_id(into)) co_return reject(400, "invalid_field", "id: not a customer id");
          if (!plain_id(mid)) co_return reject(400, "invalid_field", "merge: not a merge id");
          const auto& pre = s.cfg.redis.prefix;
          // The caller must reach the merged file (it holds what came in).
          std::set<std::string> teams;
          if (auto err = co_await check_customer(s, a, into, &teams)) co_return *err;
          auto rec = co_await s.redis.exec(store::make_command("GET", pre + "merge:" + mid));
          if (!rec || rec->is_error()) co_return unavailable();
          auto m = rec->is_nil() ? json() : json::parse(rec->str, nullptr, false);
          if (!m.is_object() || m.value("into", "") != into) co_return reject(404, "not_found", "no merge " + mid + " into " + into);
          auto from = m.value("from", "");
          auto res = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(),
                                           store::make_command(pre, "unmerge", std::to_string(now_ms()), mid, a.id));
          if (!res || res->is_error() || res->elements.empty()) co_return unavailable();
          const auto& e = res->elements;
          if (e[0].str == "not_found") co_return reject(404, "not_found", "no merge " + mid);
          if (e[0].str == "already") co_return reject(409, "already_undone", "merge " + mid + " was undone already");
          if (e[0].str == "erased")
            co_return reject(409, "erased", "merge " + mid + " was erased with its customer; an erased merge cannot be undone");
          if (e[0].str == "merged_away" && e.size() > 2)
            co_return reject(409, "merged", "customer " + e[1].str + " was merged into " + e[2].str + " since; undo that first");
          if (e[0].str != "unmerged" || e.size() < 4) co_return unavailable();
          global_metrics().routing_events.inc("customer_unmerge");
          spdlog::get("gateway")->info("merge {} undone by agent={}: customer={} back out of customer={}", mid, a.id, from, into);
          co_await publish_customer_changed(s, into, a.id, teams);
          co_await publish_customer_changed(s, from, a.id, teams);
          json out = {{"status", "unmerged"}, {"merge_id", mid}, {"customer", into}, {"restored", from},
                      {"conversations_moved_back", e[3].as_int()}};
          co_return json_response(200, out.dump());
        });

  r.add("POST", "/api/v1/customers/{id}/suggestions/{other}/dismiss",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& a = std::get<agent>(who);
          const auto &id = p.at("id"), &other = p.at("other");
          if (!plain_id(id) || !plain_id(other) || id == other)
            co_return reject(400, "invalid_field", "two different customer ids");
          std::set<std::string> teams;
          if (auto err = co_await check_customer(s, a, id, &teams)) co_return *err;
          auto res = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(),
                                           store::make_command(s.cfg.redis.prefix, "dismiss", std::to_string(now_ms()), id, other));
          if (!res || res->is_error()) co_return unavailable();
          co_await publish_customer_changed(s, id, a.id, teams);
          co_return json_response(200, R"({"status":"dismissed"})");
        });
}

}  // namespace pasokh::gateway
