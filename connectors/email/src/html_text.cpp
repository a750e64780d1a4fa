#include "pasokh/connectors/email/html_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <vector>

#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::iequals;
using detail::to_lower;

struct named_entity {
  std::string_view name;
  char32_t cp;
};
// The entities mail clients actually emit; &zwnj; matters for Persian words.
constexpr std::array<named_entity, 44> entities{{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},        {"quot", '"'},      {"apos", '\''},
    {"nbsp", 0xA0},    {"zwnj", 0x200C},   {"zwj", 0x200D},    {"lrm", 0x200E},    {"rlm", 0x200F},
    {"copy", 0xA9},    {"reg", 0xAE},      {"trade", 0x2122},  {"hellip", 0x2026}, {"mdash", 0x2014},
    {"ndash", 0x2013}, {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"ldquo", 0x201C},  {"rdquo", 0x201D},
    {"laquo", 0xAB},   {"raquo", 0xBB},    {"bull", 0x2022},   {"middot", 0xB7},   {"euro", 0x20AC},
    {"pound", 0xA3},   {"yen", 0xA5},      {"cent", 0xA2},     {"times", 0xD7},    {"divide", 0xF7},
    {"deg", 0xB0},     {"plusmn", 0xB1},   {"shy", 0xAD},      {"sect", 0xA7},     {"para", 0xB6},
    {"ensp", 0x2002},  {"emsp", 0x2003},   {"thinsp", 0x2009}, {"iexcl", 0xA1},    {"iquest", 0xBF},
    {"eacute", 0xE9},  {"egrave", 0xE8},   {"agrave", 0xE0},   {"ccedil", 0xE7},
}};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

struct tag {
  std::string name;  // lower-case
  bool end = false;
  bool self_closing = false;
  std::vector<std::pair<std::string, std::string>> attrs;  // names lower-case

  std::string_view attr(std::string_view n) const {
    for (const auto& [k, v] : attrs)
      if (k == n) return v;
    return {};
  }
  bool has_class(std::string_view prefix) const {
    auto cls = attr("class");
    std::size_t i = 0;
    while (i < cls.size()) {
      while (i < cls.size() && is_space(cls[i])) ++i;
      std::size_t j = i;
      while (j < cls.size() && !is_space(cls[j])) ++j;
      if (detail::istarts_with(cls.substr(i, j - i), prefix)) return true;
      i = j;
    }
    return false;
  }
};

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    std::size_t j = i + 1;
    while (j < s.size() && j - i < 33 && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '#')) ++j;
    std::string decoded;
    bool semicolon = j < s.size() && s[j] == ';';
    if (j > i + 1 && decode_html_entity(s.substr(i + 1, j - i - 1), decoded)) {
      out += decoded;
      i = semicolon ? j : j - 1;
    } else {
      out += '&';
    }
  }
  return out;
}

class converter {
 public:
  converter(std::string_view html, const html_text_options& o) : in_(html), opt_(o) {}

  html_text run() {
    while (pos_ < in_.size() && !stopped_) step();
    return {finish(), quote_removed_};
  }

 private:
  void step() {
    if (in_[pos_] != '<') {
      auto next = in_.find('<', pos_ + 1);
      if (next == std::string_view::npos) next = in_.size();
      text(in_.substr(pos_, next - pos_));
      pos_ = next;
      return;
    }
    if (in_.compare(pos_, 4, "<!--") == 0) {
      auto end = in_.find("-->", pos_ + 4);
      pos_ = end == std::string_view::npos ? in_.size() : end + 3;
      return;
    }
    if (pos_ + 1 < in_.size() && (in_[pos_ + 1] == '!' || in_[pos_ + 1] == '?')) {
      auto end = in_.find('>', pos_);
      pos_ = end == std::string_view::npos ? in_.size() : end + 1;
      return;
    }
    bool closing = pos_ + 1 < in_.size() && in_[pos_ + 1] == '/';
    std::size_t name_at = pos_ + (closing ? 2 : 1);
    if (name_at >= in_.size() || !is_alpha(in_[name_at])) {  // a lone "<" is text
      text(in_.substr(pos_, 1));
      ++pos_;
      return;
    }
    tag t = parse_tag(closing);
    element(t);
  }

  tag parse_tag(bool closing) {
    tag t;
    t.end = closing;
    std::size_t i = pos_ + (closing ? 2 : 1);
    std::size_t start = i;
    while (i < in_.size() && !is_space(in_[i]) && in_[i] != '>' && in_[i] != '/') ++i;
    t.name = to_lower(in_.substr(start, i - start));
    while (i < in_.size() && in_[i] != '>') {
      if (is_space(in_[i]) || in_[i] == '/') {
        if (in_[i] == '/') t.self_closing = true;
        ++i;
        continue;
      }
      t.self_closing = false;
      std::size_t n0 = i;
      while (i < in_.size() && !is_space(in_[i]) && in_[i] != '=' && in_[i] != '>' && in_[i] != '/') ++i;
      std::string name = to_lower(in_.substr(n0, i - n0));
      std::string value;
      while (i < in_.size() && is_space(in_[i])) ++i;
      if (i < in_.size() && in_[i] == '=') {
        ++i;
        while (i < in_.size() && is_space(in_[i])) ++i;
        if (i < in_.size() && (in_[i] == '"' || in_[i] == '\'')) {
          char q = in_[i++];
          auto end = in_.find(q, i);
          if (end == std::string_view::npos) end = in_.size();
          value = decode_entities(in_.substr(i, end - i));
          i = std::min(end + 1, in_.size());
        } else {
          std::size_t v0 = i;
          while (i < in_.size() && !is_space(in_[i]) && in_[i] != '>') ++i;
          value = decode_entities(in_.substr(v0, i - v0));
        }
      }
      if (!name.empty()) t.attrs.emplace_back(std::move(name), std::move(value));
    }
    pos_ = i < in_.size() ? i + 1 : in_.size();
    return t;
  }

  // Skips past the matching end tag of `name`, counting nested same-name tags.
  void skip_element(std::string_view name) {
    int depth = 1;
    while (pos_ < in_.size() && depth > 0) {
      auto lt = in_.find('<', pos_);
      if (lt == std::string_view::npos) {
        pos_ = in_.size();
        return;
      }
      pos_ = lt;
      if (in_.compare(pos_, 4, "<!--") == 0) {
        auto end = in_.find("-->", pos_ + 4);
        pos_ = end == std::string_view::npos ? in_.size() : end + 3;
        continue;
      }
      bool closing = pos_ + 1 < in_.size() && in_[pos_ + 1] == '/';
      std::size_t name_at = pos_ + (closing ? 2 : 1);
      if (name_at >= in_.size() || !is_alpha(in_[name_at])) {
        ++pos_;
        continue;
      }
      tag t = parse_tag(closing);
      if (t.name != name) continue;
      if (t.end) --depth;
      else if (!t.self_closing) ++depth;
    }
  }

  // Raw-text elements (script, style): content runs to the first end tag.
  void skip_raw(std::string_view name) {
    std::string end_tag = "</" + std::string(name);
    for (auto i = pos_; i + end_tag.size() <= in_.size(); ++i) {
      if (in_[i] == '<' && iequals(in_.substr(i, end_tag.size()), end_tag)) {
        auto gt = in_.find('>', i);
        pos_ = gt == std::string_view::npos ? in_.size() : gt + 1;
        return;
      }
    }
    pos_ = in_.size();
  }

  bool quote_container(const tag& t) const {
    if (t.has_class("gmail_quote") || t.has_class("yahoo_quoted") || t.has_class("moz-cite-prefix") ||
        t.has_class("gmail_signature") || t.has_class("moz-signature"))
      return true;
    return t.name == "blockquote" && iequals(t.attr("type"), "cite");
  }
  bool quote_tail(const tag& t) const {  // everything from here on is the quoted message
    auto id = t.attr("id");
    return iequals(id, "divRplyFwdMsg") || iequals(id, "appendonsend") || iequals(id, "OLK_SRC_BODY_SECTION") ||
           t.has_class("OutlookMessageHeader");
  }

  void element(const tag& t) {
    const auto& n = t.name;
    if (!t.end) {
      if (n == "script" || n == "style" || n == "title" || n == "xml" || n == "noscript") {
        if (!t.self_closing) skip_raw(n);
        return;
      }
      if (n == "head") {
        auto close = pos_;
        for (; close + 7 <= in_.size(); ++close)
          if (in_[close] == '<' && iequals(in_.substr(close, 7), "</head>")) break;
        if (close + 7 <= in_.size()) pos_ = close + 7;  // without </head>, read on
        return;
      }
      if (opt_.strip_quotes && quote_tail(t)) {
        quote_removed_ = true;
        stopped_ = true;
        return;
      }
      if (opt_.strip_quotes && quote_container(t) && !t.self_closing) {
        quote_removed_ = true;
        skip_element(n);
        return;
      }
    }
    if (n == "br") {
      trim_trailing_spaces();
      out_ += '\n';
      pending_space_ = false;
    } else if (n == "p" || n == "h1" || n == "h2" || n == "h3" || n == "h4" || n == "h5" || n == "h6" ||
               n == "blockquote" || n == "table" || n == "ul" || n == "ol" || n == "dl") {
      line_break(2);
    } else if (n == "pre") {
      line_break(2);
      pre_depth_ += t.end ? -1 : 1;
      if (pre_depth_ < 0) pre_depth_ = 0;
    } else if (n == "div" || n == "tr" || n == "hr" || n == "section" || n == "article" || n == "header" ||
               n == "footer" || n == "address" || n == "dt" || n == "dd" || n == "center" || n == "form" ||
               n == "fieldset" || n == "nav" || n == "aside" || n == "main" || n == "figure" || n == "figcaption" ||
               n == "caption" || n == "body") {
      line_break(1);
    } else if (n == "li") {
      line_break(1);
      if (!t.end) {
        out_ += "- ";
        pending_space_ = false;
      }
    } else if (n == "td" || n == "th") {
      if (!t.end) pending_space_ = true;
    } else if (n == "a") {
      if (!t.end) {
        link_href_ = std::string(detail::trim(t.attr("href")));
        link_start_ = out_.size();
      } else if (!link_href_.empty()) {
        close_link();
      }
    }
  }

  void close_link() {
    auto href = link_href_;
    link_href_.clear();
    if (!opt_.show_link_targets) return;
    if (!detail::istarts_with(href, "http://") && !detail::istarts_with(href, "https://")) return;
    auto shown = detail::trim(std::string_view(out_).substr(std::min(link_start_, out_.size())));
    if (shown.empty() || shown.find(href) != std::string_view::npos) return;
    auto bare = std::string_view(href).substr(href.find("//") + 2);
    if (shown.find(bare) != std::string_view::npos) return;
    out_ += " <" + href + ">";
  }

  void text(std::string_view raw) {
    std::string s = decode_entities(raw);
    if (pre_depth_ > 0) {
      for (char c : s)
        if (c != '\r') out_ += c;
      pending_space_ = false;
      return;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      bool nbsp = c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0';
      if (is_space(c) || nbsp) {
        if (nbsp) ++i;
        pending_space_ = true;
        continue;
      }
      if (pending_space_ && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') out_ += ' ';
      pending_space_ = false;
      out_ += c;
    }
  }

  void trim_trailing_spaces() {
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
  }

  void line_break(int n) {
    trim_trailing_spaces();
    pending_space_ = false;
    if (out_.empty()) return;
    int have = 0;
    for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n' && have < n; ++it) ++have;
    for (; have < n; ++have) out_ += '\n';
  }

  std::string finish() {
    std::string result;
    result.reserve(out_.size());
    int newlines = 0;
    for (auto line : detail::split_lines(out_)) {
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (detail::trim(line).empty()) {
        line = {};
        if (++newlines > 1 || result.empty()) continue;  // at most one blank line in a row
      } else {
        newlines = 0;
      }
      result.append(line);
      result += '\n';
    }
    while (!result.empty() && (result.back() == '\n' || result.back() == ' ')) result.pop_back();
    return result;
  }

  std::string_view in_;
  const html_text_options& opt_;
  std::size_t pos_ = 0;
  std::string out_;
  bool pending_space_ = false;
  int pre_depth_ = 0;
  bool stopped_ = false;
  bool quote_removed_ = false;
  std::string link_href_;
  std::size_t link_start_ = 0;
};

}  // namespace

bool decode_html_entity(std::string_view name, std::string& out) {
  out.clear();
  if (name.size() > 1 && name[0] == '#') {
    std::uint32_t cp = 0;
    bool hex = name[1] == 'x' || name[1] == 'X';
    auto digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return false;
    for (char c : digits) {
      int v = c >= '0' && c <= '9' ? c - '0' : hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
      if (v < 0) return false;
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    detail::append_utf8(out, cp);
    return true;
  }
  for (const auto& e : entities)
    if (e.name == name) {
      detail::append_utf8(out, e.cp);
      return true;
    }
  return false;
}

html_text html_to_text(std::string_view html, const html_text_options& options) {
  return converter(html, options).run();
}

}  // namespace pasokh::connectors::email
