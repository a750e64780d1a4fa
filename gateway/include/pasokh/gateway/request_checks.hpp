#pragma once
// Common checks on request bodies and credentials, each answering with the
// specific 4xx a client needs to fix its request.
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/http.hpp"

namespace pasokh::gateway {

// An error response with a JSON body, counted in metrics by its code.
http_response reject(unsigned status, std::string_view code, std::string_view message);

// The body as a JSON object, or the error response (415, 400 invalid_utf8,
// 400 invalid_json, 400 invalid_body). Rejections are counted in metrics.
// `or_null`: a body of null is taken too (a value cleared, as business hours).
std::variant<nlohmann::json, http_response> json_body(const http_request& req, bool or_null = false);

// An id a client may name in a path or field: 1 to 128 of a-z A-Z 0-9 _ - .
// (customers, conversations, agents, attachments, links); anything else
// cannot be one of ours.
bool plain_id(std::string_view id);

// The token of "Authorization: Bearer <token>", empty when absent.
std::string bearer_token(const http_request& req);

// A JSON object's string field, "" when it is absent or not a string: a client
// may send {"client_id":5}, on which json::value would throw.
std::string string_or_empty(const nlohmann::json& j, const char* key);
// The client_id to echo in an answer ("" when none or not a string).
inline std::string client_id_of(const nlohmann::json& j) { return string_or_empty(j, "client_id"); }

// The client's address: the connection's, or with `trust_forwarded_for`
// (behind a proxy) the last of X-Forwarded-For, which that proxy appended.
std::string client_address(const http_request& req, bool trust_forwarded_for);

http_response unauthorized(std::string_view message);
http_response unavailable();  // 503 with Retry-After: storage is down

}  // namespace pasokh::gateway
