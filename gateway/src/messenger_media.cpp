// GET /api/v1/media/{channel}/{ref}?conversation=<id>&seq=<n>: an inbound
// attachment, fetched from the provider for an agent who may see the
// conversation of the message it came with. Telegram: getFile, then the file
// URL (the bot token is in its path, so the console can never be given that
// URL). WhatsApp: the media id gives a short-lived URL that needs the access
// token. Messenger and Instagram attachments are not proxied: their CDN URL
// expires, so the gateway keeps its own copy (meta_media_copies.hpp).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <variant>

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

// A customer's file, far over the client's 4 MB for API answers: WhatsApp
// takes documents up to 100 MB (video and audio 16 MB), Telegram hands bots
// files up to 20 MB.
constexpr std::size_t max_media_bytes = 100 * 1024 * 1024;

connectors::provider_request download(std::string url, std::string what, const std::string& bearer = {}) {
  auto r = get(std::move(url), std::move(what), bearer);
  r.max_response_bytes = max_media_bytes;
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

// Telegram hands bots files up to 20 MB; getFile refuses larger ones with
// 400 "Bad Request: file is too big". Not a file it does not know.
bool telegram_file_too_big(const connectors::provider_response& r) {
  if (r.status != 400) return false;
  auto body = json::parse(r.body, nullptr, false);
  auto description = body.is_object() ? body.find("description") : body.end();
  return description != body.end() && description->is_string() &&
         description->get_ref<const std::string&>().find("file is too big") != std::string::npos;
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

// A file's record, media:<channel>:<ref>, answers a URL that names no
// message (an older console's, an API client's): some of the conversations
// the file came in. Without one, such a URL opens the file to every signed-in
// agent, as for files from before there were records. A sticker or a
// forwarded file keeps its id across conversations, so the record keeps the
// first media_record_cap of them; a URL that names its message is checked
// against that message instead. It lives a year after the file last came.
constexpr std::chrono::seconds media_record_ttl{365LL * 24 * 3600};
constexpr std::size_t media_record_cap = 16;

std::string media_key(const std::string& prefix, const std::string& channel, std::string_view ref) {
  return prefix + "media:" + channel + ":" + std::string(ref);
}

bool all_answered(const store::result<std::vector<store::reply>>& r) {
  return r && std::none_of(r->begin(), r->end(), [](const store::reply& x) { return x.is_error(); });
}

// The message a media URL names (?conversation=<id>&seq=<n>), nullopt when it
// names none; the 400 when it names one badly.
struct message_ref {
  std::string conv;
  std::uint64_t seq = 0;
};
std::variant<std::optional<message_ref>, http_response> named_message(const http_request& req) {
  auto conv = req.query_param("conversation");
  auto seq_text = req.query_param("seq");
  if (conv.empty() && seq_text.empty()) return std::optional<message_ref>{};
  auto bad = [](std::string_view what) {
    global_metrics().errors.inc("invalid_field");
    return error_response(400, "invalid_field", what);
  };
  if (!plain_id(conv)) return bad("conversation: a conversation id, with seq");
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
  if (ec != std::errc{} || end != seq_text.data() + seq_text.size() || seq == 0)
    return bad("seq: the sequence number of the message in the conversation");
  return std::optional<message_ref>{message_ref{std::string(conv), seq}};
}

// The file came with the message, and the agent may see its conversation:
// two lookups, however many conversations the file came in.
awaitable<conversation_access> access_in_message(services& s, const agent& a, const message_ref& m, const std::string& ref) {
  auto access = co_await access_to(s, a, m.conv);
  if (access != conversation_access::allowed) co_return access;
  auto refs = co_await logged_attachments(s, m.conv, m.seq);
  if (!refs) co_return conversation_access::unavailable;
  bool came_with_it = std::find(refs->begin(), refs->end(), ref) != refs->end();
  co_return came_with_it ? conversation_access::allowed : conversation_access::forbidden;
}

// No message named: the conversations the record keeps (at most
// media_record_cap of an older, longer one, picked at random).
awaitable<conversation_access> access_by_record(services& s, const agent& a, const std::string& key) {
  auto convs = co_await s.redis.exec(store::make_command("SRANDMEMBER", key, std::to_string(media_record_cap)));
  if (!convs || convs->is_error()) co_return conversation_access::unavailable;
  std::vector<std::string> seen_in;
  for (const auto& c : convs->elements) seen_in.push_back(c.str);
  co_return co_await file_access(s, a, seen_in);
}

}  // namespace

awaitable<bool> messenger_gateway::remember_media(const std::string& conv, const proto::inbound_event& event) {
  std::vector<std::string> keys;
  for (const auto& a : event.attachments)
    if (plausible_ref(a.provider_ref))  // not the URL Messenger and Instagram give
      keys.push_back(media_key(s_.cfg.redis.prefix, event.from.channel, a.provider_ref));
  if (keys.empty()) co_return true;
  std::vector<std::vector<std::string>> sizes;
  for (const auto& key : keys) sizes.push_back(store::make_command("SCARD", key));
  auto counted = co_await s_.redis.exec_pipeline(std::move(sizes));
  bool ok = all_answered(counted) && counted->size() == keys.size();
  if (ok) {
    // Two deliveries at once may both add past the cap: by one each, no more.
    std::vector<std::vector<std::string>> writes;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (static_cast<std::size_t>((*counted)[i].as_int()) < media_record_cap)
        writes.push_back(store::make_command("SADD", keys[i], conv));
      writes.push_back(store::make_command("EXPIRE", keys[i], std::to_string(media_record_ttl.count())));
    }
    auto written = co_await s_.redis.exec_pipeline(std::move(writes));
    ok = all_answered(written);
  }
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
  auto named = named_message(req);
  if (auto* bad = std::get_if<http_response>(&named)) co_return std::move(*bad);
  const auto& message = std::get<std::optional<message_ref>>(named);
  // Named, not temporaries inside co_await (GCC 12 mishandles those).
  const auto& caller = std::get<agent>(who);
  auto record = media_key(s_.cfg.redis.prefix, channel->id, ref);
  conversation_access access = conversation_access::forbidden;
  if (message) access = co_await access_in_message(s_, caller, *message, ref);
  else access = co_await access_by_record(s_, caller, record);
  if (auto refused = file_refusal(access)) {
    global_metrics().errors.inc("media_forbidden");
    co_return std::move(*refused);
  }

  const auto place = media_downloads_.try_take({});
  if (!place) {
    global_metrics().errors.inc("media_busy");
    auto busy = error_response(503, "busy", "too many files are being fetched just now; try again in a moment");
    busy.headers.emplace_back("Retry-After", "2");
    co_return busy;
  }
  connectors::provider_response file;
  if (const auto* tg = std::get_if<telegram::telegram_channel>(&channel->messenger->api)) {
    auto base = tg->api_base + "/bot" + tg->bot_token.reveal();
    auto lookup = get(base + "/getFile?file_id=" + ref, "telegram.getFile");
    auto found = co_await http_.send(std::move(lookup));
    auto path = field_of(found, "result", "file_path");
    if (telegram_file_too_big(found)) {
      global_metrics().errors.inc("media_too_big");
      co_return error_response(502, "file_too_big",
                               "the file is over 20 MB, the most Telegram hands a bot: ask the customer to send it "
                               "another way");
    }
    if (path.empty() || path.find("..") != std::string::npos) co_return provider_failed(found, "telegram.getFile");
    auto file_request = download(tg->api_base + "/file/bot" + tg->bot_token.reveal() + "/" + path, "telegram.file");
    file = co_await http_.send(std::move(file_request));
  } else if (const auto* wa = std::get_if<whatsapp::whatsapp_channel>(&channel->messenger->api)) {
    const auto& bearer = wa->access_token.reveal();
    auto lookup = get(wa->api_base + "/" + wa->api_version + "/" + ref, "whatsapp.media", bearer);
    auto found = co_await http_.send(std::move(lookup));
    auto url = field_of(found, nullptr, "url");
    if (url.empty()) co_return provider_failed(found, "whatsapp.media");
    auto file_request = download(url, "whatsapp.media_download", bearer);
    file = co_await http_.send(std::move(file_request));
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
