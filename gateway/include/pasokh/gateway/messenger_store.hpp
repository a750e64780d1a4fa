#pragma once
// What the messenger senders keep in Redis beside the conversation:
//   send_parts:<channel>:<message id>     hash {done, first}: how many parts of a
//                                          split message the provider accepted and
//                                          the first part's id, so a retry resumes
//                                          after them (expires after a week)
//   provider_msg:<channel>:<provider id>  "<conv>:<seq>" of the message, written as
//                                          soon as the provider accepts a part, so a
//                                          status or echo webhook that overtakes the
//                                          outbox's own mark still finds the message
//   early_status:<channel>:<provider id>  hash {status, reason}: a status that came
//                                          before that id was written (delivery.lua
//                                          keeps it two minutes); part_sent reads it
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "pasokh/proto/types.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

template <class T> using store_result = boost::system::result<T>;

struct send_progress {
  std::size_t done = 0;           // parts accepted by the provider so far
  std::string first_provider_id;  // the message's provider id (its first part's)
};

// A provider's status for a provider id not recorded yet when it came.
struct early_status {
  proto::delivery_status status = proto::delivery_status::pending;
  std::string reason;
};

class messenger_store {
 public:
  messenger_store(store::redis_client& redis, std::string prefix, std::chrono::seconds provider_id_ttl);

  // Time since the customer's last message on the conversation's channel (the
  // providers' reply windows are the customer's, not a conversation's): in it,
  // or in their open conversation there when a newer one was opened after it
  // was resolved; nullopt when they never wrote.
  boost::asio::awaitable<store_result<std::optional<std::chrono::milliseconds>>> since_customer_message(
      const std::string& conversation_id);

  boost::asio::awaitable<store_result<send_progress>> progress_of(const std::string& channel,
                                                                 const std::string& message_id);

  // Part `index` (of `parts`) was accepted as `provider_id`. Answers the
  // status the provider reported for that id before it was recorded, if any:
  // the caller applies it.
  boost::asio::awaitable<store_result<std::optional<early_status>>> part_sent(
      const std::string& channel, const proto::outbound_message& message, std::size_t index, std::size_t parts,
      const std::string& provider_id, const std::string& first_id);

  // Meta may deliver the echo of a message before its Send API call answers,
  // that is before part_sent records the provider id that tells the echo is
  // ours. While a send is under way in the conversation, record_echo.lua
  // defers echoes (the webhook answers 503 and Meta delivers them again).
  // A send that never finishes (a crash) stops counting after a minute.
  boost::asio::awaitable<store_result<void>> sending(const proto::outbound_message& message, bool under_way);

  std::chrono::seconds provider_id_ttl() const { return provider_id_ttl_; }

 private:
  boost::asio::awaitable<store_result<std::int64_t>> open_conversation_last_message(
      const std::string& customer, const std::string& channel, const std::string& recipient,
      const std::string& conversation_id);
  std::string parts_key(const std::string& channel, const std::string& message_id) const {
    return prefix_ + "send_parts:" + channel + ":" + message_id;
  }

  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds provider_id_ttl_;
};

}  // namespace pasokh::gateway
