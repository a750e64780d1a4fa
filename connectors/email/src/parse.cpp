#include "pasokh/connectors/email/parse.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "pasokh/connectors/email/authentication.hpp"
#include "pasokh/connectors/email/charset.hpp"
#include "pasokh/connectors/email/html_text.hpp"
#include "pasokh/connectors/email/quotes.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::header_value;
using detail::iequals;
using detail::to_lower;
using detail::trim;

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

struct gobject_unref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using gptr = std::unique_ptr<T, gobject_unref>;

struct gfree {
  void operator()(void* p) const { g_free(p); }
};
using gstring = std::unique_ptr<char, gfree>;

std::string str(const char* s) { return s ? std::string(s) : std::string(); }

std::string strip_angles(std::string_view id) {
  id = trim(id);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return std::string(trim(id));
}

std::string mime_type_of(GMimeObject* obj) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  if (!ct) return "application/octet-stream";
  return to_lower(str(g_mime_content_type_get_media_type(ct))) + "/" +
         to_lower(str(g_mime_content_type_get_media_subtype(ct)));
}

std::string param_of(GMimeObject* obj, const char* name) {
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  return ct ? str(g_mime_content_type_get_parameter(ct, name)) : std::string();
}

std::string decoded_content(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  gptr<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(wrapper, mem.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return bytes ? std::string(reinterpret_cast<const char*>(bytes->data), bytes->len) : std::string();
}

void add_addresses(InternetAddressList* list, std::vector<mail_address>& out, int depth = 0) {
  if (!list || depth > 4) return;
  int n = std::min(internet_address_list_length(list), 200);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      add_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, depth + 1);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      auto addr = to_lower(trim(str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))));
      if (addr.empty()) continue;
      out.push_back({detail::sanitize_utf8(addr), detail::sanitize_utf8(trim(str(internet_address_get_name(ia))))});
    }
  }
}

// RFC 3676: rejoin soft-broken lines of format=flowed text.
std::string unflow(std::string_view text, bool delsp) {
  std::string out;
  bool joining = false;
  int joining_depth = 0;
  for (auto line : detail::split_lines(text)) {
    int depth = 0;
    while (!line.empty() && line.front() == '>') {
      ++depth;
      line.remove_prefix(1);
    }
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);  // space stuffing
    bool soft = !line.empty() && line.back() == ' ' && line != "-- ";
    if (!(joining && depth == joining_depth)) {
      if (joining) out += '\n';
      out.append(static_cast<std::size_t>(depth), '>');
      if (depth) out += ' ';
    }
    if (soft && delsp) line.remove_suffix(1);
    out.append(line);
    if (!soft) out += '\n';
    joining = soft;
    joining_depth = depth;
  }
  return out;
}

// A charset named by <meta> when the part's header has none.
std::string html_meta_charset(std::string_view html) {
  auto head = to_lower(html.substr(0, 4096));
  auto at = head.find("charset=");
  if (at == std::string::npos) return {};
  at += 8;
  while (at < head.size() && (head[at] == '"' || head[at] == '\'' || head[at] == ' ')) ++at;
  auto end = head.find_first_of("\"'; >/", at);
  return head.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

proto::attachment_kind kind_of(std::string_view mime) {
  using k = proto::attachment_kind;
  if (mime.starts_with("image/")) return k::image;
  if (mime.starts_with("audio/")) return k::audio;
  if (mime.starts_with("video/")) return k::video;
  if (mime == "text/vcard" || mime == "text/x-vcard" || mime == "text/directory") return k::contact;
  if (mime == "application/pdf" || mime.starts_with("text/") || mime.find("msword") != std::string_view::npos ||
      mime.find("officedocument") != std::string_view::npos || mime.find("opendocument") != std::string_view::npos ||
      mime == "application/rtf" || mime == "message/rfc822")
    return k::document;
  return k::file;
}

std::string extension_for(std::string_view mime) {
  static const std::pair<std::string_view, std::string_view> map[] = {
      {"application/pdf", "pdf"}, {"image/png", "png"},   {"image/jpeg", "jpg"},        {"image/gif", "gif"},
      {"image/webp", "webp"},     {"text/plain", "txt"},  {"text/html", "html"},        {"message/rfc822", "eml"},
      {"text/calendar", "ics"},   {"text/vcard", "vcf"},  {"application/zip", "zip"},   {"audio/mpeg", "mp3"},
      {"video/mp4", "mp4"},       {"message/delivery-status", "txt"}, {"text/rfc822-headers", "txt"}};
  for (auto [m, e] : map)
    if (m == mime) return std::string(e);
  return "bin";
}

// Keeps the last path component and drops control characters: names come from
// strangers and end up on disk and in browsers.
std::string safe_filename(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    std::size_t start = i;
    char32_t c = detail::next_code_point(name, i);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x202E || c == 0x202D) continue;
    out.append(name.substr(start, i - start));
  }
  auto t = trim(out);
  while (!t.empty() && t.front() == '.') t.remove_prefix(1);  // no hidden files, no ".."
  return std::string(detail::utf8_prefix(t, 255));
}

std::string language_hint(std::string_view content_language, std::string_view text) {
  auto lang = to_lower(trim(content_language.substr(0, content_language.find_first_of(",;"))));
  lang = lang.substr(0, lang.find('-'));
  if (lang == "fa" || lang == "ar" || lang == "en") return lang;
  int arabic = 0, persian = 0, latin = 0;
  for (std::size_t i = 0; i < text.size() && i < 8192;) {
    char32_t c = detail::next_code_point(text, i);
    if (c == 0x067E || c == 0x0686 || c == 0x0698 || c == 0x06AF || c == 0x06A9 || c == 0x06CC) ++persian;
    else if (c >= 0x0621 && c <= 0x064A) ++arabic;
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ++latin;
  }
  if (arabic + persian > latin) return persian > 0 ? "fa" : "ar";
  return {};
}

// Texts use "\n" only: mail bodies arrive with CRLF, the console wants one convention.
std::string normalize_newlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The bytes after the header block, for mail whose MIME structure yielded nothing.
// "Name: value" (RFC 5322 field name: printable ASCII, no colon), or a folded line.
bool header_like(std::string_view line) {
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) return true;
  auto colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (char c : line.substr(0, colon))
    if (c <= ' ' || c > '~') return false;
  return true;
}

// Where the body starts: after the blank line that ends the header block, or
// at the block's first line that is no field (text sent without a header of
// its own, after our trace fields: GMime takes it for a broken field).
struct body_start {
  std::size_t pos = std::string_view::npos;
  bool after_blank_line = false;
};

body_start find_body(std::string_view raw) {
  for (std::size_t pos = 0; pos < raw.size();) {
    auto nl = raw.find('\n', pos);
    auto line = raw.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return {nl == std::string_view::npos ? raw.size() : nl + 1, true};
    if (!header_like(line)) return {pos, false};
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return {};
}

std::string_view raw_body(std::string_view raw) {
  auto start = find_body(raw);
  return start.pos == std::string_view::npos ? std::string_view{} : raw.substr(start.pos);
}

// Our trace field on top of every mail the listener took (smtp_session):
// "Return-Path: <sender>", the envelope sender, "" when absent or <>.
std::string envelope_sender(std::string_view raw) {
  constexpr std::string_view field = "Return-Path:";
  if (!detail::istarts_with(raw, field)) return {};
  auto line = raw.substr(field.size(), raw.find('\n') - field.size());
  return to_lower(strip_angles(line));
}

bool forwarded_subject(std::string_view subject) {
  auto s = trim(subject);
  return detail::istarts_with(s, "fw:") || detail::istarts_with(s, "fwd:") || detail::istarts_with(s, "fw :") ||
         detail::istarts_with(s, "tr:") || detail::istarts_with(s, "wg:");
}

struct body_piece {
  std::string full;   // text as written
  std::string shown;  // HTML quote containers already removed (same as full for plain text)
};

class walker {
 public:
  walker(const email_config& config, parsed_email& out) : config_(config), out_(out) {}

  void walk(GMimeObject* obj, int depth) {
    if (!obj) return;
    if (++parts_ > config_.max_parts || depth > 24) {
      note_once("MIME structure too large or too deep; the rest was not read");
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) multipart(GMIME_MULTIPART(obj), depth);
    else if (GMIME_IS_MESSAGE_PART(obj)) forwarded(GMIME_MESSAGE_PART(obj), depth);
    else if (GMIME_IS_PART(obj)) leaf(GMIME_PART(obj));
  }

  std::vector<body_piece> pieces;
  bool text_only = false;    // inside a forwarded message: text, no attachments
  bool status_part = false;  // a message/delivery-status part was read

 private:
  void multipart(GMimeMultipart* mp, int depth) {
    std::string subtype = to_lower(str(g_mime_content_type_get_media_subtype(
        g_mime_object_get_content_type(GMIME_OBJECT(mp)))));
    int n = g_mime_multipart_get_count(mp);
    if (subtype == "alternative") return alternative(mp, depth);
    if (subtype == "signed") {
      if (n > 0) walk(g_mime_multipart_get_part(mp, 0), depth + 1);
      return;
    }
    if (subtype == "related") {
      GMimeObject* root = nullptr;
      auto start = strip_angles(param_of(GMIME_OBJECT(mp), "start"));
      if (!start.empty()) root = g_mime_multipart_get_subpart_from_content_id(mp, start.c_str());
      if (!root && n > 0) root = g_mime_multipart_get_part(mp, 0);
      walk(root, depth + 1);
      for (int i = 0; i < n; ++i) {
        GMimeObject* child = g_mime_multipart_get_part(mp, i);
        if (child == root) continue;
        if (GMIME_IS_PART(child)) attachment(GMIME_PART(child), "inline");
        else walk(child, depth + 1);
      }
      return;
    }
    if (subtype == "encrypted") note_once("encrypted content cannot be read");
    for (int i = 0; i < n; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1);
  }

  // Parts come in rising preference; we want text/plain, else HTML, else the
  // richest multipart (e.g. multipart/related holding the HTML and its images).
  void alternative(GMimeMultipart* mp, int depth) {
    GMimeObject *plain = nullptr, *html = nullptr, *nested = nullptr;
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
      GMimeObject* child = g_mime_multipart_get_part(mp, i);
      auto type = mime_type_of(child);
      if (type == "text/plain" && GMIME_IS_PART(child)) plain = child;
      else if (type == "text/html" && GMIME_IS_PART(child)) html = child;
      else if (GMIME_IS_MULTIPART(child)) nested = child;
    }
    if (plain) {
      body_piece piece = plain_text(GMIME_PART(plain));
      if (!trim(piece.full).empty() || (!html && !nested)) {
        ++parts_;
        if (html && out_.html.empty() && !text_only) remember_html(GMIME_PART(html));
        if (nested && !text_only) collect_inline_images(nested, depth + 1);
        pieces.push_back(std::move(piece));
        return;
      }
    }
    if (html) {
      ++parts_;
      pieces.push_back(html_text_piece(GMIME_PART(html)));
      if (nested && !text_only) collect_inline_images(nested, depth + 1);
      return;
    }
    if (nested) walk(nested, depth + 1);
  }

  // Images of a multipart/related we did not render are still worth keeping.
  void collect_inline_images(GMimeObject* obj, int depth) {
    if (depth > 24 || !GMIME_IS_MULTIPART(obj)) return;
    auto* mp = GMIME_MULTIPART(obj);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
      GMimeObject* child = g_mime_multipart_get_part(mp, i);
      if (++parts_ > config_.max_parts) return;
      if (GMIME_IS_MULTIPART(child)) collect_inline_images(child, depth + 1);
      else if (GMIME_IS_PART(child) && !mime_type_of(child).starts_with("text/")) attachment(GMIME_PART(child), "inline");
    }
  }

  void leaf(GMimePart* part) {
    auto type = mime_type_of(GMIME_OBJECT(part));
    const char* filename = g_mime_part_get_filename(part);
    bool is_attachment = g_mime_part_is_attachment(part) || (filename && *filename);
    bool body = !is_attachment && (type == "text/plain" || type == "text/html" || type == "text/enriched");
    if (body) {
      pieces.push_back(type == "text/html" ? html_text_piece(part) : plain_text(part));
      return;
    }
    if (type == "application/pgp-signature" || type == "application/pkcs7-signature" ||
        type == "application/x-pkcs7-signature")
      return;  // signatures say nothing to an agent
    report_part(part, type);
    if (!text_only) attachment(part, is_attachment ? "attachment" : "inline");
  }

  // The parts of a delivery report that say what failed and which mail it was.
  void report_part(GMimePart* part, std::string_view type) {
    if (type == "message/delivery-status" || type == "message/global-delivery-status") {
      status_part = true;
      read_delivery_status(decoded_content(part), out_.report);
    } else if (type == "text/rfc822-headers" || type == "message/global-headers" ||
               type == "message/rfc822-headers") {  // a misnaming some MTAs send
      returned_id(message_id_in_headers(decoded_content(part)));
    }
  }

  void returned_id(std::string id) {
    auto& ids = out_.report.message_ids;
    if (!id.empty() && ids.size() < 10 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  }

  decoded_text text_of(GMimePart* part) {
    auto bytes = decoded_content(part);
    auto charset = param_of(GMIME_OBJECT(part), "charset");
    if (charset.empty() && mime_type_of(GMIME_OBJECT(part)) == "text/html") charset = html_meta_charset(bytes);
    auto decoded = decode_charset(bytes, charset);
    if (!decoded.note.empty()) note_once(decoded.note);
    return decoded;
  }

  body_piece plain_text(GMimePart* part) {
    auto decoded = text_of(part);
    if (iequals(param_of(GMIME_OBJECT(part), "format"), "flowed"))
      decoded.text = unflow(decoded.text, iequals(param_of(GMIME_OBJECT(part), "delsp"), "yes"));
    return {decoded.text, decoded.text};
  }

  body_piece html_text_piece(GMimePart* part) {
    auto decoded = text_of(part);
    if (out_.html.empty() && !text_only) out_.html = std::string(detail::utf8_prefix(decoded.text, config_.max_text_bytes));
    auto full = html_to_text(decoded.text).text;
    auto shown = html_to_text(decoded.text, {.strip_quotes = true}).text;
    return {std::move(full), std::move(shown)};
  }

  void remember_html(GMimePart* part) {
    out_.html = std::string(detail::utf8_prefix(text_of(part).text, config_.max_text_bytes));
  }

  void attachment(GMimePart* part, std::string disposition) {
    if (out_.attachments.size() >= config_.max_attachments) {
      note_once(fmt::format("more than {} attachments; the rest were not kept", config_.max_attachments));
      return;
    }
    mail_attachment a;
    a.meta.mime_type = mime_type_of(GMIME_OBJECT(part));
    a.meta.kind = kind_of(a.meta.mime_type);
    a.meta.name = safe_filename(detail::sanitize_utf8(str(g_mime_part_get_filename(part))));
    if (a.meta.name.empty())
      a.meta.name = fmt::format("attachment-{}.{}", out_.attachments.size() + 1, extension_for(a.meta.mime_type));
    a.disposition = std::move(disposition);
    a.content_id = strip_angles(str(g_mime_part_get_content_id(part)));
    keep_content(a, decoded_content(part));
    out_.attachments.push_back(std::move(a));
  }

  void keep_content(mail_attachment& a, std::string content) {
    a.meta.size = content.size();
    if (content.size() > config_.max_attachment_bytes ||
        attachment_bytes_ + content.size() > config_.max_total_attachment_bytes) {
      a.content_dropped = true;
      note_once(fmt::format("attachment \"{}\" ({} bytes) is over the size limit; its content was not kept",
                            a.meta.name, content.size()));
      return;
    }
    attachment_bytes_ += content.size();
    a.content = std::move(content);
  }

  // A message/rfc822 part: kept whole as an .eml attachment, and its text shown
  // below a forwarded-message header so the agent reads it in place.
  void forwarded(GMimeMessagePart* mp, int depth) {
    GMimeMessage* inner = g_mime_message_part_get_message(mp);
    if (!inner) return;
    returned_id(detail::sanitize_utf8(str(g_mime_message_get_message_id(inner))));  // a bounce returning the mail
    GMimeHeaderList* inner_headers = g_mime_object_get_header_list(GMIME_OBJECT(inner));
    auto raw_header = [&](const char* name) -> const char* {
      GMimeHeader* h = inner_headers ? g_mime_header_list_get_header(inner_headers, name) : nullptr;
      return h ? g_mime_header_get_raw_value(h) : nullptr;
    };
    std::string subject = decode_header_text(str(raw_header("Subject")));
    if (!text_only && out_.attachments.size() < config_.max_attachments) {
      mail_attachment a;
      a.meta.mime_type = "message/rfc822";
      a.meta.kind = proto::attachment_kind::document;
      a.meta.name = safe_filename(subject.empty() ? std::string("forwarded") : subject);
      a.meta.name = std::string(detail::utf8_prefix(a.meta.name, 200)) + ".eml";
      a.disposition = "attachment";
      gstring raw(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
      keep_content(a, raw ? std::string(raw.get()) : std::string());
      out_.attachments.push_back(std::move(a));
    }
    std::string header = "---------- Forwarded message ----------\n";
    for (const char* name : {"From", "Date", "Subject", "To"})
      if (const char* raw = raw_header(name)) header += fmt::format("{}: {}\n", name, decode_header_text(raw));
    walker sub(config_, out_);
    sub.text_only = true;
    sub.parts_ = parts_;
    sub.walk(g_mime_message_get_mime_part(inner), depth + 1);
    parts_ = sub.parts_;
    status_part |= sub.status_part;
    std::string full, shown;
    for (auto& p : sub.pieces) {
      full += p.full + "\n";
      shown += p.shown + "\n";
    }
    pieces.push_back({header + "\n" + full, header + "\n" + shown});
  }

  void note_once(const std::string& note) {
    if (std::find(out_.notes.begin(), out_.notes.end(), note) == out_.notes.end()) out_.notes.push_back(note);
  }

  const email_config& config_;
  parsed_email& out_;
  std::size_t parts_ = 0;
  std::size_t attachment_bytes_ = 0;
};

struct parser_issues {
  std::vector<std::string> items;
  bool critical = false;
};

void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar* item, gpointer user) {
  auto* issues = static_cast<parser_issues*>(user);
  if (issues->items.size() >= 20) return;
  bool critical = code == GMIME_CRIT_INVALID_HEADER_NAME || code == GMIME_CRIT_CONFLICTING_HEADER ||
                  code == GMIME_CRIT_CONFLICTING_PARAMETER || code == GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY ||
                  code == GMIME_CRIT_NESTING_OVERFLOW || code == GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT;
  // Unencoded 8-bit headers and duplicated parameters are everyday mail; not worth a note.
  if (code == GMIME_WARN_UNENCODED_8BIT_HEADER || code == GMIME_WARN_DUPLICATED_HEADER ||
      code == GMIME_WARN_DUPLICATED_PARAMETER)
    return;
  issues->critical |= critical;
  issues->items.push_back(fmt::format("MIME parser: issue {} at offset {}{}{}", static_cast<int>(code), offset,
                                      item ? ": " : "", item ? detail::sanitize_utf8(std::string_view(item).substr(0, 80)) : ""));
}

struct options_free {
  void operator()(GMimeParserOptions* o) const { g_mime_parser_options_free(o); }
};

// GMime's lenient RFC 2047 decoder (words inside quotes, glued to other text)
// searches to the end of the header from every "=?" that never closes, and
// GMime decodes the Subject, address fields and file names while it parses: a
// mail of thousands of them held an I/O thread for minutes. Everyday mail has
// none; a mail with more is read strictly (whole words only), which is linear.
constexpr std::size_t max_unclosed_encoded_words = 16;

std::unique_ptr<GMimeParserOptions, options_free> make_options(parser_issues& issues, std::string_view raw) {
  std::unique_ptr<GMimeParserOptions, options_free> o(g_mime_parser_options_new());
  static const char* fallbacks[] = {"utf-8", "windows-1256", "iso-8859-6", "iso-8859-1", nullptr};
  g_mime_parser_options_set_fallback_charsets(o.get(), fallbacks);
  bool lenient = unclosed_encoded_words(raw) <= max_unclosed_encoded_words;
  g_mime_parser_options_set_rfc2047_compliance_mode(o.get(),
                                                    lenient ? GMIME_RFC_COMPLIANCE_LOOSE : GMIME_RFC_COMPLIANCE_STRICT);
  g_mime_parser_options_set_address_compliance_mode(o.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(o.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(o.get(), TRUE);
  g_mime_parser_options_set_warning_callback(o.get(), on_parser_warning, &issues);
  return o;
}


std::vector<std::string> parse_ids(GMimeParserOptions* options, const char* raw) {
  std::vector<std::string> ids;
  if (!raw) return ids;
  GMimeReferences* refs = g_mime_references_parse(options, raw);
  if (refs) {
    int n = std::min(g_mime_references_length(refs), 500);
    for (int i = 0; i < n; ++i) {
      auto id = detail::sanitize_utf8(str(g_mime_references_get_message_id(refs, i)));
      if (!id.empty()) ids.push_back(std::move(id));
    }
    g_mime_references_free(refs);
  }
  if (ids.empty()) {  // an id without angle brackets
    auto id = strip_angles(raw);
    if (!id.empty() && id.find_first_of(" \t\r\n") == std::string::npos) ids.push_back(detail::sanitize_utf8(id));
  }
  return ids;
}

// A bounce: a delivery-status report, or mail from the mail system itself
// (older MTAs send plain text). Read receipts (disposition-notification) are
// reports too, but no bounce. Without a status part a bounce says it failed.
void finish_report(parsed_email& out, std::string_view content_type, std::string_view report_type, bool status_part) {
  bool dsn = content_type == "multipart/report" && (report_type.empty() || report_type == "delivery-status" ||
                                                   report_type == "global-delivery-status");
  out.report.present = dsn || status_part || mail_system_sender(out.from.address);
  if (!out.report.present) {
    out.report = {};
    return;
  }
  if (!status_part) out.report.failed = true;
  // Older MTAs (qmail, Exim without DSN) copy the mail into their plain text.
  if (out.report.message_ids.empty())
    if (auto id = message_id_in_headers(out.full_text); !id.empty()) out.report.message_ids.push_back(std::move(id));
}

// A sender that mails on someone's behalf: a no-reply or form mailer
// ("noreply@", "webform@", "wordpress@"...) or the shop's own domain (its
// site's contact form). A person's own address is none of these: someone
// writing from work with their home address in Reply-To stays the work
// address's customer, and the answers go home.
bool mails_for_others(std::string_view address, const recipient_policy& ours) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string local;
  for (char c : address.substr(0, at))
    if (std::isalnum(static_cast<unsigned char>(c))) local += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* mailer : {"noreply", "donotreply", "form", "wordpress", "website", "mailer", "notification"})
    if (local.find(mailer) != std::string::npos) return true;
  auto domain = detail::to_lower(address.substr(at + 1));
  if (domain == ours.reply_domain) return true;
  for (const auto& d : ours.domains)
    if (d == domain) return true;
  for (const auto& a : ours.addresses)
    if (a.ends_with("@" + domain)) return true;
  return false;
}

// One of the channel's own addresses: where our replies come from, their
// bounce address, a support address, a reply+<token> address. Mail from it
// is our own (a copy of a reply forwarded back), never a customer's.
bool our_own_address(std::string_view address, const email_config& config) {
  if (address.empty()) return false;
  if (detail::iequals(address, config.from_address) || detail::iequals(address, config.bounce_address)) return true;
  const auto lower = detail::to_lower(address);
  for (const auto& a : config.recipients.addresses)
    if (a == lower) return true;
  return !config.recipients.reply_domain.empty() && reply_token(lower, config.recipients.reply_domain).has_value();
}

void finish_event(parsed_email& out, const email_config& config) {
  auto& ev = out.event;
  ev.kind = proto::inbound_kind::message;
  ev.from.channel = config.channel;
  ev.from.kind = proto::channel_kind::email;
  // A contact form mails from its own address with the person who wrote in
  // Reply-To: that person is the customer, each with their own file and
  // conversation (with From, everyone who used the form was one customer).
  bool form_mail = out.reply_to.size() == 1 && out.reply_to.front().address != out.from.address &&
                   mails_for_others(out.from.address, config.recipients);
  const mail_address& person = form_mail ? out.reply_to.front() : out.from;
  ev.from.external_id = person.address;
  ev.from.display_name = person.name;
  ev.provider_message_id = out.message_id;
  ev.reply_to = out.in_reply_to;
  ev.automatic = !out.automatic_reason.empty();
  // Our own reply coming back (a loop through the MTA, a copy to ourselves,
  // one forwarded with a new Message-ID) must not open a conversation.
  ev.echo = (!out.message_id.empty() && !config.recipients.reply_domain.empty() &&
             parse_message_id(out.message_id, config.recipients.reply_domain).has_value()) ||
            our_own_address(person.address, config);
  if (!out.reply_to.empty() && out.reply_to.front().address != person.address)
    ev.provider_chat_id = out.reply_to.front().address;
  if (!out.message_id.empty()) {
    // With its sender: anyone may send a Message-ID someone used before (a
    // form mailer sends every visitor's mail under one), a redelivery is the
    // same person's. The sender as a hash: key names outlive an erasure.
    ev.dedup_key = "from:" + detail::sha256_hex(ev.from.external_id).substr(0, 16) + ":" + out.message_id;
  } else {
    // Retries of the same mail carry the same sender, date, subject and body.
    ev.dedup_key = "sha256:" + detail::sha256_hex(out.from.address + "\n" + header_value(out.headers, "Date") + "\n" +
                                                  out.subject + "\n" + out.full_text)
                                   .substr(0, 40);
  }
  for (const auto& a : out.attachments) ev.attachments.push_back(a.meta);
}

parsed_email unparseable(std::string_view raw, const email_config& config, std::string why) {
  parsed_email out;
  out.warning = std::move(why);
  out.raw = std::string(raw);
  auto text = normalize_newlines(decode_charset(raw, "").text);
  out.full_text = std::string(trim(detail::utf8_prefix(text, config.max_text_bytes)));
  out.event.text = out.full_text;
  out.from.address = envelope_sender(raw);  // who it came from, as far as anyone said
  finish_event(out, config);
  out.event.dedup_key = "sha256:" + detail::sha256_hex(raw).substr(0, 40);
  return out;
}

}  // namespace

parsed_email parse_email(std::string_view raw, const email_config& config) {
  try {
    init_gmime();
    parser_issues issues;
    auto options = make_options(issues, raw);
    gptr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
    gptr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    gptr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), options.get()));
    if (!msg) return unparseable(raw, config, "could not parse the message (no RFC 5322 header block)");

    parsed_email out;
    GMimeObject* top = GMIME_OBJECT(msg.get());
    GMimeHeaderList* hl = g_mime_object_get_header_list(top);
    int count = hl ? g_mime_header_list_get_count(hl) : 0;
    for (int i = 0; i < count && i < 1000; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(hl, i);
      out.headers.emplace_back(detail::sanitize_utf8(str(g_mime_header_get_name(h))),
                               decode_header_text(str(g_mime_header_get_raw_value(h))));
    }
    if (out.headers.empty()) return unparseable(raw, config, "could not parse the message (no header fields)");

    out.subject = header_value(out.headers, "Subject");
    out.message_id = detail::sanitize_utf8(str(g_mime_message_get_message_id(msg.get())));
    if (out.message_id.empty()) out.message_id = strip_angles(header_value(out.headers, "Message-ID"));
    auto raw_header = [&](const char* name) -> const char* {
      GMimeHeader* h = hl ? g_mime_header_list_get_header(hl, name) : nullptr;
      return h ? g_mime_header_get_raw_value(h) : nullptr;
    };
    auto in_reply_to = parse_ids(options.get(), raw_header("In-Reply-To"));
    if (!in_reply_to.empty()) out.in_reply_to = in_reply_to.back();
    out.references = parse_ids(options.get(), raw_header("References"));

    // Address headers are re-parsed after merging split encoded words (see merge_encoded_words).
    auto addresses = [&](const char* name, std::vector<mail_address>& into) {
      const char* raw_value = raw_header(name);
      if (!raw_value) return;
      auto merged = merge_encoded_words(raw_value);
      InternetAddressList* list = internet_address_list_parse(options.get(), merged.c_str());
      add_addresses(list, into);
      if (list) g_object_unref(list);
    };
    std::vector<mail_address> from;
    addresses("From", from);
    if (!from.empty()) out.from = from.front();
    addresses("Reply-To", out.reply_to);
    addresses("To", out.to);
    addresses("Cc", out.cc);
    if (GDateTime* date = g_mime_message_get_date(msg.get())) out.event.sent_at = g_date_time_to_unix(date) * 1000;

    walker w(config, out);
    GMimeObject* body = g_mime_message_get_mime_part(msg.get());
    w.walk(body, 0);
    std::string full, shown;
    for (const auto& p : w.pieces) {
      if (!full.empty()) full += "\n\n";
      full += p.full;
      if (!shown.empty()) shown += "\n\n";
      shown += p.shown;
    }
    const bool headerless = !find_body(raw).after_blank_line;  // text right after our trace fields
    if ((w.pieces.empty() || headerless) && trim(full).empty() && out.attachments.empty() && !trim(raw_body(raw)).empty()) {
      // A damaged structure (e.g. a multipart without boundary) hid the body: show it raw rather than lose it.
      auto decoded = decode_charset(raw_body(raw), "");
      full = shown = decoded.text;
      out.notes.push_back("no readable MIME part; the body is shown as raw text");
    }
    full = normalize_newlines(full);
    shown = normalize_newlines(shown);
    if (full.size() > config.max_text_bytes) {
      out.notes.push_back(fmt::format("text longer than {} bytes was cut", config.max_text_bytes));
      full = std::string(detail::utf8_prefix(full, config.max_text_bytes));
      shown = std::string(detail::utf8_prefix(shown, config.max_text_bytes));
    }
    out.full_text = std::string(trim(full));
    if (forwarded_subject(out.subject)) {
      out.event.text = std::string(trim(shown));  // a forward is content, not history
    } else {
      auto stripped = strip_quoted_text(shown);
      out.event.text = stripped.text;
      if (out.event.text.empty() && out.attachments.empty()) out.event.text = std::string(trim(shown));
    }
    // Some customers write only a subject; the conversation must not show a blank message.
    if (out.event.text.empty()) out.event.text = std::string(trim(out.subject));
    // The agent may still want what was cut: the mail as written goes with it.
    if (!out.full_text.empty() && out.full_text != out.event.text) out.event.original_text = out.full_text;

    std::string content_type = body ? mime_type_of(body) : "text/plain";
    out.automatic_reason = automatic_reason(out.headers, out.from.address, content_type);
    out.sender_unverified = dmarc_failed(out.headers, config.trusted_authserv_id);
    out.list_mail = list_mail(out.automatic_reason, out.headers, out.from.address, content_type);
    finish_report(out, content_type, body ? to_lower(param_of(body, "report-type")) : std::string(), w.status_part);
    out.event.language = language_hint(header_value(out.headers, "Content-Language"), out.event.text);
    for (auto& issue : issues.items) out.notes.push_back(std::move(issue));
    if (issues.critical) out.warning = "damaged MIME structure; parts of the message may be missing";
    if (out.from.address.empty()) {
      out.warning = out.warning.empty() ? "no From address" : out.warning + "; no From address";
      // The bounce address is the best we have for who sent it.
      auto rp = strip_angles(header_value(out.headers, "Return-Path"));
      if (!rp.empty()) out.from.address = to_lower(rp);
    }
    if (!out.warning.empty()) out.raw = std::string(raw);
    finish_event(out, config);
    return out;
  } catch (const std::exception& e) {
    return unparseable(raw, config, std::string("parser error: ") + e.what());
  }
}

}  // namespace pasokh::connectors::email
