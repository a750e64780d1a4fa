#include "pasokh/routing/customer_keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "pasokh/proto/utf8.hpp"

namespace pasokh::routing {
namespace {

// Replacements applied left to right over UTF-8 text (longest sequences are
// all two or three bytes; no entry is a prefix of another).
using folding = std::pair<std::string_view, std::string_view>;

std::string fold(std::string_view text, const folding* table, std::size_t n) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    bool hit = false;
    // Every entry is two or three bytes from a lead byte >= 0xC2: ASCII never
    // matches, and byte compares rule out the rest without a call.
    for (std::size_t k = 0; k < n && !hit && static_cast<unsigned char>(text[i]) >= 0x80; ++k) {
      auto key = table[k].first;
      if (i + key.size() > text.size() || key[0] != text[i] || key[1] != text[i + 1]) continue;
      if (key.size() == 3 && key[2] != text[i + 2]) continue;
      out += table[k].second;
      i += key.size();
      hit = true;
    }
    if (!hit) out += text[i++];
  }
  return out;
}

constexpr std::array<folding, 20> digit_table{{
    {"\xDB\xB0", "0"}, {"\xDB\xB1", "1"}, {"\xDB\xB2", "2"}, {"\xDB\xB3", "3"}, {"\xDB\xB4", "4"},
    {"\xDB\xB5", "5"}, {"\xDB\xB6", "6"}, {"\xDB\xB7", "7"}, {"\xDB\xB8", "8"}, {"\xDB\xB9", "9"},
    {"\xD9\xA0", "0"}, {"\xD9\xA1", "1"}, {"\xD9\xA2", "2"}, {"\xD9\xA3", "3"}, {"\xD9\xA4", "4"},
    {"\xD9\xA5", "5"}, {"\xD9\xA6", "6"}, {"\xD9\xA7", "7"}, {"\xD9\xA8", "8"}, {"\xD9\xA9", "9"},
}};

// Bidi marks, ZWNJ and no-break space: invisible in a number or a name.
constexpr std::array<folding, 12> invisible_table{{
    {"\xE2\x80\x8E", ""}, {"\xE2\x80\x8F", ""}, {"\xE2\x80\xAA", ""}, {"\xE2\x80\xAB", ""},
    {"\xE2\x80\xAC", ""}, {"\xE2\x80\xAD", ""}, {"\xE2\x80\xAE", ""}, {"\xE2\x81\xA6", ""},
    {"\xE2\x81\xA7", ""}, {"\xE2\x81\xA8", ""}, {"\xE2\x81\xA9", ""}, {"\xC2\xA0", " "},
}};

constexpr std::array<folding, 18> letter_table{{
    {"\xD9\x8A", "\xDB\x8C"},  // ي -> ی
    {"\xD9\x89", "\xDB\x8C"},  // ى -> ی
    {"\xD9\x83", "\xDA\xA9"},  // ك -> ک
    {"\xD8\xA3", "\xD8\xA7"},  // أ -> ا
    {"\xD8\xA5", "\xD8\xA7"},  // إ -> ا
    {"\xD8\xA2", "\xD8\xA7"},  // آ -> ا
    {"\xD8\xA9", "\xD9\x87"},  // ة -> ه
    {"\xE2\x80\x8C", " "},     // ZWNJ: محمدحسین and محمد‌حسین are one name
    {"\xD9\x80", ""},          // tatweel
    {"\xD9\x8B", ""}, {"\xD9\x8C", ""}, {"\xD9\x8D", ""}, {"\xD9\x8E", ""},  // harakat
    {"\xD9\x8F", ""}, {"\xD9\x90", ""}, {"\xD9\x91", ""}, {"\xD9\x92", ""},
    {"\xD9\xB0", ""},
}};

std::string trim(std::string_view s) {
  auto a = s.find_first_not_of(" \t\r\n");
  if (a == std::string_view::npos) return {};
  return std::string(s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1));
}

bool email_char(unsigned char c) {
  return std::isalnum(c) || c >= 0x80 || std::string_view("._%+-'!#$&*/=?^`{|}~").find(static_cast<char>(c)) !=
                                              std::string_view::npos;
}

}  // namespace

std::string ascii_digits(std::string_view text) { return fold(text, digit_table.data(), digit_table.size()); }

std::string normalize_email(std::string_view raw) {
  auto s = trim(fold(raw, invisible_table.data(), invisible_table.size()));
  if (s.size() > 7 && std::equal(s.begin(), s.begin() + 7, "mailto:", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      }))
    s.erase(0, 7);
  if (s.size() < 5 || s.size() > 254) return {};
  auto at = s.find('@');
  if (at == 0 || at == std::string::npos || s.find('@', at + 1) != std::string::npos || at > 64) return {};
  for (auto& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u != '@' && !email_char(u)) return {};
    c = static_cast<char>(std::tolower(u));
  }
  auto domain = std::string_view(s).substr(at + 1);
  auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return {};
  return s;
}

std::string normalize_phone(std::string_view raw, std::string_view default_country) {
  auto s = trim(ascii_digits(fold(raw, invisible_table.data(), invisible_table.size())));
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') digits += c;
    else if (c == '+' && digits.empty() && !plus) plus = true;
    else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') continue;
    else return {};
  }
  if (!plus) {
    if (digits.rfind("00", 0) == 0) digits.erase(0, 2);
    else if (digits.rfind('0', 0) == 0) digits = std::string(default_country) + digits.substr(1);
  }
  // "+98 (0)912 …": the national trunk zero written after the country code.
  if (digits.rfind("980", 0) == 0 && digits.size() == 13) digits.erase(2, 1);
  if (digits.size() < 8 || digits.size() > 15 || digits[0] == '0') return {};
  return digits;
}

std::vector<std::string> verified_keys(const proto::channel_identity& from) {
  std::vector<std::string> keys;
  if (from.kind == proto::channel_kind::email) {
    if (auto e = normalize_email(from.external_id); !e.empty()) keys.push_back("email:" + e);
  } else if (from.kind == proto::channel_kind::whatsapp) {
    // wa_id: the country code and number, no "+"; never a national "0…".
    auto id = from.external_id;
    if (!id.empty() && id[0] != '+' && id[0] != '0') id = "+" + id;
    if (auto p = normalize_phone(id); !p.empty()) keys.push_back("phone:" + p);
  }
  return keys;
}

std::string name_key(std::string_view display_name) {
  auto s = fold(ascii_digits(fold(display_name, invisible_table.data(), invisible_table.size())), letter_table.data(),
                letter_table.size());
  std::string out;
  int words = 0;
  bool space = true;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    if (space) ++words;
    space = false;
    out += static_cast<char>(u < 0x80 ? std::tolower(u) : u);
  }
  if (words < 2 || out.size() > 200) return {};
  return "name:" + out;
}

namespace {
// Most messages name no address: no "@" and fewer than ten digits (ASCII,
// Persian ۰–۹ or Arabic-Indic ٠–٩), so the scan below can be skipped.
bool may_mention_keys(std::string_view text) {
  std::size_t digits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '@') return true;
    if (c >= '0' && c <= '9') ++digits;
    else if ((c == 0xDB || c == 0xD9) && i + 1 < text.size()) {
      auto d = static_cast<unsigned char>(text[i + 1]);
      if ((c == 0xDB && d >= 0xB0 && d <= 0xB9) || (c == 0xD9 && d >= 0xA0 && d <= 0xA9)) ++digits;
    }
  }
  return digits >= 10;
}
}  // namespace

std::vector<std::string> mentioned_keys(std::string_view text, std::size_t max) {
  std::vector<std::string> keys;
  if (!may_mention_keys(text)) return keys;
  auto add = [&](std::string key) {
    if (keys.size() < max && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  auto s = ascii_digits(fold(text, invisible_table.data(), invisible_table.size()));
  // Emails: the run of address characters around each "@".
  for (auto at = s.find('@'); at != std::string::npos && keys.size() < max; at = s.find('@', at + 1)) {
    auto a = at, b = at + 1;
    while (a > 0 && email_char(static_cast<unsigned char>(s[a - 1])) && static_cast<unsigned char>(s[a - 1]) < 0x80) --a;
    while (b < s.size() && (email_char(static_cast<unsigned char>(s[b])) && static_cast<unsigned char>(s[b]) < 0x80)) ++b;
    while (b > at + 1 && (s[b - 1] == '.' || s[b - 1] == '-')) --b;  // sentence punctuation
    if (auto e = normalize_email(std::string_view(s).substr(a, b - a)); !e.empty()) add("email:" + e);
  }
  // Phones: a "+" or a digit, then digits with single separators, 10+ digits.
  for (std::size_t i = 0; i < s.size() && keys.size() < max;) {
    if (!(s[i] == '+' || (s[i] >= '0' && s[i] <= '9')) || (i > 0 && std::isalnum(static_cast<unsigned char>(s[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t j = i + 1, count = s[i] == '+' ? 0 : 1;
    while (j < s.size()) {
      if (s[j] >= '0' && s[j] <= '9') { ++count; ++j; }
      else if ((s[j] == ' ' || s[j] == '-' || s[j] == '.') && j + 1 < s.size() && s[j + 1] >= '0' && s[j + 1] <= '9') ++j;
      else break;
    }
    if (count >= 10 && (j >= s.size() || !std::isalpha(static_cast<unsigned char>(s[j])))) {
      if (auto p = normalize_phone(std::string_view(s).substr(i, j - i)); !p.empty()) add("phone:" + p);
    }
    i = j;
  }
  return keys;
}

std::string shown_name(std::string_view display_name) {
  if (display_name.size() <= max_name_bytes) return std::string(display_name);
  return std::string(display_name.substr(0, proto::grapheme_floor(display_name, max_name_bytes)));
}

}  // namespace pasokh::routing
