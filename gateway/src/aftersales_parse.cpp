// The pure parts of after-sales: CSV, reply normalization, import rows,
// No I/O here.
#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/console_api.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/customer_keys.hpp"
#include "pasokh/routing/time_zone.hpp"

namespace pasokh::gateway::aftersales {

using nlohmann::json;

csv_result parse_csv(std::string_view text, std::size_t max_records) {
  csv_result out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::size_t i = 0, line = 1;
  while (i < text.size()) {
    csv_record rec;
    rec.line = line;
    std::string field;
    bool end_of_record = false, any = false;
    while (!end_of_record) {
      if (i < text.size() && text[i] == '"') {
        std::size_t start_line = line;
        ++i;
        for (;;) {
          if (i >= text.size()) {
            out.error = "unterminated quoted field";
            out.error_line = start_line;
            return out;
          }
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') { field += '"'; ++i; continue; }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        any = true;
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          out.error = "text after a closing quote";
          out.error_line = line;
          return out;
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
        if (!field.empty()) any = true;
      }
      if (i >= text.size()) { end_of_record = true; }
      else if (text[i] == ',') { ++i; any = true; }
      else {
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        end_of_record = true;
      }
      rec.fields.push_back(std::move(field));
      field.clear();
    }
    if (!any) continue;  // a blank line
    if (out.records.size() >= max_records) {
      out.error = fmt::format("more than {} rows", max_records - 1);
      out.error_line = rec.line;
      return out;
    }
    out.records.push_back(std::move(rec));
  }
  return out;
}

namespace {

// Decodes one UTF-8 code point (input already valid); advances i.
char32_t next_cp(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

bool invisible(char32_t cp) {
  return proto::is_direction_control(cp) || (cp >= 0x200B && cp <= 0x200D) || cp == 0xFEFF || cp == 0x0640 ||
         (cp >= 0x064B && cp <= 0x065F) ||
         cp == 0x0670 || (cp >= 0xFE00 && cp <= 0xFE0F);
}

bool space(char32_t cp) { return cp == ' ' || cp == '\t' || cp == '\r' || cp == '\n' || cp == 0xA0 || cp == 0x3000; }

// Quotes of every kind are here because the campaign hint (campaigns::stop_hint)
// writes «لغو», «إلغاء» and "stop", and phones turn "stop" into “stop”: a customer
// who sends the word as quoted is opting out.
bool quote_mark(char32_t cp) {
  return cp == '"' || cp == '\'' || cp == '`' || cp == 0x00AB || cp == 0x00BB || (cp >= 0x2018 && cp <= 0x201F) ||
         cp == 0x2039 || cp == 0x203A;
}

bool edge_punct(char32_t cp) {
  return cp == '.' || cp == '!' || cp == '?' || cp == ',' || cp == ';' || cp == ':' || cp == 0x061F || cp == 0x060C ||
         cp == 0x061B || cp == 0x06D4 || quote_mark(cp);
}

}  // namespace

std::string normalize_reply(std::string_view text) {
  if (!proto::valid_utf8(text)) return {};
  std::u32string cps;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = next_cp(text, i);
    if (invisible(cp)) continue;
    if (space(cp)) { pending_space = !cps.empty(); continue; }
    if (pending_space) { cps += U' '; pending_space = false; }
    if (cp >= 'A' && cp <= 'Z') cp = cp - 'A' + 'a';
    else if (cp >= 0x06F0 && cp <= 0x06F9) cp = '0' + (cp - 0x06F0);
    else if (cp >= 0x0660 && cp <= 0x0669) cp = '0' + (cp - 0x0660);
    else if (cp == 0x0622 || cp == 0x0623 || cp == 0x0625) cp = 0x0627;
    cps += cp;
  }
  while (!cps.empty() && (edge_punct(cps.back()) || cps.back() == U' ')) cps.pop_back();
  std::size_t first = 0;
  while (first < cps.size() && (edge_punct(cps[first]) || cps[first] == U' ')) ++first;
  std::string out;
  for (std::size_t k = first; k < cps.size(); ++k) proto::append_utf8(out, cps[k]);
  return out;
}

std::string opt_out_language(std::string_view text) {
  if (text.size() > 64) return {};  // the common case, at no cost
  auto n = normalize_reply(text);
  if (n == "stop" || n == "unsubscribe") return "en";  // the second: a List-Unsubscribe mailto
  if (n == "\u0644\u063A\u0648") return "fa";                  // لغو
  if (n == "\u0627\u0644\u063A\u0627\u0621") return "ar";      // إلغاء (alef form normalized)
  return {};
}

namespace {
// Conversation ids (cv_<n>) and room to spare, within Telegram's 64 bytes of
// callback data with "csat:" and ":N" around it.
constexpr std::size_t max_button_conversation = 48;

bool conversation_id(std::string_view s) {
  return !s.empty() && s.size() <= max_button_conversation && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}
}  // namespace

csat_answer csat_reply(std::string_view text) {
  if (text.size() > 64) return {};
  csat_answer out;
  if (text.substr(0, 5) == "csat:") {
    text.remove_prefix(5);
    if (auto cut = text.rfind(':'); cut != std::string_view::npos) {
      if (!conversation_id(text.substr(0, cut))) return {};
      out.conversation = text.substr(0, cut);
      text.remove_prefix(cut + 1);
    }
  }
  auto n = normalize_reply(text);
  if (n.size() != 1 || n[0] < '1' || n[0] > '5') return {};
  out.rating = n[0] - '0';
  return out;
}

std::string csat_button_id(std::string_view conversation, int rating) {
  auto n = std::to_string(rating);
  return conversation_id(conversation) ? "csat:" + std::string(conversation) + ":" + n : "csat:" + n;
}

std::vector<std::string> warranty_serials(std::string_view text) {
  if (text.size() > 2000 || !proto::valid_utf8(text)) return {};
  std::vector<std::string> tokens;
  std::string cur;
  std::size_t words = 0;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '.' || cur.back() == '/')) cur.pop_back();
    if (!cur.empty()) ++words;
    bool digit = std::any_of(cur.begin(), cur.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digit && cur.size() >= 4 && cur.size() <= 64 && tokens.size() < 3) tokens.push_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = next_cp(text, i);
    if (cp >= 0x06F0 && cp <= 0x06F9) cp = '0' + (cp - 0x06F0);
    else if (cp >= 0x0660 && cp <= 0x0669) cp = '0' + (cp - 0x0660);
    bool ascii_word = cp < 0x80 && (std::isalnum(static_cast<int>(cp)) || cp == '-' || cp == '_' || cp == '/' || cp == '.');
    if (ascii_word) cur += static_cast<char>(cp);
    else { flush(); if (!space(cp) && !invisible(cp)) ++words; }
  }
  flush();
  if (tokens.empty()) return {};
  auto n = normalize_reply(text);
  static const char* const keys[] = {"warranty", "guarantee", "گارانتی" /* گارانتی */,
                                     "ضمان" /* ضمان, ضمانت */, "كفالة" /* كفالة */};
  bool asked = std::any_of(std::begin(keys), std::end(keys), [&](const char* k) { return n.find(k) != std::string::npos; });
  if (!asked && !(tokens.size() == 1 && words == 1)) return {};
  return tokens;
}

namespace {
bool digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s.substr(0, 4)) || !digits(s.substr(5, 2)) || !digits(s.substr(8, 2))) return false;
  int y = std::stoi(std::string(s.substr(0, 4))), m = std::stoi(std::string(s.substr(5, 2))),
      d = std::stoi(std::string(s.substr(8, 2)));
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1) return false;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= mdays[m - 1] + (m == 2 && leap ? 1 : 0);
}

std::int64_t days_from_date(std::string_view s) {
  return routing::days_from_civil(std::stoi(std::string(s.substr(0, 4))), std::stoi(std::string(s.substr(5, 2))),
                         std::stoi(std::string(s.substr(8, 2))));
}

std::string local_date(const routing::time_zone& tz, std::int64_t ms) {
  return campaigns::date_string(campaigns::local_day(tz, ms));
}

std::string warranty_status(std::string_view warranty_end, std::string_view today) {
  if (!valid_date(warranty_end)) return "unknown";
  return today <= warranty_end ? "active" : "expired";  // ISO dates order as text
}

const std::vector<std::string>& import_columns() {
  static const std::vector<std::string> cols = {"customer_id", "channel", "external_id", "name", "language", "tags",
                                                "vip", "order_id", "product", "serial", "purchase_date", "warranty_end",
                                                "email", "phone"};
  return cols;
}

namespace {
bool plain_text(std::string_view s, std::size_t max) {
  if (s.size() > max || !proto::valid_utf8(s)) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}
bool code_text(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/' || c == '#' || c == ':';
  });
}
std::string trimmed(std::string_view s) {
  auto a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  return std::string(s.substr(a, s.find_last_not_of(" \t") - a + 1));
}
}  // namespace

std::variant<import_row, std::string> check_row(const std::map<std::string, std::string>& fields) {
  import_row row;
  auto get = [&](const char* k) {
    auto it = fields.find(k);
    return it == fields.end() ? std::string{} : trimmed(it->second);
  };
  for (const auto& [k, v] : fields)
    if (std::find(import_columns().begin(), import_columns().end(), k) == import_columns().end())
      return "unknown column " + k;
  row.customer_id = get("customer_id");
  row.channel = get("channel");
  row.external_id = get("external_id");
  // Verified keys: the customer who mails from this address or writes from
  // this WhatsApp number is this one (routing/src/customer_keys.cpp).
  if (auto e = get("email"); !e.empty()) {
    row.email = routing::normalize_email(e);
    if (row.email.empty()) return std::string("email: not an email address");
  }
  if (auto ph = get("phone"); !ph.empty()) {
    row.phone = routing::normalize_phone(ph);
    if (row.phone.empty()) return std::string("phone: not a phone number (+98 912 123 4567, 09121234567)");
  }
  if (!row.customer_id.empty()) {
    if (!code_text(row.customer_id, 128)) return std::string("customer_id: not a customer id");
  } else if (row.channel.empty() && row.external_id.empty() && (!row.email.empty() || !row.phone.empty())) {
    // Known by email or phone alone (a CRM export): found or created by its keys.
  } else {
    if (row.channel.empty() || row.external_id.empty())
      return std::string("customer_id, or channel and external_id, or email or phone, are required");
    if (!code_text(row.channel, 64)) return std::string("channel: not a channel id");
    if (!plain_text(row.external_id, 128)) return std::string("external_id: 1 to 128 bytes of text");
  }
  row.name = get("name");
  if (!plain_text(row.name, 200)) return std::string("name: at most 200 bytes of text");
  row.language = get("language");
  if (!row.language.empty() && !proto::known_language(row.language))
    return std::string("language: one of fa, ar, en");
  auto vip = get("vip");
  std::transform(vip.begin(), vip.end(), vip.begin(), [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
  if (vip == "1" || vip == "true" || vip == "yes") row.vip = "1";
  else if (vip == "0" || vip == "false" || vip == "no") row.vip = "0";
  else if (!vip.empty()) return std::string("vip: true or false");
  auto tags = get("tags");
  if (!tags.empty()) {
    std::set<std::string> set;
    std::string_view rest = tags;
    while (!rest.empty()) {
      auto cut = rest.find_first_of(",;");
      auto one = clean_label(rest.substr(0, cut));
      if (one.empty()) return std::string("tags: labels of 1 to 32 characters, separated by , or ;");
      set.insert(one);
      if (cut == std::string_view::npos) break;
      rest.remove_prefix(cut + 1);
    }
    if (set.size() > 20) return std::string("tags: at most 20");
    for (const auto& t : set) row.tags += (row.tags.empty() ? "" : ",") + t;
  }
  purchase p{get("order_id"), get("product"), get("serial"), get("purchase_date"), get("warranty_end")};
  if (!p.order_id.empty() || !p.product.empty() || !p.serial.empty() || !p.purchase_date.empty() || !p.warranty_end.empty()) {
    if (!code_text(p.order_id, 64)) return std::string("order_id: required, 1 to 64 of letters, digits and -_./#:");
    if (p.product.empty() || !plain_text(p.product, 200)) return std::string("product: required, at most 200 bytes of text");
    if (!p.serial.empty() && !code_text(p.serial, 64)) return std::string("serial: 1 to 64 of letters, digits and -_./#:");
    if (!valid_date(p.purchase_date)) return std::string("purchase_date: required, a date YYYY-MM-DD");
    if (!p.warranty_end.empty() && !valid_date(p.warranty_end)) return std::string("warranty_end: a date YYYY-MM-DD");
    if (!p.warranty_end.empty() && p.warranty_end < p.purchase_date)
      return std::string("warranty_end: before purchase_date");
    row.item = std::move(p);
  }
  return row;
}

}  // namespace pasokh::gateway::aftersales
