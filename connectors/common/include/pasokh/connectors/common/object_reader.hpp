#pragma once
// Reads a config file's JSON object field by field into variables that hold
// the defaults, and rejects keys nobody asked for (done()), so a misspelt
// setting is an error instead of being silently ignored. Errors name the
// object's path: "listen: \"port\" has the wrong type".
#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pasokh::connectors {

class object_reader {
 public:
  object_reader(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail("must be an object");
  }

  // Leaves `out` as it is when the key is absent. A whole number must fit
  // `out`'s type: JSON's own conversion would wrap it silently (a port of
  // 70000 listening on 4464, a byte limit of -1 lifting the limit).
  template <class T>
  void get(const char* key, T& out) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!it->is_number_integer()) fail(fmt::format("\"{}\" must be a whole number", key));
      const bool fits = it->is_number_unsigned() ? std::in_range<T>(it->template get<std::uint64_t>())
                                                 : std::in_range<T>(it->template get<std::int64_t>());
      if (!fits) fail(fmt::format("\"{}\" is out of range ({} to {})", key, std::numeric_limits<T>::min(),
                                  std::numeric_limits<T>::max()));
    }
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
