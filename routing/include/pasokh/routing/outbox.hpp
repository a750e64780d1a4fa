#pragma once
// The durable outbox of one channel. Replies wait in the Redis stream
// <prefix>outbox:<channel> (field "m", an outbound_message as JSON) and are
// read by the consumer group "senders": an entry stays pending until its
// outcome is recorded, so a crash loses nothing. Every instance runs one
// worker per channel; a crashed instance's entries are claimed by another
// after `claim_idle`, while a live instance renews its hold on the entries it
// works on, so two live instances never send the same entry.
//
// Per entry: send through the channel's sender; delivered → mark "sent" and
// acknowledge in one atomic step; retry → exponential backoff with jitter, up
// to max_attempts (kept in Redis, so restarts continue the count); rate
// limited → wait retry_after, and so do the sends the limit holds back (the
// whole channel, on every instance: the pause is kept with the channel's
// pacing in Redis; or only that chat); permanent → mark "failed" with the reason.
//
// Entries of one chat (its recipient, else its conversation) go out one at a
// time, in stream order, across all instances: the script that queues an
// entry also appends its id to <prefix>outbox:<channel>:chat:<chat>, an entry
// is sent only while it heads that list (checked in the round trip that
// renews our hold before each send), and recording its outcome takes it off
// in the same atomic step as the acknowledgement. An entry whose chat's head
// is with another instance waits (asking again after 50 ms, backing off to
// 1 s); a head nobody works on any more (its instance gone, idle claim_idle)
// is claimed and sent first. Entries queued before these lists existed are
// older than any head and go as they come.
//
// A chat's pacing (Telegram: about 1 message/s per chat) holds across
// instances too: the round trip that gives an entry its turn also takes the
// chat's next send slot in <prefix>outbox:<channel>:pace:<chat> (on Redis's
// clock), and recording the outcome moves it on to count from the provider's
// answer; the entry waits for its slot, so another instance's send to the
// chat a moment ago holds it back as one of ours would.
//
// A split text's later parts each take their turn too, just before they go:
// paced likewise, and only while the entry is still ours (its hold renewed).
// While Redis is unreachable they wait, and a part goes only once the one
// ahead of it is recorded: an instance that takes the entry over (after
// claim_idle) starts after the recorded parts, and the first instance, back,
// finds the entry lost and sends no more.
//
// Chats go in parallel up to `concurrency`, paced by the per-chat and
// per-account token buckets (each instance's own, and the ones in Redis
// above). Entries queued behind an earlier one of their
// chat, or waiting out a pause or the turn of their chat alone, do not count
// against `concurrency`: the worker reads on, so one busy or paused customer
// holds up no other. Memory: at most `max_held` entries per worker. Past it,
// the newest entries queued in the longest chat queue are let go of: they
// stay pending to this instance in Redis, unrenewed, and are taken back when
// their chat's turn reaches them (or claimed by anyone after claim_idle).
// Reading stops only while `max_held` distinct chats each have an entry in
// progress.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pasokh/proto/types.hpp"
#include "pasokh/routing/backoff.hpp"
#include "pasokh/routing/rate_limit.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

// The stream <prefix>outbox:<channel> and its consumer group (also read by
// the gateway's /metrics for the backlog).
inline std::string outbox_key(std::string_view prefix, std::string_view channel) {
  return std::string(prefix) + "outbox:" + std::string(channel);
}
inline constexpr std::string_view outbox_group = "senders";

enum class send_kind {
  delivered,     // the provider took it
  retry,         // temporary failure (network, 5xx, SMTP 4xx): send again later
  rate_limited,  // the provider asked us to wait retry_after
  permanent,     // will never work (bad recipient, window closed): mark failed
};

struct send_outcome {
  send_kind kind = send_kind::retry;
  std::string provider_message_id;       // for delivered; later statuses refer to it
  std::chrono::milliseconds retry_after{0};
  std::string reason;                    // for the agent and the log; never secrets
  limit_scope scope = limit_scope::account;  // for rate_limited: whom the limit holds back

  static send_outcome delivered(std::string provider_id = {}) { return {send_kind::delivered, std::move(provider_id), {}, {}}; }
  static send_outcome retry(std::string why) { return {send_kind::retry, {}, {}, std::move(why)}; }
  static send_outcome rate_limited(std::chrono::milliseconds after, std::string why = {},
                                   limit_scope scope = limit_scope::account) {
    return {send_kind::rate_limited, {}, after, std::move(why), scope};
  }
  static send_outcome permanent(std::string why) { return {send_kind::permanent, {}, {}, std::move(why)}; }
};

// Waits until the message's chat may be sent one more request (the pacing
// buckets count every request) and checks that the message is still ours to
// send, waiting while Redis is unreachable; false when the worker stops or
// another instance has taken the message over.
using pace_next = std::function<boost::asio::awaitable<bool>()>;

// Sends one message. Bounds its own time; an exception counts as retry. The
// outbox has paced its first request; a sender that makes more (a split text,
// attachments) awaits `next` before each further one, and stops (answering
// retry) when it says false. A sender that records its progress between
// requests must not go on before it is recorded (awaiting `next` between
// tries), or whoever sends the message after it would repeat a request.
using channel_sender =
    std::function<boost::asio::awaitable<send_outcome>(const proto::outbound_message&, const pace_next& next)>;

struct outbox_options {
  store::redis_config reader;  // a dedicated connection for XREADGROUP BLOCK
  std::string consumer;        // unique per process; generated (host-pid-random) when empty
  std::size_t concurrency = 16;                // entries sending or ready to send at once
  std::size_t max_held = 1000;                 // entries held at once (most queued behind their chat), and chats in progress
  std::chrono::milliseconds block{5'000};      // XREADGROUP BLOCK
  std::chrono::milliseconds claim_idle{30'000};     // a pending entry idle this long is reclaimed
  std::chrono::milliseconds claim_interval{5'000};  // how often to look for such entries
  std::chrono::seconds keep_acked{24 * 3600};  // acknowledged entries stay this long (a trace), then are trimmed
  std::chrono::seconds provider_id_ttl{30 * 24 * 3600};
  backoff_policy backoff;
  rate_limits limits;
  // Called with "sent", "failed", "retry" or "rate_limited" per attempt outcome (metrics).
  std::function<void(std::string_view)> on_result;
  // Called with how many entries a read took that no worker had read before
  // (metrics: every entry once, counted by the instance that reads it first).
  std::function<void(std::size_t)> on_new_entries;
};

// Provider pacing defaults: Telegram 1/s per chat and 30/s, WhatsApp 80/s,
// Messenger/Instagram 1/s per chat; none for api, email and webchat.
outbox_options outbox_defaults(proto::channel_kind kind);

class outbox_worker {
 public:
  outbox_worker(boost::asio::any_io_executor executor, store::redis_client& redis, std::string prefix,
                std::string channel_id, channel_sender sender, outbox_options options);
  ~outbox_worker();  // stop()
  outbox_worker(const outbox_worker&) = delete;
  outbox_worker& operator=(const outbox_worker&) = delete;

  void start();
  // Stops reading and waiting; entries not yet done stay pending for the next
  // instance (or this one after a restart) to claim. Safe to call twice.
  // `drained` runs (on the worker's strand) once no send is in flight: a send
  // that reached the provider is recorded and acknowledged before the process
  // goes, so the next owner does not send it again.
  void stop(std::function<void()> drained = {});
  const std::string& consumer() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

// The sender of API channels: integrations read replies by polling
// (GET .../messages?after=N), so a reply counts as sent once it is stored.
channel_sender api_channel_sender();

}  // namespace pasokh::routing
