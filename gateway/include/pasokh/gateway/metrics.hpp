#pragma once
// Process-wide Prometheus metrics: labelled counters, gauges and one latency
// histogram family. Cheap to call from any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pasokh::gateway {

// pasokh_auth_previous_key_total's label for scrapes with the previous metrics
// token (channel ids cannot contain '/', so it names no channel).
inline constexpr std::string_view metrics_token_label = "/metrics";

class counter_family {
 public:
  // One value per label, in declaration order.
  using label_values = std::initializer_list<std::string_view>;

  counter_family(std::string name, std::string help, std::string label_names);
  // A value may hold any text (commas, quotes, newlines): it is escaped, never
  // split. inc(v) is inc({v}) for a family of one label.
  void inc(label_values values, std::uint64_t by = 1);
  void inc(std::string_view value, std::uint64_t by = 1) { inc({value}, by); }
  // For values read when scraped (a link's state, a count kept elsewhere).
  void set(label_values values, std::uint64_t to);
  std::uint64_t value(label_values values) const;
  std::uint64_t value(std::string_view value) const { return this->value({value}); }
  void render(std::string& out, std::string_view type = "counter") const;

 private:
  std::atomic<std::uint64_t>& slot(std::string key);  // under mutex_

  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mutex_;
  // Keyed by the rendered label pairs (l1="v1",l2="v2"), escaped.
  std::map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>, std::less<>> values_;
};

class gauge {
 public:
  gauge(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  void add(std::int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::atomic<std::int64_t> value_{0};
};

class histogram {
 public:
  static constexpr std::array<double, 12> bounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
  histogram(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
  void observe(double seconds);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};
};

struct metrics {
  counter_family http_requests{"pasokh_http_requests_total", "HTTP requests by route and status", "route,status"};
  counter_family errors{"pasokh_errors_total", "Rejected input and internal errors by kind", "kind"};
  counter_family inbound_messages{"pasokh_inbound_messages_total", "Inbound events stored, by channel", "channel"};
  // Every entry of a channel's outbox (agent replies, bot answers, surveys,
  // campaign and system messages), counted once: by the gateway whose outbox
  // worker reads it first (main.cpp), so the sum over gateways is the total.
  counter_family outbound_messages{"pasokh_outbound_messages_total",
                                   "Outbound messages taken from the channel's outbox (any author), by channel", "channel"};
  // Each send attempt's outcome, where the outbox worker records it (main.cpp).
  counter_family outbound_results{"pasokh_outbound_results_total",
                                  "Outbox send attempts by channel and result (sent, failed, retry, rate_limited)",
                                  "channel,result"};
  // Messages on a channel no live gateway sends on (routing/channel_servers.hpp):
  // agents' replies refused ("refused"), queued ones marked failed once the
  // channel's last gateway was gone for the grace ("failed").
  counter_family channel_unavailable{"pasokh_channel_unavailable_total",
                                     "Messages on a channel no live gateway sends on, by channel and outcome (refused, failed)",
                                     "channel,outcome"};
  counter_family dedup_hits{"pasokh_dedup_hits_total", "Inbound events dropped as duplicates, by channel", "channel"};
  // Messenger webhook items that stored no new event: what the parser skipped
  // ("ignored_group"), unknown message ids, duplicates, echoes of our own sends.
  counter_family webhook_items{"pasokh_webhook_items_total", "Messenger webhook items not stored as new events, by channel and reason",
                               "channel,what"};
  // Automatic mail (bounces, auto-replies, list mail): kept in the conversation
  // it threads to ("in_conversation"), noted in the channel's stream
  // ("unthreaded"), and outbound mail a bounce marked failed ("bounced").
  counter_family email_automatic{"pasokh_email_automatic_total",
                                 "Automatic mail by channel and where it went (in_conversation, unthreaded, bounced)",
                                 "channel,outcome"};
  counter_family routing_events{"pasokh_routing_events_total", "Routing events (assigned, reassigned_no_reply, sla_breach, ...)", "kind"};
  // Counted where each outcome happens: the campaign loop (queued, skipped_*),
  // delivery marks (sent, delivered, read, failed).
  counter_family campaign_messages{"pasokh_campaign_messages_total",
                                   "Campaign messages by outcome (queued, sent, delivered, read, failed, skipped_*)", "outcome"};
  // Web chat replies the customer did not read in time, mailed to them (one
  // mail may carry several), by web chat channel.
  counter_family webchat_replies_mailed{"pasokh_webchat_replies_mailed_total",
                                        "Web chat replies mailed to the customer after they went unread, by channel",
                                        "channel"};
  // Files web chat visitors sent: accepted, or refused by reason (too_large,
  // unsupported_type, empty, rate_limited, unauthorized).
  counter_family webchat_uploads{"pasokh_webchat_uploads_total",
                                 "Web chat uploads by outcome (accepted, too_large, unsupported_type, empty, rate_limited, unauthorized)",
                                 "outcome"};
  // Messenger and Instagram files copied to Redis (meta_media_copies.cpp), or
  // left with their expiring URL and why; gone: the conversation was erased first.
  counter_family meta_media_copies{"pasokh_meta_media_copies_total",
                                   "Messenger and Instagram attachments copied, or kept as their URL and why "
                                   "(copied, not_found, too_big, timeout, failed, store_failed, no_room, "
                                   "refused_host, over_budget, gone), by channel",
                                   "channel,outcome"};
  // Sends a provider refused for the channel's expired or revoked access
  // token (Graph API error 190): replies wait until an admin renews it.
  counter_family provider_token_refused{"pasokh_provider_token_refused_total",
                                        "Sends refused for an expired or revoked access token, by channel", "channel"};
  // Follow-ups of stored customer messages given up after 8 failed runs
  // (gateway/src/followup.cpp; the member is kept in followup:dead and the
  // log has an error with its conv and seq), by who gave up: sweep, retry.
  counter_family followup_abandoned{"pasokh_followup_abandoned_total",
                                    "Follow-ups of stored customer messages given up after 8 failed runs, by sweep or retry",
                                    "by"};
  // Callers let in by the secret a rotation replaces: an API channel's
  // previous_api_key_env, a visitor token signed with
  // webchat.previous_secret_env (by web chat channel), a webhook signed with a
  // Telegram or Meta channel's previous secret, a scrape with
  // metrics.previous_token_env (channel="/metrics"). When it stays flat on
  // every instance the old secret can go.
  counter_family auth_previous_key{"pasokh_auth_previous_key_total",
                                   "Requests let in by the previous key or secret of a rotation, by channel", "channel"};
  counter_family ws_closed{"pasokh_websocket_closed_total", "WebSocket sessions closed, by close code", "endpoint,code"};
  gauge ws_sessions{"pasokh_websocket_sessions", "Open WebSocket sessions"};
  gauge http_connections{"pasokh_http_connections", "Open HTTP connections"};
  histogram redis_latency{"pasokh_redis_command_seconds", "Redis command round-trip time (also of commands that got no reply)"};
  counter_family redis_failures{"pasokh_redis_failures_total",
                                "Redis commands that got no reply, by reason (timed_out, connection_lost)", "reason"};
  // Set when scraped (handlers.cpp): "commands" is the shared command link,
  // "pubsub" the one that carries live events to agents.
  counter_family redis_connected{"pasokh_redis_connected", "Whether the Redis connection is up (1) or down (0), by connection",
                                 "connection"};
  // Set at each connection (redis_memory.cpp): 1 for a maxmemory-policy that
  // may evict keys, 0 for one since mended.
  counter_family redis_evicting_policy{"pasokh_redis_evicting_policy",
                                       "1 while Redis's maxmemory-policy (the label) may evict keys; set noeviction",
                                       "policy"};
  counter_family redis_reconnects{"pasokh_redis_reconnects_total",
                                  "Redis connections established again after being lost, by connection", "connection"};

  // Also pasokh_build_info{version}, always 1.
  std::string render() const;
};

// A gauge family of one label read afresh at each scrape (a queue's length
// in Redis): only the rows given are shown, so a series gone since (a team
// deleted) leaves the output too.
void render_gauge(std::string& out, std::string_view name, std::string_view help, std::string_view label,
                  const std::vector<std::pair<std::string, double>>& rows);

metrics& global_metrics();

}  // namespace pasokh::gateway
