#include "pasokh/connectors/common/provider.hpp"

#include <charconv>

namespace pasokh::connectors {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> find_header(const std::vector<http_header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> provider_request::header(std::string_view name) const {
  return find_header(headers, name);
}
std::optional<std::string_view> provider_response::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string_view to_string(outcome_kind k) {
  switch (k) {
    case outcome_kind::delivered: return "delivered";
    case outcome_kind::retry: return "retry";
    case outcome_kind::rate_limited: return "rate_limited";
    case outcome_kind::permanent: return "permanent";
  }
  return "unknown";
}

std::string_view to_string(send_window w) {
  switch (w) {
    case send_window::open: return "open";
    case send_window::template_only: return "template_only";
    case send_window::human_agent_tag: return "human_agent_tag";
    case send_window::closed: return "closed";
  }
  return "unknown";
}

send_outcome send_outcome::delivered(std::string id) {
  return {outcome_kind::delivered, std::move(id), {}, {}};
}
send_outcome send_outcome::retry(std::string reason, std::chrono::milliseconds after) {
  return {outcome_kind::retry, {}, after, std::move(reason)};
}
send_outcome send_outcome::rate_limited(std::chrono::milliseconds after, std::string reason, rate_scope scope) {
  return {outcome_kind::rate_limited, {}, after, std::move(reason), scope};
}
send_outcome send_outcome::permanent(std::string reason) {
  return {outcome_kind::permanent, {}, {}, std::move(reason)};
}

std::optional<std::chrono::milliseconds> retry_after_header(const provider_response& r) {
  auto v = r.header("Retry-After");
  if (!v) return std::nullopt;
  std::string_view s = *v;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  long long seconds = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  // HTTP-dates are not worth parsing here: providers send seconds.
  if (ec != std::errc{} || end != s.data() + s.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::optional<send_outcome> classify_transport(const provider_response& r) {
  if (r.status == 0)
    return send_outcome::retry("transport: " + (r.transport_error.empty() ? "no response" : r.transport_error));
  if (r.status == 429)
    return send_outcome::rate_limited(retry_after_header(r).value_or(std::chrono::seconds(1)), "http 429");
  if (r.status == 408 || r.status >= 500)
    return send_outcome::retry("http " + std::to_string(r.status),
                               retry_after_header(r).value_or(std::chrono::milliseconds(0)));
  return std::nullopt;
}

send_outcome classify_error(const provider_response& r, const provider_error& e, std::span<const error_rule> rules) {
  const auto& text = e.text;
  if (e.code) {
    for (const auto& rule : rules) {
      if (rule.code != *e.code || (rule.subcode != 0 && rule.subcode != e.subcode)) continue;
      auto reason = std::string(rule.label) + ": " + text;
      auto after = retry_after_header(r).value_or(rule.after);
      switch (rule.kind) {
        case outcome_kind::rate_limited: return send_outcome::rate_limited(after, reason, rule.scope);
        case outcome_kind::retry: return send_outcome::retry(reason, after);
        default: return send_outcome::permanent(reason);
      }
    }
    if (e.transient) return send_outcome::retry("transient: " + text);
  }
  if (auto generic = classify_transport(r)) {
    if (!text.empty()) generic->reason += ": " + text;
    return *generic;
  }
  std::string label = e.code ? "error " + std::to_string(*e.code) : "http " + std::to_string(r.status);
  if (e.subcode) label += "/" + std::to_string(e.subcode);
  return send_outcome::permanent(label + (text.empty() ? "" : ": " + text));
}

}  // namespace pasokh::connectors
