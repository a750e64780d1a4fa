#include "pasokh/connectors/email/smtp_protocol.hpp"

#include <cctype>

#include "util.hpp"

namespace pasokh::connectors::email {

std::string smtp_reply::text() const {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += ' ';
    out += l;
  }
  return out;
}

std::optional<smtp_reply> smtp_reply_reader::line(std::string_view line) {
  bool valid = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
               std::isdigit(static_cast<unsigned char>(line[1])) && std::isdigit(static_cast<unsigned char>(line[2])) &&
               (line.size() == 3 || line[3] == ' ' || line[3] == '-');
  if (!valid) {
    smtp_reply bad{0, {std::string(line.substr(0, 200))}};
    partial_ = {};
    return bad;
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (partial_.code != 0 && partial_.code != code) {  // code changed mid-reply: protocol error
    partial_ = {};
    return smtp_reply{0, {std::string(line.substr(0, 200))}};
  }
  partial_.code = code;
  if (partial_.lines.size() < 100) partial_.lines.emplace_back(line.size() > 4 ? line.substr(4) : std::string_view{});
  if (line.size() > 3 && line[3] == '-') return std::nullopt;
  smtp_reply done = std::move(partial_);
  partial_ = {};
  return done;
}

std::string extension_params(const smtp_reply& ehlo, std::string_view keyword) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {  // line 0 is the greeting
    std::string_view l = ehlo.lines[i];
    auto word = l.substr(0, l.find(' '));
    if (detail::iequals(word, keyword)) return word.size() < l.size() ? std::string(detail::trim(l.substr(word.size()))) : "";
  }
  return {};
}

bool has_extension(const smtp_reply& ehlo, std::string_view keyword) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i) {
    std::string_view l = ehlo.lines[i];
    if (detail::iequals(l.substr(0, l.find(' ')), keyword)) return true;
  }
  return false;
}

std::string_view to_string(send_status s) {
  switch (s) {
    case send_status::delivered: return "delivered";
    case send_status::retry: return "retry";
    case send_status::permanent: return "permanent";
  }
  return "retry";
}

send_status classify(int code) {
  if (code >= 200 && code < 400) return send_status::delivered;
  if (code >= 500 && code < 600) return send_status::permanent;
  return send_status::retry;
}

std::string dot_stuff(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 50 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < message.size(); ++i) {
    char c = message[i];
    if (line_start && c == '.') out += '.';
    if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') {
      out += "\r\n";
      ++i;
      line_start = true;
    } else if (c == '\n' || c == '\r') {  // bare line ends become CRLF: never smuggle
      out += "\r\n";
      line_start = true;
    } else {
      out += c;
      line_start = false;
    }
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string base64(std::string_view bytes) { return detail::base64_encode(bytes); }

std::string auth_plain(std::string_view user, std::string_view password) {
  std::string s;
  s += '\0';
  s += user;
  s += '\0';
  s += password;
  return detail::base64_encode(s);
}

}  // namespace pasokh::connectors::email
