#include "pasokh/connectors/email/threading.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "pasokh/connectors/common/crypto.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {

std::optional<std::string> reply_token(std::string_view address, std::string_view domain) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos || !detail::iequals(address.substr(at + 1), domain)) return std::nullopt;
  auto local = address.substr(0, at);
  if (!detail::istarts_with(local, "reply+")) return std::nullopt;
  auto token = local.substr(6);
  if (token.empty() || token.size() > 64) return std::nullopt;
  for (char c : token)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '=' && c != '-')
      return std::nullopt;
  return std::string(token);
}

std::string normalized_subject(std::string_view subject) {
  static const auto prefixes = [] {
    auto all = detail::reply_prefixes;
    all.insert(all.end(), detail::forward_prefixes.begin(), detail::forward_prefixes.end());
    return all;
  }();
  // Arabic letters as Persian (proto::persian_letter): a Persian mail decoded
  // from windows-1256 has the former, the same subject from a phone the latter.
  detail::folded_text folded;
  const auto stripped = detail::strip_subject_prefixes(subject, prefixes);
  for (std::size_t i = 0, end; i < stripped.size(); i = end) {
    end = proto::code_point_end(stripped, i);
    const char32_t cp = proto::code_point_at(stripped, i), letter = proto::persian_letter(cp);
    std::string bytes;
    if (letter == cp) bytes = stripped.substr(i, end - i);  // as it came, stray bytes too
    else detail::append_utf8(bytes, letter);
    for (char c : bytes) folded.add(c);
  }
  return folded.take();
}

namespace {

// The tag of make_message_id: 12 bytes of the HMAC as 16 base64url characters.
std::string message_id_tag(std::string_view conversation_id, std::string_view message_id, std::string_view key) {
  std::string data;
  data.reserve(conversation_id.size() + 1 + message_id.size());
  data.append(conversation_id).append("\n").append(message_id);
  const auto mac = connectors::hmac_sha256(key, data);
  return detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), 12));
}

}  // namespace

std::string make_message_id(std::string_view conversation_id, std::string_view message_id, std::string_view domain,
                            std::string_view key) {
  if (conversation_id.empty()) return "pasokh-mail." + detail::base64url_encode(message_id) + "@" + std::string(domain);
  auto id = "pasokh." + detail::base64url_encode(conversation_id) + "." + detail::base64url_encode(message_id);
  if (!key.empty()) id += "." + message_id_tag(conversation_id, message_id, key);
  return id + "@" + std::string(domain);
}

std::optional<our_message_id> parse_message_id(std::string_view id, std::string_view domain, std::string_view key) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  auto at = id.rfind('@');
  if (at == std::string_view::npos || !detail::iequals(id.substr(at + 1), domain)) return std::nullopt;
  auto local = id.substr(0, at);
  if (!local.starts_with("pasokh.")) return std::nullopt;
  local.remove_prefix(7);
  auto dot = local.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto rest = local.substr(dot + 1);
  auto tag_dot = rest.find('.');
  std::string_view tag = tag_dot == std::string_view::npos ? std::string_view() : rest.substr(tag_dot + 1);
  if (tag_dot != std::string_view::npos) rest = rest.substr(0, tag_dot);
  if (tag.find('.') != std::string_view::npos || (tag_dot != std::string_view::npos && tag.empty())) return std::nullopt;
  our_message_id out;
  if (!detail::base64url_decode(local.substr(0, dot), out.conversation_id) ||
      !detail::base64url_decode(rest, out.message_id) || out.conversation_id.empty())
    return std::nullopt;
  out.verified = !key.empty() && !tag.empty() &&
                 connectors::constant_time_equal(tag, message_id_tag(out.conversation_id, out.message_id, key));
  return out;
}

std::optional<std::uint64_t> message_seq(const our_message_id& id) {
  std::string_view m = id.message_id;
  if (!m.starts_with(id.conversation_id) || m.size() <= id.conversation_id.size() + 1 ||
      m[id.conversation_id.size()] != ':')
    return std::nullopt;
  auto digits = m.substr(id.conversation_id.size() + 1);
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0) return std::nullopt;
  return seq;
}

std::vector<thread_hint> thread_hints(const parsed_email& mail, std::string_view support_domain,
                                      const std::vector<std::string>& envelope_recipients) {
  std::vector<thread_hint> hints;
  auto add = [&](hint_source source, std::string value) {
    if (value.empty()) return;
    for (const auto& h : hints)
      if (h.value == value && (h.source == hint_source::reply_token) == (source == hint_source::reply_token)) return;
    thread_hint h{source, std::move(value), {}};
    if (source != hint_source::reply_token)
      if (auto ours = parse_message_id(h.value, support_domain)) h.conversation_id = ours->conversation_id;
    hints.push_back(std::move(h));
  };
  for (const auto* list : {&mail.to, &mail.cc})
    for (const auto& a : *list)
      if (auto token = reply_token(a.address, support_domain)) add(hint_source::reply_token, *token);
  for (const auto& r : envelope_recipients)
    if (auto token = reply_token(r, support_domain)) add(hint_source::reply_token, *token);
  add(hint_source::in_reply_to, mail.in_reply_to);
  for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it) add(hint_source::references, *it);
  return hints;
}

thread_hint first_thread_hint(const parsed_email& mail, std::string_view support_domain,
                              const std::vector<std::string>& envelope_recipients) {
  auto hints = thread_hints(mail, support_domain, envelope_recipients);
  return hints.empty() ? thread_hint{} : hints.front();
}

}  // namespace pasokh::connectors::email
