#include "pasokh/connectors/email/smtp_session.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "pasokh/connectors/email/compose.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::iequals;
using detail::istarts_with;
using detail::trim;

// "<path>" or a bare address; "" for the null path. False on malformed input.
bool parse_path(std::string_view text, std::string& address, std::string_view& rest) {
  text = trim(text);
  if (!text.empty() && text.front() == '<') {
    auto close = text.find('>');
    if (close == std::string_view::npos) return false;
    address = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
  } else {
    auto end = text.find(' ');
    address = std::string(text.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : text.substr(end);
    if (address.empty()) return false;
  }
  if (!address.empty() && address.front() == '@') {  // source route "@a,@b:user@d" (RFC 5321 4.1.2): ignore it
    auto colon = address.find(':');
    if (colon == std::string::npos) return false;
    address.erase(0, colon + 1);
  }
  if (address.size() > 254) return false;
  for (char c : address)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == 0x7F) return false;
  if (!address.empty() && address != "postmaster" && address != "Postmaster" && address.find('@') == std::string::npos)
    return false;
  return true;
}

std::vector<std::string_view> split_params(std::string_view rest) {
  std::vector<std::string_view> out;
  rest = trim(rest);
  while (!rest.empty()) {
    auto sp = rest.find(' ');
    out.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest = trim(rest.substr(sp));
  }
  return out;
}

std::string one_line_ascii(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7F) ? c : ' ';
  return out;
}

}  // namespace

smtp_session::smtp_session(const smtp_config& config, options opts) : config_(config), opts_(std::move(opts)) {
  envelope_.peer = opts_.peer;
}

std::string smtp_session::greeting() const { return fmt::format("220 {} ESMTP Pasokh\r\n", config_.hostname); }

std::string smtp_session::timeout_reply() const {
  return fmt::format("421 4.4.2 {} Timeout, closing connection\r\n", config_.hostname);
}

std::string smtp_session::shutdown_reply() const {
  return fmt::format("421 4.3.2 {} Service shutting down\r\n", config_.hostname);
}

smtp_step smtp_session::feed(std::string_view bytes) {
  if (state_ == state::data) ++progress_;  // a message's bytes move mail on
  if (state_ == state::command || state_ == state::data) buffer_.append(bytes);
  return run({});
}

smtp_step smtp_session::run(std::string out) {
  smtp_step step{std::move(out), smtp_action::read};
  std::size_t pos = 0;
  while ((state_ == state::command || state_ == state::data) && pos < buffer_.size()) {
    auto nl = buffer_.find('\n', pos);
    if (nl == std::string::npos) {
      std::size_t pending = buffer_.size() - pos;
      if (pending <= config_.max_line_length) break;
      if (state_ == state::command) {
        if (!discarding_) error(step, "500 5.5.2 Line too long\r\n");
        discarding_ = true;
        pos = buffer_.size();
      } else {
        // A data line longer than the limit is taken in pieces so memory stays bounded.
        std::string_view chunk(buffer_.data() + pos, pending - 1);  // keep a possible '\r'
        data_part(chunk);
        pos += chunk.size();
      }
      break;
    }
    std::string_view line(buffer_.data() + pos, nl - pos);
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    pos = nl + 1;
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    if (state_ == state::data) {
      data_line(line, crlf, step);
    } else if (line.size() > config_.max_line_length) {
      error(step, "500 5.5.2 Line too long\r\n");
    } else {
      command(line, step);
    }
  }
  buffer_.erase(0, pos);
  switch (state_) {
    case state::wait_store: step.next = smtp_action::deliver; break;
    case state::wait_tls:
      buffer_.clear();  // plaintext pipelined after STARTTLS must not run inside TLS (CVE-2011-0411)
      step.next = smtp_action::start_tls;
      break;
    case state::closed: step.next = smtp_action::close; break;
    default: step.next = smtp_action::read;
  }
  return step;
}

void smtp_session::error(smtp_step& step, std::string_view reply) {
  step.out += reply;
  if (++errors_ >= config_.max_errors) {
    step.out += "421 4.7.0 Too many errors, closing connection\r\n";
    state_ = state::closed;
  }
}

void smtp_session::reset_transaction() {
  in_transaction_ = false;
  envelope_.mail_from.clear();
  envelope_.rcpt_to.clear();
  envelope_.eight_bit = false;
  message_.clear();
  message_size_ = 0;
  too_big_ = false;
}

void smtp_session::command(std::string_view line, smtp_step& step) {
  auto sp = line.find(' ');
  auto verb = line.substr(0, sp);
  auto arg = sp == std::string_view::npos ? std::string_view{} : trim(line.substr(sp + 1));
  const bool chatter = iequals(verb, "NOOP") || iequals(verb, "RSET") || iequals(verb, "HELP") || iequals(verb, "VRFY");
  if (!chatter) ++progress_;
  if (iequals(verb, "EHLO") || iequals(verb, "HELO")) return ehlo(arg, iequals(verb, "EHLO"), step);
  if (iequals(verb, "MAIL")) return mail(arg, step);
  if (iequals(verb, "RCPT")) return rcpt(arg, step);
  if (iequals(verb, "DATA")) {
    if (!arg.empty()) return error(step, "501 5.5.4 DATA takes no arguments\r\n");
    return begin_data(step);
  }
  if (iequals(verb, "RSET")) {
    reset_transaction();
    step.out += "250 2.0.0 OK\r\n";
    return;
  }
  if (iequals(verb, "NOOP")) {
    step.out += "250 2.0.0 OK\r\n";
    return;
  }
  if (iequals(verb, "QUIT")) {
    step.out += fmt::format("221 2.0.0 {} closing connection\r\n", config_.hostname);
    state_ = state::closed;
    return;
  }
  if (iequals(verb, "VRFY")) {
    step.out += "252 2.5.2 Cannot VRFY user; send the message and delivery will be attempted\r\n";
    return;
  }
  if (iequals(verb, "EXPN")) return error(step, "502 5.5.1 EXPN not supported\r\n");
  if (iequals(verb, "HELP")) {
    step.out += "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS\r\n";
    return;
  }
  if (iequals(verb, "STARTTLS")) {
    if (!opts_.tls_available) return error(step, "502 5.5.1 STARTTLS not available\r\n");
    if (tls_) return error(step, "503 5.5.1 TLS already active\r\n");
    if (!arg.empty()) return error(step, "501 5.5.4 STARTTLS takes no arguments\r\n");
    step.out += "220 2.0.0 Ready to start TLS\r\n";
    state_ = state::wait_tls;
    return;
  }
  if (iequals(verb, "GET") || iequals(verb, "POST") || iequals(verb, "PUT") || iequals(verb, "HEAD") ||
      iequals(verb, "CONNECT") || istarts_with(line, "Host:")) {
    step.out += "554 5.7.0 This is an SMTP server\r\n";  // a browser or proxy abusing the port
    state_ = state::closed;
    return;
  }
  if (iequals(verb, "AUTH") || iequals(verb, "BDAT") || iequals(verb, "ETRN") || iequals(verb, "TURN") ||
      iequals(verb, "ATRN") || iequals(verb, "SEND") || iequals(verb, "SOML") || iequals(verb, "SAML"))
    return error(step, "502 5.5.1 Command not implemented\r\n");
  error(step, "500 5.5.2 Command unrecognized\r\n");
}

void smtp_session::ehlo(std::string_view arg, bool extended, smtp_step& step) {
  if (arg.empty() || arg.size() > 255) return error(step, fmt::format("501 5.5.4 Syntax: {} hostname\r\n", extended ? "EHLO" : "HELO"));
  reset_transaction();
  helo_done_ = true;
  envelope_.helo = one_line_ascii(arg.substr(0, arg.find(' ')));
  if (!extended) {
    step.out += fmt::format("250 {}\r\n", config_.hostname);
    return;
  }
  std::vector<std::string> lines{fmt::format("{} Hello {}", config_.hostname, envelope_.helo), "PIPELINING",
                                 fmt::format("SIZE {}", config_.max_message_bytes), "8BITMIME",
                                 "ENHANCEDSTATUSCODES"};
  if (opts_.tls_available && !tls_) lines.emplace_back("STARTTLS");
  for (std::size_t i = 0; i < lines.size(); ++i)
    step.out += fmt::format("250{}{}\r\n", i + 1 < lines.size() ? '-' : ' ', lines[i]);
}

void smtp_session::mail(std::string_view arg, smtp_step& step) {
  if (!helo_done_) return error(step, "503 5.5.1 Send EHLO or HELO first\r\n");
  if (in_transaction_) return error(step, "503 5.5.1 Nested MAIL command\r\n");
  if (config_.require_tls && !tls_) return error(step, "530 5.7.0 Must issue a STARTTLS command first\r\n");
  if (!istarts_with(arg, "FROM:")) return error(step, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
  std::string address;
  std::string_view rest;
  if (!parse_path(arg.substr(5), address, rest)) return error(step, "501 5.1.7 Bad sender address syntax\r\n");
  bool eight_bit = false;
  for (auto param : split_params(rest)) {
    if (istarts_with(param, "SIZE=")) {
      auto digits = param.substr(5);
      if (digits.empty() || digits.size() > 15 ||
          !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return error(step, "501 5.5.4 Bad SIZE parameter\r\n");
      if (std::stoull(std::string(digits)) > config_.max_message_bytes) {
        step.out += "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
        return;
      }
    } else if (istarts_with(param, "BODY=")) {
      auto body = param.substr(5);
      if (iequals(body, "8BITMIME")) eight_bit = true;
      else if (!iequals(body, "7BIT")) return error(step, "501 5.5.4 Unknown BODY type\r\n");
    } else {
      return error(step, "555 5.5.4 Unsupported MAIL parameter\r\n");
    }
  }
  reset_transaction();
  in_transaction_ = true;
  envelope_.mail_from = address;
  envelope_.eight_bit = eight_bit;
  envelope_.tls = tls_;
  step.out += "250 2.1.0 Sender OK\r\n";
}

void smtp_session::rcpt(std::string_view arg, smtp_step& step) {
  if (!in_transaction_) return error(step, "503 5.5.1 Need MAIL command first\r\n");
  if (!istarts_with(arg, "TO:")) return error(step, "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
  std::string address;
  std::string_view rest;
  if (!parse_path(arg.substr(3), address, rest) || address.empty())
    return error(step, "501 5.1.3 Bad recipient address syntax\r\n");
  if (!split_params(rest).empty()) return error(step, "555 5.5.4 Unsupported RCPT parameter\r\n");
  if (envelope_.rcpt_to.size() >= config_.max_recipients) {
    step.out += "452 4.5.3 Too many recipients\r\n";
    return;
  }
  auto lower = detail::to_lower(address);
  if (!config_.recipients.accepts(lower)) {
    auto domain = lower.substr(lower.rfind('@') + 1);
    bool ours = domain == config_.recipients.reply_domain ||
                std::find(config_.recipients.domains.begin(), config_.recipients.domains.end(), domain) !=
                    config_.recipients.domains.end() ||
                std::any_of(config_.recipients.addresses.begin(), config_.recipients.addresses.end(),
                            [&](const std::string& a) { return a.ends_with("@" + domain); });
    return error(step, ours ? "550 5.1.1 No such mailbox here\r\n" : "550 5.7.1 Relaying denied\r\n");
  }
  if (std::find(envelope_.rcpt_to.begin(), envelope_.rcpt_to.end(), lower) == envelope_.rcpt_to.end())
    envelope_.rcpt_to.push_back(lower);
  step.out += "250 2.1.5 Recipient OK\r\n";
}

void smtp_session::begin_data(smtp_step& step) {
  if (!in_transaction_) return error(step, "503 5.5.1 Need MAIL command first\r\n");
  if (envelope_.rcpt_to.empty()) return error(step, "554 5.5.1 No valid recipients\r\n");
  message_.clear();
  message_size_ = 0;
  too_big_ = false;
  last_line_crlf_ = true;
  continuation_ = false;
  state_ = state::data;
  step.out += "354 Start mail input; end with <CRLF>.<CRLF>\r\n";
}

void smtp_session::data_line(std::string_view line, bool crlf, smtp_step& step) {
  // Only CRLF "." CRLF ends the data: a bare-LF dot is smuggling, not an end.
  if (line == "." && crlf && last_line_crlf_ && !continuation_) {
    if (too_big_) {
      step.out += "552 5.3.4 Message size exceeds fixed maximum message size\r\n";
      reset_transaction();
      state_ = state::command;
      return;
    }
    message_.insert(0, trace_headers());
    state_ = state::wait_store;
    return;
  }
  data_part(line);
  keep_data("\r\n");
  last_line_crlf_ = crlf;
  continuation_ = false;
}

// A line's bytes, whole or a piece of an over-long one (no line break after a
// piece: one could fall inside a UTF-8 character or a base64 line).
void smtp_session::data_part(std::string_view part) {
  if (!continuation_ && !part.empty() && part.front() == '.') part.remove_prefix(1);  // dot-unstuffing
  keep_data(part);
  continuation_ = true;
}

void smtp_session::keep_data(std::string_view bytes) {
  message_size_ += bytes.size();
  if (message_size_ > config_.max_message_bytes) {
    if (!too_big_) std::string().swap(message_);  // stop holding memory; read on to the end
    too_big_ = true;
  } else {
    message_.append(bytes);
  }
}

std::string smtp_session::trace_headers() const {
  std::string date;
  if (opts_.now_rfc5322) date = opts_.now_rfc5322();
  else
    date = format_date(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  return fmt::format("Return-Path: <{}>\r\nReceived: from {} ({})\r\n\tby {} with {}; {}\r\n", envelope_.mail_from,
                     envelope_.helo, opts_.peer.empty() ? "unknown" : opts_.peer, config_.hostname,
                     envelope_.tls ? "ESMTPS" : "ESMTP", date);
}

smtp_step smtp_session::delivered(const store_outcome& outcome) {
  if (state_ != state::wait_store) return {};
  std::string reply;
  switch (outcome.result) {
    case store_outcome::kind::stored: reply = "250 2.0.0 Message accepted for delivery\r\n"; break;
    case store_outcome::kind::temporary_failure:
      reply = "451 4.3.0 Temporary failure storing the message; try again later\r\n";
      break;
    case store_outcome::kind::rejected:
      reply = fmt::format("554 5.6.0 Message rejected{}{}\r\n", outcome.reason.empty() ? "" : ": ",
                          one_line_ascii(outcome.reason));
      break;
  }
  reset_transaction();
  state_ = state::command;
  return run(std::move(reply));
}

smtp_step smtp_session::tls_started() {
  tls_ = true;
  helo_done_ = false;  // RFC 3207: forget everything learned before the handshake
  reset_transaction();
  buffer_.clear();
  state_ = state::command;
  return {};
}

}  // namespace pasokh::connectors::email
