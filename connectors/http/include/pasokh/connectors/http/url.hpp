#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pasokh::connectors::http {

struct url {
  std::string scheme;  // "http" or "https"
  std::string host;    // IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"
  bool operator==(const url&) const = default;
};

// Absolute http(s) URLs only; nullopt for anything else, including user:pass@.
std::optional<url> parse_url(std::string_view text);

// "localhost", 127.0.0.0/8 and ::1: the only hosts plain http may reach.
bool is_loopback_host(std::string_view host);

}  // namespace pasokh::connectors::http
