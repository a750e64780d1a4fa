#pragma once
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/meta/config.hpp"

namespace pasokh::connectors::meta {

// GET  /webhooks/meta/{channel}: the hub.* handshake.
// POST /webhooks/meta/{channel}: X-Hub-Signature-256 over the raw body, then
// `object: page` (Messenger) or `object: instagram` - whichever the channel is;
// the other is counted "ignored_object". Every entry's messaging[] and
// standby[] item (timestamps already in milliseconds):
//  - message -> message event (dedup "meta:<mid>"); attachments; reply_to.mid;
//    quick_reply -> kind button with its payload.
//  - message with is_echo -> the same, echo=true, from = the recipient (our
//    own outbound copy: record it, never open a conversation from it).
//  - postback -> kind button (title, payload); id = mid, or "pb:" + a hash of
//    sender, time and payload when Meta sends no mid.
//  - message_edit -> kind edit; delivery (mids) -> delivered statuses;
//    Instagram read (mid) -> read status; Messenger read (watermark) -> a read
//    status with read_watermark and no message id.
//  - reaction -> kind reaction: provider_message_id names the message, text
//    the emoji ('' for unreact).
//  - referrals, deletions: counted.
webhook_result parse_webhook(const webhook_request&, const meta_channel&, const account_router& route = {});

}  // namespace pasokh::connectors::meta
