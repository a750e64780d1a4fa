#include "pasokh/connectors/email/compose.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/proto/utf8.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::trim;

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// An address we are willing to put into headers and the envelope.
bool plausible_address(std::string_view a) {
  auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size() || a.size() > 254) return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == '"' || c == ',' || c == '\\' ||
        c == 0x7F)
      return false;
  return true;
}

// Splits UTF-8 into encoded words of at most 75 characters each.
std::vector<std::string> encoded_words(std::string_view text) {
  std::vector<std::string> words;
  constexpr std::size_t max_raw = 42;  // 56 base64 chars + 12 of =?UTF-8?B??=: fits after "Subject: "
  while (!text.empty()) {
    auto chunk = detail::utf8_prefix(text, max_raw);
    if (chunk.empty()) chunk = text.substr(0, 1);
    words.push_back("=?UTF-8?B?" + detail::base64_encode(chunk) + "?=");
    text.remove_prefix(chunk.size());
  }
  return words;
}

std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool long_lines(std::string_view crlf_text) {
  std::size_t start = 0;
  while (start < crlf_text.size()) {
    auto end = crlf_text.find("\r\n", start);
    if (end == std::string_view::npos) end = crlf_text.size();
    if (end - start > 900) return true;
    start = end + 2;
  }
  return false;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string html_from_text(std::string_view text, std::string_view lang) {
  std::string body;
  for (auto line : detail::split_lines(text)) {
    body += html_escape(line);
    body += "<br>\r\n";
  }
  // dir="auto" lets each paragraph take the direction of its first strong letter (RTL for fa/ar).
  return fmt::format(
      "<!DOCTYPE html>\r\n<html{}><head><meta charset=\"utf-8\"></head>\r\n"
      "<body><div dir=\"auto\" style=\"unicode-bidi:plaintext\">\r\n{}</div></body></html>\r\n",
      lang.empty() ? "" : fmt::format(" lang=\"{}\"", lang), body);
}

// A text body part: 7bit when it is short-lined ASCII, base64 otherwise (for
// Persian and Arabic base64 is a third the size of quoted-printable).
std::string text_part(std::string_view subtype, std::string_view text) {
  auto crlf = to_crlf(text);
  if (crlf.empty() || crlf.substr(crlf.size() - std::min<std::size_t>(2, crlf.size())) != "\r\n") crlf += "\r\n";
  if (ascii(crlf) && !long_lines(crlf))
    return fmt::format("Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{}", subtype,
                       crlf);
  return fmt::format("Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}", subtype,
                     detail::base64_encode(crlf, 76));
}

// RFC 2231 filename*, plus an RFC 2047 name= for old clients.
std::string attachment_part(const outgoing_attachment& a) {
  std::string name = a.name.empty() ? std::string("attachment") : a.name;
  std::string plain_name, extended;
  if (ascii(name) && name.find_first_of("\"\\\r\n") == std::string::npos) {
    plain_name = "\"" + name + "\"";
    extended = "filename=" + plain_name;
  } else {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string pct;
    for (unsigned char c : name) {
      if (std::isalnum(c) || c == '.' || c == '-' || c == '_') pct += static_cast<char>(c);
      else {
        pct += '%';
        pct += hex[c >> 4];
        pct += hex[c & 15];
      }
    }
    plain_name = "\"" + encoded_words(name).front() + "\"";
    if (encoded_words(name).size() > 1) plain_name = "\"attachment\"";
    extended = "filename*=UTF-8''" + pct;
  }
  return fmt::format(
      "Content-Type: {}; name={}\r\nContent-Disposition: attachment;\r\n {}\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n{}",
      a.mime_type.empty() ? "application/octet-stream" : a.mime_type, plain_name, extended,
      detail::base64_encode(a.content, 76));
}

std::string boundary_for(std::string_view seed, std::string_view tag, std::string_view body) {
  for (int attempt = 0;; ++attempt) {
    auto b = fmt::format("=_pasokh_{}_{}", tag, detail::sha256_hex(fmt::format("{}/{}", seed, attempt)).substr(0, 24));
    if (body.find(b) == std::string_view::npos) return b;  // "=_" cannot occur in base64; check the 7bit parts
  }
}

std::string language_of(std::string_view text) {
  int arabic = 0, persian = 0;
  for (std::size_t i = 0; i < text.size() && i < 4096;) {
    char32_t c = detail::next_code_point(text, i);
    if (c == 0x067E || c == 0x0686 || c == 0x0698 || c == 0x06AF || c == 0x06CC || c == 0x06A9) ++persian;
    else if (c >= 0x0621 && c <= 0x064A) ++arabic;
  }
  if (persian) return "fa";
  return arabic ? "ar" : "";
}

// A campaign mail starts its own thread, titled by its first line (at most
// about 60 letters, cut at a space): "Re: <an old complaint>" or "Your
// support request" above a greeting would puzzle the customer.
std::string outreach_subject(std::string_view text, std::string_view fallback) {
  for (auto line : detail::split_lines(text)) {
    line = trim(line);
    if (line.empty()) continue;
    auto parts = split_text(line, 60);
    return parts.size() == 1 ? parts[0] : parts[0] + "…";
  }
  return std::string(fallback);
}

// The last lines of a campaign mail: how to stop them, in its language.
std::string unsubscribe_footer(std::string_view lang, std::string_view url) {
  const std::string link(url);
  if (lang == "fa")
    return "برای لغو دریافت این پیام‌ها «لغو» را پاسخ دهید" + (link.empty() ? "." : " یا این پیوند را باز کنید: " + link);
  if (lang == "ar") return "لإيقاف هذه الرسائل أرسل «إلغاء»" + (link.empty() ? "." : " أو افتح هذا الرابط: " + link);
  return "To stop these messages, reply \"stop\"" + (link.empty() ? "." : " or open " + link);
}

// Folded References: the first id and the newest ones (RFC 5322 3.6.4 allows trimming).
std::string references_header(std::vector<std::string> ids) {
  constexpr std::size_t keep = 20;
  if (ids.size() > keep) {
    std::vector<std::string> trimmed{ids.front()};
    trimmed.insert(trimmed.end(), ids.end() - (keep - 1), ids.end());
    ids = std::move(trimmed);
  }
  std::string out = "References:";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "\r\n <" : " <") + ids[i] + ">";
  return out + "\r\n";
}

bool valid_msg_id(std::string_view id) {
  if (id.empty() || id.size() > 900 || id.find('@') == std::string_view::npos) return false;
  for (char c : id)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F || c == '<' || c == '>')
      return false;
  return true;
}

}  // namespace

reply_thread thread_from(const parsed_email& last, std::string reply_token) {
  reply_thread t;
  t.customer_name = last.event.from.display_name;  // the person in a contact form's Reply-To
  t.subject = last.subject;
  t.in_reply_to = last.message_id;
  constexpr std::size_t keep = 50;
  auto first = last.references.size() > keep ? last.references.end() - keep : last.references.begin();
  t.references.assign(first, last.references.end());
  t.reply_token = std::move(reply_token);
  return t;
}

void to_json(nlohmann::json& j, const reply_thread& t) {
  j = {{"customer_name", t.customer_name}, {"subject", t.subject}, {"in_reply_to", t.in_reply_to},
       {"references", t.references}, {"reply_token", t.reply_token}};
}

void from_json(const nlohmann::json& j, reply_thread& t) {
  t = {};
  t.customer_name = j.value("customer_name", "");
  t.subject = j.value("subject", "");
  t.in_reply_to = j.value("in_reply_to", "");
  t.references = j.value("references", std::vector<std::string>{});
  t.reply_token = j.value("reply_token", "");
}

std::string reply_subject(std::string_view subject, std::string_view default_subject) {
  auto s = detail::strip_subject_prefixes(subject, detail::reply_prefixes);
  if (s.empty()) return std::string(default_subject);
  return "Re: " + s;
}

std::string encode_header_text(std::string_view text, std::size_t name_length) {
  std::string clean;
  for (char c : text) clean += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;  // no header injection
  if (ascii(clean)) {
    // Fold at spaces to stay near 78 columns.
    std::string out;
    std::size_t column = name_length;
    std::size_t i = 0;
    while (i < clean.size()) {
      auto space = clean.find(' ', i + 1);
      auto word = std::string_view(clean).substr(i, space == std::string::npos ? std::string::npos : space - i);
      if (column + word.size() > 78 && column > name_length && word.front() == ' ') {
        out += "\r\n";
        column = 0;
      }
      out += word;
      column += word.size();
      i += word.size();
    }
    return out;
  }
  auto words = encoded_words(clean);
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += "\r\n ";
    out += words[i];
  }
  return out;
}

std::string format_address(std::string_view name, std::string_view address) {
  name = trim(name);
  if (name.empty()) return "<" + std::string(address) + ">";
  std::string clean;
  for (char c : name) clean += (c == '\r' || c == '\n') ? ' ' : c;
  if (!ascii(clean)) {
    std::string out;
    for (const auto& w : encoded_words(clean)) out += w + " ";
    return out + "<" + std::string(address) + ">";
  }
  bool atoms = std::all_of(clean.begin(), clean.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) !=
                                                                          std::string_view::npos;
  });
  if (atoms) return clean + " <" + std::string(address) + ">";
  std::string quoted = "\"";
  for (char c : clean) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + std::string(address) + ">";
}

std::string format_date(proto::timestamp_ms ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string mime_body(std::string_view text, std::string_view html,
                      const std::vector<outgoing_attachment>& attachments, std::string_view seed) {
  std::string first = text_part("plain", text);
  std::string first_type;  // Content-Type of `first` when it is a multipart
  if (!html.empty()) {
    std::string plain_part = std::move(first);
    std::string html_part = text_part("html", html);
    std::string alt_boundary = boundary_for(seed, "alt", plain_part + html_part);
    first = fmt::format("--{0}\r\n{1}\r\n--{0}\r\n{2}\r\n--{0}--\r\n", alt_boundary, plain_part, html_part);
    first_type = "Content-Type: multipart/alternative; boundary=\"" + alt_boundary + "\"\r\n\r\n";
  }
  if (attachments.empty()) return first_type + first;

  std::vector<std::string> parts;
  std::string all = first;
  for (const auto& a : attachments) all += parts.emplace_back(attachment_part(a));
  std::string mixed_boundary = boundary_for(seed, "mix", all);
  std::string body = "--" + mixed_boundary + "\r\n" + first_type + first;
  for (const auto& p : parts) body += "\r\n--" + mixed_boundary + "\r\n" + p;
  body += "\r\n--" + mixed_boundary + "--\r\n";
  return "Content-Type: multipart/mixed; boundary=\"" + mixed_boundary + "\"\r\n\r\n" + body;
}

composed_mail build_reply(const proto::outbound_message& msg, const reply_thread& thread, const email_config& config,
                          const compose_input& input) {
  std::string to = detail::to_lower(trim(msg.recipient));
  if (!plausible_address(to)) throw std::invalid_argument("recipient is not an email address");
  if (!plausible_address(config.from_address)) throw std::invalid_argument("from_address is not configured");
  std::string domain = config.recipients.reply_domain;
  if (domain.empty()) domain = config.from_address.substr(config.from_address.rfind('@') + 1);

  composed_mail out;
  out.message_id = make_message_id(msg.conversation_id, msg.message_id, domain, input.message_id_key);
  out.envelope_from = config.bounce_address.empty() ? config.from_address : config.bounce_address;
  out.recipients = {to};

  std::string text = proto::valid_utf8(msg.text) ? msg.text : detail::sanitize_utf8(msg.text);
  std::string lang = language_of(text);
  const bool outreach = !msg.campaign.empty();
  std::string subject = !msg.subject.empty() ? msg.subject
                        : outreach          ? outreach_subject(text, config.default_subject)
                        : thread.in_reply_to.empty() && thread.subject.empty()
                            ? config.default_subject
                            : reply_subject(thread.subject, config.default_subject);

  std::string h;
  h += "Date: " + format_date(input.now) + "\r\n";
  h += "From: " + format_address(config.from_name, config.from_address) + "\r\n";
  h += "To: " + format_address(thread.customer_name, to) + "\r\n";
  if (auto token = reply_token("reply+" + thread.reply_token + "@" + domain, domain); token && !thread.reply_token.empty())
    h += "Reply-To: " + format_address(config.from_name, "reply+" + *token + "@" + domain) + "\r\n";
  h += "Subject: " + encode_header_text(subject, 9) + "\r\n";
  h += "Message-ID: <" + out.message_id + ">\r\n";
  std::string parent = std::string(trim(thread.in_reply_to));
  if (parent.size() >= 2 && parent.front() == '<') parent = parent.substr(1, parent.size() - 2);
  if (valid_msg_id(parent) && !outreach) {
    h += "In-Reply-To: <" + parent + ">\r\n";
    std::vector<std::string> refs;
    for (const auto& r : thread.references)
      if (valid_msg_id(r) && r != parent && std::find(refs.begin(), refs.end(), r) == refs.end()) refs.push_back(r);
    refs.push_back(parent);
    h += references_header(std::move(refs));
  }
  if (!msg.campaign.empty()) {
    // Outreach, not an answer (RFC 3834); mailbox providers ask bulk senders
    // for a one-click unsubscribe (RFC 8058) as well as a mailto.
    std::string url = config.unsubscribe_base.empty() || msg.unsubscribe_token.empty()
                          ? std::string()
                          : config.unsubscribe_base + msg.unsubscribe_token;
    h += "Auto-Submitted: auto-generated\r\n";
    h += "Precedence: bulk\r\n";
    h += "X-Auto-Response-Suppress: All\r\n";
    h += "List-Unsubscribe: " + (url.empty() ? "" : "<" + url + ">, ") + "<mailto:" + config.from_address +
         "?subject=unsubscribe>\r\n";
    if (!url.empty()) h += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    text += "\n\n-- \n" + unsubscribe_footer(lang, url);
  } else if (msg.automatic) {
    h += "Auto-Submitted: auto-replied\r\n";
    h += "X-Auto-Response-Suppress: All\r\n";  // keeps Exchange out-of-office replies from looping
  }
  if (!lang.empty()) h += "Content-Language: " + lang + "\r\n";
  h += "MIME-Version: 1.0\r\n";

  std::string html = input.html.empty() ? html_from_text(text, lang) : input.html;
  out.data = h + mime_body(text, html, input.attachments, out.message_id);
  return out;
}

}  // namespace pasokh::connectors::email
