// GET /api/v1/attachments/{id}: the content of a stored attachment (a mail's,
// a web chat upload, a copy of a Messenger or Instagram file), for the agents
// who may see its conversation. Served as a download in a sandbox, never
// rendered as a page of ours: mail attachments are untrusted content.
#include <cctype>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/attachment_blobs.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/request_checks.hpp"

namespace pasokh::gateway {

using boost::asio::awaitable;

namespace {


// A MIME type we can put in a header as it is ("type/subtype", no parameters).
std::string safe_mime_type(const std::string& t) {
  auto slash = t.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == t.size() || t.size() > 100) return "application/octet-stream";
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '+' || c == '-'))
      return "application/octet-stream";
  return t;
}

// RFC 6266 filename* (UTF-8, percent-encoded) plus an ASCII fallback.
std::string content_disposition(const std::string& name) {
  std::string ascii, encoded;
  for (unsigned char c : name) {
    ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  if (ascii.empty()) ascii = "attachment";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

http_response attachment_download(const std::string& name, const std::string& mime_type, std::string content) {
  http_response res{200, safe_mime_type(mime_type), std::move(content), {}};
  res.headers.emplace_back("Content-Disposition", content_disposition(name));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  res.headers.emplace_back("Cache-Control", "private, no-store");
  return res;
}

awaitable<http_response> serve_attachment(services& s, const std::string& id, const std::string& owner_field,
                                          const std::string& not_found, attachment_access access) {
  auto blob = co_await s.redis.exec(
      store::make_command("HMGET", attachment_blobs::key(s.cfg.redis.prefix, id), "name", "mime_type", owner_field));
  if (!blob || blob->is_error() || blob->elements.size() != 3) co_return unavailable();
  if (blob->elements[0].is_nil()) {
    global_metrics().errors.inc("not_found");
    co_return error_response(404, "not_found", not_found);
  }
  if (auto refused = co_await access(blob->elements[2])) co_return std::move(*refused);
  auto bytes = co_await attachment_blobs::read(s.file_bytes(), s.cfg.redis.prefix, id);
  if (!bytes) co_return unavailable();
  if (!*bytes) {
    global_metrics().errors.inc("not_found");
    co_return error_response(404, "not_found", not_found);
  }
  co_return attachment_download(blob->elements[0].str, blob->elements[1].str, std::move(**bytes));
}

void add_attachment_routes(router& r, services& s) {
  r.add("GET", "/api/v1/attachments/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* refused = std::get_if<http_response>(&who)) co_return std::move(*refused);

    const auto& id = p.at("id");
    if (!plain_id(id)) {
      global_metrics().errors.inc("not_found");
      co_return error_response(404, "not_found", "no such attachment");
    }
    const auto& caller = std::get<agent>(who);
    // Those who may see its conversation; '': its mail is not filed (a retry
    // files it), so nobody's yet.
    attachment_access may_open = [&s, &caller](const store::reply& conv) -> awaitable<std::optional<http_response>> {
      auto access = conversation_access::forbidden;
      if (conv.is_nil() || !conv.str.empty()) {
        auto convs = conv.is_nil() ? std::vector<std::string>{} : std::vector<std::string>{conv.str};
        access = co_await file_access(s, caller, convs);
      }
      auto refused = file_refusal(access);
      if (refused) global_metrics().errors.inc("attachment_forbidden");
      co_return refused;
    };
    const std::string owner_field = "conversation";
    const std::string not_found = "no such attachment (it may have expired)";
    co_return co_await serve_attachment(s, id, owner_field, not_found, std::move(may_open));
  });
}

}  // namespace pasokh::gateway
