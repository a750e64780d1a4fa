#pragma once
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/meta/config.hpp"

namespace pasokh::connectors::meta {

// GET  /webhooks/meta/{channel}: the hub.* handshake.
// POST /webhooks/meta/{channel}: X-Hub-Signature-256 over the raw body, then
// `object: page` (Messenger) or `object: instagram`. Entries of the channel's
// own object for another page / account go to `route`; entries of the other
// object (both subscriptions pointed at one URL) go to `other_kind_route`,
// which must name the channel of that kind whose account_id is the entry id,
// else they are counted "ignored_object" and noted in `skipped`, as is any
// other object. Every entry's messaging[] and standby[] item (timestamps
// already in milliseconds):
//  - message -> message event (dedup "meta:<mid>"); attachments; reply_to.mid;
//    quick_reply -> kind button with its payload.
//  - message with is_echo -> the same, echo=true, from = the recipient (our
//    own outbound copy: record it, never open a conversation from it).
//  - message with is_deleted (Instagram: the customer unsent it) -> kind
//    unsend naming the mid (dedup "meta:<mid>:unsend"); an echo's is counted
//    "ignored_deleted".
//  - postback -> kind button (title, payload); id = mid, or "pb:" + a hash of
//    sender, time and payload when Meta sends no mid.
//  - message_edit -> kind edit; delivery (mids) -> delivered statuses;
//    Instagram read (mid) -> read status; Messenger read (watermark) -> a read
//    status with read_watermark and no message id.
//  - reaction -> kind reaction: provider_message_id names the message, text
//    the emoji ('' for unreact).
//  - referrals, deletions: counted.
// An item we cannot read (no sender, no mid, ...) is left out alone: counted
// "ignored_malformed" and noted with its place ("entry[0].messaging[1].message.mid
// must be a string"); the rest of the batch is kept and answered 200. Only a
// body that is not JSON, not an object or without an entry array is a 400.
webhook_result parse_webhook(const webhook_request&, const meta_channel&, const account_router& route = {},
                             const account_router& other_kind_route = {});

}  // namespace pasokh::connectors::meta
