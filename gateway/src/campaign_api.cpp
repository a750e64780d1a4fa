// Campaign routes (admin role): create, list, read with progress, pause,
// resume, cancel. The definition is checked here (campaign_rules.cpp) and
// stored as JSON; state changes run in routing/src/lua/campaign.lua.
#include <chrono>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/campaign_audience.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;

namespace {

using boost::asio::awaitable;
using nlohmann::json;
namespace cp = campaigns;

constexpr std::size_t max_listed = 200;
// A preview reads customer files for at most this long (about 150,000 files:
// 35,000 took 0.63-0.71 s on 2 cores), in script calls of 100 files that hold
// Redis under 2 ms each; past it, it says how many it saw.
constexpr std::chrono::milliseconds preview_budget{3000};

bool valid_campaign_id(std::string_view id) {
  return id.size() > 3 && id.size() <= 24 && id.substr(0, 3) == "cp_" &&
         id.substr(3).find_first_not_of("0123456789") == std::string_view::npos;
}

// Campaign views (campaign.lua "views") with their definitions.
awaitable<std::optional<json>> views(services& s, const std::vector<std::string>& ids, bool with_definition) {
  auto args = store::make_command(s.cfg.redis.prefix, "views", std::to_string(now_ms()));
  for (const auto& id : ids) args.push_back(id);
  auto r = co_await s.redis.fcall(routing::script(routing::lua::campaign), store::make_command(), std::move(args));
  if (!r || r->is_error()) co_return std::nullopt;
  auto list = json::parse(r->str, nullptr, false);
  if (!list.is_array()) co_return std::nullopt;
  if (with_definition) {
    for (auto& v : list) {
      auto d = co_await s.redis.exec(
          store::make_command("HGET", s.cfg.redis.prefix + "campaign:" + v.value("id", ""), "definition"));
      if (d && !d->is_nil()) v["definition"] = json::parse(d->str, nullptr, false);
    }
  }
  co_return list;
}

// A campaign from a request body, checked (the definition, and channels this
// gateway has); or the 400 to answer.
std::variant<cp::definition, http_response> requested_campaign(services& s, const http_request& req) {
  auto body = json_body(req);
  if (auto* err = std::get_if<http_response>(&body)) return *err;
  auto parsed = cp::parse_definition(std::get<json>(body), *s.cfg.shop_tz, now_ms());
  if (auto* err = std::get_if<std::string>(&parsed)) return reject(400, "invalid_field", *err);
  auto& d = std::get<cp::definition>(parsed);
  for (const auto& ch : d.who.channels)
    if (!s.cfg.find_channel(ch)) return reject(400, "invalid_field", "audience.channels: " + ch + " is not a configured channel");
  return std::move(d);
}

}  // namespace

void add_campaign_routes(router& r, services& s) {
  r.add("POST", "/api/v1/admin/campaigns", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto requested = requested_campaign(s, req);
    if (auto* err = std::get_if<http_response>(&requested)) co_return *err;
    auto& d = std::get<cp::definition>(requested);
    auto stored = cp::to_json(d).dump(-1, ' ', false, json::error_handler_t::replace);
    auto created = co_await s.redis.fcall(
        routing::script(routing::lua::campaign), store::make_command(),
        store::make_command(s.cfg.redis.prefix, "create", std::to_string(now_ms()), d.name, d.kind, stored,
                            std::to_string(d.start_at), std::get<agent>(who).id));
    if (!created || created->is_error() || created->elements.empty()) co_return unavailable();
    audit(std::get<agent>(who).id, "campaign.create", created->elements[0].str, "kind=" + d.kind);
    std::vector<std::string> one{created->elements[0].str};
    auto v = co_await views(s, one, true);
    if (!v || v->empty()) co_return unavailable();
    co_return json_response(201, (*v)[0].dump(-1, ' ', false, json::error_handler_t::replace));
  });

  // What a campaign would do if created now (nothing is stored or sent).
  r.add("POST", "/api/v1/admin/campaigns/preview", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto requested = requested_campaign(s, req);
    if (auto* err = std::get_if<http_response>(&requested)) co_return *err;
    auto answer = co_await cp::preview(s, std::get<cp::definition>(requested), preview_budget);
    if (!answer) co_return unavailable();
    co_return json_response(200, answer->dump(-1, ' ', false, json::error_handler_t::replace));
  });

  r.add("GET", "/api/v1/admin/campaigns", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto ids = co_await s.redis.exec(
        store::make_command("ZREVRANGE", s.cfg.redis.prefix + "campaigns", "0", std::to_string(max_listed - 1)));
    if (!ids || ids->is_error()) co_return unavailable();
    std::vector<std::string> list;
    for (const auto& id : ids->elements) list.push_back(id.str);
    json out = json::array();
    if (!list.empty()) {
      auto v = co_await views(s, list, false);
      if (!v) co_return unavailable();
      out = std::move(*v);
    }
    co_return json_response(200, json{{"campaigns", std::move(out)}}.dump(-1, ' ', false, json::error_handler_t::replace));
  });

  r.add("GET", "/api/v1/admin/campaigns/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    if (!valid_campaign_id(id)) co_return reject(404, "not_found", "no such campaign");
    std::vector<std::string> one{id};
    auto v = co_await views(s, one, true);
    if (!v) co_return unavailable();
    if (v->empty()) co_return reject(404, "not_found", "no such campaign");
    co_return json_response(200, (*v)[0].dump(-1, ' ', false, json::error_handler_t::replace));
  });

  r.add("POST", "/api/v1/admin/campaigns/{id}/{action}",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "admin");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& id = p.at("id");
          const auto& action = p.at("action");
          if (action != "pause" && action != "resume" && action != "cancel")
            co_return reject(404, "not_found", "actions: pause, resume, cancel");
          if (!valid_campaign_id(id)) co_return reject(404, "not_found", "no such campaign");
          auto r = co_await s.redis.fcall(routing::script(routing::lua::campaign), store::make_command(),
                                         store::make_command(s.cfg.redis.prefix, "control", std::to_string(now_ms()), id, action));
          if (!r || r->is_error() || r->elements.size() < 2) co_return unavailable();
          const auto& code = r->elements[0].str;
          if (code == "not_found") co_return reject(404, "not_found", "no such campaign");
          if (code == "invalid_state")
            co_return reject(409, "invalid_state", "cannot " + action + " a campaign that is " + r->elements[1].str);
          audit(std::get<agent>(who).id, "campaign." + action, id);  // campaign.pause, .resume, .cancel
          std::vector<std::string> one{id};
          auto v = co_await views(s, one, false);
          if (!v || v->empty()) co_return unavailable();
          co_return json_response(200, (*v)[0].dump(-1, ' ', false, json::error_handler_t::replace));
        });
}

}  // namespace pasokh::gateway
