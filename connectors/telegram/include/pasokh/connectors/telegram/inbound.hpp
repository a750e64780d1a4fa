#pragma once
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/telegram/config.hpp"

namespace pasokh::connectors::telegram {

// POST /webhooks/telegram/{channel}: one Update. Checks
// X-Telegram-Bot-Api-Secret-Token (401 on mismatch), then yields at most one
// event: message / edit / button / reaction. Private chats only; updates from groups and
// channels are acknowledged with 200 and counted ("ignored_group",
// "ignored_channel"), as are other update types and live-location edits.
// Dedup key "tg:<update_id>"; provider_message_id "<chat_id>:<message_id>"
// (message ids are unique only per chat) - for an edit, the id of the message
// that changed, with sent_at = edit_date. A button press is kind button with
// provider_message_id "cb:<callback id>", reply_to the message that carried the
// keyboard, text the pressed button's title; its id also lands in
// callback_query_ids. A message_reaction (when setWebhook's allowed_updates
// lists it) is kind reaction for "<chat_id>:<message_id>", text its first
// emoji ('' when taken back). Photos: the largest size; captions become the text.
webhook_result parse_webhook(const webhook_request&, const telegram_channel&);

}  // namespace pasokh::connectors::telegram
