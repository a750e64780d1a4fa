#pragma once
// Delivery status of outbound messages. Each conversation keeps a hash
// <prefix>conv:<id>:delivery (message seq → {"status","provider_message_id",
// "reason","at","retrying"}); a status never moves backwards (pending < sent < delivered
// < read; failed is final). Provider message ids map back to their message in
// <prefix>provider_msg:<channel>:<provider id> ("<conv>:<seq>") so a later
// provider status (WhatsApp "read") finds it. Every change is published live as
// a "delivery" event without a sequence number (it is not a log entry).
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "pasokh/proto/types.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

enum class mark_result {
  changed,    // recorded and published
  unchanged,  // the message already had this or a later status
  unknown,    // no such message (provider id not ours, or expired)
};

struct delivery_update {
  std::string channel;
  std::string conversation_id;  // with message_seq; or empty to look up provider_message_id
  std::uint64_t message_seq = 0;
  proto::delivery_status status = proto::delivery_status::sent;
  std::string provider_message_id;
  std::string reason;  // shown to the agent for failed messages
  // With reason: what the console translates it by ("channel_unserved"), so
  // it never reads the English text; empty for a provider's own words.
  std::string failure_code;
  // With conversation_id: the report names the message itself (a bounce
  // returning our Message-ID, which encodes conversation and seq, so it is
  // found after the provider id's lookup key expired). It counts only for
  // the message sent with provider_message_id (compared ignoring case).
  bool named_by_provider_id = false;
  // With status pending: the send failed for a passing reason (`reason`) and
  // goes again at retry_next_at. The record keeps this note, status
  // unchanged, until the next status replaces it. 0: not a retry.
  int retry_attempt = 0;
  std::int64_t retry_next_at_ms = 0;
  // With status sent: when the send began (ms). Kept on the record: a read
  // watermark (mark_read_up_to) counts the message read if it began by then.
  std::int64_t sent_at_ms = 0;
};

// The outbox entry to acknowledge in the same atomic step as the mark.
struct outbox_ack {
  std::string stream_key;
  std::string group;
  std::string entry_id;
  std::string chat_order;  // the list of its chat's entries it leaves (outbox_turn.lua), if any
  std::string chat_pace;   // its chat's pacing key, if paced: the next send counts from this outcome
  std::chrono::milliseconds pace_interval{0};
};

// Told (from any thread) each time a campaign's message reaches a new status
// ("sent", "delivered", "read", "failed"): the gateway counts it in metrics.
void set_campaign_status_observer(void (*observer)(std::string_view status));

class delivery_marks {
 public:
  delivery_marks(store::redis_client& redis, std::string prefix,
                 std::chrono::seconds provider_id_ttl = std::chrono::hours(24 * 30));

  // A provider's status report (no outbox entry involved).
  boost::asio::awaitable<boost::system::result<mark_result>> mark(const delivery_update& update);
  // The outcome of an outbox entry, acknowledged in the same step. (No default
  // argument: GCC 12 destroys a defaulted {} twice inside co_await.)
  boost::asio::awaitable<boost::system::result<mark_result>> mark(const delivery_update& update,
                                                                  const outbox_ack& ack);

  // A read receipt naming no message, only a time (Messenger's watermark):
  // marks read each message in the customer's newest conversation on
  // `channel` sent by `watermark_ms` (read_watermark.lua), one mark() each.
  // Answers how many moved to read.
  boost::asio::awaitable<boost::system::result<std::size_t>> mark_read_up_to(const std::string& channel,
                                                                             const std::string& customer_external_id,
                                                                             std::int64_t watermark_ms);

 private:
  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds provider_id_ttl_;
};

}  // namespace pasokh::routing
