#include "pasokh/gateway/config.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace pasokh::gateway {
namespace {

using nlohmann::json;

// Reads an object's fields and rejects any key it did not read.
class object_reader {
 public:
  object_reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail("must be an object");
  }
  ~object_reader() noexcept(false) {
    if (std::uncaught_exceptions()) return;
    for (const auto& [key, _] : j_.items())
      if (!seen_.count(key)) throw std::runtime_error(fmt::format("{}: unknown key \"{}\"", path_, key));
  }

  template <class T>
  void get(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    try {
      it->get_to(out);
    } catch (const json::exception&) {
      fail(fmt::format("\"{}\" has the wrong type", key));
    }
  }
  void get_ms(const char* key, milliseconds& out) {
    std::int64_t v = out.count();
    get(key, v);
    if (v < 0) fail(fmt::format("\"{}\" must not be negative", key));
    out = milliseconds(v);
  }
  const json* sub(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  std::string path(const char* key) const { return path_ + "." + key; }
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

std::string secret_from_env(env_lookup env, const std::string& var, const std::string& where) {
  auto value = env(var.c_str());
  if (!value || value->empty()) throw std::runtime_error(fmt::format("{}: environment variable {} is not set", where, var));
  return *value;
}

channel_config parse_channel(const json& j, std::size_t index, env_lookup env) {
  object_reader r(j, fmt::format("channels[{}]", index));
  channel_config c;
  std::string kind;
  r.get("id", c.id);
  r.get("kind", kind);
  r.get("team", c.team);
  r.get("bot", c.bot);
  std::string api_key_env;
  r.get("api_key_env", api_key_env);
  if (auto* p = r.sub("provider")) c.provider = *p;
  if (c.id.empty() || c.id.find_first_of("/:{} ") != std::string::npos)
    r.fail("\"id\" is required and may not contain / : { } or spaces");
  auto parsed_kind = proto::from_string<proto::channel_kind>(kind);
  if (!parsed_kind) r.fail(fmt::format("unknown kind \"{}\"", kind));
  c.kind = *parsed_kind;
  if (c.kind == proto::channel_kind::api) {
    if (api_key_env.empty()) r.fail("api channels need \"api_key_env\"");
    c.api_key = secret_from_env(env, api_key_env, r.path("api_key_env"));
  }
  return c;
}

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
  if (auto* l = root.sub("listen")) {
    object_reader r(*l, "listen");
    r.get("address", c.listen.address);
    r.get("port", c.listen.port);
    r.get("threads", c.listen.threads);
    if (auto* t = r.sub("tls")) {
      object_reader tr(*t, "listen.tls");
      tls_config tls;
      tr.get("cert_file", tls.cert_file);
      tr.get("key_file", tls.key_file);
      if (tls.cert_file.empty() || tls.key_file.empty()) tr.fail("cert_file and key_file are both required");
      c.listen.tls = tls;
    }
  }
  if (auto* l = root.sub("limits")) {
    object_reader r(*l, "limits");
    r.get("max_body_bytes", c.limits.max_body_bytes);
    r.get("max_header_bytes", c.limits.max_header_bytes);
    r.get_ms("idle_timeout_ms", c.limits.idle_timeout);
    r.get_ms("read_timeout_ms", c.limits.read_timeout);
    r.get("max_connections", c.limits.max_connections);
    r.get("ws_max_frame_bytes", c.limits.ws_max_frame_bytes);
    r.get("ws_queue_max_messages", c.limits.ws_queue_max_messages);
    r.get("ws_queue_max_bytes", c.limits.ws_queue_max_bytes);
    r.get_ms("ws_hello_timeout_ms", c.limits.ws_hello_timeout);
  }
  if (auto* s = root.sub("redis")) {
    object_reader r(*s, "redis");
    r.get("url", c.redis.url);
    r.get("prefix", c.redis.prefix);
    r.get_ms("command_timeout_ms", c.redis.command_timeout);
    r.get_ms("connect_timeout_ms", c.redis.connect_timeout);
  }
  if (auto url = env("PASOKH_REDIS_URL"); url && !url->empty()) c.redis.url = *url;
  if (auto* a = root.sub("auth")) {
    object_reader r(*a, "auth");
    std::int64_t ttl = c.auth.session_ttl.count();
    r.get("session_ttl_s", ttl);
    c.auth.session_ttl = std::chrono::seconds(ttl);
    r.get("login_attempts_per_minute", c.auth.login_attempts_per_minute);
  }
  std::int64_t dedup_ttl = c.dedup_ttl.count();
  root.get("dedup_ttl_s", dedup_ttl);
  c.dedup_ttl = std::chrono::seconds(dedup_ttl);
  root.get("web_root", c.web_root);
  root.get("demo", c.demo);
  root.get("log_level", c.log_level);
  if (auto* ch = root.sub("channels")) {
    if (!ch->is_array()) root.fail("\"channels\" must be an array");
    for (std::size_t i = 0; i < ch->size(); ++i) {
      auto channel = parse_channel((*ch)[i], i, env);
      if (c.find_channel(channel.id)) throw std::runtime_error(fmt::format("channels[{}]: duplicate id \"{}\"", i, channel.id));
      c.channels.push_back(std::move(channel));
    }
  }
  if (c.listen.threads < 0) root.fail("listen.threads must be >= 0");
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
