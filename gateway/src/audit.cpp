#include "pasokh/gateway/audit.hpp"

#include <spdlog/spdlog.h>

namespace pasokh::gateway {

namespace {

void append_value(std::string& out, std::string_view v) {
  for (unsigned char c : v) out += c <= ' ' || c == 0x7f ? '_' : static_cast<char>(c);
}

}  // namespace

std::string audit_line(std::string_view admin, std::string_view action, std::string_view target, std::string_view detail) {
  std::string out = "admin=";
  append_value(out, admin);
  out += " action=";
  append_value(out, action);
  out += " target=";
  append_value(out, target);
  if (!detail.empty()) {
    out += ' ';
    for (unsigned char c : detail) out += c < ' ' || c == 0x7f ? '_' : static_cast<char>(c);  // key=value pairs, spaced
  }
  return out;
}

void audit(std::string_view admin, std::string_view action, std::string_view target, std::string_view detail) {
  if (auto log = spdlog::get("audit")) log->info("{}", audit_line(admin, action, target, detail));
}

}  // namespace pasokh::gateway
