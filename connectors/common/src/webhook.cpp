#include "pasokh/connectors/common/webhook.hpp"

#include "pasokh/connectors/common/text.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace pasokh::connectors {
namespace {

// A placeholder's detail is a line for the agent (a poll's question is at most
// 300 characters), never a whole payload.
constexpr std::size_t max_unsupported_detail = 500;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

struct error_row {
  webhook_error error;
  std::string_view name;
  int status;
};

// The one table from webhook errors to metric names and HTTP statuses.
constexpr std::array<error_row, 8> error_table{{
    {webhook_error::none, "none", 200},
    {webhook_error::method_not_allowed, "method_not_allowed", 405},
    {webhook_error::missing_signature, "missing_signature", 401},
    {webhook_error::bad_signature, "bad_signature", 401},
    {webhook_error::verify_failed, "verify_failed", 403},
    {webhook_error::invalid_json, "invalid_json", 400},
    {webhook_error::invalid_payload, "invalid_payload", 400},
    {webhook_error::internal, "internal", 500},
}};

}  // namespace

std::optional<std::string_view> webhook_request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::optional<std::string> webhook_request::query(std::string_view name) const {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (form_decode(key) == name) return form_decode(value);
  }
  return std::nullopt;
}

std::string_view to_string(webhook_error e) {
  for (const auto& row : error_table)
    if (row.error == e) return row.name;
  return "unknown";
}

int http_status(webhook_error e) {
  for (const auto& row : error_table)
    if (row.error == e) return row.status;
  return 500;
}

void webhook_result::count(std::string_view what, std::uint32_t n) {
  auto it = counters.find(what);
  if (it == counters.end()) counters.emplace(std::string(what), n);
  else it->second += n;
}

void webhook_result::skip(std::string_view what, std::string note) {
  count(what);
  skipped.push_back({std::string(what), std::move(note)});
}

webhook_result webhook_result::failure(webhook_error e, std::string message) {
  webhook_result r;
  r.status = http_status(e);
  r.error = e;
  nlohmann::json body = {{"error", {{"code", to_string(e)}, {"message", message}}}};
  // Replace, never throw: the message may quote provider bytes.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.error_message = std::move(message);
  return r;
}

proto::attachment unsupported_content(std::string type, std::string detail) {
  proto::attachment a;
  a.kind = proto::attachment_kind::unsupported;
  a.name = std::move(type);
  a.caption = truncate_text(detail, max_unsupported_detail);
  return a;
}

webhook_result webhook_result::plain_text(std::string text) {
  webhook_result r;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(text);
  return r;
}

}  // namespace pasokh::connectors
