#include "pasokh/gateway/audit.hpp"

#include <spdlog/spdlog.h>

namespace pasokh::gateway {

namespace {

// Control characters (and spaces, unless kept) become '_' so one value cannot
// forge another field or line.
void append_value(std::string& out, std::string_view v, bool keep_spaces = false) {
  for (unsigned char c : v) {
    const bool replaced = c < ' ' || c == 0x7f || (c == ' ' && !keep_spaces);
    out += replaced ? '_' : static_cast<char>(c);
  }
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
    append_value(out, detail, /*keep_spaces=*/true);  // key=value pairs, spaced
  }
  return out;
}

void audit(std::string_view admin, std::string_view action, std::string_view target, std::string_view detail) {
  if (auto log = spdlog::get("audit")) log->info("{}", audit_line(admin, action, target, detail));
}

}  // namespace pasokh::gateway
