#include "pasokh/connectors/email/mailgun.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/email/compose.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::header_value;
using detail::iequals;
using detail::trim;

// The value of parameter `name` in a header like `form-data; name="x"; filename="y"`
// (quoted with backslash escapes, or a bare token); empty when absent.
std::string header_param(std::string_view header, std::string_view name) {
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    auto eq = header.find('=', i);
    if (eq == std::string_view::npos) return {};
    auto key = trim(header.substr(i, eq - i));
    std::string value;
    std::size_t j = eq + 1;
    if (j < header.size() && header[j] == '"') {
      for (++j; j < header.size() && header[j] != '"'; ++j) {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value += header[j];
      }
      i = header.find(';', j);
    } else {
      auto end = header.find(';', j);
      value = std::string(trim(header.substr(j, end == std::string_view::npos ? end : end - j)));
      i = end;
    }
    if (iequals(key, name)) return value;
  }
  return {};
}

form_result parse_urlencoded(std::string_view body, std::size_t max_fields) {
  form_result out;
  while (!body.empty()) {
    auto amp = body.find('&');
    auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (out.fields.size() == max_fields) {
      out.error = "too many form fields";
      return out;
    }
    auto eq = pair.find('=');
    form_field f;
    f.name = form_decode(pair.substr(0, eq));
    if (eq != std::string_view::npos) f.value = form_decode(pair.substr(eq + 1));
    out.fields.push_back(std::move(f));
  }
  return out;
}

form_result parse_multipart(std::string_view boundary, std::string_view body, std::size_t max_fields) {
  form_result out;
  if (boundary.empty() || boundary.size() > 200) {
    out.error = "multipart/form-data without a usable boundary";
    return out;
  }
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next = "\r\n" + delimiter;
  // The first delimiter opens the body or follows a preamble.
  std::size_t pos = delimiter.size();
  if (!body.starts_with(delimiter)) {
    pos = body.find(next);
    if (pos == std::string_view::npos) {
      out.error = "multipart body has no boundary line";
      return out;
    }
    pos += next.size();
  }
  for (;;) {
    if (body.substr(pos, 2) == "--") return out;  // closing delimiter
    auto line_end = body.find("\r\n", pos);
    if (line_end == std::string_view::npos) break;
    auto headers_end = body.find("\r\n\r\n", line_end);
    if (headers_end == std::string_view::npos) break;
    // An empty header block ends right after the boundary line's CRLF.
    auto headers = line_end == headers_end ? std::string_view{} : body.substr(line_end + 2, headers_end - line_end - 2);
    auto content_start = headers_end + 4;
    auto content_end = body.find(next, content_start);
    if (content_end == std::string_view::npos) break;
    if (out.fields.size() == max_fields) {
      out.error = "too many form fields";
      return out;
    }
    form_field f;
    for (auto line : detail::split_lines(headers)) {
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      auto name = trim(line.substr(0, colon));
      auto value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        f.name = header_param(value, "name");
        f.filename = header_param(value, "filename");
      } else if (iequals(name, "Content-Type")) {
        f.content_type = std::string(value);
      }
    }
    f.value = std::string(body.substr(content_start, content_end - content_start));
    if (!f.name.empty()) out.fields.push_back(std::move(f));
    pos = content_end + next.size();
  }
  out.error = "multipart body is truncated";
  return out;
}

// One header line's value, with CR and LF turned into spaces so a field cannot
// add headers of its own.
std::string one_line(std::string_view value) {
  std::string out(trim(value));
  for (auto& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

std::string angle(std::string_view id) {
  auto t = one_line(id);
  if (t.empty() || t.front() == '<') return t;
  return "<" + t + ">";
}

std::string field_value(const std::vector<form_field>& fields, std::string_view name) {
  auto* f = find_field(fields, name);
  return f ? f->value : std::string();
}

// Headers we write from the fields (or that describe the body we rebuild), so
// the copies in message-headers are left out.
bool rebuilt_header(std::string_view name) {
  for (std::string_view h : {"from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
                             "mime-version", "content-type", "content-transfer-encoding"})
    if (iequals(name, h)) return true;
  return false;
}

// The `message-headers` field: a JSON list of [name, value] pairs, in order;
// pairs that are not two strings or whose name could not be a header are left out.
std::vector<std::pair<std::string, std::string>> original_headers(const std::vector<form_field>& fields) {
  std::vector<std::pair<std::string, std::string>> out;
  auto* headers = find_field(fields, "message-headers");
  if (!headers) return out;
  auto list = nlohmann::json::parse(headers->value, nullptr, false);
  if (!list.is_array()) return out;
  for (const auto& pair : list) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) continue;
    const auto& name = pair[0].get_ref<const std::string&>();
    if (name.empty() || name.find_first_of(": \t\r\n") != std::string::npos) continue;
    out.emplace_back(name, pair[1].get_ref<const std::string&>());
  }
  return out;
}

}  // namespace

form_result parse_form(std::string_view content_type, std::string_view body, std::size_t max_fields) {
  auto semi = content_type.find(';');
  auto type = detail::to_lower(trim(content_type.substr(0, semi)));
  if (type == "application/x-www-form-urlencoded") return parse_urlencoded(body, max_fields);
  if (type == "multipart/form-data") return parse_multipart(header_param(content_type, "boundary"), body, max_fields);
  form_result out;
  out.unsupported_type = true;
  out.error = "expected application/x-www-form-urlencoded or multipart/form-data";
  return out;
}

const form_field* find_field(const std::vector<form_field>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return &f;
  return nullptr;
}

std::string_view to_string(mailgun_check c) {
  switch (c) {
    case mailgun_check::ok: return "ok";
    case mailgun_check::missing_signature: return "missing_signature";
    case mailgun_check::bad_signature: return "bad_signature";
    case mailgun_check::stale_timestamp: return "stale_timestamp";
  }
  return "?";
}

mailgun_check check_mailgun_signature(const std::vector<form_field>& fields, std::string_view signing_key,
                                      std::chrono::seconds now, std::chrono::seconds max_age) {
  auto* timestamp = find_field(fields, "timestamp");
  auto* token = find_field(fields, "token");
  auto* signature = find_field(fields, "signature");
  if (!timestamp || !token || !signature || timestamp->value.empty() || token->value.empty())
    return mailgun_check::missing_signature;
  auto expected = hmac_sha256_hex(signing_key, timestamp->value + token->value);
  if (!constant_time_equal(detail::to_lower(signature->value), expected)) return mailgun_check::bad_signature;
  // Only a signed timestamp is worth reading.
  std::int64_t ts = 0;
  const auto& t = timestamp->value;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ts);
  if (ec != std::errc{} || end != t.data() + t.size()) return mailgun_check::stale_timestamp;
  auto age = now.count() - ts;
  if (age > max_age.count() || -age > max_age.count()) return mailgun_check::stale_timestamp;
  return mailgun_check::ok;
}

mailgun_mail mailgun_message(const std::vector<form_field>& fields, proto::timestamp_ms now) {
  mailgun_mail out;
  out.sender = one_line(field_value(fields, "sender"));
  std::string recipients = field_value(fields, "recipient");
  for (std::size_t i = 0; i <= recipients.size();) {
    auto comma = recipients.find(',', i);
    if (comma == std::string::npos) comma = recipients.size();
    auto one = detail::to_lower(trim(std::string_view(recipients).substr(i, comma - i)));
    if (!one.empty()) out.recipients.push_back(std::move(one));
    i = comma + 1;
  }

  if (auto* mime = find_field(fields, "body-mime"); mime && !mime->value.empty()) {
    out.raw = mime->value;
    return out;
  }

  // The original headers (Auto-Submitted, List-Id, Return-Path... decide
  // whether the mail is automatic); the ones rebuilt below are taken from
  // their own fields when Mailgun posted those, else from here.
  auto original = original_headers(fields);
  auto pick = [&](std::string_view field, std::string_view header) {
    auto v = field_value(fields, field);
    return v.empty() ? header_value(original, header) : v;
  };
  std::string h;
  auto add = [&h](std::string_view name, std::string_view value) {
    auto v = one_line(value);
    if (!v.empty()) h += std::string(name) + ": " + v + "\r\n";
  };
  // As our SMTP listener writes it: an empty envelope sender (a bounce) is "<>".
  if (header_value(original, "Return-Path").empty() && find_field(fields, "sender"))
    add("Return-Path", "<" + out.sender + ">");
  for (const auto& [name, value] : original)
    if (!rebuilt_header(name)) add(name, value);
  auto from = pick("from", "From");
  add("From", from.empty() ? out.sender : from);
  auto to = pick("To", "To");
  add("To", to.empty() ? recipients : to);
  add("Cc", pick("Cc", "Cc"));
  if (auto subject = pick("subject", "Subject"); !subject.empty())
    h += "Subject: " + encode_header_text(subject, 9) + "\r\n";
  auto date = pick("Date", "Date");
  add("Date", date.empty() ? format_date(now) : date);
  add("Message-ID", angle(pick("Message-Id", "Message-Id")));
  add("In-Reply-To", angle(pick("In-Reply-To", "In-Reply-To")));
  add("References", pick("References", "References"));
  h += "MIME-Version: 1.0\r\n";

  std::vector<outgoing_attachment> attachments;
  for (const auto& f : fields) {
    if (f.filename.empty()) continue;
    outgoing_attachment a;
    a.name = f.filename;
    if (!f.content_type.empty()) a.mime_type = one_line(f.content_type);
    a.content = f.value;
    attachments.push_back(std::move(a));
  }
  auto seed = field_value(fields, "token") + field_value(fields, "Message-Id");
  out.raw = h + mime_body(field_value(fields, "body-plain"), field_value(fields, "body-html"), attachments, seed);
  return out;
}

}  // namespace pasokh::connectors::email
