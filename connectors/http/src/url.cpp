#include "pasokh/connectors/http/url.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace pasokh::connectors::http {

std::optional<url> parse_url(std::string_view text) {
  url u;
  if (text.rfind("https://", 0) == 0) {
    u.scheme = "https";
    u.port = 443;
    text.remove_prefix(8);
  } else if (text.rfind("http://", 0) == 0) {
    u.scheme = "http";
    u.port = 80;
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  auto path_at = text.find_first_of("/?#");
  std::string_view authority = text.substr(0, path_at);
  std::string_view rest = path_at == std::string_view::npos ? std::string_view{} : text.substr(path_at);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);

  std::string_view port;
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty() || u.host.find_first_of(" \t\r\n/\\") != std::string::npos) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(value);
  }
  for (auto& c : u.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));  // hosts are case-insensitive
  u.target = rest.empty() ? "/" : rest.front() == '/' ? std::string(rest) : "/" + std::string(rest);
  return u;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

}  // namespace pasokh::connectors::http
