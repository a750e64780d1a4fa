#pragma once
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/telegram/config.hpp"

namespace pasokh::connectors::telegram {

// POST /webhooks/telegram/{channel}: one Update. Checks
// X-Telegram-Bot-Api-Secret-Token (401 on mismatch), then yields at most one
// event: message / edit / button. Private chats only; updates from groups and
// channels are acknowledged with 200 and counted ("ignored_group",
// "ignored_channel"). Dedup key "tg:<update_id>"; provider_message_id
// "<chat_id>:<message_id>" (message ids are unique only per chat); a button
// press also lands in callback_query_ids.
webhook_result parse_webhook(const webhook_request&, const telegram_channel&);

}  // namespace pasokh::connectors::telegram
