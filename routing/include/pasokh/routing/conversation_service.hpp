#pragma once
// Conversation state in Redis: ingest of customer messages, replies, status
// changes and reading the log. Each write is one atomic Lua script and one
// round trip; each one appends an event frame (with the next sequence number)
// to the conversation's log and publishes it to every gateway instance.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pasokh/proto/types.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

class routing_service;
class ingest_batcher;

enum class routing_errc {
  not_found = 1,  // no such conversation
  closed,         // the conversation is closed for good
  author_gone,    // the replying agent was removed
};
const boost::system::error_category& routing_category() noexcept;
boost::system::error_code make_error_code(routing_errc) noexcept;

template <class T> using result = boost::system::result<T>;
using boost::asio::awaitable;

// Where a channel's new conversations go, and what its message needs stored with it.
struct channel_route {
  std::string team = "support";
  bool bot_enabled = false;
  // Its files are queued for Pasokh's copies (Messenger, Instagram:
  // gateway/meta_media_copies.hpp) in the same script call as the message.
  bool copy_attachments = false;
};

struct ingest_outcome {
  std::string conversation_id;
  std::string customer_id;
  std::uint64_t seq = 0;
  bool duplicate = false;
  // A duplicate whose follow-up (gateway/src/followup.cpp) was never run:
  // the first attempt's answer was lost.
  bool followup_due = false;
  bool new_conversation = false;
  std::string status;  // conversation status after the message ("bot", "queued", ...)
  bool routed = false;  // team rules applied already (routing_service; a new conversation: inside ingest)
  bool csat_open = false;  // the customer owes a CSAT rating or comment on this channel (aftersales)
  // Kept in a conversation of another customer (a colleague in Cc answering
  // through its reply token): the conversation's customer is unchanged.
  bool other_sender = false;
  std::string reply_counted_for;  // the campaign whose "replied" count this message raised, if any
  // Unsent by the customer before it was stored (Instagram, Messenger):
  // stored without text or files (ingest.lua).
  bool unsent = false;
};

struct append_outcome {
  std::uint64_t seq = 0;
  bool duplicate = false;  // the client id was seen before; seq is the first one's
  // Not stored: no live gateway sends on this channel (an agent's reply only).
  std::optional<std::string> unserved_channel;
};

// What edit_message, unsend_message, react and record_echo did: "stored",
// "duplicate", or why nothing was stored ("unknown" message, or one unsent
// already; "stale" edit, "unchanged" reaction, "ours" / "no_conversation" echo).
struct side_event_outcome {
  std::string status;
  std::string conversation_id;  // when known
  std::uint64_t seq = 0;        // of the stored event
  bool stored() const { return status == "stored"; }
};

struct author {
  proto::author_kind kind = proto::author_kind::agent;
  std::string id;
  std::string name;
};

class conversation_service {
 public:
  // Ingest batches run on `ex` (group commit, routing/src/ingest_batcher.hpp).
  conversation_service(boost::asio::any_io_executor ex, store::redis_client& redis, std::string prefix,
                       std::chrono::seconds dedup_ttl);
  ~conversation_service();

  // A new conversation of a channel without the bot is routed inside the
  // ingest script, with a decision `router` makes beforehand (one round trip
  // instead of three). Without a router, routing is the caller's.
  void route_with(const routing_service& router) { router_ = &router; }

  // The channels this gateway sends on: an agent's reply on another is
  // stored only while a live gateway elsewhere sends on its channel.
  void serve_channels(const std::vector<std::string>& channels);

  awaitable<result<ingest_outcome>> ingest(const proto::inbound_event& event, const channel_route& route);

  // A customer's edit of an earlier message, found by its provider id: a
  // "message" event (with "edit": true) repeating that message with the new
  // text and edited_at, in its conversation (routing/src/lua/edit_message.lua).
  awaitable<result<side_event_outcome>> edit_message(const proto::inbound_event& edit);

  // A customer unsent an earlier message (Instagram), found by its provider
  // id: its text and attachments leave the log (the entry and its seq stay,
  // with deleted_at) and the search index, and a "message" event ("edit":
  // true, deleted_at) tells the consoles (routing/src/lua/unsend_message.lua).
  // The log is rewritten in several script calls of bounded work, made here
  // one after another, so a long conversation never holds Redis for long.
  awaitable<result<side_event_outcome>> unsend_message(const proto::inbound_event& unsend);

  // A customer's reaction to a message found by its provider id, or its
  // taking back (empty text): a "reaction" event for the consoles that
  // changes nothing else (routing/src/lua/reaction.lua).
  awaitable<result<side_event_outcome>> react(const proto::inbound_event& reaction);

  // A copy of a message our account sent (Meta is_echo): recorded as an
  // outbound message in the customer's open conversation unless Pasokh sent
  // it; never opens a conversation (routing/src/lua/record_echo.lua).
  awaitable<result<side_event_outcome>> record_echo(const proto::inbound_event& echo,
                                                    std::chrono::seconds provider_id_ttl);

  awaitable<result<append_outcome>> append_reply(const std::string& conversation_id, const author& by,
                                                 const std::string& client_id, const std::string& text,
                                                 bool automatic = false);

  // The seq of the reply `author_id` stored with `client_id` in the
  // conversation (what a resend of it is answered with), or nullopt when no
  // reply of theirs has that client id.
  awaitable<result<std::optional<std::uint64_t>>> stored_reply(const std::string& conversation_id,
                                                               const std::string& client_id,
                                                               const std::string& author_id);

  // Event frames (JSON text, as published) with seq > after, oldest first.
  awaitable<result<std::vector<std::string>>> events_after(const std::string& conversation_id, std::uint64_t after,
                                                           std::size_t limit);

  // The delivery status of each outbound message as a JSON object keyed by the
  // message's seq ({"3": {"status": "read", "at": ...}}); delivery events carry
  // no seq of their own, so a history read merges these.
  awaitable<result<std::string>> delivery_marks(const std::string& conversation_id);

  // JSON array of the team's open conversations, newest first.
  awaitable<result<std::string>> team_snapshot(const std::string& team, std::size_t limit);

  // The conversation's channel, or not_found.
  awaitable<result<std::string>> channel_of(const std::string& conversation_id);

  const std::string& prefix() const { return prefix_; }
  std::string events_channel() const { return prefix_ + "events"; }

 private:
  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds dedup_ttl_;
  const routing_service* router_ = nullptr;
  std::string served_here_;  // serve_channels, comma-joined
  std::unique_ptr<ingest_batcher> batcher_;
};

}  // namespace pasokh::routing

template <> struct boost::system::is_error_code_enum<pasokh::routing::routing_errc> : std::true_type {};
