// Files a web chat customer sends: the visitor's upload and download routes,
// and the claim that makes uploads a message's attachments (see
// webchat_uploads.hpp).
#include "pasokh/gateway/webchat_uploads.hpp"

#include <nlohmann/json.hpp>

#include "pasokh/gateway/attachment_blobs.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/webchat.hpp"
#include "pasokh/gateway/webchat_token.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {
namespace {

using boost::asio::awaitable;
using nlohmann::json;

constexpr std::size_t max_name_chars = 100;

bool starts(std::string_view bytes, std::string_view magic) { return bytes.substr(0, magic.size()) == magic; }

// ISO base media ("....ftyp<brand>"): the brands of HEIC and HEIF still images.
bool heif(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(4, 4) != "ftyp") return false;
  auto brand = bytes.substr(8, 4);
  for (std::string_view b : {"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"})
    if (brand == b) return true;
  return false;
}

// Whether the name ends in an extension of the type (any case; ".jpeg" for JPEG too).
bool has_extension_of(std::string_view name, const sniffed_type& type) {
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  const auto ext = name.substr(dot);
  if (iequals(ext, type.extension)) return true;
  if (type.extension == ".jpg") return iequals(ext, ".jpeg") || iequals(ext, ".jfif");
  if (type.extension == ".heic") return iequals(ext, ".heif");
  return false;
}

// A long name keeps its beginning and its extension ("گزارش خرابی….pdf"):
// what the agent recognises it by, and what opens it.
std::string shortened_name(const std::string& name) {
  if (proto::utf8_length(name) <= max_name_chars) return name;
  auto dot = name.rfind('.');
  std::string_view ext = dot != std::string::npos && name.size() - dot <= 10 ? std::string_view(name).substr(dot) : "";
  std::string_view head(name.data(), name.size() - ext.size());
  std::size_t keep = max_name_chars - 1 - proto::utf8_length(ext), at = 0;
  for (std::size_t chars = 0; at < head.size() && chars < keep; ++chars)  // `at` past `keep` characters
    do ++at; while (at < head.size() && (static_cast<unsigned char>(head[at]) & 0xC0) == 0x80);
  at = proto::grapheme_floor(head, at);
  return std::string(head.substr(0, at)) + "\u2026" + std::string(ext);
}

// The refusal of an upload, counted by its reason.
http_response refused(unsigned status, std::string_view reason, std::string_view message) {
  global_metrics().webchat_uploads.inc(reason);
  return error_response(status, reason, message);
}

// The uploader ("<channel>:<visitor>") of the request's Bearer token; else the answer.
struct upload_caller {
  std::string visitor;
};
awaitable<std::variant<upload_caller, http_response>> visitor_of(webchat_service& w, const http_request& req) {
  auto who = co_await bearer_visitor(w, req);
  if (auto* res = std::get_if<http_response>(&who)) {
    if (res->status == 401) global_metrics().webchat_uploads.inc("unauthorized");
    co_return std::move(*res);
  }
  const auto& claims = std::get<visitor_claims>(who);
  co_return upload_caller{claims.channel + ":" + claims.visitor_id};
}

awaitable<http_response> upload(webchat_service& w, const http_request& req) {
  auto who = co_await visitor_of(w, req);
  if (auto* res = std::get_if<http_response>(&who)) co_return std::move(*res);
  const auto& caller = std::get<upload_caller>(who);
  if (req.body.size() > w.cfg().max_upload_bytes)  // the server refuses more already; a smaller limit in tests
    co_return refused(413, "too_large", "the file is larger than the chat accepts");
  if (req.body.empty()) co_return refused(400, "empty", "the file is empty");
  auto type = sniff_upload_type(req.body);
  if (!type) co_return refused(415, "unsupported_type", "send a photo (JPEG, PNG, WebP, HEIC) or a PDF");

  auto now_ms = webchat_now_ms();
  auto count = co_await w.count_in_window(
      w.key("webchat:upload_rate:" + caller.visitor + ":" + std::to_string(now_ms / 3'600'000)), std::chrono::hours(1));
  if (!count) co_return unavailable();
  if (*count > w.cfg().uploads_per_hour) {
    auto res = refused(429, "rate_limited", "too many files; try again later");
    res.headers.emplace_back("Retry-After", std::to_string(3600 - (now_ms / 1000) % 3600));
    co_return res;
  }

  // Bytes from one address in the hour: new visitors (sessions_per_ip_per_hour)
  // do not multiply what one address may store.
  auto& s = w.core();
  const auto address = client_address(req, s.cfg.proxy.trust_forwarded_for);
  auto bytes = co_await w.count_in_window(
      w.key("webchat:upload_bytes:" + address + ":" + std::to_string(now_ms / 3'600'000)), std::chrono::hours(1),
      static_cast<long long>(req.body.size()));
  if (!bytes) co_return unavailable();
  if (*bytes > upload_bytes_per_address_per_hour(w.cfg())) {
    auto res = refused(429, "rate_limited", "too many files from this address; try again later");
    res.headers.emplace_back("Retry-After", std::to_string(3600 - (now_ms / 1000) % 3600));
    co_return res;
  }

  auto id = "att_" + random_token(18);
  auto name = upload_name(req.query_param("name"), *type);
  // Kept an hour until a message names it (file_uploads keeps it for attachment_ttl then).
  const auto unsent_ttl = std::min<std::chrono::seconds>(s.cfg.attachment_ttl, unsent_upload_ttl);
  // Staged a chunk at a time on the files connection, then kept in one step:
  // the 201 only once it is stored whole, never a half file anyone could open.
  auto& files = s.file_bytes();
  auto staged = co_await attachment_blobs::stage(files, s.cfg.redis.prefix, id, req.body,
                                                 std::min(unsent_ttl, attachment_blobs::staged_ttl),
                                                 attachment_blobs::chunk_bytes);
  bool kept = false;
  if (staged) {
    auto put = store::make_command(s.cfg.redis.prefix, "put", caller.visitor, id, name, std::string(type->mime_type),
                                   std::to_string(req.body.size()), std::to_string(unsent_ttl.count()));
    auto stored = co_await files.fcall(routing::script(routing::lua::webchat_uploads), store::make_command(), std::move(put));
    kept = stored && !stored->is_error();
  }
  if (!kept) {
    const std::vector<std::string> ids{id};
    co_await attachment_blobs::clean_up_failed_store(s.redis, s.cfg.redis.prefix, ids,
                                                     attachment_blobs::left_by_failure::staged_parts);
    co_return unavailable();
  }
  global_metrics().webchat_uploads.inc("accepted");
  json out = {{"id", id},
              {"name", name},
              {"mime_type", std::string(type->mime_type)},
              {"kind", std::string(proto::to_string(type->kind))},
              {"size", req.body.size()}};
  co_return json_response(201, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The visitor's own upload, sent or not; anyone else's is "not found".
awaitable<http_response> download(webchat_service& w, const http_request& req, const std::string& id) {
  auto who = co_await visitor_of(w, req);
  if (auto* res = std::get_if<http_response>(&who)) co_return std::move(*res);
  const auto& caller = std::get<upload_caller>(who);
  if (!plain_id(id)) co_return error_response(404, "not_found", "no such file");
  const std::string owner_field = "visitor";
  const std::string not_found = "no such file (it may have expired)";
  attachment_access own_only = [&caller, &not_found](const store::reply& visitor) -> awaitable<std::optional<http_response>> {
    if (visitor.str == caller.visitor) co_return std::nullopt;
    global_metrics().errors.inc("not_found");
    co_return error_response(404, "not_found", not_found);
  };
  co_return co_await serve_attachment(w.core(), id, owner_field, not_found, std::move(own_only));
}

}  // namespace

awaitable<std::optional<http_response>> check_upload_sender(webchat_service& w, const http_request& head) {
  auto who = co_await visitor_of(w, head);
  if (auto* res = std::get_if<http_response>(&who)) co_return std::move(*res);
  co_return std::nullopt;
}

long long upload_bytes_per_address_per_hour(const webchat_config& c) {
  return static_cast<long long>(c.max_upload_bytes) * upload_files_per_address_per_hour;
}

std::size_t upload_limit(const webchat_config& c) { return c.uploads_per_hour > 0 ? c.max_upload_bytes : 0; }

bool is_webchat_upload(std::string_view target) {
  return target.starts_with(webchat_uploads_path) &&
         (target.size() == webchat_uploads_path.size() || target[webchat_uploads_path.size()] == '?');
}

std::optional<sniffed_type> sniff_upload_type(std::string_view bytes) {
  using k = proto::attachment_kind;
  if (starts(bytes, "\xFF\xD8\xFF")) return sniffed_type{"image/jpeg", k::image, ".jpg"};
  if (starts(bytes, "\x89PNG\r\n\x1A\n")) return sniffed_type{"image/png", k::image, ".png"};
  if (starts(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP")
    return sniffed_type{"image/webp", k::image, ".webp"};
  if (heif(bytes)) return sniffed_type{"image/heic", k::image, ".heic"};
  if (starts(bytes, "%PDF-")) return sniffed_type{"application/pdf", k::document, ".pdf"};
  return std::nullopt;
}

std::string upload_name(std::string_view given, const sniffed_type& type) {
  // A browser's File.name has no path; another client's might.
  if (auto slash = given.find_last_of("/\\"); slash != std::string_view::npos) given.remove_prefix(slash + 1);
  std::string name;
  if (proto::valid_utf8(given)) {
    // Direction controls out: a name shows what it is.
    for (std::size_t i = 0, end; i < given.size(); i = end) {
      end = proto::code_point_end(given, i);
      if (proto::is_direction_control(proto::code_point_at(given, i))) continue;
      for (unsigned char c : given.substr(i, end - i)) name += (c < 0x20 || c == 0x7F) ? '_' : static_cast<char>(c);
    }
  }
  if (name.empty() || name == "." || name == "..") return "upload" + std::string(type.extension);
  // Saved under its name, the file opens by its extension: one that is not
  // the bytes' type ("receipt.hta") gets the type's after it.
  if (!has_extension_of(name, type)) name += type.extension;
  return shortened_name(name);
}

void add_webchat_upload_routes(router& r, webchat_service& w) {
  // Literal paths (webchat_uploads_path): tests/integration/openapi.test.mjs reads them from here.
  r.add("OPTIONS", "/api/v1/webchat/uploads", [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return webchat_preflight(w, req, "POST, OPTIONS", "Authorization, Content-Type");
  });
  r.add("POST", "/api/v1/webchat/uploads", [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return co_await upload(w, req);
  });
  r.add("OPTIONS", "/api/v1/webchat/uploads/{id}", [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
    co_return webchat_preflight(w, req, "GET, OPTIONS", "Authorization");
  });
  r.add("GET", "/api/v1/webchat/uploads/{id}", [&w](const http_request& req, const route_params& p) -> awaitable<http_response> {
    co_return co_await download(w, req, p.at("id"));
  });
}

awaitable<store::result<claimed_uploads>> claim_uploads(services& s, const std::string& visitor,
                                                        const std::string& dedup_key, const std::vector<std::string>& ids) {
  using out = store::result<claimed_uploads>;
  auto args = store::make_command(s.cfg.redis.prefix, "claim", visitor, dedup_key);
  args.insert(args.end(), ids.begin(), ids.end());
  auto r = co_await s.redis.fcall(routing::script(routing::lua::webchat_uploads), store::make_command(), std::move(args));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  const auto& e = r->elements;
  if (r->is_error() || e.empty() || (e[0].str == "ok" && e.size() != 1 + 3 * ids.size()))
    co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  claimed_uploads claimed;
  if (e[0].str != "ok") {
    claimed.refused = e.size() > 1 ? e[1].str : std::string("?");
    co_return claimed;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    proto::attachment a;
    a.name = e[1 + 3 * i].str;
    a.mime_type = e[2 + 3 * i].str;
    a.size = static_cast<std::uint64_t>(e[3 + 3 * i].as_int());
    a.kind = a.mime_type.starts_with("image/") ? proto::attachment_kind::image : proto::attachment_kind::document;
    a.provider_ref = ids[i];
    claimed.attachments.push_back(std::move(a));
  }
  co_return claimed;
}

awaitable<store::result<void>> file_uploads(services& s, const std::string& conv, const std::vector<std::string>& ids) {
  auto args = store::make_command(s.cfg.redis.prefix, "file", conv, std::to_string(s.cfg.attachment_ttl.count()));
  args.insert(args.end(), ids.begin(), ids.end());
  auto r = co_await s.redis.fcall(routing::script(routing::lua::webchat_uploads), store::make_command(), std::move(args));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return store::result<void>{};
}

}  // namespace pasokh::gateway
