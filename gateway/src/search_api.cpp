#include "pasokh/gateway/search_api.hpp"

#include <charconv>

#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {

namespace {

using boost::asio::awaitable;

constexpr std::size_t max_query_chars = 200;
constexpr int max_limit = 50;

}  // namespace

void add_search_routes(router& r, services& s) {
  r.add("GET", "/api/v1/search", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& a = std::get<agent>(who);
    auto text = req.query_param("q");
    if (!proto::valid_utf8(text) || proto::utf8_length(text) > max_query_chars)
      co_return reject(400, "invalid_field", "q: at most 200 characters of UTF-8 text");
    routing::search_request q;
    q.query = routing::parse_search_query(text);
    if (q.query.words.empty() && q.query.key.empty())
      co_return reject(400, "invalid_field", "q: a word of at least 2 letters or digits, an email address or a phone number");
    if (auto limit = req.query_param("limit"); !limit.empty()) {
      auto [p, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), q.limit);
      if (ec != std::errc{} || p != limit.data() + limit.size() || q.limit < 1 || q.limit > max_limit)
        co_return reject(400, "invalid_field", "limit: 1 to 50");
    }
    q.teams = visible_teams(s, a);
    q.admin = a.role == "admin";
    auto found = co_await s.search->query(q);
    if (!found) co_return unavailable();
    co_return json_response(200, std::move(*found));
  });
}

}  // namespace pasokh::gateway
