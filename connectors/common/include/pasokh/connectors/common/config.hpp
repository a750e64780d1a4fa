#pragma once
// Reading one channel's JSON config. Unknown keys are an error (a typo must not
// silently turn a setting off); secrets are never in the file, only the name of
// the environment variable that holds them. Config errors throw config_error:
// this runs at start-up only.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace pasokh::connectors {

class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A secret value. It has no way to be printed: streaming or formatting it shows
// "***", so it cannot leak into logs by accident. reveal() is for the one place
// that needs the bytes (signature check, Authorization header).
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

 private:
  std::string value_;
};
std::ostream& operator<<(std::ostream&, const secret&);

// A secret that can be rotated without refusing anyone: `current` is the one in
// use; `previous`, set only while a rotation is under way, is still accepted
// (and the gateway counts each use, so an operator sees when it can go).
struct rotating_secret {
  secret current;
  secret previous;
};
enum class secret_match { none, current, previous };

// Looks an environment variable up; injectable so tests need no real environment.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;
env_lookup process_env();

// Reads keys of one JSON object and remembers which were read, so finish() can
// reject the rest. Error messages name `where` ("channels[2] (tg-main)").
class config_reader {
 public:
  config_reader(const nlohmann::json& object, std::string where, env_lookup env = process_env());

  std::string required_string(std::string_view key);
  std::string string_or(std::string_view key, std::string fallback);
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t min, std::int64_t max);
  bool boolean_or(std::string_view key, bool fallback);
  // `key` holds the name of an environment variable ("secret_env": "PASOKH_TG_SECRET");
  // the variable must be set and non-empty.
  secret required_secret(std::string_view key);
  std::optional<secret> optional_secret(std::string_view key);
  // `key` as above, and the optional `previous_key` for a rotation.
  rotating_secret required_rotating_secret(std::string_view key, std::string_view previous_key);
  bool has(std::string_view key) const;
  // Keys that someone else reads (the gateway's own per-channel settings).
  void allow(std::string_view key);
  // Throws config_error naming every key nobody read or allowed.
  void finish() const;

  const std::string& where() const { return where_; }

 private:
  const nlohmann::json* find(std::string_view key);
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

  const nlohmann::json& object_;
  std::string where_;
  env_lookup env_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace pasokh::connectors
