#pragma once
// What the organisation's own mail server found out about a mail's sender
// (RFC 8601 Authentication-Results). Anyone can write a From; DMARC (RFC 7489)
// tells whether the From domain vouches for this mail. Pure.
#include <string_view>

#include "pasokh/connectors/email/automatic.hpp"

namespace pasokh::connectors::email {

// True when the topmost Authentication-Results header of `authserv_id` (the
// organisation's MTA, which adds its own on top and should drop any a sender
// wrote with its name) says dmarc=fail. False for any other result, no such
// header, or an empty authserv_id (nothing trusted: nothing said).
bool dmarc_failed(const header_list& headers, std::string_view authserv_id);

}  // namespace pasokh::connectors::email
