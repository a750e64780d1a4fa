#pragma once
// A web chat visitor proves that the email they gave is theirs (issue 8:
// identities link automatically only on verified keys). An address typed into
// the pre-chat form or a `contact` frame links nothing by itself
// (routing/src/lua/webchat_contact.lua): anyone can type anyone's address.
// The gateway mails a six-digit code to it through the web chat channel's
// email channel (provider.email_fallback_channel and its outbox; without one,
// no mail: an agent merges by the typed_email suggestion), and the visitor
// types the code into the chat (`verify_email` frame, webchat_socket.cpp).
// Only the visitor it was made for can use it: a code proves that the person
// at this widget reads the mailbox, which a link opened anywhere did not (the
// owner of the address, clicking "confirm" in good faith, linked a stranger's
// widget to their own file). The right code links the visitor
// (routing/src/lua/customer_merge.lua 'verify_code'): their file joins the
// file that holds the address, as a merge an agent can undo, or gets the
// address as its key when nobody holds it. GET|POST /webchat/verify/{token}
// (the links mailed before codes) only say to ask for a code in the chat.
//
// Redis (under the configured prefix):
//   webchat:verify_code:<channel>:<visitor>  hash code (HMAC of channel, visitor and code under the web
//                                            chat secret: never the code), key, language, at, tries;
//                                            30 min, deleted when used or after 5 wrong tries
//   webchat:verify_gap:<channel>:<visitor>   a code mailed to this visitor in the last 10 min
//   webchat:verify_count:<email key>         codes mailed to this address this hour (at most 3)
//   webchat:visitor:<channel>:<visitor>      field verified_email: proven before the first message
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

// The mail in the visitor's language (fa, ar, else English): that the code is
// for the chat on our website, the code on a line of its own, to type it only
// there and give it to nobody (our staff never ask for it), and that ignoring
// it links nothing. Lines we write in a Persian or Arabic mail start with
// U+200F (RLM), as in the fallback mail; the code's line does not (it would
// be copied with it).
verification_mail verification_mail_in(std::string_view language, std::string_view code);

struct verification_request {
  std::string channel;       // the web chat channel
  std::string mail_channel;  // its email channel ("" = none)
  std::string visitor;
  std::string email;  // as the visitor typed it
  std::string key;    // normalised (routing/customer_keys.hpp)
  std::string language;
};

// Mails the visitor a code for the address, unless the channel has no email
// channel or the limits hold it back. True when the mail went to the email
// channel's outbox.
boost::asio::awaitable<store::result<bool>> request_email_verification(services& s, const verification_request& r);

enum class code_check {
  verified,    // the address is the visitor's now (linked, or merged into the file that holds it)
  wrong,       // tries_left more tries for this code (0: it is void)
  no_code,     // none pending: never mailed, used, expired or voided; a new one is asked for by giving the email again
};
struct code_answer {
  code_check result = code_check::no_code;
  int tries_left = 0;
  std::string email;  // verified: the address the code proved (the visitor may have given another since)
};

// The visitor typed `code` (six ASCII digits: verify_email_frame) into the chat.
boost::asio::awaitable<store::result<code_answer>> check_email_code(services& s, const std::string& channel,
                                                                   const std::string& visitor, const std::string& code);

// GET|POST /webchat/verify/{token}: the links mailed before codes.
void add_webchat_verify_routes(router& r);

}  // namespace pasokh::gateway
