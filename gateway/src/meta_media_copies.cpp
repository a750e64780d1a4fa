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
#include <cstdlib>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/connectors/http/client.hpp"
#include "pasokh/connectors/http/url.hpp"
#include "pasokh/gateway/attachment_blobs.hpp"
#include "pasokh/gateway/retries.hpp"
#include "pasokh/gateway/http.hpp"
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

constexpr std::size_t max_name_bytes = 200;

std::vector<std::string> args_of(services& s, std::string_view op) {
  return store::make_command(s.cfg.redis.prefix, std::string(op));
}

awaitable<store::result<store::reply>> call(store::redis_client& redis, std::vector<std::string> args) {
  co_return co_await redis.fcall(routing::script(routing::lua::meta_media), store::make_command(), std::move(args));
}

}  // namespace

std::string_view to_string(copy_outcome o) {
  switch (o) {
    case copy_outcome::copied: return "copied";
    case copy_outcome::not_found: return "not_found";
    case copy_outcome::too_big: return "too_big";
    case copy_outcome::timeout: return "timeout";
    case copy_outcome::failed: return "failed";
    case copy_outcome::store_failed: return "store_failed";
    case copy_outcome::no_room: return "no_room";
    case copy_outcome::refused_host: return "refused_host";
    case copy_outcome::over_budget: return "over_budget";
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

bool passing(copy_outcome o) {
  return o == copy_outcome::timeout || o == copy_outcome::failed || o == copy_outcome::store_failed;
}

bool copyable(const proto::attachment& a) {
  using k = proto::attachment_kind;
  static constexpr std::array kinds{k::image, k::sticker, k::audio, k::video, k::file};
  if (std::find(kinds.begin(), kinds.end(), a.kind) == kinds.end()) return false;
  // connectors/meta/src/inbound.cpp marks a shared link or post (and, before
  // it did, named it by its type: such messages may still be queued).
  if (a.link || !a.name.empty()) return false;
  return a.provider_ref.starts_with("https://") || a.provider_ref.starts_with("http://");
}

bool allowed_source(std::string_view url, const meta_media_config& cfg) {
  auto u = connectors::http::parse_url(url);
  if (!u) return false;
  if (u->scheme != "https" && !(cfg.allow_plain_http_loopback && connectors::http::is_loopback_host(u->host)))
    return false;
  std::string host;
  for (char c : u->host) host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::any_of(cfg.hosts.begin(), cfg.hosts.end(), [&](const std::string& allowed) {
    return host == allowed || (host.size() > allowed.size() && host.ends_with(allowed) &&
                               host[host.size() - allowed.size() - 1] == '.');
  });
}

std::string host_for_log(std::string_view url) {
  auto u = connectors::http::parse_url(url);
  return u ? u->host : std::string("(not a URL)");
}

bool over_memory_share(const redis_memory_info& info, double share) {
  return info.limit > 0 && static_cast<double>(info.used) > share * static_cast<double>(info.limit);
}

std::string copy_name(std::string_view url) {
  std::string_view path = url.substr(0, url.find_first_of("?#"));
  auto scheme = path.find("://");
  if (scheme != std::string_view::npos) path.remove_prefix(scheme + 3);
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return "attachment";  // a host and no path
  std::string_view segment = path.substr(slash + 1);
  std::string name;
  if (!percent_decode(segment, name)) name = std::string(segment);  // a stray '%': the name as it stands
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

struct meta_media_copier::state : std::enable_shared_from_this<state> {
  state(services& sv, store::redis_client& own, net::any_io_executor ex, redis_memory_watch* mem)
      : s(sv), redis(own), memory(mem), strand(net::make_strand(ex)), timer(strand), http(ex, client_config(sv.cfg.meta_media)) {}

  static connectors::http::client_config client_config(const meta_media_config& m) {
    connectors::http::client_config c;
    c.request_timeout = m.timeout;
    c.connect_timeout = std::min(c.connect_timeout, m.timeout);
    c.max_response_bytes = m.max_bytes;
    c.allow_plain_loopback = m.allow_plain_http_loopback;
    return c;
  }

  // A claimed message: its attempt number is the claim's token (meta_media.lua).
  struct claim {
    std::string member;
    std::string token;
  };

  services& s;
  store::redis_client& redis;  // the files connection (main.cpp)
  redis_memory_watch* memory;
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  connectors::http::client http;
  bool stopping = false;
  bool ended = true;    // until start()
  bool nudged = false;
  bool pause = false;   // Redis failed: wait a poll before the next claim
  std::optional<claim> held;
  std::function<void()> on_ended;

  const meta_media_config& cfg() const { return s.cfg.meta_media; }

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
    // Every instance copies; there is no lease to give up, only stop()'s callback.
    ended = true;
    if (auto done = std::exchange(on_ended, nullptr)) done();
  }

  // Claims one due message and copies its files; false when none was due.
  awaitable<bool> copy_one() {
    auto a = args_of(s, "claim");
    a.push_back(std::to_string(lease().count()));
    a.push_back("1");
    auto r = co_await call(redis, std::move(a));
    if (!r || r->is_error() || r->elements.size() < 2) co_return false;
    held = claim{r->elements[0].str, r->elements[1].str};
    const auto c = *held;
    co_await copy_message(c);
    held.reset();
    co_return !std::exchange(pause, false);
  }

  // retry/drop act only while the claim is still ours (its token). Refused
  // (OOM: a copy Redis just refused still holds its memory for a moment),
  // the call is made again a few times; else the claim ends with its lease.
  awaitable<void> finish(std::string_view op, const claim& c, std::chrono::milliseconds delay = {}, int tries = 4) {
    auto attempt = [&]() -> awaitable<bool> {
      auto a = args_of(s, op);
      a.push_back(c.member);
      a.push_back(c.token);
      if (op == "retry") a.push_back(std::to_string(delay.count()));
      auto r = co_await call(redis, std::move(a));
      co_return r && !r->is_error();
    };
    co_await with_retries(attempt, retry_policy{tries}, [this] { return stopping; });
  }

  // Stopping mid-copy: the message is due again now, for the next instance,
  // rather than after the whole lease.
  awaitable<void> put_back() {
    if (held) co_await finish("retry", *held, {}, 1);
    if (auto done = std::exchange(on_ended, nullptr)) done();
  }

  // Whether Redis has room for copies: none while the memory watch sees a
  // problem (OOM replies, an evicting policy) or Redis is over its share.
  awaitable<bool> has_room() {
    if (memory) {
      auto problem = co_await memory->problem();
      if (problem) co_return false;
    }
    auto r = co_await redis.exec(store::make_command("INFO", "memory"));
    if (!r || r->is_error()) co_return true;  // the writes will tell
    auto info = parse_info_memory(r->str);
    co_return !info || !over_memory_share(*info, cfg().max_redis_memory_share);
  }

  // The bytes an attempt counted against a customer's hour, and the hour's key.
  struct budget_charge {
    std::string key;
    std::uint64_t bytes = 0;
  };

  // Counts `bytes` against the customer's hour; false once over the budget.
  // Counted before the write (two copies for one customer cannot both pass
  // it), given back by settle() for whatever the attempt did not store.
  awaitable<bool> within_budget(const std::string& customer, std::size_t bytes, budget_charge& charge) {
    if (charge.key.empty())
      charge.key = s.cfg.redis.prefix + "meta_media:bytes:" + customer + ":" + std::to_string(now_ms() / 3'600'000);
    std::vector<std::vector<std::string>> writes;
    writes.push_back(store::make_command("INCRBY", charge.key, std::to_string(bytes)));
    writes.push_back(store::make_command("EXPIRE", charge.key, "3660"));
    auto r = co_await redis.exec_pipeline(std::move(writes));
    if (!r || r->empty() || (*r)[0].is_error()) co_return true;  // the put will tell
    charge.bytes += bytes;
    co_return static_cast<std::uint64_t>((*r)[0].integer) <= cfg().bytes_per_customer_per_hour;
  }

  // Gives back what the attempt counted but did not store (a refused file, a
  // failed write, an attempt tried again): a customer's budget pays once for
  // each file stored. EXPIRE too: a key that expired meanwhile must not come
  // back for good.
  awaitable<void> settle(const budget_charge& charge, std::uint64_t stored) {
    if (charge.bytes <= stored) co_return;
    std::vector<std::vector<std::string>> writes;
    writes.push_back(store::make_command("DECRBY", charge.key, std::to_string(charge.bytes - stored)));
    writes.push_back(store::make_command("EXPIRE", charge.key, "3660"));
    co_await redis.exec_pipeline(std::move(writes));
  }

  awaitable<void> copy_message(const claim& c) {
    budget_charge charge;
    const auto stored = co_await copy_files(c, charge);
    co_await settle(charge, stored);
  }

  // The bytes it stored.
  awaitable<std::uint64_t> copy_files(const claim& c, budget_charge& charge) {
    const auto& member = c.member;
    auto bar = member.rfind('|');
    std::uint64_t seq = 0;
    const auto conv = member.substr(0, bar);
    const auto seq_text = std::string_view(member).substr(bar + 1);
    std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
    const int attempt = std::atoi(c.token.c_str());
    if (bar == std::string::npos || seq == 0) {
      co_await finish("drop", c);
      co_return 0;
    }
    auto frames = co_await s.conversations.events_after(conv, seq - 1, 1);
    if (!frames) {
      // Redis trouble: due again now rather than after the lease.
      pause = true;
      co_await finish("retry", c);
      co_return 0;
    }
    auto frame = frames->empty() ? json() : json::parse(frames->front(), nullptr, false);
    const json* message = frame.is_object() && frame.value("seq", std::uint64_t{0}) == seq ? &frame["message"] : nullptr;
    if (!message || !message->is_object() || !message->contains("attachments") ||
        !(*message)["attachments"].is_array()) {
      co_await finish("drop", c);
      co_return 0;
    }
    const auto channel = message->value("channel", std::string());
    auto customer = frame.contains("conversation") && frame["conversation"].is_object()
                        ? frame["conversation"].value("customer_id", std::string())
                        : std::string();
    if (customer.empty()) customer = "conv:" + conv;
    json attachments = (*message)["attachments"];
    std::vector<std::string> ids;     // staged, to be stored as copies
    std::uint64_t staged_bytes = 0;
    std::vector<std::string> unkept;  // writes that failed: whatever they staged goes
    std::vector<std::pair<copy_outcome, std::string>> failures;
    bool again = false;
    std::optional<bool> room;  // asked once, before the first download
    for (auto& item : attachments) {
      proto::attachment a;
      try {
        a = item.get<proto::attachment>();
      } catch (const json::exception&) {
        continue;
      }
      if (!copyable(a)) continue;
      if (!allowed_source(a.provider_ref, cfg())) {
        failures.emplace_back(copy_outcome::refused_host, a.provider_ref);
        continue;
      }
      if (!room) room = co_await has_room();
      if (!*room) {
        failures.emplace_back(copy_outcome::no_room, a.provider_ref);
        continue;
      }
      connectors::provider_request get;
      get.method = "GET";
      get.url = a.provider_ref;
      get.what = "meta.attachment";
      get.max_response_bytes = cfg().max_bytes;
      auto file = co_await http.send(std::move(get));
      auto outcome = classify_copy(file, cfg().max_bytes);
      auto id = "att_" + random_token(18);
      auto name = copy_name(a.provider_ref);
      auto mime_type = copy_mime_type(file.header("content-type").value_or(""));
      const auto size = file.body.size();
      if (outcome == copy_outcome::copied) {
        bool within = co_await within_budget(customer, size, charge);
        if (!within) outcome = copy_outcome::over_budget;
      }
      if (outcome == copy_outcome::copied) {
        // A failed write is a failed attempt: Redis may be full (OOM) or slow.
        bool kept = co_await stage(id, file.body);
        if (!kept) {
          outcome = copy_outcome::store_failed;
          unkept.push_back(id);
        }
      }
      if (outcome != copy_outcome::copied) {
        // A passing failure tries the whole message again while attempts remain.
        if (passing(outcome) && attempt < cfg().attempts) {
          again = true;
          break;
        }
        failures.emplace_back(outcome, a.provider_ref);
        continue;
      }
      ids.push_back(id);
      staged_bytes += size;
      item["provider_ref"] = id;
      item["name"] = name;
      item["mime_type"] = mime_type;
      item["size"] = size;
    }
    if (again) {
      ids.insert(ids.end(), unkept.begin(), unkept.end());
      co_await drop_staged(ids);
      co_await finish("retry", c, cfg().retry * attempt);
      co_return 0;
    }
    for (const auto& [outcome, url] : failures) report_failure(channel, conv, outcome, url);
    co_await drop_staged(unkept);  // a write that failed on the last attempt
    if (ids.empty()) {
      co_await finish("drop", c);
      co_return 0;
    }
    auto a = args_of(s, "store");
    a.push_back(conv);
    a.push_back(std::to_string(seq));
    a.push_back(std::to_string(s.cfg.attachment_ttl.count()));
    a.push_back(attachments.dump(-1, ' ', false, json::error_handler_t::replace));
    a.insert(a.end(), ids.begin(), ids.end());
    auto stored = co_await call(redis, std::move(a));
    if (!stored || stored->is_error()) {
      co_await drop_staged(ids);
      if (attempt < cfg().attempts) {
        co_await finish("retry", c, cfg().retry * attempt);
        co_return 0;
      }
      for (std::size_t i = 0; i < ids.size(); ++i) report_failure(channel, conv, copy_outcome::store_failed, "");
      co_await finish("drop", c);
      co_return 0;
    }
    if (stored->str == "stored") global_metrics().meta_media_copies.inc({channel, "copied"}, ids.size());
    if (stored->str == "gone") global_metrics().meta_media_copies.inc({channel, "gone"}, ids.size());
    co_return stored->str == "stored" ? staged_bytes : 0;  // "copied": another claim's, counted there
  }

  // The file, staged (no agent may open it) until "store" makes it a copy.
  awaitable<bool> stage(const std::string& id, const std::string& content) {
    const auto ttl = std::min(s.cfg.attachment_ttl, attachment_blobs::staged_ttl);
    auto r = co_await attachment_blobs::stage(redis, s.cfg.redis.prefix, id, content, ttl, attachment_blobs::chunk_bytes);
    co_return r.has_value();
  }

  // What a failed attempt staged (never a copy it may have filed).
  awaitable<void> drop_staged(const std::vector<std::string>& ids) {
    co_await attachment_blobs::clean_up_failed_store(s.redis, s.cfg.redis.prefix, ids,
                                                     attachment_blobs::left_by_failure::staged_parts,
                                                     [this] { return stopping; });
  }

  // Counted each time; logged once a while per kind, naming the host only
  // (the path may carry the customer's file name, the query a signature).
  static void report_failure(const std::string& channel, const std::string& conv, copy_outcome outcome,
                             const std::string& url) {
    global_metrics().meta_media_copies.inc({channel, std::string(to_string(outcome))});
    static std::array<routing::repeated_warning, copy_outcome_count> warnings = [] {
      return []<std::size_t... i>(std::index_sequence<i...>) {
        return std::array<routing::repeated_warning, copy_outcome_count>{
            (static_cast<void>(i), routing::repeated_warning(std::chrono::hours(1)))...};
      }(std::make_index_sequence<copy_outcome_count>());
    }();
    warnings[static_cast<std::size_t>(outcome)].warn(
        *log(), "channel={} conv={} attachment not copied ({}), the console keeps its URL{}{}", channel, conv,
        to_string(outcome), url.empty() ? "" : ": host ", url.empty() ? std::string() : host_for_log(url));
  }
};

meta_media_copier::meta_media_copier(services& s, store::redis_client& redis, net::any_io_executor executor,
                                     redis_memory_watch* memory)
    : state_(std::make_shared<state>(s, redis, std::move(executor), memory)) {}

meta_media_copier::~meta_media_copier() = default;

void meta_media_copier::start() {
  state_->ended = false;
  net::co_spawn(state_->strand, state_->loop(), net::detached);
}

void meta_media_copier::nudge() {
  net::post(state_->strand, [st = state_] {
    st->nudged = true;
    st->timer.cancel();
  });
}

void meta_media_copier::stop(std::function<void()> done) {
  if (!done) done = [] {};
  net::post(state_->strand, [st = state_, done = std::move(done)]() mutable {
    st->stopping = true;
    st->timer.cancel();
    if (st->ended) return done();
    st->on_ended = std::move(done);
    // A download under way may take its whole timeout: main does not wait
    // for it, so its message is put back now.
    if (st->held) net::co_spawn(st->strand, st->put_back(), net::detached);
  });
}

}  // namespace pasokh::gateway
