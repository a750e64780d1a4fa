#include "pasokh/connectors/email/smtp_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "conn_io.hpp"
#include "log.hpp"

namespace pasokh::connectors::email {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::awaitable;
using asio::use_awaitable;
using detail::conn_io;
using detail::tcp;
using boost::system::error_code;

namespace {

class dialogue {
 public:
  dialogue(const relay_config& relay, std::shared_ptr<conn_io> io) : relay_(relay), io_(std::move(io)) {}

  // Reads one reply; a network error or timeout becomes code 0 with `failure_` set.
  awaitable<smtp_reply> reply(std::chrono::milliseconds timeout) {
    io_->arm(timeout);
    smtp_reply_reader reader;
    for (;;) {
      std::string line;
      if (auto ec = co_await detail::read_line(*io_, buffer_, line, relay_.max_reply_line)) {
        failure_ = io_->timed_out() ? "timeout waiting for the relay" : "connection lost: " + ec.message();
        co_return smtp_reply{};
      }
      if (auto r = reader.line(line)) {
        if (r->code == 0) failure_ = "malformed reply from the relay";
        co_return *r;
      }
    }
  }

  awaitable<smtp_reply> command(std::string_view line, std::chrono::milliseconds timeout) {
    io_->arm(timeout);
    if (auto ec = co_await io_->write(std::string(line) + "\r\n")) {
      failure_ = io_->timed_out() ? "timeout writing to the relay" : "connection lost: " + ec.message();
      co_return smtp_reply{};
    }
    co_return co_await reply(timeout);
  }

  awaitable<smtp_reply> command(std::string_view line) { return command(line, relay_.command_timeout); }

  awaitable<bool> write(std::string_view bytes, std::chrono::milliseconds timeout) {
    io_->arm(timeout);
    if (auto ec = co_await io_->write(bytes)) {
      failure_ = io_->timed_out() ? "timeout sending the message" : "connection lost: " + ec.message();
      co_return false;
    }
    co_return true;
  }

  // The result for a reply that ends the attempt. A 2xx/3xx here is one the
  // dialogue did not expect (DATA answered 250, AUTH answered 334 again): nothing
  // was sent, so it is a retry, never a delivery.
  send_result fail(const smtp_reply& r, std::string_view during) const {
    if (r.code == 0) return {send_status::retry, 0, fmt::format("{}: {}", during, failure_), {}};
    auto status = r.code < 400 ? send_status::retry : classify(r.code);
    return {status, r.code, fmt::format("{}: {} {}", during, r.code, r.text()), {}};
  }

  // A refusal before any recipient was named (greeting, EHLO, STARTTLS, AUTH,
  // MAIL FROM): the relay will not take mail from us now (bad credentials, a
  // daily quota, a blocked account), whatever the message. A 5xx there too is
  // the channel's trouble: retried until someone mends it, never the message's failure.
  send_result relay_refusal(const smtp_reply& r, std::string_view during) const {
    auto result = fail(r, during);
    result.status = send_status::retry;
    result.relay_refused = r.code != 0;
    return result;
  }

  conn_io& io() { return *io_; }
  std::string& buffer() { return buffer_; }

 private:
  const relay_config& relay_;
  std::shared_ptr<conn_io> io_;
  std::string buffer_;
  std::string failure_;
};

bool message_too_big(const smtp_reply& r) {
  return r.code == 552 || (r.code >= 500 && r.text().starts_with("5.3.4"));
}

bool has_8bit(std::string_view data) {
  for (unsigned char c : data)
    if (c >= 0x80) return true;
  return false;
}

awaitable<send_result> converse(const relay_config& relay, dialogue& d, const std::string& from,
                                const std::vector<std::string>& recipients, const std::string& data, bool loopback) {
  auto greeting = co_await d.reply(relay.command_timeout);
  if (greeting.code != 220) co_return d.relay_refusal(greeting, "greeting");
  auto ehlo = co_await d.command("EHLO " + relay.helo_name);
  if (ehlo.code == 0) co_return d.fail(ehlo, "EHLO");
  if (!ehlo.positive()) {
    ehlo = co_await d.command("HELO " + relay.helo_name);
    if (!ehlo.positive()) co_return d.relay_refusal(ehlo, "HELO");
  }

  if (relay.tls != relay_tls::none && has_extension(ehlo, "STARTTLS")) {
    auto r = co_await d.command("STARTTLS");
    if (r.code != 220) co_return d.relay_refusal(r, "STARTTLS");
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (loopback) {
      ctx.set_verify_mode(asio::ssl::verify_none);  // our own relay on this host, often a self-signed cert
    } else {
      ctx.set_default_verify_paths();
      if (!relay.ca_file.empty()) ctx.load_verify_file(relay.ca_file);
      ctx.set_verify_mode(asio::ssl::verify_peer);
      ctx.set_verify_callback(asio::ssl::host_name_verification(relay.host));
    }
    d.buffer().clear();  // nothing the server sent before the handshake may count after it
    d.io().arm(relay.command_timeout);
    if (auto ec = co_await d.io().handshake(ctx, asio::ssl::stream_base::client, relay.host))
      co_return send_result{send_status::retry, 0, "TLS handshake with the relay failed: " + ec.message(), {}};
    ehlo = co_await d.command("EHLO " + relay.helo_name);
    if (!ehlo.positive()) co_return d.relay_refusal(ehlo, "EHLO after STARTTLS");
  } else if (relay.tls == relay_tls::starttls) {
    co_return send_result{send_status::retry, 0, "the relay does not offer STARTTLS", {}, true};
  }

  if (!relay.username.empty()) {
    if (!d.io().tls_active() && !loopback)
      co_return send_result{send_status::retry, 0, "refusing to send credentials without TLS", {}, true};
    auto mechanisms = " " + extension_params(ehlo, "AUTH") + " ";
    smtp_reply r;
    if (mechanisms.find(" PLAIN ") != std::string::npos) {
      r = co_await d.command("AUTH PLAIN " + auth_plain(relay.username, relay.password));
    } else if (mechanisms.find(" LOGIN ") != std::string::npos) {
      r = co_await d.command("AUTH LOGIN");
      if (r.code == 334) r = co_await d.command(base64(relay.username));
      if (r.code == 334) r = co_await d.command(base64(relay.password));
    } else {
      co_return send_result{send_status::retry, 0, "the relay offers neither AUTH PLAIN nor AUTH LOGIN", {}, true};
    }
    if (r.code != 235) co_return d.relay_refusal(r, "AUTH");
  }

  std::string mail = "MAIL FROM:<" + from + ">";
  if (has_extension(ehlo, "SIZE")) mail += fmt::format(" SIZE={}", data.size());
  if (has_extension(ehlo, "8BITMIME") && has_8bit(data)) mail += " BODY=8BITMIME";
  auto r = co_await d.command(mail);
  // Only a message the relay finds too big (552, 5.3.4: SIZE told it) is this message's own failure.
  if (!r.positive()) co_return message_too_big(r) ? d.fail(r, "MAIL FROM") : d.relay_refusal(r, "MAIL FROM");

  send_result result;
  smtp_reply worst;
  std::size_t accepted = 0;
  for (const auto& rcpt : recipients) {
    r = co_await d.command("RCPT TO:<" + rcpt + ">");
    if (r.code == 0) co_return d.fail(r, "RCPT TO");
    if (r.positive()) {
      ++accepted;
    } else {
      result.rejected.push_back(rcpt);
      if (worst.code == 0 || (r.code < 500 && worst.code >= 500)) worst = r;  // a 4xx keeps hope alive
    }
  }
  if (accepted == 0) {
    co_await d.command("RSET");
    co_return d.fail(worst, "RCPT TO");
  }
  r = co_await d.command("DATA");
  if (r.code != 354) co_return d.relay_refusal(r, "DATA");  // nothing of the message was sent
  if (!co_await d.write(dot_stuff(data), relay.data_timeout)) co_return d.fail(smtp_reply{}, "message");
  r = co_await d.reply(relay.data_timeout);
  if (!r.positive()) co_return d.fail(r, "end of data");
  result.status = send_status::delivered;
  result.code = r.code;
  result.detail = r.text();
  co_await d.command("QUIT", std::chrono::milliseconds(std::min<long>(relay.command_timeout.count(), 5000)));
  co_return result;
}

}  // namespace

awaitable<send_result> send_mail(const relay_config& relay, std::string envelope_from,
                                 std::vector<std::string> recipients, std::string data) {
  if (recipients.empty()) co_return send_result{send_status::permanent, 0, "no recipients", {}};
  auto ex = co_await asio::this_coro::executor;
  auto io = std::make_shared<conn_io>(tcp::socket(ex));
  io->start_watchdog();

  tcp::resolver resolver(ex);
  io->arm(relay.connect_timeout);
  auto [rec, endpoints] = co_await resolver.async_resolve(relay.host, std::to_string(relay.port), as_tuple(use_awaitable));
  if (rec) {
    io->close();
    co_return send_result{send_status::retry, 0, "cannot resolve the relay: " + rec.message(), {}};
  }
  auto [cec, endpoint] = co_await asio::async_connect(io->socket(), endpoints, as_tuple(use_awaitable));
  if (cec) {
    io->close();
    co_return send_result{send_status::retry, 0,
                          io->timed_out() ? "timeout connecting to the relay" : "cannot connect to the relay: " + cec.message(),
                          {}};
  }
  bool loopback = endpoint.address().is_loopback();
  dialogue d(relay, io);
  send_result result;
  try {
    result = co_await converse(relay, d, envelope_from, recipients, data, loopback);
  } catch (const std::exception& e) {  // e.g. an unreadable ca_file
    result = {send_status::retry, 0, std::string("relay client error: ") + e.what(), {}};
  }
  io->close();
  // A relay refusing us is the channel's to tell (once per spell, at error
  // level): a line per try of every queued reply would bury it.
  if (result.status != send_status::delivered)
    detail::log().log(result.relay_refused ? spdlog::level::debug : spdlog::level::warn,
                      "smtp client: {} via {}:{}: {}", to_string(result.status), relay.host, relay.port, result.detail);
  co_return result;
}

}  // namespace pasokh::connectors::email
