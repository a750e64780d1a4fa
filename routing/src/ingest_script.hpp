#pragma once
// The one call of ingest.lua, shared by conversation_service (every channel)
// and thread_ingest (email threading).
#include <chrono>
#include <string>

#include "pasokh/routing/conversation_service.hpp"
#include "pasokh/routing/routing_service.hpp"

namespace pasokh::routing {

// A conversation the message answers; empty conversation_id: none known.
struct ingest_thread {
  std::string conversation_id;
  bool any_sender = false;  // found through a secret reply token
  // Email: "subject:<normalized subject>"; the customer's open conversation
  // is joined only when opened under the same. Empty (other channels): always.
  std::string open_subject;
  bool sender_unverified = false;  // email: DMARC failed; the message JSON says so
};

class ingest_batcher;

// The message's own fields as JSON (text, attachments, provider id, ...);
// the scripts complete it with id, seq, direction, author and the rest.
// `sender_unverified`: a mail whose DMARC failed at the trusted MTA.
std::string inbound_message_json(const proto::inbound_event& event, bool sender_unverified = false);

// The beginning of the message's text for the conversation list's preview
// (the scripts cut it to what a row shows, never decoding the message JSON):
// bounded, cut between characters, valid UTF-8 as the message JSON is (mail
// may carry invalid bytes: U+FFFD there and here).
std::string preview_source(const std::string& text);

// `batcher`: group commit with other messages (nullptr: a call of its own).
// `plan`: the routing decision for a new queued conversation (or nullptr).
awaitable<result<ingest_outcome>> run_ingest(store::redis_client& redis, ingest_batcher* batcher,
                                             const std::string& prefix, std::chrono::seconds dedup_ttl,
                                             const proto::inbound_event& event, const channel_route& route,
                                             const ingest_thread& thread, const route_plan* plan);

}  // namespace pasokh::routing
