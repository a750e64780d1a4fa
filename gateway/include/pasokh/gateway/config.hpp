#pragma once
// The gateway's configuration: one JSON file, every field optional with a
// default, unknown keys rejected, secrets read from environment variables
// named in the file (never stored in it).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/proto/types.hpp"

namespace pasokh::gateway {

using std::chrono::milliseconds;

struct tls_config {
  std::string cert_file;
  std::string key_file;
};

struct listen_config {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 0;  // 0: one per core
  std::optional<tls_config> tls;
};

struct limits_config {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  milliseconds idle_timeout{60'000};  // keep-alive connection without a request
  milliseconds read_timeout{15'000};  // one request, header to last body byte
  std::size_t max_connections = 20'000;
  std::size_t ws_max_frame_bytes = 64 << 10;
  std::size_t ws_queue_max_messages = 1024;  // per session, then close 1013
  std::size_t ws_queue_max_bytes = 4 << 20;
  milliseconds ws_hello_timeout{10'000};
};

struct redis_section {
  std::string url = "redis://127.0.0.1:6379";  // PASOKH_REDIS_URL overrides
  std::string prefix = "pasokh:";
  milliseconds command_timeout{2'000};
  milliseconds connect_timeout{2'000};
};

struct channel_config {
  std::string id;
  proto::channel_kind kind = proto::channel_kind::api;
  std::string team = "support";
  bool bot = false;
  std::string api_key;           // api channels: from the env var named by api_key_env
  nlohmann::json provider;       // provider-specific settings, parsed by its connector
};

struct auth_config {
  std::chrono::seconds session_ttl{8 * 3600};
  int login_attempts_per_minute = 10;  // per login name and per client address
};

struct config {
  listen_config listen;
  limits_config limits;
  redis_section redis;
  auth_config auth;
  std::chrono::seconds dedup_ttl{7 * 24 * 3600};
  std::vector<channel_config> channels;
  std::string web_root = "web";
  bool demo = false;
  std::string log_level = "info";

  const channel_config* find_channel(std::string_view id) const;
};

// Throws std::runtime_error naming the offending key. `getenv` is injectable
// so tests need not touch the process environment.
using env_lookup = std::optional<std::string> (*)(const char*);
std::optional<std::string> process_env(const char* name);
config parse_config(const nlohmann::json& j, env_lookup env = process_env);
config load_config_file(const std::string& path, env_lookup env = process_env);

}  // namespace pasokh::gateway
