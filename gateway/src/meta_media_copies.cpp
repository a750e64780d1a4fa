// Pasokh's copies of Messenger and Instagram attachments (meta_media_copies.hpp):
// the loop that claims queued messages, downloads their files from Meta's CDN
// and stores them through routing/src/lua/meta_media.lua.
#include "pasokh/gateway/meta_media_copies.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/connectors/http/client.hpp"
#include "pasokh/gateway/leased_loop.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/proto/json.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/repeated_warning.hpp"

namespace pasokh::gateway {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;
using routing::now_ms;

namespace {

std::shared_ptr<spdlog::logger> log() { return spdlog::get("connectors"); }

// A copy nothing filed yet (its gateway died between the two steps) goes after an hour.
constexpr std::chrono::seconds unfiled_copy_ttl{3600};
constexpr std::size_t max_name_bytes = 200;

std::vector<std::string> args_of(services& s, std::string_view op) {
  return store::make_command(s.cfg.redis.prefix, std::string(op));
}

awaitable<store::result<store::reply>> call(services& s, std::vector<std::string> args) {
  co_return co_await s.redis.fcall(routing::script(routing::lua::meta_media), store::make_command(), std::move(args));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

std::string_view to_string(copy_outcome o) {
  switch (o) {
    case copy_outcome::copied: return "copied";
    case copy_outcome::not_found: return "not_found";
    case copy_outcome::too_big: return "too_big";
    case copy_outcome::timeout: return "timeout";
    case copy_outcome::failed: return "failed";
  }
  return "failed";
}

copy_outcome classify_copy(const connectors::provider_response& r, std::size_t max_bytes) {
  if (r.status == 200) return r.body.size() <= max_bytes ? copy_outcome::copied : copy_outcome::too_big;
  // Meta's CDN answers 403 "URL signature expired" for an expired URL.
  if (r.status == 403 || r.status == 404 || r.status == 410) return copy_outcome::not_found;
  if (r.status == 0 && r.transport_error.find("over the limit") != std::string::npos) return copy_outcome::too_big;
  if (r.status == 0 && r.transport_error.find("timeout") != std::string::npos) return copy_outcome::timeout;
  return copy_outcome::failed;
}

bool passing(copy_outcome o) { return o == copy_outcome::timeout || o == copy_outcome::failed; }

bool copyable(const proto::attachment& a) {
  using k = proto::attachment_kind;
  static constexpr std::array kinds{k::image, k::sticker, k::audio, k::video, k::file};
  if (std::find(kinds.begin(), kinds.end(), a.kind) == kinds.end()) return false;
  // connectors/meta/src/inbound.cpp names a shared link or post by its type.
  if (!a.name.empty()) return false;
  return a.provider_ref.starts_with("https://") || a.provider_ref.starts_with("http://");
}

std::string url_for_log(std::string_view url) { return std::string(url.substr(0, url.find_first_of("?#"))); }

std::string copy_name(std::string_view url) {
  std::string_view path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  if (scheme != std::string_view::npos) path.remove_prefix(scheme + 3);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return "attachment";  // a host and no path
  std::string_view segment = path.substr(slash + 1);
  std::string name;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    int hi = 0, lo = 0;
    if (segment[i] == '%' && i + 2 < segment.size() && (hi = hex_value(segment[i + 1])) >= 0 &&
        (lo = hex_value(segment[i + 2])) >= 0) {
      name += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      name += segment[i];
    }
  }
  bool readable = !name.empty() && name != "." && name != ".." && name.size() <= max_name_bytes &&
                  name.find('.') != std::string::npos && proto::valid_utf8(name) &&
                  std::none_of(name.begin(), name.end(), [](char c) {
                    auto u = static_cast<unsigned char>(c);
                    return u < 0x20 || u == 0x7F || c == '/' || c == '\\' || c == '"';
                  });
  return readable ? name : "attachment";
}

std::string copy_mime_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  std::string out;
  for (char c : type) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out.empty() ? "application/octet-stream" : out;
}

awaitable<bool> queue_media_copies(services& s, const std::string& conv, std::uint64_t seq) {
  auto a = args_of(s, "queue");
  a.push_back(conv);
  a.push_back(std::to_string(seq));
  a.push_back(std::to_string(now_ms()));
  auto r = co_await call(s, std::move(a));
  co_return r && !r->is_error();
}

struct meta_media_copier::state : std::enable_shared_from_this<state> {
  state(services& sv, net::any_io_executor ex)
      : s(sv), strand(net::make_strand(ex)), timer(strand), http(ex, client_config(sv.cfg.meta_media)) {}

  static connectors::http::client_config client_config(const meta_media_config& m) {
    connectors::http::client_config c;
    c.request_timeout = m.timeout;
    c.connect_timeout = std::min(c.connect_timeout, m.timeout);
    c.max_response_bytes = m.max_bytes;
    return c;
  }

  services& s;
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  connectors::http::client http;
  bool stopping = false;
  bool leader = false;  // for end_leased_loop: no lease here, every instance copies
  bool ended = false;
  bool nudged = false;
  std::function<void()> on_ended;

  const meta_media_config& cfg() const { return s.cfg.meta_media; }
  awaitable<void> release_lease() { co_return; }

  // A claim lasts while each of several files may take its whole time limit;
  // after it, another instance (or this one after a restart) takes the message.
  std::chrono::milliseconds lease() const { return cfg().timeout * 10 + std::chrono::seconds(10); }

  awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      try {
        for (bool more = true; more && !stopping;) more = co_await copy_one();
      } catch (const std::exception& e) {
        log()->error("meta media copies: {}", e.what());
      }
      if (stopping) break;
      if (std::exchange(nudged, false)) continue;
      timer.expires_after(cfg().poll);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    co_await end_leased_loop(*this);
  }

  // Claims one due message and copies its files; false when none was due.
  awaitable<bool> copy_one() {
    auto a = args_of(s, "claim");
    a.push_back(std::to_string(now_ms()));
    a.push_back(std::to_string(lease().count()));
    a.push_back("1");
    auto r = co_await call(s, std::move(a));
    if (!r || r->is_error() || r->elements.size() < 2) co_return false;
    const auto member = r->elements[0].str;
    const int attempt = static_cast<int>(r->elements[1].as_int());
    co_await copy_message(member, attempt);
    co_return true;
  }

  awaitable<void> finish(std::string_view op, const std::string& member, std::int64_t due = 0) {
    auto a = args_of(s, op);
    a.push_back(member);
    if (op == "retry") a.push_back(std::to_string(due));
    co_await call(s, std::move(a));
  }

  awaitable<void> copy_message(const std::string& member, int attempt) {
    auto bar = member.rfind('|');
    std::uint64_t seq = 0;
    const auto conv = member.substr(0, bar);
    const auto seq_text = std::string_view(member).substr(bar + 1);
    std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
    if (bar == std::string::npos || seq == 0) {
      co_await finish("drop", member);
      co_return;
    }
    auto frames = co_await s.conversations.events_after(conv, seq - 1, 1);
    if (!frames) co_return;  // Redis trouble: the claim ends and the message comes again
    auto frame = frames->empty() ? json() : json::parse(frames->front(), nullptr, false);
    const json* message = frame.is_object() && frame.value("seq", std::uint64_t{0}) == seq ? &frame["message"] : nullptr;
    if (!message || !message->is_object() || !message->contains("attachments") ||
        !(*message)["attachments"].is_array()) {
      co_await finish("drop", member);
      co_return;
    }
    const auto channel = message->value("channel", std::string());
    json attachments = (*message)["attachments"];
    std::vector<std::string> ids;
    std::vector<std::pair<copy_outcome, std::string>> failures;
    bool again = false;
    for (auto& item : attachments) {
      proto::attachment a;
      try {
        a = item.get<proto::attachment>();
      } catch (const json::exception&) {
        continue;
      }
      if (!copyable(a)) continue;
      connectors::provider_request get;
      get.method = "GET";
      get.url = a.provider_ref;
      get.what = "meta.attachment";
      get.max_response_bytes = cfg().max_bytes;
      auto file = co_await http.send(std::move(get));
      auto outcome = classify_copy(file, cfg().max_bytes);
      if (outcome != copy_outcome::copied) {
        // A passing failure tries the whole message again while attempts remain.
        if (passing(outcome) && attempt < cfg().attempts) {
          again = true;
          break;
        }
        failures.emplace_back(outcome, a.provider_ref);
        continue;
      }
      auto id = "att_" + random_token(18);
      auto name = copy_name(a.provider_ref);
      auto mime_type = copy_mime_type(file.header("content-type").value_or(""));
      const auto size = file.body.size();
      bool kept = co_await put(id, channel, name, mime_type, std::move(file.body));
      if (!kept) {
        again = true;
        break;
      }
      ids.push_back(id);
      item["provider_ref"] = id;
      item["name"] = name;
      item["mime_type"] = mime_type;
      item["size"] = size;
    }
    if (again) {
      co_await drop_blobs(ids);
      auto wait = cfg().retry * attempt;
      co_await finish("retry", member, now_ms() + wait.count());
      co_return;
    }
    for (const auto& [outcome, url] : failures) report_failure(channel, conv, outcome, url);
    if (ids.empty()) {
      co_await finish("drop", member);
      co_return;
    }
    auto a = args_of(s, "store");
    a.push_back(conv);
    a.push_back(std::to_string(seq));
    a.push_back(std::to_string(s.cfg.attachment_ttl.count()));
    a.push_back(attachments.dump(-1, ' ', false, json::error_handler_t::replace));
    a.insert(a.end(), ids.begin(), ids.end());
    auto stored = co_await call(s, std::move(a));
    if (!stored || stored->is_error()) {
      // Unfiled, they go within the hour; the claim ends and the message comes again.
      static routing::repeated_warning store_failures;
      store_failures.warn(*log(), "channel={} conv={} cannot store its attachment copies", channel, conv);
      co_return;
    }
    if (stored->str == "stored") global_metrics().meta_media_copies.inc({channel, "copied"}, ids.size());
    if (stored->str == "gone") global_metrics().meta_media_copies.inc({channel, "gone"}, ids.size());
  }

  // The file, unfiled (no agent may open it) until "store" files it.
  awaitable<bool> put(const std::string& id, const std::string& channel, const std::string& name,
                      const std::string& mime_type, std::string content) {
    auto key = s.cfg.redis.prefix + "attachment:" + id;
    auto size = std::to_string(content.size());
    const auto ttl = std::min(s.cfg.attachment_ttl, unfiled_copy_ttl);
    std::vector<std::vector<std::string>> writes;
    writes.push_back(store::make_command("HSET", key, "name", name, "mime_type", mime_type, "size", size, "channel",
                                         channel, "content", std::move(content), "conversation", ""));
    writes.push_back(store::make_command("EXPIRE", key, std::to_string(ttl.count())));
    auto r = co_await s.redis.exec_pipeline(std::move(writes));
    co_return r && std::none_of(r->begin(), r->end(), [](const store::reply& x) { return x.is_error(); });
  }

  awaitable<void> drop_blobs(const std::vector<std::string>& ids) {
    if (ids.empty()) co_return;
    auto del = store::make_command("DEL");
    for (const auto& id : ids) del.push_back(s.cfg.redis.prefix + "attachment:" + id);
    co_await s.redis.exec(std::move(del));
  }

  // Counted each time; logged once a while per kind, without the URL's signature.
  static void report_failure(const std::string& channel, const std::string& conv, copy_outcome outcome,
                             const std::string& url) {
    global_metrics().meta_media_copies.inc({channel, std::string(to_string(outcome))});
    static std::array<routing::repeated_warning, 5> warnings{
        routing::repeated_warning(std::chrono::hours(1)), routing::repeated_warning(std::chrono::hours(1)),
        routing::repeated_warning(std::chrono::hours(1)), routing::repeated_warning(std::chrono::hours(1)),
        routing::repeated_warning(std::chrono::hours(1))};
    warnings[static_cast<std::size_t>(outcome)].warn(
        *log(), "channel={} conv={} attachment not copied ({}), the console keeps its URL: {}", channel, conv,
        to_string(outcome), url_for_log(url));
  }
};

meta_media_copier::meta_media_copier(services& s, net::any_io_executor executor)
    : state_(std::make_shared<state>(s, std::move(executor))) {}

meta_media_copier::~meta_media_copier() = default;

void meta_media_copier::start() { net::co_spawn(state_->strand, state_->loop(), net::detached); }

void meta_media_copier::nudge() {
  net::post(state_->strand, [st = state_] {
    st->nudged = true;
    st->timer.cancel();
  });
}

void meta_media_copier::stop(std::function<void()> done) { stop_leased_loop(state_, std::move(done)); }

}  // namespace pasokh::gateway
