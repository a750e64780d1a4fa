#include "pasokh/connectors/common/text.hpp"

#include "pasokh/proto/utf8.hpp"

namespace pasokh::connectors {
namespace {

struct code_point {
  std::size_t offset;  // byte offset of the first byte
  std::size_t bytes;
  char32_t value;
};

// Decodes one code point at `i`. Invalid bytes count as one unit of one byte,
// so malformed input is still split without reading past the end.
code_point decode(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return {i, 1, c};
    v = (v << 6) | (cc & 0x3F);
  }
  return {i, len, v};
}

std::size_t units(const code_point& cp, text_unit unit) {
  switch (unit) {
    case text_unit::utf16: return cp.value >= 0x10000 ? 2 : 1;
    case text_unit::utf8_byte: return cp.bytes;
    case text_unit::code_point: break;
  }
  return 1;
}

bool is_space(char32_t cp) { return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'; }

void append_trimmed(std::vector<std::string>& out, std::string_view part) {
  while (!part.empty() && (part.back() == ' ' || part.back() == '\t' || part.back() == '\n' || part.back() == '\r'))
    part.remove_suffix(1);
  if (!part.empty()) out.emplace_back(part);
}

}  // namespace

std::size_t text_length(std::string_view s, text_unit unit) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto cp = decode(s, i);
    n += units(cp, unit);
    i += cp.bytes;
  }
  return n;
}

std::vector<std::string> split_text(std::string_view s, std::size_t limit, text_unit unit) {
  std::vector<std::string> out;
  if (limit == 0) limit = 1;
  std::size_t start = 0;
  while (start < s.size()) {
    // Skip whitespace a previous break left at the front.
    while (start < s.size() && is_space(static_cast<unsigned char>(s[start]))) ++start;
    if (start >= s.size()) break;

    std::size_t used = 0, i = start;
    std::size_t last_newline = 0, last_space = 0;
    while (i < s.size()) {
      auto cp = decode(s, i);
      if (used + units(cp, unit) > limit) break;
      if (i > start) {
        if (cp.value == '\n') last_newline = i;
        else if (is_space(cp.value)) last_space = i;
      }
      used += units(cp, unit);
      i += cp.bytes;
    }
    if (i == start) i += decode(s, i).bytes;  // one code point wider than the limit: send it alone
    if (i >= s.size()) {
      append_trimmed(out, s.substr(start));
      break;
    }
    // Without a newline or space in the second half, cut hard: at the limit,
    // unless that would split a character (a letter and its marks, an emoji
    // sequence); one longer than the limit is cut where it must be.
    std::size_t half = start + (i - start) / 2;
    std::size_t hard = proto::grapheme_floor(s, i);
    if (hard <= start) hard = i;
    std::size_t cut = last_newline > half ? last_newline : last_space > half ? last_space : hard;
    append_trimmed(out, s.substr(start, cut - start));
    start = cut;
  }
  return out;
}

std::string truncate_text(std::string_view s, std::size_t limit, text_unit unit) {
  constexpr std::string_view ellipsis = "\xE2\x80\xA6";  // …
  if (text_length(s, unit) <= limit) return std::string(s);
  auto room = text_length(ellipsis, unit);
  if (limit < room) return {};
  std::size_t used = 0, i = 0;
  while (i < s.size()) {
    auto cp = decode(s, i);
    if (used + units(cp, unit) > limit - room) break;  // keep room for the ellipsis
    used += units(cp, unit);
    i += cp.bytes;
  }
  i = proto::grapheme_floor(s, i);  // not inside an emoji sequence or a marked letter
  std::string out(s.substr(0, i));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + std::string(ellipsis);
}

std::string numbered_choices(std::string_view text, const std::vector<proto::button>& buttons) {
  std::string out(text);
  if (!buttons.empty() && !out.empty()) out += "\n";
  for (std::size_t i = 0; i < buttons.size(); ++i) {
    out += "\n" + std::to_string(i + 1) + ". " + buttons[i].title;
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace pasokh::connectors
