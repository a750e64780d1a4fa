#include "pasokh/connectors/common/text.hpp"

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

constexpr char32_t zwj = 0x200D;

// Code points that must stay with the one before them (Unicode's Extend: the
// marks and modifiers of the scripts and emoji our customers write).
bool is_extending(char32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) ||    // combining diacritics
         (cp >= 0x0610 && cp <= 0x061A) ||    // Arabic signs above/below
         (cp >= 0x064B && cp <= 0x065F) ||    // Arabic harakat
         cp == 0x0670 ||                      // superscript alef
         (cp >= 0x06D6 && cp <= 0x06DC) ||    // Quranic marks
         (cp >= 0x06DF && cp <= 0x06E4) || cp == 0x06E7 || cp == 0x06E8 || (cp >= 0x06EA && cp <= 0x06ED) ||
         (cp >= 0x08D3 && cp <= 0x08FF && cp != 0x08E2) ||  // extended Arabic marks
         (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||  // more combining marks
         (cp >= 0x20D0 && cp <= 0x20FF) ||    // marks for symbols (keycap 1️⃣)
         cp == 0x200C || cp == zwj ||         // ZWNJ (common in Persian), ZWJ
         (cp >= 0xFE00 && cp <= 0xFE0F) ||    // variation selectors (emoji presentation)
         (cp >= 0xFE20 && cp <= 0xFE2F) ||    // combining half marks
         (cp >= 0x1F3FB && cp <= 0x1F3FF) ||  // skin tones
         (cp >= 0xE0020 && cp <= 0xE007F) ||  // tags (flags of regions: 🏴󠁧󠁢󠁳󠁣󠁴󠁿)
         (cp >= 0xE0100 && cp <= 0xE01EF);    // variation selectors supplement
}

bool is_regional_indicator(char32_t cp) { return cp >= 0x1F1E6 && cp <= 0x1F1FF; }

// Where the text may be cut without splitting a user-perceived character: not
// before a mark or modifier, not after a ZWJ (👩‍💻 is one), not inside a flag
// (two regional indicators; `ri_before` counts those just before `next`).
bool grapheme_boundary(char32_t prev, char32_t next, std::size_t ri_before) {
  if (is_extending(next) || prev == zwj) return false;
  return !(is_regional_indicator(next) && ri_before % 2 == 1);
}

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
    std::size_t last_newline = 0, last_space = 0, last_safe_cut = 0;
    char32_t prev = 0;
    std::size_t ri_run = 0;  // regional indicators just before i
    while (i < s.size()) {
      auto cp = decode(s, i);
      if (used + units(cp, unit) > limit) break;
      if (i > start) {
        if (cp.value == '\n') last_newline = i;
        else if (is_space(cp.value)) last_space = i;
        if (grapheme_boundary(prev, cp.value, ri_run)) last_safe_cut = i;
      }
      ri_run = is_regional_indicator(cp.value) ? ri_run + 1 : 0;
      prev = cp.value;
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
    std::size_t hard = grapheme_boundary(prev, decode(s, i).value, ri_run) ? i
                       : last_safe_cut > start                           ? last_safe_cut
                                                                         : i;
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
