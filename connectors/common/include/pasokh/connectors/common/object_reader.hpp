#pragma once
// Reads a config file's JSON object field by field into variables that hold
// the defaults, and rejects keys nobody asked for (done()), so a misspelt
// setting is an error instead of being silently ignored. Errors name the
// object's path: "listen: \"port\" has the wrong type".
#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pasokh::connectors {

class object_reader {
 public:
  object_reader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail("must be an object");
  }

  // Leaves `out` as it is when the key is absent.
  template <class T>
  void get(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    try {
      it->get_to(out);
    } catch (const nlohmann::json::exception&) {
      fail(fmt::format("\"{}\" has the wrong type", key));
    }
  }
  // A duration given in milliseconds, at least `min`.
  void get_ms(const char* key, std::chrono::milliseconds& out, std::chrono::milliseconds min = {}) {
    std::int64_t v = out.count();
    get(key, v);
    if (v < min.count()) fail(fmt::format("\"{}\" must be at least {}", key, min.count()));
    out = std::chrono::milliseconds(v);
  }
  // A count or size that must be positive.
  void get_size(const char* key, std::size_t& out) {
    auto v = static_cast<std::int64_t>(out);
    get(key, v);
    if (v <= 0) fail(fmt::format("\"{}\" must be positive", key));
    out = static_cast<std::size_t>(v);
  }
  // A nested value to read with its own reader, or nullptr when absent.
  const nlohmann::json* sub(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  // Throws naming the first key that was never read.
  void done() const {
    for (const auto& [key, _] : j_.items())
      if (!seen_.count(key)) fail(fmt::format("unknown key \"{}\"", key));
  }

  std::string path(const char* key) const { return path_ + "." + key; }
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(path_ + ": " + what); }

 private:
  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace pasokh::connectors
