#pragma once
// Keys that tie one person's identities on different channels together
// (issue 8, the customer file). Verified keys link automatically: an email
// address the customer mailed from or gave in the web chat's pre-chat form,
// a phone number WhatsApp vouches for (the wa_id) or an import names. Weak
// evidence (a two-word name, an address or number mentioned in a message)
// only suggests a merge to an agent. Pure functions over values; Redis keys
// are `key:email:<addr>` and `key:phone:<digits>` (routing/src/lua/ingest.lua).
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/proto/types.hpp"

namespace pasokh::routing {

// Persian (۰–۹) and Arabic-Indic (٠–٩) digits as ASCII; other bytes unchanged.
std::string ascii_digits(std::string_view text);

// Trimmed, "mailto:" dropped, ASCII lower-cased; "" unless it looks like one
// address (one @, a local part, a dotted domain, no spaces or controls).
std::string normalize_email(std::string_view raw);

// E.164 digits without the "+": any script's digits; spaces, dashes, dots,
// parentheses and bidi marks dropped; "+" or "00" starts the country code, a
// single leading "0" is a national number in `default_country`; the Iranian
// "+98 (0)912…" trunk zero is dropped. "" unless 8 to 15 digits remain.
std::string normalize_phone(std::string_view raw, std::string_view default_country = "98");

// "email:<addr>" / "phone:<digits>" verified by the channel itself: the sender
// of a mail, the wa_id of a WhatsApp message. Empty for other channels.
std::vector<std::string> verified_keys(const proto::channel_identity& from);

// A display name as a weak key ("name:<folded>"): lower-cased, Arabic letter
// forms as Persian (ي ى→ی, ك→ک, أ إ آ→ا, ة→ه), ZWNJ and tatweel as nothing,
// spaces collapsed. "" for fewer than two words: a first name alone says
// nothing about who someone is.
std::string name_key(std::string_view display_name);

// A display name as the provider or caller gave it, cut where a character
// ends to at most max_name_bytes (100 characters of any script fit): nothing
// bounds it on some channels (a mail's display name), and it travels with
// every event of the conversation to every console.
inline constexpr std::size_t max_name_bytes = 512;
std::string shown_name(std::string_view display_name);

// Email addresses and phone numbers (10+ digits) written in a message, as
// keys ("email:…", "phone:…"), at most `max` of them, duplicates dropped.
std::vector<std::string> mentioned_keys(std::string_view text, std::size_t max = 3);

}  // namespace pasokh::routing
