#include "pasokh/connectors/common/config.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

namespace pasokh::connectors {

std::ostream& operator<<(std::ostream& os, const secret&) { return os << "***"; }

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

config_reader::config_reader(const nlohmann::json& object, std::string where, env_lookup env)
    : object_(object), where_(std::move(where)), env_(std::move(env)) {
  if (!object_.is_object()) throw config_error(where_ + ": must be a JSON object");
}

const nlohmann::json* config_reader::find(std::string_view key) {
  seen_.emplace(key);
  auto it = object_.find(std::string(key));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void config_reader::fail(std::string_view key, std::string_view what) const {
  throw config_error(where_ + ": \"" + std::string(key) + "\" " + std::string(what));
}

bool config_reader::has(std::string_view key) const {
  auto it = object_.find(std::string(key));
  return it != object_.end() && !it->is_null();
}

std::string config_reader::required_string(std::string_view key) {
  const auto* v = find(key);
  if (!v) fail(key, "is required");
  if (!v->is_string() || v->get_ref<const std::string&>().empty()) fail(key, "must be a non-empty string");
  return v->get<std::string>();
}

std::string config_reader::string_or(std::string_view key, std::string fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(key, "must be a string");
  return v->get<std::string>();
}

std::int64_t config_reader::integer_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                                       std::int64_t max) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(key, "must be an integer");
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

bool config_reader::boolean_or(std::string_view key, bool fallback) {
  const auto* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(key, "must be true or false");
  return v->get<bool>();
}

std::optional<secret> config_reader::optional_secret(std::string_view key) {
  const auto* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string() || v->get_ref<const std::string&>().empty())
    fail(key, "must name an environment variable");
  const auto& var = v->get_ref<const std::string&>();
  auto value = env_(var);
  // Name the variable, never its value.
  if (!value || value->empty()) fail(key, "names environment variable " + var + ", which is not set or empty");
  return secret(std::move(*value));
}

secret config_reader::required_secret(std::string_view key) {
  if (!has(key)) {
    seen_.emplace(key);
    fail(key, "is required (the name of an environment variable holding the secret)");
  }
  return *optional_secret(key);
}

rotating_secret config_reader::required_rotating_secret(std::string_view key, std::string_view previous_key) {
  rotating_secret s{required_secret(key), optional_secret(previous_key).value_or(secret())};
  if (!s.previous.empty() && s.previous.reveal() == s.current.reveal())
    fail(previous_key, "names a variable holding the same value as " + std::string(key) + "'s");
  return s;
}

void config_reader::allow(std::string_view key) { seen_.emplace(key); }

void config_reader::finish() const {
  std::string unknown;
  for (const auto& [key, value] : object_.items()) {
    if (seen_.count(key)) continue;
    if (!unknown.empty()) unknown += ", ";
    unknown += "\"" + key + "\"";
  }
  if (!unknown.empty()) throw config_error(where_ + ": unknown key(s) " + unknown);
}

}  // namespace pasokh::connectors
