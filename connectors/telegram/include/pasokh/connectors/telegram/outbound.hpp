#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/connectors/telegram/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::telegram {

inline constexpr std::size_t max_text = 4096;     // sendMessage text, UTF-16 code units
inline constexpr std::size_t max_caption = 1024;  // media captions
inline constexpr std::size_t max_callback_data = 64;  // bytes

// Telegram has no customer-service window: always open.
send_window window_rule(std::optional<std::chrono::milliseconds> since_customer_last);

// sendMessage for the text (split over 4096 units, buttons as an inline
// keyboard on the last part, one per row), then one send<Media> per
// attachment. message.recipient is the chat id; reply_to "<chat>:<message>"
// becomes reply_parameters on the first part. Buttons whose id does not fit
// callback_data (1-64 bytes) fall back to numbered lines.
send_plan build_send(const proto::outbound_message&, const telegram_channel&);

// answerCallbackQuery, so the customer's pressed button stops spinning.
provider_request build_answer_callback(std::string_view callback_query_id, const telegram_channel&,
                                       std::string_view text = {});

// {"ok":true,"result":{"message_id":..,"chat":{"id":..}}} -> delivered("<chat>:<message_id>");
// parameters.retry_after or 429 -> rate_limited, scope unknown (the same answer
// for the per-chat and the overall limit); 5xx/timeouts -> retry;
// 400/401/403/404 (e.g. "Forbidden: bot was blocked by the user") -> permanent.
send_outcome classify(const provider_response&);

}  // namespace pasokh::connectors::telegram
