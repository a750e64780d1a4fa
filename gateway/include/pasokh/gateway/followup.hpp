#pragma once
// The follow-up of a stored customer message (run_bot: mentions, opt-out and
// CSAT, the bot's turn, routing) runs whichever instance gets to it, even
// when the instance that stored the message never learned it did. ingest.lua
// marks the message's follow-up due in the same atomic call that stores it
// (followup:due, member conv|seq); it stays due until a run finished.
// - The gateway that stored it runs it at once (follow_up).
// - A retry of the message (a dedup hit) runs one still due that nobody
//   claimed a few seconds after it was stored: the first attempt's answer
//   was lost, or (rarely) the first run is slow (follow_up_duplicate).
// - The routing timer's sweep runs one still due routing.followup_grace_s
//   after it was stored or claimed: its gateway died first (follow_up_due).
// The last two rebuild the message from the conversation's log and its
// state now (routing/src/lua/followup.lua claims it), and skip it when the
// conversation moved on since. Claims make a second run unlikely, not
// impossible (a run whose end was lost): every step answers a message once.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>

#include "pasokh/gateway/services.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/routing/conversation_service.hpp"

namespace pasokh::gateway {

// After a message was stored (not a duplicate).
boost::asio::awaitable<void> follow_up(services& s, const routing::ingest_outcome& stored,
                                       const proto::inbound_event& event);

// After a dedup hit: its follow-up, if still due and claimed here.
boost::asio::awaitable<void> follow_up_duplicate(services& s, const routing::ingest_outcome& stored);

// The sweep's (routing_service::on_followup_due): the follow-up of message
// `seq` in `conv`, if still due and claimed here. False when it failed
// (Redis trouble): it stays due, tried again later, given up after 8 runs.
boost::asio::awaitable<bool> follow_up_due(services& s, std::string conv, std::uint64_t seq);

}  // namespace pasokh::gateway
