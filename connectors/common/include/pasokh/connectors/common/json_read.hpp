#pragma once
// Reading untrusted provider JSON without exceptions escaping. For the parsers'
// .cpp files only (it pulls in all of nlohmann/json).
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pasokh/connectors/common/webhook.hpp"

namespace pasokh::connectors::json_read {

using json = nlohmann::json;

// Thrown by the require_* helpers; read_one skips the item it is about, and
// run_guarded turns one outside any item into a 400 naming `message`.
struct shape_error {
  std::string message;
};

// nullptr when `obj` is not an object or the key is missing or null.
const json* find(const json& obj, std::string_view key);
const json* find_object(const json& obj, std::string_view key);
const json* find_array(const json& obj, std::string_view key);

std::optional<std::string> opt_string(const json& obj, std::string_view key);
// An integer, or a string of decimal digits (WhatsApp sends timestamps as strings).
std::optional<std::int64_t> opt_int(const json& obj, std::string_view key);
std::optional<double> opt_number(const json& obj, std::string_view key);
bool opt_bool(const json& obj, std::string_view key);
// An id the provider sends as a number or a string, as a string ("-1001234").
std::optional<std::string> opt_id(const json& obj, std::string_view key);

// `where` names the place for the error message: "message", "entry[0].changes[1]".
std::string require_string(const json& obj, std::string_view key, std::string_view where);
std::string require_id(const json& obj, std::string_view key, std::string_view where);
std::int64_t require_int(const json& obj, std::string_view key, std::string_view where);
const json& require_object(const json& obj, std::string_view key, std::string_view where);
const json& require_array(const json& obj, std::string_view key, std::string_view where);

// Parses the body without throwing: nullopt for invalid JSON (including invalid UTF-8).
std::optional<json> parse_body(std::string_view body);

// Reads one item of a batch (`where`: "entry[0].messaging[1]"). When it is not
// the provider's shape only that item is left out - counted
// "ignored_malformed", noted with its place - and the batch's other items are
// kept: a refused batch would be redelivered, refused again, and all of it lost.
void read_one(webhook_result& out, std::string_view where, const std::function<void()>& read);
// read_one for each item of the array `items`, found at `where`: `read` gets
// the item and its place ("entry[0].messaging[2]").
void read_each(webhook_result& out, const json& items, std::string_view where,
               const std::function<void(const json& item, const std::string& at)>& read);

// Runs a parser body: shape_error -> 400 invalid_payload, JSON type errors ->
// 400, anything else -> 500. Nothing escapes.
webhook_result run_guarded(const std::function<webhook_result()>& parse);

}  // namespace pasokh::connectors::json_read
