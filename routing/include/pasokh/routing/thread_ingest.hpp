#pragma once
// Ingest of a customer message that answers a known conversation (email
// threading: reply token, In-Reply-To, References). The message is appended to
// that conversation while it is open on the same channel and the sender is its
// customer, or anyone who holds its secret reply token (a colleague in Cc);
// otherwise it joins the sender's open conversation when that one has the
// same subject, or opens a new one. Same script and outcome as
// conversation_service::ingest.
#include <chrono>
#include <string>

#include "pasokh/routing/conversation_service.hpp"

namespace pasokh::routing {

class thread_ingest {
 public:
  thread_ingest(store::redis_client& redis, std::string prefix, std::chrono::seconds dedup_ttl);

  struct thread {
    std::string conversation_id;  // empty: no thread known
    bool by_secret_token = false; // found through the reply token: any sender may continue it
    // The mail's normalized subject (email::normalized_subject). Without a
    // thread the mail continues the customer's open conversation only when
    // that one was opened under the same subject; otherwise it opens one.
    std::string subject;
    // The organisation's mail server found the sender's address forged
    // (DMARC failed): the message says so to the agent ("sender_unverified").
    bool sender_unverified = false;
  };

  awaitable<result<ingest_outcome>> ingest(const proto::inbound_event& event, const channel_route& route,
                                           const thread& continues);

  // Automatic mail (bounce, auto-reply, list mail; routing/src/lua/automatic_mail.lua):
  // appended to `continues` when its sender is that conversation's customer
  // or `continues.by_secret_token` vouches for it, without touching the
  // conversation's status; otherwise noted in the channel's capped stream
  // email_automatic:<channel>. Never a customer file or a conversation.
  // Status "stored" (conversation_id, seq), "noted" or "duplicate" (with
  // the first one's conversation_id and seq when that one was stored).
  struct automatic_note {
    std::string subject;
    std::string reason;  // why it is automatic
  };
  awaitable<result<side_event_outcome>> keep_automatic(const proto::inbound_event& event, const thread& continues,
                                                       const automatic_note& note);

 private:
  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds dedup_ttl_;
};

}  // namespace pasokh::routing
