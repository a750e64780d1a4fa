#include "pasokh/connectors/email/automatic.hpp"

#include "util.hpp"

namespace pasokh::connectors::email {

using detail::iequals;
using detail::to_lower;
using detail::trim;

namespace {

constexpr std::size_t max_diagnostic_bytes = 300;

// "Name: value" fields of a header-like block, folded lines joined; a blank
// line (between a DSN's per-recipient groups) is passed as an empty name.
template <class F>
void each_field(std::string_view block, F&& on_field) {
  std::string name, value;
  auto flush = [&] {
    if (!name.empty()) on_field(std::string_view(name), trim(value));
    name.clear();
    value.clear();
  };
  for (auto line : detail::split_lines(block)) {
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (!name.empty()) value += " " + std::string(trim(line));
      continue;
    }
    flush();
    if (trim(line).empty()) {
      on_field(std::string_view{}, std::string_view{});
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    name = std::string(trim(line.substr(0, colon)));
    value = std::string(line.substr(colon + 1));
  }
  flush();
}

}  // namespace

void read_delivery_status(std::string_view body, delivery_report& report) {
  // Per recipient: Action, Status and Diagnostic-Code, in any order.
  bool failed = false;
  std::string status, diagnostic;
  auto end_of_recipient = [&] {
    if (failed && !report.failed) {
      report.failed = true;
      auto why = diagnostic.empty() ? status : diagnostic;
      report.diagnostic = detail::sanitize_utf8(detail::utf8_prefix(why, max_diagnostic_bytes));
    }
    failed = false;
    status.clear();
    diagnostic.clear();
  };
  each_field(body, [&](std::string_view name, std::string_view value) {
    if (name.empty()) end_of_recipient();
    else if (iequals(name, "Action")) failed = iequals(value, "failed");
    else if (iequals(name, "Status")) status = std::string(value);
    else if (iequals(name, "Diagnostic-Code")) {
      auto semi = value.find(';');  // "smtp; 550 5.1.1 ..."
      diagnostic = std::string(trim(semi == std::string_view::npos ? value : value.substr(semi + 1)));
    }
  });
  end_of_recipient();
}

std::string message_id_in_headers(std::string_view headers) {
  std::string id;
  each_field(headers, [&](std::string_view name, std::string_view value) {
    if (!id.empty() || !iequals(name, "Message-ID")) return;
    value = trim(value);
    if (value.size() >= 2 && value.front() == '<' && value.back() == '>') value = value.substr(1, value.size() - 2);
    value = trim(value);
    if (!value.empty() && value.find_first_of(" \t<>") == std::string_view::npos) id = detail::sanitize_utf8(value);
  });
  return id;
}

bool mail_system_sender(std::string_view address) {
  auto local = address.substr(0, address.find('@'));
  return iequals(local, "mailer-daemon") || iequals(local, "postmaster");
}

std::string automatic_reason(const header_list& headers, std::string_view from_address,
                             std::string_view content_type, bool lists) {
  for (const auto& [name, raw_value] : headers) {
    auto value = trim(raw_value);
    if (iequals(name, "Auto-Submitted")) {
      auto token = trim(value.substr(0, value.find_first_of(";( \t")));
      if (!token.empty() && !iequals(token, "no")) return "Auto-Submitted: " + to_lower(token);
    } else if (iequals(name, "Precedence")) {
      auto v = to_lower(value);
      if (v == "bulk" || v == "junk" || (v == "list" && lists) || v == "auto_reply") return "Precedence: " + v;
    } else if (iequals(name, "X-Auto-Response-Suppress") || (iequals(name, "List-Id") && lists) ||
               iequals(name, "X-Autoreply") || iequals(name, "X-Autorespond")) {
      return name + " present";
    } else if (iequals(name, "Return-Path")) {
      std::string compact;
      for (char c : value)
        if (c != ' ' && c != '\t') compact += c;
      if (compact == "<>" || compact.empty()) return "empty Return-Path";
    }
  }
  if (mail_system_sender(from_address)) return "sender " + to_lower(from_address.substr(0, from_address.find('@')));
  if (detail::istarts_with(trim(content_type), "multipart/report")) return "delivery report (multipart/report)";
  return {};
}

bool list_mail(std::string_view reason, const header_list& headers, std::string_view from_address,
               std::string_view content_type) {
  return !reason.empty() && automatic_reason(headers, from_address, content_type, false).empty();
}

}  // namespace pasokh::connectors::email
