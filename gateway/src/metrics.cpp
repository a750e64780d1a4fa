#include "pasokh/gateway/metrics.hpp"

#include <fmt/format.h>

namespace pasokh::gateway {
namespace {

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto pos = s.find(',');
    out.emplace_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return out;
    s.remove_prefix(pos + 1);
  }
}

// Prometheus label values escape backslash, quote and newline.
void append_escaped(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
}

// l1="v1",l2="v2": the series' key and its text in the exposition.
std::string render_labels(const std::vector<std::string>& names, std::initializer_list<std::string_view> values) {
  std::string out;
  std::size_t i = 0;
  for (auto value : values) {
    if (i == names.size()) break;
    if (i) out += ',';
    out += names[i++];
    out += "=\"";
    append_escaped(out, value);
    out += '"';
  }
  return out;
}

}  // namespace

counter_family::counter_family(std::string name, std::string help, std::string label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(split_commas(label_names)) {}

// The key is rendered before the lock is taken (every request counts).
std::atomic<std::uint64_t>& counter_family::slot(std::string key) {
  auto it = values_.find(key);
  if (it == values_.end()) it = values_.emplace(std::move(key), std::make_unique<std::atomic<std::uint64_t>>(0)).first;
  return *it->second;
}

void counter_family::inc(label_values values, std::uint64_t by) {
  auto key = render_labels(label_names_, values);
  std::lock_guard lock(mutex_);
  slot(std::move(key)).fetch_add(by, std::memory_order_relaxed);
}

void counter_family::set(label_values values, std::uint64_t to) {
  auto key = render_labels(label_names_, values);
  std::lock_guard lock(mutex_);
  slot(std::move(key)).store(to, std::memory_order_relaxed);
}

std::uint64_t counter_family::value(label_values values) const {
  auto key = render_labels(label_names_, values);
  std::lock_guard lock(mutex_);
  auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

void counter_family::render(std::string& out, std::string_view type) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type);
  std::lock_guard lock(mutex_);
  for (const auto& [labels, value] : values_)
    out += fmt::format("{}{{{}}} {}\n", name_, labels, value->load(std::memory_order_relaxed));
}

void gauge::render(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name_, help_, name_, name_, value());
}

void histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void histogram::render(std::string& out) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name_, help_, name_);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name_, bounds[i], cumulative);
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name_, cumulative);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name_, sum_micros_.load() / 1e6, name_, count_.load());
}

void render_gauge(std::string& out, std::string_view name, std::string_view help, std::string_view label,
                  const std::vector<std::pair<std::string, double>>& rows) {
  out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  const std::vector<std::string> names{std::string(label)};
  for (const auto& [value, sample] : rows) out += fmt::format("{}{{{}}} {}\n", name, render_labels(names, {value}), sample);
}

std::string metrics::render() const {
  std::string out;
  // Which build answers (set by CMake from the project's version).
  render_gauge(out, "pasokh_build_info", "Always 1; the label says which version of Pasokh answers", "version",
               {{PASOKH_VERSION, 1}});
  http_requests.render(out);
  errors.render(out);
  routing_events.render(out);
  inbound_messages.render(out);
  outbound_messages.render(out);
  outbound_results.render(out);
  channel_unavailable.render(out);
  dedup_hits.render(out);
  webhook_items.render(out);
  email_automatic.render(out);
  campaign_messages.render(out);
  webchat_replies_mailed.render(out);
  webchat_uploads.render(out);
  meta_media_copies.render(out);
  provider_token_refused.render(out);
  followup_abandoned.render(out);
  auth_previous_key.render(out);
  ws_closed.render(out);
  ws_sessions.render(out);
  http_connections.render(out);
  redis_latency.render(out);
  redis_failures.render(out);
  redis_connected.render(out, "gauge");
  redis_evicting_policy.render(out, "gauge");
  redis_reconnects.render(out);
  return out;
}

metrics& global_metrics() {
  static metrics instance;
  return instance;
}

}  // namespace pasokh::gateway
