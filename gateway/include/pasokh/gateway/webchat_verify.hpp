#pragma once
// A web chat visitor proves that the email they gave is theirs (issue 8:
// identities link automatically only on verified keys). An address typed into
// the pre-chat form or a `contact` frame links nothing by itself
// (routing/src/lua/webchat_contact.lua): anyone can type anyone's address.
// The gateway mails a link to it through the web chat channel's email channel
// (provider.email_fallback_channel and its outbox; without one, or without
// the top-level public_url, no mail: an agent merges by the same_email
// suggestion). GET <public_url>/webchat/verify/<token> shows a page with a
// button (mail scanners open links: a GET never links anything); its POST
// links the visitor (routing/src/lua/customer_merge.lua 'verify'): their file
// joins the file that holds the address, as a merge an agent can undo, or
// gets the address as its key when nobody holds it.
//
// Redis (under the configured prefix):
//   webchat:verify:<sha-256 of the token>   hash channel, visitor, key, language, at;
//                                           24 h, deleted when used (the token is never stored)
//   webchat:verify_gap:<channel>:<visitor>  a link mailed to this visitor in the last 10 min
//   webchat:verify_count:<email key>        links mailed to this address this hour (at most 3)
//   webchat:visitor:<channel>:<visitor>     field verified_email: proven before the first message
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

struct verification_mail {
  std::string subject;
  std::string text;
};

// The mail in the visitor's language (fa, ar, else English): why it comes,
// the link on a line of its own, and that ignoring it links nothing. Lines we
// write in a Persian or Arabic mail start with U+200F (RLM), as in the
// fallback mail; the link's line does not (it would be copied with it).
verification_mail verification_mail_in(std::string_view language, std::string_view link);

struct verification_request {
  std::string channel;       // the web chat channel
  std::string mail_channel;  // its email channel ("" = none)
  std::string visitor;
  std::string email;  // as the visitor typed it
  std::string key;    // normalised (routing/customer_keys.hpp)
  std::string language;
};

// Mails the visitor a link for the address, unless the channel has no email
// channel, public_url is not set or the limits hold it back. True when the
// mail went to the email channel's outbox.
boost::asio::awaitable<store::result<bool>> request_email_verification(services& s, const verification_request& r);

// GET|POST /webchat/verify/{token}.
void add_webchat_verify_routes(router& r, services& s);

}  // namespace pasokh::gateway
