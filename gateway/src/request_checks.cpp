#include "pasokh/gateway/request_checks.hpp"

#include <atomic>

#include <spdlog/spdlog.h>

#include "pasokh/gateway/metrics.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {

http_response reject(unsigned status, std::string_view code, std::string_view message) {
  global_metrics().errors.inc(code);
  return error_response(status, code, message);
}

std::variant<nlohmann::json, http_response> json_body(const http_request& req, bool or_null) {
  auto type = req.header("content-type");
  auto media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  // Media types are case-insensitive (RFC 9110 8.3.1): "Application/JSON" is JSON.
  if (!iequals(media, "application/json"))
    return reject(415, "unsupported_media_type", "Content-Type must be application/json");
  if (!proto::valid_utf8(req.body)) return reject(400, "invalid_utf8", "the body is not valid UTF-8");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    return reject(400, "invalid_json", std::string("the body is not valid JSON: ") + e.what());
  }
  if (!j.is_object() && !(or_null && j.is_null())) return reject(400, "invalid_body", "the body must be a JSON object");
  return j;
}

std::string string_or_empty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::string bearer_token(const http_request& req) {
  auto value = req.header("authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme) return {};
  return std::string(value.substr(scheme.size()));
}

http_response unauthorized(std::string_view message) {
  auto r = reject(401, "unauthorized", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

http_response unavailable() {
  auto r = reject(503, "unavailable", "storage is unavailable; retry later");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool plain_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string client_address(const http_request& req, bool trust_forwarded_for) {
  if (trust_forwarded_for) {
    // The last entry is the one our proxy appended; the ones before it are
    // whatever the client sent. Some proxies add a header line of their own
    // (HAProxy), after the client's: the last line then.
    std::string_view xff;
    for (const auto& [name, value] : req.headers)
      if (name == "x-forwarded-for") xff = value;
    auto last = xff.substr(xff.rfind(',') + 1);
    while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
    while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
    if (!last.empty() && last.size() <= 64) return std::string(last);
  } else if (!req.header("x-forwarded-for").empty()) {
    // Behind a proxy that is not trusted, every client counts as the proxy's
    // one address: the limits per address (30 new chats an hour) hit all of
    // them at once. Said once, so the operator finds the setting.
    static std::atomic<bool> warned{false};
    if (auto log = spdlog::get("gateway"); log && !warned.exchange(true))
      log->warn(
          "requests come with X-Forwarded-For but proxy.trust_forwarded_for is off: every client behind the proxy "
          "shares its address's limits (logins, new chats, uploads); turn it on if a proxy you run adds the header");
  }
  return req.remote_address;
}

}  // namespace pasokh::gateway
