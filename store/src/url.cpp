#include "pasokh/store/redis_client.hpp"

#include <charconv>
#include <limits>
#include <stdexcept>

namespace pasokh::store {
namespace {

// Messages never quote the URL: it may carry the password.
[[noreturn]] void fail(const char* what) {
  throw std::invalid_argument(std::string("invalid redis url: ") + what);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Passwords with ':', '@' or '/' have to be percent-encoded in a URL.
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) fail("truncated percent escape");
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) fail("bad percent escape");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

int parse_int(std::string_view text, int min, int max, const char* what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
    fail(what);
  return value;
}

void parse_userinfo(std::string_view userinfo, redis_config& cfg) {
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) fail("credentials must be [user]:password");
  cfg.username = percent_decode(userinfo.substr(0, colon));
  cfg.password = percent_decode(userinfo.substr(colon + 1));
}

void parse_host_port(std::string_view authority, redis_config& cfg) {
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated IPv6 address");
    cfg.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) fail("garbage after IPv6 address");
      port = after.substr(1);
      if (port.empty()) fail("empty port");
    }
  } else {
    auto colon = authority.find(':');
    cfg.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) fail("empty port");
    }
  }
  if (cfg.host.empty()) fail("missing host");
  if (!port.empty()) cfg.port = parse_int(port, 1, 65535, "bad port");
}

}  // namespace

redis_config parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) fail("scheme must be redis:// (TLS is not supported)");
  auto rest = url.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) fail("query and fragment are not supported");

  redis_config cfg;
  auto slash = rest.find('/');
  auto before_path = rest.substr(0, slash);
  if (auto at = before_path.rfind('@'); at != std::string_view::npos) {
    parse_userinfo(before_path.substr(0, at), cfg);
    before_path = before_path.substr(at + 1);
  }
  parse_host_port(before_path, cfg);

  if (slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty()) cfg.database = parse_int(db, 0, std::numeric_limits<int>::max(), "bad database number");
  }
  return cfg;
}

}  // namespace pasokh::store
