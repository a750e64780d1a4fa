#pragma once
#include "pasokh/proto/utf8.hpp"
// Small string helpers shared by the email sources (not public API).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::connectors::email::detail {

std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// The first value of header `name` (any case) in a list of (name, value), or "".
std::string header_value(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim(std::string_view s);
// Lines without their "\n" or "\r\n".
std::vector<std::string_view> split_lines(std::string_view text);

// Prefixes mail clients put before a subject when replying (Re:, AW:, «پاسخ:»)
// and, in forward_prefixes, when forwarding (Fwd:, WG:).
extern const std::vector<std::string_view> reply_prefixes;
extern const std::vector<std::string_view> forward_prefixes;
// `subject` trimmed, without any stack of the given prefixes ("Re: RE[2]: x",
// "Re(3): x", a full-width colon).
std::string strip_subject_prefixes(std::string_view subject, const std::vector<std::string_view>& prefixes);

// Text built a character at a time, for comparing: ASCII letters lower-cased,
// each run of white space (folding included) or of gap() as one space, none
// at either end.
class folded_text {
 public:
  void add(char c) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return gap();
    if (gap_ && !out_.empty()) out_ += ' ';
    gap_ = false;
    out_ += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  void gap() { gap_ = true; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  bool gap_ = false;
};

std::string base64_encode(std::string_view bytes, std::size_t line_length = 0);
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);
std::string sha256_hex(std::string_view bytes);

// One code point from UTF-8 at `i` (advanced); U+FFFD and one byte on bad input.
char32_t next_code_point(std::string_view s, std::size_t& i);
using proto::append_utf8;
// Longest prefix of at most `max` bytes that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max);
// Replaces invalid UTF-8 with U+FFFD so any bytes can go into JSON.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace pasokh::connectors::email::detail
