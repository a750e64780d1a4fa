#include "pasokh/connectors/email/automatic.hpp"

#include "util.hpp"

namespace pasokh::connectors::email {

using detail::iequals;
using detail::to_lower;
using detail::trim;

std::string automatic_reason(const header_list& headers, std::string_view from_address,
                             std::string_view content_type) {
  for (const auto& [name, raw_value] : headers) {
    auto value = trim(raw_value);
    if (iequals(name, "Auto-Submitted")) {
      auto token = trim(value.substr(0, value.find_first_of(";( \t")));
      if (!token.empty() && !iequals(token, "no")) return "Auto-Submitted: " + to_lower(token);
    } else if (iequals(name, "Precedence")) {
      auto v = to_lower(value);
      if (v == "bulk" || v == "junk" || v == "list" || v == "auto_reply") return "Precedence: " + v;
    } else if (iequals(name, "X-Auto-Response-Suppress") || iequals(name, "List-Id") ||
               iequals(name, "X-Autoreply") || iequals(name, "X-Autorespond")) {
      return name + " present";
    } else if (iequals(name, "Return-Path")) {
      std::string compact;
      for (char c : value)
        if (c != ' ' && c != '\t') compact += c;
      if (compact == "<>" || compact.empty()) return "empty Return-Path";
    }
  }
  auto at = from_address.find('@');
  auto local = from_address.substr(0, at);
  if (iequals(local, "mailer-daemon") || iequals(local, "postmaster")) return "sender " + to_lower(local);
  if (detail::istarts_with(trim(content_type), "multipart/report")) return "delivery report (multipart/report)";
  return {};
}

}  // namespace pasokh::connectors::email
