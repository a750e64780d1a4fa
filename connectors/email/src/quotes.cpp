#include "pasokh/connectors/email/quotes.hpp"

#include <initializer_list>
#include <vector>

#include "pasokh/proto/utf8.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

// Lower-cased ASCII, bidi controls removed, Arabic/Persian letter variants folded
// (ي ى → ی, ك → ک, أ إ آ → ا), "x :" → "x:", trimmed. Patterns go through it too.
std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = detail::next_code_point(s, i);
    if (proto::is_direction_control(c) || c == 0xFEFF) continue;
    c = proto::persian_letter(c);
    if (c == 0x0623 || c == 0x0625 || c == 0x0622) c = 0x0627;
    else if (c >= 0x064B && c <= 0x0652) continue;  // vowel marks
    else if (c == 0xA0 || c == '\t') c = ' ';
    else if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
    if (c == ':') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
    }
    detail::append_utf8(out, c);
  }
  return std::string(detail::trim(out));
}

// Patterns are folded once, on first use.
struct folded_list {
  std::vector<std::string> items;
  folded_list(std::initializer_list<std::string_view> raw) {
    for (auto r : raw) items.push_back(fold(r));
  }
};

bool starts_any(std::string_view f, const folded_list& patterns) {
  for (const auto& p : patterns.items)
    if (f.starts_with(p)) return true;
  return false;
}
bool ends_any(std::string_view f, const folded_list& patterns) {
  for (const auto& p : patterns.items)
    if (f.ends_with(p)) return true;
  return false;
}
bool contains_any(std::string_view f, const folded_list& patterns) {
  for (const auto& p : patterns.items)
    if (f.find(p) != std::string_view::npos) return true;
  return false;
}

// Header words of Outlook-style quote blocks ("*From:*" when bold became text).
bool header_word(std::string_view f, const folded_list& words) {
  while (!f.empty() && (f.front() == '*' || f.front() == ' ')) f.remove_prefix(1);
  return starts_any(f, words);
}

const folded_list& from_words() {
  static const folded_list l{"from:", "de:", "von:", "van:", "از:", "فرستنده:", "من:", "المرسل:"};
  return l;
}
const folded_list& sent_words() {
  static const folded_list l{"sent:", "date:", "envoyé:", "gesendet:", "datum:", "ارسال شده:", "ارسال:", "تاریخ:",
                             "تم الإرسال:", "أرسلت:", "التاريخ:", "بتاريخ:"};
  return l;
}
const folded_list& to_words() {
  static const folded_list l{"to:", "subject:", "cc:", "objet:", "betreff:", "an:", "به:", "موضوع:", "إلى:", "الى:",
                             "الموضوع:"};
  return l;
}

// "name <a@b>", "name [mailto:a@b]" or a bare address: a quoted header names the
// sender by address, a customer writing "From: Tehran" does not.
bool names_an_address(std::string_view f) {
  for (auto at = f.find('@'); at != std::string_view::npos; at = f.find('@', at + 1)) {
    bool before = at > 0 && f[at - 1] != ' ' && f[at - 1] != '<' && f[at - 1] != ':';
    bool after = at + 1 < f.size() && f[at + 1] != ' ' && f[at + 1] != '>' && f[at + 1] != ']';
    if (before && after) return true;
  }
  return false;
}

// First words an attribution line can start with; cheap pre-check before joining lines.
bool attribution_start(std::string_view f) {
  static const folded_list l{"on ", "am ", "le ", "در ", "في ", "بتاريخ"};
  return starts_any(f, l);
}

bool is_attribution(std::string_view f) {
  static const folded_list en_end{"wrote:", "writes:"}, de_end{"schrieb:"}, de_mid{" schrieb "}, fr_end{"a écrit:"},
      fa_end{"نوشت:", "نوشته:"}, ar_start{"في ", "بتاريخ"}, ar_end{"كتب:"},
      ar_mid{"تمت كتابة ما يلي بواسطة"}, ar_wrote{" كتب"};
  static const folded_list en{"on "}, de{"am "}, fr{"le "}, fa{"در "};
  if (f.size() < 6) return false;
  if (starts_any(f, en) && ends_any(f, en_end)) return true;
  if (starts_any(f, de) && (ends_any(f, de_end) || contains_any(f, de_mid))) return true;
  if (starts_any(f, fr) && ends_any(f, fr_end)) return true;
  if (starts_any(f, fa) && ends_any(f, fa_end)) return true;
  if (starts_any(f, ar_start) &&
      (ends_any(f, ar_end) || contains_any(f, ar_mid) || (contains_any(f, ar_wrote) && f.ends_with(":"))))
    return true;
  return false;
}

bool is_separator(std::string_view f) {
  static const folded_list l{"original message", "پیام اصلی", "الرسالة الأصلية", "message d'origine",
                             "ursprüngliche nachricht", "reply message"};
  return (f.starts_with("---") || f.starts_with("___")) && contains_any(f, l);
}

bool is_forward_marker(std::string_view f) {
  static const folded_list l{"forwarded message", "begin forwarded message", "بازارسال", "ارسال مجدد", "معاد توجيه",
                             "المعاد توجيهها", "message transféré", "weitergeleitete nachricht"};
  return contains_any(f, l);
}

bool underscores(std::string_view line) {
  auto t = detail::trim(line);
  if (t.size() < 10) return false;
  for (char c : t)
    if (c != '_') return false;
  return true;
}

bool quoted(std::string_view line) {
  auto t = detail::trim(line);
  return !t.empty() && t.front() == '>';
}

bool blank(std::string_view line) { return detail::trim(line).empty(); }

class stripper {
 public:
  explicit stripper(std::string_view text) : lines_(detail::split_lines(text)) {
    folded_.reserve(lines_.size());
    for (auto l : lines_) folded_.push_back(fold(l));
  }

  stripped_text run() {
    stripped_text out;
    std::size_t cut = quote_header();
    if (cut < lines_.size()) out.quote_removed = true;
    std::vector<std::string_view> kept(lines_.begin(), lines_.begin() + static_cast<std::ptrdiff_t>(cut));
    std::vector<std::string> kept_folded(folded_.begin(), folded_.begin() + static_cast<std::ptrdiff_t>(cut));

    // A signature delimiter ends the author's text.
    for (std::size_t i = kept.size(); i-- > 0;) {
      auto l = kept[i];
      while (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l == "-- " || l == "--") {
        kept.resize(i);
        kept_folded.resize(i);
        out.signature_removed = true;
        break;
      }
    }
    // A trailing quote and the line introducing it ("X wrote:" in any language).
    std::size_t last = kept.size();
    while (last > 0 && (blank(kept[last - 1]) || quoted(kept[last - 1]))) --last;
    bool trailing_quote = false;
    for (std::size_t i = last; i < kept.size(); ++i) trailing_quote |= quoted(kept[i]);
    if (trailing_quote && last > 0 && kept_folded[last - 1].ends_with(":") && kept[last - 1].size() < 300) {
      kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(last - 1));
      kept_folded.erase(kept_folded.begin() + static_cast<std::ptrdiff_t>(last - 1));
    }
    std::vector<std::string_view> result;
    std::vector<std::string_view> result_folded;
    for (std::size_t i = 0; i < kept.size(); ++i) {
      if (quoted(kept[i])) {
        out.quote_removed = true;
        continue;
      }
      result.push_back(kept[i]);
      result_folded.push_back(kept_folded[i]);
    }
    // Mobile client footers.
    std::size_t end = result.size();
    while (end > 0 && blank(result[end - 1])) --end;
    if (end > 0) {
      static const folded_list footers{"sent from my ", "get outlook for ", "envoyé de mon ", "ارسال شده از ",
                                       "ارسال‌شده از ", "أرسلت من ", "تم الإرسال من "};
      if (starts_any(result_folded[end - 1], footers)) {
        result.resize(end - 1);
        out.signature_removed = true;
      }
    }
    std::size_t begin = 0;
    while (begin < result.size() && blank(result[begin])) ++begin;
    end = result.size();
    while (end > begin && blank(result[end - 1])) --end;
    for (std::size_t i = begin; i < end; ++i) {
      auto l = result[i];
      while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
      out.text.append(l);
      if (i + 1 < end) out.text += '\n';
    }
    return out;
  }

 private:
  // Index of the first line of quoted history, lines_.size() when none.
  std::size_t quote_header() const {
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      const auto& f = folded_[i];
      if (f.empty()) continue;
      if (is_separator(f) && !is_forward_marker(f)) return i;
      if (is_attribution(f)) return i;
      if (i + 1 < lines_.size() && !folded_[i + 1].empty() && f.size() < 200 && attribution_start(f) &&
          is_attribution(f + " " + folded_[i + 1]))
        return i;
      // Outlook's line of underscores is evidence enough; without it the sender must be an address.
      if (underscores(lines_[i]) && header_block(next_content(i + 1), false)) return i;
      if (header_block(i, true) && !after_forward_marker(i)) return i;
    }
    return lines_.size();
  }

  std::size_t next_content(std::size_t i) const {
    while (i < lines_.size() && folded_[i].empty()) ++i;
    return i;
  }

  bool after_forward_marker(std::size_t i) const {
    while (i > 0) {
      --i;
      if (folded_[i].empty()) continue;
      return is_forward_marker(folded_[i]);
    }
    return false;
  }

  // "From:" followed closely by "Sent:"/"Date:" and "To:"/"Subject:" lines.
  bool header_block(std::size_t i, bool need_address) const {
    if (i >= lines_.size() || !header_word(folded_[i], from_words())) return false;
    if (need_address && !names_an_address(folded_[i])) return false;
    bool sent = false, to = false;
    for (std::size_t k = i + 1; k < lines_.size() && k <= i + 6; ++k) {
      sent |= k <= i + 4 && header_word(folded_[k], sent_words());
      to |= header_word(folded_[k], to_words());
    }
    return sent && to;
  }

  std::vector<std::string_view> lines_;
  std::vector<std::string> folded_;
};

}  // namespace

stripped_text strip_quoted_text(std::string_view text) { return stripper(text).run(); }

}  // namespace pasokh::connectors::email
