#pragma once
// Client-side SMTP pieces that need no socket: reply parsing, result
// classification for the outbox, dot-stuffing, AUTH encodings.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::connectors::email {

struct smtp_reply {
  int code = 0;                    // 0 when the server sent no valid reply
  std::vector<std::string> lines;  // text after "NNN-" / "NNN "
  std::string text() const;        // lines joined by " "
  bool positive() const { return code >= 200 && code < 400; }
};

// Collects the lines of one (possibly multi-line) reply.
class smtp_reply_reader {
 public:
  // Feeds one line without CRLF. Returns the reply once its last line arrived;
  // a malformed line yields a reply with code 0.
  std::optional<smtp_reply> line(std::string_view line);

 private:
  smtp_reply partial_;
};

// EHLO keywords, upper-case ("STARTTLS", "AUTH PLAIN LOGIN", "SIZE 1000").
bool has_extension(const smtp_reply& ehlo, std::string_view keyword);
std::string extension_params(const smtp_reply& ehlo, std::string_view keyword);  // "PLAIN LOGIN"

enum class send_status { delivered, retry, permanent };
std::string_view to_string(send_status);

// 2xx/3xx delivered, 4xx retry, 5xx permanent, anything else retry.
send_status classify(int code);

// CRLF line ends, a '.' doubled at line starts, "\r\n.\r\n" at the end.
std::string dot_stuff(std::string_view message);

std::string auth_plain(std::string_view user, std::string_view password);  // base64("\0user\0password")
std::string base64(std::string_view bytes);

}  // namespace pasokh::connectors::email
