#pragma once
// Sends one message through the configured relay: EHLO, STARTTLS (certificate
// verified unless the relay is on loopback), AUTH PLAIN or LOGIN, MAIL/RCPT/DATA
// with dot-stuffing, every step under a timeout. The result tells the outbox
// whether to stop, retry later or give up: only a refused recipient or a
// message refused at its end of data fails for good; whatever the relay
// refuses before RCPT (greeting, AUTH, MAIL FROM) is retried.
#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/smtp_protocol.hpp"

namespace pasokh::connectors::email {

struct send_result {
  send_status status = send_status::retry;
  int code = 0;                              // last SMTP reply code, 0 for network errors and timeouts
  std::string detail;                        // the server's words or our reason; never the password
  std::vector<std::string> rejected;         // recipients refused while others were accepted
  // The relay refused us before any recipient (bad credentials, a quota, no
  // AUTH or STARTTLS offered): a retry, and the channel's trouble to report.
  bool relay_refused = false;
};

// Runs on the calling coroutine's executor.
boost::asio::awaitable<send_result> send_mail(const relay_config& relay, std::string envelope_from,
                                              std::vector<std::string> recipients, std::string data);

inline boost::asio::awaitable<send_result> send_mail(const relay_config& relay, const composed_mail& mail) {
  return send_mail(relay, mail.envelope_from, mail.recipients, mail.data);
}

}  // namespace pasokh::connectors::email
