#pragma once
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/whatsapp/config.hpp"

namespace pasokh::connectors::whatsapp {

// GET  /webhooks/whatsapp/{channel}: the hub.* handshake (200 + challenge, or 403).
// POST /webhooks/whatsapp/{channel}: checks X-Hub-Signature-256 over the raw
// body (401), then every entry and change of the batch:
//  - messages -> message / button events; dedup "wa:<wamid>"; context.id -> reply_to;
//    from = wa_id (or the business-scoped user_id when no phone is shared),
//    display name from contacts[].profile.name, alt_external_id = user_id.
//  - a reaction message -> reaction event: provider_message_id = the wamid
//    reacted to, text = the emoji ('' when taken back); dedup on its own wamid.
//  - statuses -> status events for the wamid; dedup "wa:<wamid>:<status>";
//    failed errors[] -> status_error "131047 Re-engagement message".
// Changes for a phone_number_id other than the channel's are given to `route`
// (Meta sends all numbers of an app to one URL); without a router they are
// counted "ignored_other_account". A body of another object (a page or
// instagram webhook pointed at this URL) is counted "ignored_object" and noted
// in `skipped`. A message, status or change we cannot read is left out alone:
// counted "ignored_malformed" and noted with its place
// ("entry[0].changes[0].value.messages[1].location needs latitude and
// longitude"); the rest of the batch is kept and answered 200. Only a body that
// is not JSON, not an object or without an entry array is a 400.
webhook_result parse_webhook(const webhook_request&, const whatsapp_channel&, const account_router& route = {});

}  // namespace pasokh::connectors::whatsapp
