#include "pasokh/gateway/webchat_token.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/gateway/base64url.hpp"

namespace pasokh::gateway {
namespace {

constexpr std::string_view token_version = "w1.";
constexpr std::size_t max_token_bytes = 512;

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view to_string(token_error e) {
  switch (e) {
    case token_error::malformed: return "token_invalid";
    case token_error::bad_signature: return "token_invalid";
    case token_error::expired: return "token_expired";
  }
  return "token_invalid";
}

std::string sign_visitor_token(const visitor_claims& claims, std::string_view secret) {
  nlohmann::json payload = {{"c", claims.channel}, {"v", claims.visitor_id}, {"e", claims.expires_at}};
  auto text = payload.dump();
  std::string signed_part(token_version);
  signed_part += base64url_encode(reinterpret_cast<const unsigned char*>(text.data()), text.size());
  auto mac = connectors::hmac_sha256(secret, signed_part);
  return signed_part + "." + base64url_encode(mac.data(), mac.size());
}

std::variant<visitor_claims, token_error> verify_visitor_token(std::string_view token, std::string_view secret,
                                                               std::int64_t now_s) {
  if (token.size() > max_token_bytes || token.substr(0, token_version.size()) != token_version)
    return token_error::malformed;
  auto dot = token.rfind('.');
  if (dot <= token_version.size()) return token_error::malformed;
  std::string signature;
  if (!base64url_decode(token.substr(dot + 1), signature) || signature.size() != 32) return token_error::malformed;
  auto expected = connectors::hmac_sha256(secret, token.substr(0, dot));
  if (CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) return token_error::bad_signature;

  // Signed by us: the payload is well-formed unless the secret leaked.
  std::string text;
  if (!base64url_decode(token.substr(token_version.size(), dot - token_version.size()), text))
    return token_error::malformed;
  visitor_claims claims;
  try {
    auto j = nlohmann::json::parse(text);
    claims.channel = j.at("c").get<std::string>();
    claims.visitor_id = j.at("v").get<std::string>();
    claims.expires_at = j.at("e").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return token_error::malformed;
  }
  if (claims.channel.empty() || !valid_visitor_id(claims.visitor_id)) return token_error::malformed;
  if (claims.expires_at <= now_s) return token_error::expired;
  return claims;
}

std::variant<verified_visitor, token_error> verify_visitor_token(std::string_view token, const token_secrets& secrets,
                                                                 std::int64_t now_s) {
  auto current = verify_visitor_token(token, secrets.current, now_s);
  if (auto* claims = std::get_if<visitor_claims>(&current)) return verified_visitor{std::move(*claims), false};
  auto error = std::get<token_error>(current);
  if (error != token_error::bad_signature || secrets.previous.empty()) return error;
  auto previous = verify_visitor_token(token, secrets.previous, now_s);
  if (auto* claims = std::get_if<visitor_claims>(&previous)) return verified_visitor{std::move(*claims), true};
  return std::get<token_error>(previous);
}

std::string new_visitor_id() {
  unsigned char buf[16];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  return "v_" + base64url_encode(buf, sizeof buf);
}

bool valid_visitor_id(std::string_view id) {
  return id.size() > 2 && id.size() <= 64 && id.substr(0, 2) == "v_" && std::all_of(id.begin() + 2, id.end(), is_id_char);
}

std::string normalize_origin_pattern(std::string_view pattern) {
  if (pattern == "*" || pattern == "null") return std::string(pattern);
  auto p = lower(pattern);
  while (!p.empty() && p.back() == '/') p.pop_back();
  auto scheme_end = p.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) return {};
  auto scheme = std::string_view(p).substr(0, scheme_end);
  auto host = std::string_view(p).substr(scheme_end + 3);
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (host.empty()) return {};
  for (char c : scheme)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return {};
  for (char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' || c == '[' ||
          c == ']'))
      return {};
  return p;
}

bool origin_allowed(std::string_view origin, std::string_view host_header, const std::vector<std::string>& allowed,
                    bool allow_missing) {
  if (origin.empty()) return allow_missing;
  if (origin.size() > 256) return false;
  auto o = lower(origin);
  if (o == "null") return std::find(allowed.begin(), allowed.end(), "null") != allowed.end();
  auto scheme_end = o.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string_view host = std::string_view(o).substr(scheme_end + 3);
  if (host.empty() || host.find('/') != std::string_view::npos) return false;
  if (!host_header.empty() && host == lower(host_header)) return true;  // same origin
  for (const auto& pattern : allowed) {
    if (pattern == "*") return true;
    auto wildcard = pattern.find("://*.");
    if (wildcard == std::string::npos) {
      if (pattern == o) return true;
      continue;
    }
    // "https://*.example.com" matches "https://a.example.com" and "https://a.b.example.com".
    auto scheme = std::string_view(pattern).substr(0, wildcard);
    auto suffix = std::string_view(pattern).substr(wildcard + 4);  // ".example.com"
    if (std::string_view(o).substr(0, scheme_end) == scheme && host.size() > suffix.size() &&
        host.ends_with(suffix))
      return true;
  }
  return false;
}

}  // namespace pasokh::gateway
