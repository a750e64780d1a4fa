#include "pasokh/connectors/common/json_read.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>

namespace pasokh::connectors::json_read {
namespace {

std::string place(std::string_view where, std::string_view key) {
  std::string s(where);
  if (!s.empty()) s += '.';
  s += key;
  return s;
}

}  // namespace

const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json* find_object(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  return v && v->is_object() ? v : nullptr;
}

const json* find_array(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  return v && v->is_array() ? v : nullptr;
}

std::optional<std::string> opt_string(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::int64_t> opt_int(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      return std::nullopt;
    return v->get<std::int64_t>();
  }
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) return n;
  }
  return std::nullopt;
}

std::optional<double> opt_number(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

bool opt_bool(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  return v && v->is_boolean() && v->get<bool>();
}

std::optional<std::string> opt_id(const json& obj, std::string_view key) {
  const auto* v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_string() && !v->get_ref<const std::string&>().empty()) return v->get<std::string>();
  if (v->is_number_unsigned()) return std::to_string(v->get<std::uint64_t>());
  if (v->is_number_integer()) return std::to_string(v->get<std::int64_t>());
  return std::nullopt;
}

std::string require_string(const json& obj, std::string_view key, std::string_view where) {
  auto v = opt_string(obj, key);
  if (!v) throw shape_error{place(where, key) + " must be a string"};
  return *v;
}

std::string require_id(const json& obj, std::string_view key, std::string_view where) {
  auto v = opt_id(obj, key);
  if (!v) throw shape_error{place(where, key) + " must be an id (number or string)"};
  return *v;
}

std::int64_t require_int(const json& obj, std::string_view key, std::string_view where) {
  auto v = opt_int(obj, key);
  if (!v) throw shape_error{place(where, key) + " must be an integer"};
  return *v;
}

const json& require_object(const json& obj, std::string_view key, std::string_view where) {
  const auto* v = find_object(obj, key);
  if (!v) throw shape_error{place(where, key) + " must be an object"};
  return *v;
}

const json& require_array(const json& obj, std::string_view key, std::string_view where) {
  const auto* v = find_array(obj, key);
  if (!v) throw shape_error{place(where, key) + " must be an array"};
  return *v;
}

std::optional<json> parse_body(std::string_view body) {
  // allow_exceptions=false gives a `discarded` value instead of throwing.
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void read_one(webhook_result& out, std::string_view where, const std::function<void()>& read) {
  auto kept = out.events.size();
  std::string note;
  try {
    read();
    return;
  } catch (const shape_error& e) {
    note = e.message;
  } catch (const json::exception& e) {
    note = std::string(where) + ": unexpected JSON shape: " + e.what();
  }
  // Whatever the item gave before it failed goes with it.
  out.events.erase(out.events.begin() + static_cast<std::ptrdiff_t>(kept), out.events.end());
  out.skip("ignored_malformed", std::move(note));
}

void read_each(webhook_result& out, const json& items, std::string_view where,
               const std::function<void(const json& item, const std::string& at)>& read) {
  for (std::size_t k = 0; k < items.size(); ++k) {
    std::string at = std::string(where) + "[" + std::to_string(k) + "]";
    read_one(out, at, [&] { read(items[k], at); });
  }
}

webhook_result run_guarded(const std::function<webhook_result()>& parse) {
  try {
    return parse();
  } catch (const shape_error& e) {
    return webhook_result::failure(webhook_error::invalid_payload, e.message);
  } catch (const json::exception& e) {
    return webhook_result::failure(webhook_error::invalid_payload, std::string("unexpected JSON shape: ") + e.what());
  } catch (const std::exception& e) {
    return webhook_result::failure(webhook_error::internal, e.what());
  } catch (...) {
    return webhook_result::failure(webhook_error::internal, "unknown error");
  }
}

}  // namespace pasokh::connectors::json_read
