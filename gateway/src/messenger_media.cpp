// GET /api/v1/media/{channel}/{ref}: an inbound attachment, fetched from the
// provider for an agent. Telegram: getFile, then the file URL (the bot token is
// in its path, so the console can never be given that URL). WhatsApp: the media
// id gives a short-lived URL that needs the access token. Messenger and
// Instagram attachments carry a public CDN URL already and are not proxied.
#include <algorithm>
#include <cctype>
#include <chrono>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/messenger.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/request_checks.hpp"

namespace pasokh::gateway {

namespace telegram = connectors::telegram;
namespace whatsapp = connectors::whatsapp;
using boost::asio::awaitable;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> log() { return spdlog::get("connectors"); }

// Telegram file ids are base64url, WhatsApp media ids digits.
bool plausible_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 256) return false;
  for (char c : ref)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

connectors::provider_request get(std::string url, std::string what, const std::string& bearer = {}) {
  connectors::provider_request r;
  r.method = "GET";
  r.url = std::move(url);
  r.what = std::move(what);
  if (!bearer.empty()) r.headers.push_back({"Authorization", "Bearer " + bearer});
  return r;
}

// The second step's URL from the first step's JSON answer, or empty.
std::string field_of(const connectors::provider_response& r, const char* object, const char* key) {
  if (r.status != 200) return {};
  auto body = json::parse(r.body, nullptr, false);
  const json* at = object ? (body.contains(object) ? &body[object] : nullptr) : &body;
  if (!at || !at->is_object() || !at->contains(key) || !(*at)[key].is_string()) return {};
  return (*at)[key].get<std::string>();
}

http_response provider_failed(const connectors::provider_response& r, std::string_view what) {
  if (r.status == 400 || r.status == 404) {
    global_metrics().errors.inc("media_not_found");
    return error_response(404, "not_found", "the provider does not know this file (or it expired)");
  }
  log()->warn("{} failed: {}", what, r.status ? std::to_string(r.status) : r.transport_error);
  global_metrics().errors.inc("media_provider_error");
  return error_response(502, "provider_error", "the provider did not hand the file over; try again");
}

// A file's record (the conversations it came in, which decide who may open
// it) lives a year after the file last came: one key per file would
// otherwise stay for ever. A file unseen for that long is open to every
// signed-in agent again, like one recorded before there were records.
constexpr std::chrono::seconds media_record_ttl{365LL * 24 * 3600};

std::string media_key(const std::string& prefix, const std::string& channel, std::string_view ref) {
  return prefix + "media:" + channel + ":" + std::string(ref);
}

}  // namespace

awaitable<bool> messenger_gateway::remember_media(const std::string& conv, const proto::inbound_event& event) {
  std::vector<std::vector<std::string>> writes;
  for (const auto& a : event.attachments) {
    if (!plausible_ref(a.provider_ref)) continue;  // not the URL Messenger and Instagram give
    auto key = media_key(s_.cfg.redis.prefix, event.from.channel, a.provider_ref);
    writes.push_back(store::make_command("SADD", key, conv));
    writes.push_back(store::make_command("EXPIRE", key, std::to_string(media_record_ttl.count())));
  }
  if (writes.empty()) co_return true;
  auto r = co_await s_.redis.exec_pipeline(std::move(writes));
  bool ok = r && std::none_of(r->begin(), r->end(), [](const store::reply& x) { return x.is_error(); });
  if (!ok) log()->warn("channel={} conv={} cannot record its media", event.from.channel, conv);
  co_return ok;
}

awaitable<http_response> messenger_gateway::media(const http_request& req, const route_params& params) {
  auto who = co_await require_agent(s_, req, "");
  if (auto* refused = std::get_if<http_response>(&who)) co_return std::move(*refused);

  const auto* channel = s_.cfg.find_channel(params.at("channel"));
  const auto& ref = params.at("ref");
  if (!channel || !channel->messenger) {
    global_metrics().errors.inc("unknown_channel");
    co_return error_response(404, "unknown_channel", "no messenger channel named " + params.at("channel"));
  }
  if (!plausible_ref(ref)) {
    global_metrics().errors.inc("invalid_field");
    co_return error_response(400, "invalid_field", "ref: not a provider file id");
  }
  auto convs = co_await s_.redis.exec(store::make_command("SMEMBERS", media_key(s_.cfg.redis.prefix, channel->id, ref)));
  if (!convs || convs->is_error()) co_return unavailable();
  std::vector<std::string> seen_in;
  for (const auto& c : convs->elements) seen_in.push_back(c.str);
  // Named, not temporaries inside co_await (GCC 12 mishandles those).
  const auto& caller = std::get<agent>(who);
  auto access = co_await file_access(s_, caller, seen_in);
  if (auto refused = file_refusal(access)) {
    global_metrics().errors.inc("media_forbidden");
    co_return std::move(*refused);
  }

  connectors::provider_response file;
  if (const auto* tg = std::get_if<telegram::telegram_channel>(&channel->messenger->api)) {
    auto base = tg->api_base + "/bot" + tg->bot_token.reveal();
    auto lookup = get(base + "/getFile?file_id=" + ref, "telegram.getFile");
    auto found = co_await http_.send(std::move(lookup));
    auto path = field_of(found, "result", "file_path");
    if (path.empty() || path.find("..") != std::string::npos) co_return provider_failed(found, "telegram.getFile");
    auto download = get(tg->api_base + "/file/bot" + tg->bot_token.reveal() + "/" + path, "telegram.file");
    file = co_await http_.send(std::move(download));
  } else if (const auto* wa = std::get_if<whatsapp::whatsapp_channel>(&channel->messenger->api)) {
    const auto& bearer = wa->access_token.reveal();
    auto lookup = get(wa->api_base + "/" + wa->api_version + "/" + ref, "whatsapp.media", bearer);
    auto found = co_await http_.send(std::move(lookup));
    auto url = field_of(found, nullptr, "url");
    if (url.empty()) co_return provider_failed(found, "whatsapp.media");
    auto download = get(url, "whatsapp.media_download", bearer);
    file = co_await http_.send(std::move(download));
  } else {
    global_metrics().errors.inc("media_not_proxied");
    co_return error_response(404, "not_found", "Messenger and Instagram attachments carry their own URL");
  }
  if (file.status != 200) co_return provider_failed(file, "media download");

  http_response out{200, std::string(file.header("content-type").value_or("application/octet-stream")),
                    std::move(file.body), {}};
  // The bytes are the customer's: never sniffed into HTML, never cached by shared caches.
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.headers.emplace_back("Content-Security-Policy", "sandbox");
  out.headers.emplace_back("Cache-Control", "private, max-age=300");
  co_return out;
}

}  // namespace pasokh::gateway
