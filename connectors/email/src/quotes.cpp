#include "pasokh/connectors/email/quotes.hpp"

#include <array>
#include <vector>

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
    if (c == 0x200E || c == 0x200F || c == 0x061C || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
        c == 0xFEFF)
      continue;
    if (c == 0x064A || c == 0x0649) c = 0x06CC;
    else if (c == 0x0643) c = 0x06A9;
    else if (c == 0x0623 || c == 0x0625 || c == 0x0622) c = 0x0627;
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

bool starts(const std::string& folded, std::string_view pattern) { return folded.starts_with(fold(pattern)); }
bool ends(const std::string& folded, std::string_view pattern) { return folded.ends_with(fold(pattern)); }
bool contains(const std::string& folded, std::string_view pattern) {
  return folded.find(fold(pattern)) != std::string::npos;
}

template <std::size_t N>
bool starts_any(const std::string& folded, const std::array<std::string_view, N>& patterns) {
  std::string_view f = folded;
  while (!f.empty() && (f.front() == '*' || f.front() == ' ')) f.remove_prefix(1);  // Outlook's *From:*
  for (auto p : patterns)
    if (f.starts_with(fold(p))) return true;
  return false;
}

constexpr std::array<std::string_view, 8> from_words{"from:", "de:", "von:", "van:", "از:", "فرستنده:", "من:", "المرسل:"};
constexpr std::array<std::string_view, 12> sent_words{"sent:", "date:", "envoyé:", "gesendet:", "datum:",
                                                      "ارسال شده:", "ارسال:", "تاریخ:", "تم الإرسال:",
                                                      "أرسلت:", "التاريخ:", "بتاريخ:"};
constexpr std::array<std::string_view, 11> to_words{"to:", "subject:", "cc:", "objet:", "betreff:", "an:", "به:",
                                                    "موضوع:", "إلى:", "الى:", "الموضوع:"};

bool is_attribution(const std::string& f) {
  if (f.size() < 6) return false;
  if (starts(f, "on ") && (ends(f, "wrote:") || ends(f, "writes:"))) return true;
  if (starts(f, "am ") && (ends(f, "schrieb:") || contains(f, " schrieb "))) return true;
  if (starts(f, "le ") && ends(f, "a écrit:")) return true;
  if (starts(f, "در ") && (ends(f, "نوشت:") || ends(f, "نوشته:"))) return true;
  if ((starts(f, "في ") || starts(f, "بتاريخ")) && (ends(f, "كتب:") || contains(f, "تمت كتابة ما يلي بواسطة") ||
                                                     (contains(f, " كتب") && f.ends_with(":"))))
    return true;
  return false;
}

bool is_separator(const std::string& f) {
  if (!f.starts_with("---") && !f.starts_with("___")) return false;
  for (auto p : {"original message", "پیام اصلی", "الرسالة الأصلية", "message d'origine", "ursprüngliche nachricht",
                 "reply message"})
    if (contains(f, p)) return true;
  return false;
}

bool is_forward_marker(const std::string& f) {
  for (auto p : {"forwarded message", "begin forwarded message", "بازارسال", "ارسال مجدد", "معاد توجيه", "المعاد توجيهها",
                 "message transféré", "weitergeleitete nachricht"})
    if (contains(f, p)) return true;
  return false;
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
      auto& f = result_folded[end - 1];
      for (auto p : {"sent from my ", "get outlook for ", "envoyé de mon ", "ارسال شده از ", "ارسال‌شده از ",
                     "أرسلت من ", "تم الإرسال من "})
        if (f.starts_with(fold(p))) {
          result.resize(end - 1);
          out.signature_removed = true;
          break;
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
      if (i + 1 < lines_.size() && !folded_[i + 1].empty() && f.size() < 200 &&
          is_attribution(f + " " + folded_[i + 1]))
        return i;
      if (underscores(lines_[i]) && header_block(next_content(i + 1))) return i;
      if (header_block(i) && !after_forward_marker(i)) return i;
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
  bool header_block(std::size_t i) const {
    if (i >= lines_.size() || !starts_any(folded_[i], from_words)) return false;
    bool sent = false, to = false;
    for (std::size_t k = i + 1; k < lines_.size() && k <= i + 6; ++k) {
      sent |= k <= i + 4 && starts_any(folded_[k], sent_words);
      to |= starts_any(folded_[k], to_words);
    }
    return sent && to;
  }

  std::vector<std::string_view> lines_;
  std::vector<std::string> folded_;
};

}  // namespace

stripped_text strip_quoted_text(std::string_view text) { return stripper(text).run(); }

}  // namespace pasokh::connectors::email
