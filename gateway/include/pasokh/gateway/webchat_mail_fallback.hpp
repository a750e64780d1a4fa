#pragma once
// "Leave your email and we will answer you there": agent replies in a web chat
// conversation that the customer has not read in the widget
// email_fallback_after_s after the last of them go, as one mail, to the email
// the customer left, through the email channel the web chat channel names;
// only once that email is proved theirs (one of their file's verified keys:
// a typed address is not, until the visitor confirms the link mailed to it).
// An agent who keeps writing holds them back at most 3 × email_fallback_after_s
// after the oldest unread one: then the replies so far go, and the next start anew.
//
// Redis (under the configured prefix):
//   webchat:mail_due                sorted set conv → when its unread replies are due (ms);
//                                   each agent reply pushes it later (ZADD GT), up to
//                                   the cap (routing/src/lua/webchat_mail_schedule.lua)
//   webchat:mail_since              hash conv → when its oldest unread reply came (ms),
//                                   while it is in webchat:mail_due
//   conv:<id> field mail_fallback_seq   the newest reply mailed (never mailed twice)
//   conv:<id> field mail_channel        the email channel that mailed it: the
//                                       customer's answer continues this conversation
// The webchat outbox's sender schedules (so a reply is scheduled once it is
// stored, durably); every instance sweeps the due set, and the claim
// (routing/src/lua/webchat_mail_fallback.lua) is atomic, so two instances
// never mail the same replies. The mail goes through the email channel's
// outbox: its retries, threading headers, From and delivery marks.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/services.hpp"
#include "pasokh/gateway/webchat_protocol.hpp"
#include "pasokh/routing/outbox.hpp"

namespace pasokh::gateway {

struct unread_reply {
  std::uint64_t seq = 0;
  std::string author_name;
  std::string text;
  std::int64_t at = 0;  // when it was written (ms)
};

// The agent replies (author "agent") among a conversation's log frames (JSON
// text, oldest first) with seq > after, in order.
std::vector<unread_reply> unread_agent_replies(const std::vector<std::string>& frames, std::uint64_t after);

// The mail's text in the customer's language (fa, ar, else English): a line
// saying why it comes by email, each reply under its author's name, and how
// to continue. Lines we write in a Persian or Arabic mail start with U+200F
// (RLM): a Latin agent name must not turn its line left-to-right.
std::string fallback_mail_text(std::string_view language, const std::vector<unread_reply>& replies);

class webchat_mail_fallback {
 public:
  webchat_mail_fallback(services& s, boost::asio::any_io_executor ex);
  ~webchat_mail_fallback();
  webchat_mail_fallback(const webchat_mail_fallback&) = delete;
  webchat_mail_fallback& operator=(const webchat_mail_fallback&) = delete;

  // The web chat outbox's sender: stored is delivered; a person's reply on a
  // channel with a fallback is scheduled (a Redis outage: retried).
  routing::channel_sender sender(const channel_config& webchat_channel);

  void start();  // the sweep, when a web chat channel has a fallback
  void stop();

 private:
  boost::asio::awaitable<routing::send_outcome> deliver(proto::outbound_message m, const webchat_settings& settings);
  // Puts the conversation's mail at its due time for a reply written at
  // `reply_at` (webchat_mail_schedule.lua); false when Redis failed.
  boost::asio::awaitable<bool> schedule(const std::string& conv, std::int64_t reply_at, const webchat_settings& settings);
  boost::asio::awaitable<void> sweep_loop();
  boost::asio::awaitable<void> sweep_once();
  boost::asio::awaitable<void> mail_conversation(const std::string& conv);

  // The settings of a web chat channel with a fallback, else nullptr.
  const webchat_settings* fallback_of(std::string_view channel) const;

  services& s_;
  boost::asio::any_io_executor ex_;
  std::map<std::string, webchat_settings, std::less<>> fallbacks_;  // web chat channels with a fallback
  std::shared_ptr<bool> running_;
};

}  // namespace pasokh::gateway
