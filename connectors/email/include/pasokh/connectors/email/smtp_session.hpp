#pragma once
// The server side of one SMTP connection (RFC 5321, with PIPELINING, SIZE,
// 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS) as a pure state machine: bytes in,
// reply bytes out, plus what the driver must do next. No sockets, no clock
// beyond the one passed in, so it is tested as tables.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/connectors/email/config.hpp"

namespace pasokh::connectors::email {

struct smtp_envelope {
  std::string helo;                     // EHLO/HELO argument
  std::string mail_from;                // reverse path without <>, "" for bounces
  std::vector<std::string> rcpt_to;     // accepted forward paths, lower-case
  std::string peer;                     // remote address, for Received:
  bool tls = false;                     // the message came over STARTTLS
  bool eight_bit = false;               // BODY=8BITMIME was declared
};

// What the gateway's storage said about one message.
struct store_outcome {
  enum class kind { stored, temporary_failure, rejected };
  kind result = kind::temporary_failure;
  std::string reason;  // for rejected: goes into the 554 reply (one line, ASCII)

  static store_outcome stored() { return {kind::stored, {}}; }
  static store_outcome temporary_failure(std::string why = {}) { return {kind::temporary_failure, std::move(why)}; }
  static store_outcome rejected(std::string why) { return {kind::rejected, std::move(why)}; }
};

enum class smtp_action {
  read,       // send `out`, then read more input
  deliver,    // send `out`, hand take_message() to storage, then call delivered()
  start_tls,  // send `out`, drop any buffered input, handshake, then call tls_started()
  close,      // send `out`, then close the connection
};

struct smtp_step {
  std::string out;  // replies to send, possibly several (pipelining), CRLF-terminated
  smtp_action next = smtp_action::read;
};

class smtp_session {
 public:
  struct options {
    bool tls_available = false;  // a certificate is configured
    std::string peer;            // remote address for Received:
    // Returns the RFC 5322 date for the Received: header; injectable for tests.
    std::function<std::string()> now_rfc5322;
  };

  smtp_session(const smtp_config& config, options opts);

  std::string greeting() const;  // "220 <host> ESMTP Pasokh\r\n"
  // Feeds bytes from the socket; processes every complete line until input runs
  // out or the driver must act (deliver, start_tls, close).
  smtp_step feed(std::string_view bytes);
  // After smtp_action::deliver: the outcome of storing, then more buffered input.
  smtp_step delivered(const store_outcome& outcome);
  // After smtp_action::start_tls: the handshake succeeded; the client must EHLO again.
  smtp_step tls_started();
  // Timeouts and shutdown: the reply to send before closing.
  std::string timeout_reply() const;
  std::string shutdown_reply() const;

  bool in_data() const { return state_ == state::data; }
  // Counts the input that moves mail on (every command but NOOP, RSET, HELP,
  // VRFY; data): the driver's idle timeout restarts only when it changes.
  std::size_t progress() const { return progress_; }
  bool closed() const { return state_ == state::closed; }
  const smtp_envelope& envelope() const { return envelope_; }
  // The message of the last deliver step, with Return-Path and Received: prepended
  // (we are the final delivery). Moves it out.
  std::string take_message() { return std::move(message_); }

 private:
  enum class state { command, data, wait_store, wait_tls, closed };

  smtp_step run(std::string out);
  void command(std::string_view line, smtp_step& step);
  void data_line(std::string_view line, bool crlf, smtp_step& step);
  void data_part(std::string_view part);  // a line's bytes without its end, or a piece of an over-long one
  void keep_data(std::string_view bytes);
  void reset_transaction();
  void ehlo(std::string_view arg, bool extended, smtp_step& step);
  void mail(std::string_view arg, smtp_step& step);
  void rcpt(std::string_view arg, smtp_step& step);
  void begin_data(smtp_step& step);
  void error(smtp_step& step, std::string_view reply);
  std::string trace_headers() const;

  const smtp_config& config_;
  options opts_;
  state state_ = state::command;
  std::string buffer_;          // input not yet processed
  bool discarding_ = false;     // skipping the rest of an over-long line
  bool helo_done_ = false;
  bool tls_ = false;
  bool in_transaction_ = false;
  std::size_t errors_ = 0;
  std::size_t progress_ = 0;
  smtp_envelope envelope_;
  std::string message_;
  std::size_t message_size_ = 0;
  bool too_big_ = false;
  bool last_line_crlf_ = true;  // data: was the previous line ended by CRLF
  bool continuation_ = false;   // data: the previous piece ended mid-line; the next bytes continue it
};

}  // namespace pasokh::connectors::email
