#pragma once
#include <chrono>
#include <cstddef>
#include <optional>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/meta/config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::connectors::meta {

struct text_limit {
  std::size_t max;
  text_unit unit;
};
// Messenger: "< 2000 characters". Instagram: "1000 bytes or less" and "less
// than 1000 characters"; 999 bytes keeps both.
inline constexpr text_limit messenger_text_limit{1999, text_unit::code_point};
inline constexpr text_limit instagram_text_limit{999, text_unit::utf8_byte};
inline constexpr std::size_t max_quick_replies = 13;
inline constexpr std::size_t max_quick_reply_title = 20;
inline constexpr std::size_t max_quick_reply_payload = 1000;  // bytes
inline constexpr auto standard_window = std::chrono::hours(24);
inline constexpr auto human_agent_window = std::chrono::hours(24 * 7);

// Within 24 h: open (messaging_type RESPONSE). 24 h - 7 d: a person may still
// answer with the HUMAN_AGENT tag; a bot may not. Later, or never: closed.
send_window window_rule(std::optional<std::chrono::milliseconds> since_customer_last, bool automatic);

text_limit max_text(proto::channel_kind);

// POST {base}/{version}/me/messages with the page token as Bearer. Text split
// over 1999 characters (Messenger) / 999 bytes (Instagram); buttons as quick
// replies on the last part (titles cut to 20), or numbered lines past 13;
// attachments by URL or attachment id. messaging_type follows window_rule with
// message.automatic; a closed window is refused ("window_closed").
send_plan build_send(const proto::outbound_message&, const meta_channel&,
                     std::optional<std::chrono::milliseconds> since_customer_last);

// message_id -> delivered; code 10 subcode 2018278 (Instagram 2534022) ->
// permanent window_closed; 551 / 100+2018001 -> permanent; 4, 17, 32, 613 ->
// rate_limited; 1, 2, 1200, is_transient, 5xx, timeouts -> retry.
send_outcome classify(const provider_response&);

}  // namespace pasokh::connectors::meta
