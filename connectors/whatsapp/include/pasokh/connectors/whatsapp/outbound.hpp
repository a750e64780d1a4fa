#pragma once
#include <chrono>
#include <cstddef>
#include <optional>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/connectors/whatsapp/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::whatsapp {

inline constexpr std::size_t max_text = 4096;              // text.body, code points
inline constexpr std::size_t max_interactive_body = 1024;  // interactive body.text
inline constexpr std::size_t max_reply_buttons = 3;
inline constexpr std::size_t max_button_title = 20;
inline constexpr std::size_t max_list_rows = 10;
inline constexpr std::size_t max_row_title = 24;
inline constexpr auto customer_window = std::chrono::hours(24);

// Free-form messages only within 24 h of the customer's last message; after
// that (or if they never wrote) only approved templates.
send_window window_rule(std::optional<std::chrono::milliseconds> since_customer_last);

// POST {base}/{version}/{phone_number_id}/messages with the Bearer token.
//  - template_name set: one template message (language: template_language or
//    the channel's; template_params as body parameters), whatever the window.
//  - otherwise the window must be open, else refused "window_closed".
//  - text split over 4096; buttons on the last part: up to 3 short ones as
//    reply buttons, up to 10 as a list, otherwise numbered lines.
//  - attachments as image/document/audio/video/sticker (provider_ref is a media
//    id or an https link) and location messages.
//  - reply_to (a wamid) becomes context.message_id of the first part.
// The recipient is a phone number (wa_id, sent as "to") or a business-scoped
// user id such as "US.13491208655302741918" (sent as "recipient").
send_plan build_send(const proto::outbound_message&, const whatsapp_channel&,
                     std::optional<std::chrono::milliseconds> since_customer_last);

// messages[0].id -> delivered; 131047 -> permanent window_closed; 130429,
// 131048, 80007, 4 -> rate_limited (the account); 131056 -> rate_limited (that
// recipient only); 131000, 131016, 133004, 1, 2,
// is_transient, 5xx, timeouts -> retry; other errors -> permanent.
send_outcome classify(const provider_response&);

}  // namespace pasokh::connectors::whatsapp
