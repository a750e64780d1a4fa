#pragma once
// Visitor tokens and Origin checks for the web chat. Pure functions, no I/O.
//
// A visitor token is "w1.<payload>.<signature>": payload is base64url JSON
// {"c": channel, "v": visitor id, "e": expiry (Unix seconds)}, signature is
// base64url HMAC-SHA256(secret, "w1.<payload>"). Anyone may read a token; only
// the server can make one. The signature is compared in constant time before
// the payload is parsed.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pasokh::gateway {

struct visitor_claims {
  std::string channel;
  std::string visitor_id;
  std::int64_t expires_at = 0;  // Unix seconds
  bool operator==(const visitor_claims&) const = default;
};

enum class token_error { malformed, bad_signature, expired };
std::string_view to_string(token_error e);

std::string sign_visitor_token(const visitor_claims& claims, std::string_view secret);
std::variant<visitor_claims, token_error> verify_visitor_token(std::string_view token, std::string_view secret,
                                                               std::int64_t now_s);

// While the secret is rotated: a token signed with `previous` (when not
// empty) is good too, and `by_previous` says that one signed it.
struct token_secrets {
  std::string_view current;
  std::string_view previous;
};
struct verified_visitor {
  visitor_claims claims;
  bool by_previous = false;
};
std::variant<verified_visitor, token_error> verify_visitor_token(std::string_view token, const token_secrets& secrets,
                                                                 std::int64_t now_s);

// A new visitor id: "v_" followed by 22 base64url characters (128 random bits).
std::string new_visitor_id();
// Visitor ids as issued (also bounds what a forged-but-signed id could be).
bool valid_visitor_id(std::string_view id);

// Is a browser Origin ("https://shop.example:8443") allowed to embed the
// channel? `allowed` holds exact origins, "https://*.example.com" (any
// subdomain, not the apex), or "*" (any origin except "null"). An Origin
// whose host[:port] equals the request's Host header is same-origin and always
// allowed. A missing Origin (not a browser) is allowed when `allow_missing`.
bool origin_allowed(std::string_view origin, std::string_view host_header, const std::vector<std::string>& allowed,
                    bool allow_missing);
// Normalizes an origin pattern for comparison (lower case, no trailing '/');
// empty when it is not "scheme://host[:port]", "scheme://*.host[:port]", "*" or "null".
std::string normalize_origin_pattern(std::string_view pattern);

}  // namespace pasokh::gateway
