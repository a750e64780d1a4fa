#include "pasokh/gateway/config.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "pasokh/connectors/common/object_reader.hpp"
#include "pasokh/connectors/email/config.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/messenger_config.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/webchat_protocol.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {
namespace {

using nlohmann::json;

using connectors::object_reader;

// bot.name: "Pasokh", or {"fa": "پاسخ", "ar": "…", "en": "Pasokh"} (for
// customers of another language: English, else Persian, else Arabic).
proto::localized_name parse_bot_name(const json& j, const std::string& path) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(path + ": " + what); };
  auto valid = [](const json& v) { return v.is_string() && !v.get<std::string>().empty() && v.get<std::string>().size() <= 100; };
  proto::localized_name out;
  if (j.is_string()) {
    if (!valid(j)) fail("must be 1 to 100 bytes");
    out.fallback = j.get<std::string>();
    return out;
  }
  if (!j.is_object() || j.empty()) fail("a string, or an object of names by language (fa, ar, en)");
  for (const auto& [language, name] : j.items()) {
    if (!proto::known_language(language)) fail("unknown language \"" + language + "\" (fa, ar, en)");
    if (!valid(name)) fail("\"" + language + "\" must be a name of 1 to 100 bytes");
    out.by_language[language] = name.get<std::string>();
  }
  // JSON objects come sorted, not as written: the fallback is chosen by a fixed order.
  for (const char* language : {"en", "fa", "ar"}) {
    if (auto it = out.by_language.find(language); it != out.by_language.end()) {
      out.fallback = it->second;
      break;
    }
  }
  return out;
}

std::string secret_from_env(env_lookup env, const std::string& var, const std::string& where) {
  auto value = env(var.c_str());
  if (!value || value->empty()) throw std::runtime_error(fmt::format("{}: environment variable {} is not set", where, var));
  return *value;
}

// A secret that lets a caller in (an API key, the web chat secret, the
// metrics token): a short one could be guessed. The error names the setting
// and the variable, never the value.
constexpr std::size_t min_secret_bytes = 16;
std::string strong_secret_from_env(env_lookup env, const std::string& var, const std::string& where,
                                   std::string_view what) {
  auto value = secret_from_env(env, var, where);
  if (value.size() < min_secret_bytes)
    throw std::runtime_error(fmt::format("{}: {} in environment variable {} must be at least {} bytes", where, what,
                                         var, min_secret_bytes));
  return value;
}

channel_config parse_channel(const json& j, std::size_t index, env_lookup env, const std::string& public_url) {
  object_reader r(j, fmt::format("channels[{}]", index));
  channel_config c;
  std::string kind;
  r.get("id", c.id);
  r.get("kind", kind);
  r.get("team", c.team);
  r.get("bot", c.bot);
  r.get("sends_per_second", c.sends_per_second);
  std::string api_key_env, previous_api_key_env;
  r.get("api_key_env", api_key_env);
  r.get("previous_api_key_env", previous_api_key_env);
  if (auto* p = r.sub("provider")) c.provider = *p;
  r.done();
  if (c.id.empty() || c.id.find_first_of("/:{} ") != std::string::npos)
    r.fail("\"id\" is required and may not contain / : { } or spaces");
  auto parsed_kind = proto::from_string<proto::channel_kind>(kind);
  if (!parsed_kind) r.fail(fmt::format("unknown kind \"{}\"", kind));
  c.kind = *parsed_kind;
  if (!(c.sends_per_second >= 0 && c.sends_per_second <= 1000)) r.fail("\"sends_per_second\" must be 0 (the provider's default) to 1000");
  if (c.kind == proto::channel_kind::api) {
    if (api_key_env.empty()) r.fail("api channels need \"api_key_env\"");
    if (!c.provider.is_null()) r.fail("api channels take no \"provider\"");  // nothing would read it
    auto where = [&](const char* key) { return fmt::format("{} (channel \"{}\")", r.path(key), c.id); };
    c.api_key = strong_secret_from_env(env, api_key_env, where("api_key_env"), "the API key");
    if (!previous_api_key_env.empty())
      c.previous_api_key = strong_secret_from_env(env, previous_api_key_env, where("previous_api_key_env"),
                                                  "the previous API key");
  } else if (!previous_api_key_env.empty()) {
    r.fail("only api channels take \"previous_api_key_env\"");
  }
  if (c.kind == proto::channel_kind::email) {
    try {
      auto email = connectors::email::parse_email_config(c.provider, c.id, env);
      if (!public_url.empty()) email.unsubscribe_base = public_url + "/unsubscribe/";
      c.email = std::make_shared<const connectors::email::email_config>(std::move(email));
    } catch (const std::runtime_error& e) {
      r.fail(fmt::format("provider: {}", e.what()));
    }
  }
  if (is_messenger(c.kind)) {
    try {
      auto lookup = [env](const std::string& name) { return env(name.c_str()); };
      c.messenger = std::make_shared<const messenger_provider>(parse_messenger_provider(c.id, c.kind, c.provider, lookup));
    } catch (const connectors::config_error& e) {
      r.fail(e.what());
    }
  }
  if (c.kind == proto::channel_kind::webchat) {
    try {
      c.webchat = std::make_shared<const webchat_settings>(parse_webchat_settings(c.provider));
    } catch (const std::runtime_error& e) {
      r.fail(fmt::format("provider: {}", e.what()));
    }
  }
  return c;
}

// A web chat channel's email_fallback_channel names an email channel of this config.
void check_email_fallbacks(const config& c) {
  for (std::size_t i = 0; i < c.channels.size(); ++i) {
    if (!c.channels[i].webchat) continue;
    const auto& target = c.channels[i].webchat->email_fallback_channel;
    if (target.empty()) continue;
    const auto* mail = c.find_channel(target);
    if (!mail || mail->kind != proto::channel_kind::email)
      throw std::runtime_error(fmt::format("channels[{}]: provider: email_fallback_channel \"{}\" is not an email channel "
                                           "of this config", i, target));
  }
}

// A channel's team missing from routing.teams is most likely a typo, which
// would open an empty team that no agent works in. Only a warning: the team
// may have been made in the console (it is in Redis, not in the file). With
// no teams configured at all, the channels' teams are the teams.
void warn_unconfigured_teams(config& c) {
  const auto& teams = c.routing.teams;
  if (teams.empty()) return;
  std::string known;
  for (const auto& t : teams) known += (known.empty() ? "" : ", ") + t.id;
  for (std::size_t i = 0; i < c.channels.size(); ++i) {
    const auto& team = c.channels[i].team;
    if (std::any_of(teams.begin(), teams.end(), [&](const routing::team_def& t) { return t.id == team; })) continue;
    c.warnings.push_back(fmt::format("channels[{}] (\"{}\"): team \"{}\" is not in routing.teams ({}); unless it was "
                                     "made in the console, it starts as an empty team with no agents",
                                     i, c.channels[i].id, team, known));
  }
}

void parse_campaigns(const json* j, config& c) {
  auto& k = c.campaigns;
  if (j) {
    object_reader r(*j, "campaigns");
    r.get("enabled", k.enabled);
    r.get("timezone", k.timezone);
    if (auto* q = r.sub("quiet_hours")) {
      if (q->is_null()) {
        k.quiet_from_s = k.quiet_to_s = 0;
      } else {
        object_reader qr(*q, r.path("quiet_hours"));
        std::string from = campaigns::clock_string(k.quiet_from_s), to = campaigns::clock_string(k.quiet_to_s);
        qr.get("from", from);
        qr.get("to", to);
        qr.done();
        auto f = campaigns::parse_clock(from), t = campaigns::parse_clock(to);
        if (!f || !t) qr.fail("\"from\" and \"to\" are HH:MM or HH:MM:SS");
        k.quiet_from_s = *f;
        k.quiet_to_s = *t;
      }
    }
    r.get("rate_per_second", k.rate_per_second);
    r.get("language_fallback", k.language_fallback);
    r.get_ms("tick_ms", k.tick);
    r.get_ms("lease_ms", k.lease);
    r.get_ms("reply_window_ms", k.reply_window);
    r.get_ms("rescan_ms", k.rescan);
    r.done();
    if (!(k.rate_per_second > 0 && k.rate_per_second <= 1000)) r.fail("rate_per_second must be in (0, 1000]");
    if (k.tick.count() < 10 || k.lease < k.tick * 2) r.fail("need tick_ms >= 10 and lease_ms >= 2 * tick_ms");
    if (k.rescan.count() < 1000) r.fail("rescan_ms must be at least 1000");
    for (const auto& l : k.language_fallback)
      if (!proto::known_language(l)) r.fail("language_fallback: fa, ar or en");
  }
}

// After "routing" and "campaigns": campaigns.timezone, else the first
// configured team with business hours, else UTC.
std::shared_ptr<const routing::time_zone> shop_zone(const config& c) {
  std::string zone = c.campaigns.timezone;
  if (zone.empty())
    for (const auto& t : c.routing.teams)
      if (!t.timezone.empty()) { zone = t.timezone; break; }
  try {
    return zone.empty() ? routing::time_zone::fixed("UTC", 0) : routing::time_zone::load(zone, c.routing.zoneinfo_dir);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("campaigns.timezone: {}", e.what()));
  }
}

void parse_retention(const json& j, retention_config& k) {
  object_reader r(j, "retention");
  r.get("message_text_days", k.message_text_days);
  r.get("email_automatic_days", k.email_automatic_days);
  r.get_ms("tick_ms", k.tick);
  r.get_ms("lease_ms", k.lease);
  r.done();
  if (!(k.message_text_days >= 0) || !(k.email_automatic_days >= 0))
    r.fail("\"message_text_days\" and \"email_automatic_days\" must be 0 (keep) or more");
  if (k.tick.count() < 10 || k.lease < k.tick * 2) r.fail("need tick_ms >= 10 and lease_ms >= 2 * tick_ms");
}

// auth.trust_forwarded_for and webchat.trust_forwarded_for, from before
// proxy.trust_forwarded_for: each set only its own part's client address, so
// an operator who set one had the other's limits count the proxy as one
// client. Still read, so an upgrade starts: either one on means "behind a
// proxy" for every part now, with a warning to move the key.
class moved_forwarded_for {
 public:
  void read(object_reader& r, const char* section) {
    bool value = false;
    r.get("trust_forwarded_for", value);
    if (!r.sub("trust_forwarded_for")) return;
    found_.push_back(fmt::format("{}.trust_forwarded_for", section));
    values_.push_back(value);
  }
  // The setting: proxy.trust_forwarded_for when given (an old key that says
  // otherwise is refused), else any old key on.
  bool settle(std::optional<bool> proxy, std::vector<std::string>& warnings) const {
    for (std::size_t i = 0; i < found_.size(); ++i) {
      if (proxy && *proxy != values_[i])
        throw std::runtime_error(fmt::format("{} ({}) contradicts proxy.trust_forwarded_for ({}); remove it: "
                                             "proxy.trust_forwarded_for alone sets the client address for logins, "
                                             "web chat and connection limits", found_[i], values_[i], *proxy));
      warnings.push_back(fmt::format("{} is deprecated: set proxy.trust_forwarded_for instead (it applies to logins, "
                                     "web chat and connection limits alike{})", found_[i],
                                     proxy ? "" : "; taken as its value for all of them until then"));
    }
    if (proxy) return *proxy;
    return std::find(values_.begin(), values_.end(), true) != values_.end();
  }

 private:
  std::vector<std::string> found_;
  std::vector<bool> values_;
};

}  // namespace

std::optional<std::string> process_env(const char* name) {
  if (const char* v = std::getenv(name)) return std::string(v);
  return std::nullopt;
}

const channel_config* config::find_channel(std::string_view id) const {
  for (const auto& c : channels)
    if (c.id == id) return &c;
  return nullptr;
}

config parse_config(const json& j, env_lookup env) {
  config c;
  object_reader root(j, "config");
  moved_forwarded_for old_forwarded_for;
  std::optional<bool> trust_forwarded_for;
  if (auto* p = root.sub("proxy")) {
    object_reader r(*p, "proxy");
    bool trust = false;
    r.get("trust_forwarded_for", trust);
    if (p->contains("trust_forwarded_for")) trust_forwarded_for = trust;
    r.done();
  }
  if (auto* m = root.sub("metrics")) {
    object_reader r(*m, "metrics");
    r.get("token_env", c.metrics.token_env);
    r.get("previous_token_env", c.metrics.previous_token_env);
    r.done();
    if (!c.metrics.token_env.empty()) {
      c.metrics.token = strong_secret_from_env(env, c.metrics.token_env, "metrics.token_env", "the metrics token");
    }
    if (!c.metrics.previous_token_env.empty()) {
      if (c.metrics.token_env.empty()) r.fail("\"previous_token_env\" needs \"token_env\"");
      c.metrics.previous_token = strong_secret_from_env(env, c.metrics.previous_token_env, "metrics.previous_token_env",
                                                        "the previous metrics token");
    }
  }
  if (auto* l = root.sub("listen")) {
    object_reader r(*l, "listen");
    r.get("address", c.listen.address);
    r.get("port", c.listen.port);
    r.get("threads", c.listen.threads);
    auto* t = r.sub("tls");
    r.done();
    if (t) {
      object_reader tr(*t, "listen.tls");
      tls_config tls;
      tr.get("cert_file", tls.cert_file);
      tr.get("key_file", tls.key_file);
      tr.done();
      if (tls.cert_file.empty() || tls.key_file.empty()) tr.fail("cert_file and key_file are both required");
      c.listen.tls = tls;
    }
  }
  if (auto* l = root.sub("limits")) {
    object_reader r(*l, "limits");
    r.get("max_body_bytes", c.limits.max_body_bytes);
    r.get("max_webhook_body_bytes", c.limits.max_webhook_body_bytes);
    r.get("max_header_bytes", c.limits.max_header_bytes);
    r.get_ms("idle_timeout_ms", c.limits.idle_timeout);
    r.get_ms("read_timeout_ms", c.limits.read_timeout);
    r.get("max_connections", c.limits.max_connections);
    r.get("max_connections_per_address", c.limits.max_connections_per_address);
    r.get("ws_max_frame_bytes", c.limits.ws_max_frame_bytes);
    r.get("ws_queue_max_messages", c.limits.ws_queue_max_messages);
    r.get("ws_queue_max_bytes", c.limits.ws_queue_max_bytes);
    r.get_ms("ws_hello_timeout_ms", c.limits.ws_hello_timeout);
    r.done();
    // Below these the gateway starts but cannot serve (a 0 timeout ends
    // every connection at once); a negative count would wrap around.
    const auto& lim = c.limits;
    if (lim.max_body_bytes < 1024 || lim.max_webhook_body_bytes < 1024 || lim.max_header_bytes < 1024)
      r.fail("\"max_body_bytes\", \"max_webhook_body_bytes\" and \"max_header_bytes\" must be at least 1024 bytes");
    if (lim.max_connections < 1 || lim.max_connections > 1'000'000) r.fail("\"max_connections\" must be 1 to 1000000");
    if (lim.max_connections_per_address > 1'000'000) r.fail("\"max_connections_per_address\" must be 0 (off) to 1000000");
    if (lim.idle_timeout.count() < 100 || lim.read_timeout.count() < 100 || lim.ws_hello_timeout.count() < 100)
      r.fail("timeouts (\"idle_timeout_ms\", \"read_timeout_ms\", \"ws_hello_timeout_ms\") must be at least 100 ms");
    if (lim.ws_max_frame_bytes < 1024 || lim.ws_queue_max_messages < 1 || lim.ws_queue_max_bytes < lim.ws_max_frame_bytes)
      r.fail("ws_max_frame_bytes must be at least 1024, ws_queue_max_messages at least 1, ws_queue_max_bytes at least a frame");
  }
  if (auto* s = root.sub("redis")) {
    object_reader r(*s, "redis");
    r.get("url", c.redis.url);
    r.get("prefix", c.redis.prefix);
    r.get_ms("command_timeout_ms", c.redis.command_timeout);
    r.get_ms("connect_timeout_ms", c.redis.connect_timeout);
    r.done();
    if (c.redis.command_timeout.count() < 1 || c.redis.connect_timeout.count() < 1)
      r.fail("command_timeout_ms and connect_timeout_ms must be at least 1");
  }
  if (auto url = env("PASOKH_REDIS_URL"); url && !url->empty()) c.redis.url = *url;
  try {
    store::parse_redis_url(c.redis.url);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("redis.url: {}", e.what()));
  }
  if (auto* a = root.sub("auth")) {
    object_reader r(*a, "auth");
    std::int64_t ttl = c.auth.session_ttl.count();
    r.get("session_ttl_s", ttl);
    if (ttl < 60) r.fail("\"session_ttl_s\" must be at least 60");  // 0 made every login fail
    c.auth.session_ttl = std::chrono::seconds(ttl);
    r.get("login_attempts_per_minute", c.auth.login_attempts_per_minute);
    r.get("login_attempts_per_address_per_minute", c.auth.login_attempts_per_address_per_minute);
    old_forwarded_for.read(r, "auth");
    r.get("password_rounds", c.auth.password_rounds);
    r.done();
    if (c.auth.login_attempts_per_minute <= 0 || c.auth.login_attempts_per_address_per_minute <= 0)
      r.fail("\"login_attempts_per_minute\" and \"login_attempts_per_address_per_minute\" must be at least 1");
    if (c.auth.password_rounds < min_password_rounds || c.auth.password_rounds > max_password_rounds)
      r.fail(fmt::format("\"password_rounds\" must be {} to {}", min_password_rounds, max_password_rounds));
  }
  if (auto* w = root.sub("webchat")) {
    object_reader r(*w, "webchat");
    r.get("secret_env", c.webchat.secret_env);
    r.get("previous_secret_env", c.webchat.previous_secret_env);
    std::int64_t ttl = c.webchat.token_ttl.count(), wait = c.webchat.wait_per_position.count();
    r.get("token_ttl_s", ttl);
    r.get("max_message_chars", c.webchat.max_message_chars);
    r.get("messages_per_minute", c.webchat.messages_per_minute);
    r.get("sessions_per_ip_per_hour", c.webchat.sessions_per_ip_per_hour);
    r.get("wait_per_position_s", wait);
    r.get("max_sockets_per_visitor", c.webchat.max_sockets_per_visitor);
    r.get("max_upload_bytes", c.webchat.max_upload_bytes);
    r.get("uploads_per_hour", c.webchat.uploads_per_hour);
    old_forwarded_for.read(r, "webchat");
    r.done();
    if (ttl < 60) r.fail("\"token_ttl_s\" must be at least 60");
    if (c.webchat.max_message_chars == 0 || c.webchat.messages_per_minute <= 0 || c.webchat.sessions_per_ip_per_hour <= 0 ||
        wait < 0)
      r.fail("\"max_message_chars\", \"messages_per_minute\" and \"sessions_per_ip_per_hour\" must be at least 1, "
             "\"wait_per_position_s\" 0 or more");
    if (c.webchat.max_sockets_per_visitor < 1 || c.webchat.max_sockets_per_visitor > 1000)
      r.fail("\"max_sockets_per_visitor\" must be 1 to 1000");
    if (c.webchat.max_upload_bytes < 1024 || c.webchat.max_upload_bytes > (100 << 20) || c.webchat.uploads_per_hour < 0)
      r.fail("\"max_upload_bytes\" must be 1024 to 104857600, \"uploads_per_hour\" 0 (no uploads) or more");
    c.webchat.token_ttl = std::chrono::seconds(ttl);
    c.webchat.wait_per_position = std::chrono::seconds(wait);
  }
  if (auto* b = root.sub("bot")) {
    object_reader r(*b, "bot");
    r.get("knowledge_base", c.bot.knowledge_base);
    if (auto* n = r.sub("name")) c.bot.name = parse_bot_name(*n, r.path("name"));
    r.get("answer_confidence", c.bot.answer_confidence);
    r.get("choice_confidence", c.bot.choice_confidence);
    r.get_ms("watch_interval_ms", c.bot.watch_interval);
    r.done();
    if (!(c.bot.choice_confidence >= 0 && c.bot.choice_confidence <= c.bot.answer_confidence && c.bot.answer_confidence <= 1))
      r.fail("need 0 <= choice_confidence <= answer_confidence <= 1");
  }
  if (auto* cs = root.sub("csat")) {
    object_reader r(*cs, "csat");
    r.get("enabled", c.csat.enabled);
    r.get_ms("window_ms", c.csat.window);
    r.get_ms("comment_window_ms", c.csat.comment_window);
    r.get("bot_only", c.csat.bot_only);
    r.get("whatsapp_template", c.csat.whatsapp_template);
    r.get("whatsapp_template_language", c.csat.whatsapp_template_language);
    r.done();
    if (c.csat.window.count() == 0) r.fail("window_ms must be positive");
  }
  if (auto* o = root.sub("outbox")) {
    object_reader r(*o, "outbox");
    r.get("concurrency", c.outbox.concurrency);
    r.get("max_held", c.outbox.max_held);
    r.get("max_attempts", c.outbox.max_attempts);
    r.get_ms("retry_for_ms", c.outbox.retry_for);
    r.get_ms("retry_initial_ms", c.outbox.retry_initial);
    r.get_ms("retry_max_ms", c.outbox.retry_max);
    r.get_ms("claim_idle_ms", c.outbox.claim_idle);
    r.get_ms("served_ttl_ms", c.outbox.served_ttl);
    r.get_ms("unserved_grace_ms", c.outbox.unserved_grace);
    r.done();
    if (c.outbox.concurrency == 0 || c.outbox.max_held == 0 || c.outbox.max_attempts < 1 ||
        c.outbox.claim_idle.count() < 1000 || c.outbox.retry_max < c.outbox.retry_initial ||
        c.outbox.served_ttl.count() < 300 || c.outbox.unserved_grace.count() < 1000)
      r.fail("need concurrency >= 1, max_held >= 1, max_attempts >= 1, claim_idle_ms >= 1000, "
             "retry_max_ms >= retry_initial_ms, served_ttl_ms >= 300, unserved_grace_ms >= 1000");
  }
  c.proxy.trust_forwarded_for = old_forwarded_for.settle(trust_forwarded_for, c.warnings);
  if (auto* r = root.sub("routing")) c.routing = routing::parse_routing_config(*r);  // throws naming the key
  parse_campaigns(root.sub("campaigns"), c);
  c.shop_tz = shop_zone(c);
  if (auto* r = root.sub("retention")) parse_retention(*r, c.retention);
  if (auto* m = root.sub("meta_media")) {
    auto& mm = c.meta_media;
    object_reader r(*m, "meta_media");
    r.get("enabled", mm.enabled);
    r.get_size("max_bytes", mm.max_bytes);
    r.get_ms("timeout_ms", mm.timeout, std::chrono::milliseconds(100));
    r.get("attempts", mm.attempts);
    r.get_ms("retry_ms", mm.retry, std::chrono::milliseconds(100));
    r.get_ms("poll_ms", mm.poll, std::chrono::milliseconds(10));
    r.get("hosts", mm.hosts);
    r.get("allow_plain_http_loopback", mm.allow_plain_http_loopback);
    r.get("max_redis_memory_share", mm.max_redis_memory_share);
    r.get_size("bytes_per_customer_per_hour", mm.bytes_per_customer_per_hour);
    r.done();
    // Each copy sits in Redis's memory whole, for attachment_ttl_s.
    if (mm.max_bytes > 100 * 1024 * 1024) r.fail("\"max_bytes\" must be at most 104857600 (100 MB)");
    // Each attempt is a download: a file Redis keeps refusing is dropped soon.
    if (mm.attempts < 1 || mm.attempts > 20) r.fail("\"attempts\" must be from 1 to 20");
    if (!(mm.max_redis_memory_share > 0 && mm.max_redis_memory_share <= 1))
      r.fail("\"max_redis_memory_share\" must be above 0 and at most 1");
    for (const auto& host : mm.hosts)
      if (host.empty() || host.front() == '.' || host.find_first_of("/:@ ") != std::string::npos)
        r.fail("\"hosts\" are host names (\"fbcdn.net\" also allows its subdomains)");
  }
  std::int64_t attachment_ttl = c.attachment_ttl.count();
  root.get("attachment_ttl_s", attachment_ttl);
  if (attachment_ttl < 60) root.fail("\"attachment_ttl_s\" must be at least 60");
  c.attachment_ttl = std::chrono::seconds(attachment_ttl);
  std::int64_t dedup_ttl = c.dedup_ttl.count();
  root.get("dedup_ttl_s", dedup_ttl);
  // Provider retries come for hours; below a minute a retry is a new message.
  if (dedup_ttl < 60) root.fail("\"dedup_ttl_s\" must be at least 60");
  c.dedup_ttl = std::chrono::seconds(dedup_ttl);
  root.get("web_root", c.web_root);
  root.get("public_url", c.public_url);
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  if (!c.public_url.empty() && !c.public_url.starts_with("https://") && !c.public_url.starts_with("http://"))
    root.fail("\"public_url\" must start with https:// (or http://)");
  root.get("demo", c.demo);
  root.get("log_level", c.log_level);
  // spdlog reads a name it does not know as "off": a typo would silence every log.
  static constexpr std::array log_levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(log_levels.begin(), log_levels.end(), c.log_level) == log_levels.end())
    root.fail("\"log_level\" must be one of trace, debug, info, warn, error, critical, off");
  const json* channels = root.sub("channels");
  root.done();
  if (auto* ch = channels) {
    if (!ch->is_array()) root.fail("\"channels\" must be an array");
    for (std::size_t i = 0; i < ch->size(); ++i) {
      auto channel = parse_channel((*ch)[i], i, env, c.public_url);
      if (c.find_channel(channel.id)) throw std::runtime_error(fmt::format("channels[{}]: duplicate id \"{}\"", i, channel.id));
      c.channels.push_back(std::move(channel));
    }
  }
  if (c.listen.threads < 0) root.fail("listen.threads must be 0 (one per core) or more");
  check_email_fallbacks(c);
  warn_unconfigured_teams(c);
  for (const auto& ch : c.channels) {
    if (ch.kind != proto::channel_kind::webchat) continue;
    auto& w = c.webchat;
    w.secret = strong_secret_from_env(env, w.secret_env, "webchat.secret_env", "the web chat secret");
    if (!w.previous_secret_env.empty())
      w.previous_secret = strong_secret_from_env(env, w.previous_secret_env, "webchat.previous_secret_env",
                                                 "the previous web chat secret");
    break;
  }
  return c;
}

config load_config_file(const std::string& path, env_lookup env) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open config file " + path);
  json j;
  try {
    j = json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  return parse_config(j, env);
}

}  // namespace pasokh::gateway
