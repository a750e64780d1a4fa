#include "pasokh/connectors/email/charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "pasokh/proto/utf8.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using detail::to_lower;

// Canonical names for the aliases mail clients put in the wild.
std::string canonical_charset(std::string_view declared) {
  std::string name = to_lower(detail::trim(declared));
  if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'')) name = name.substr(1, name.size() - 2);
  if (auto star = name.find('*'); star != std::string::npos) name.resize(star);  // RFC 2231 language
  if (name == "utf8" || name == "utf-8" || name == "unicode-1-1-utf-8" || name == "x-unicode20utf8") return "utf-8";
  if (name == "cp1256" || name == "windows-1256" || name == "x-cp1256" || name == "ms-arab" || name == "windows1256")
    return "windows-1256";
  if (name == "iso-8859-6" || name == "iso_8859-6" || name == "iso8859-6" || name == "iso-8859-6-i" ||
      name == "iso-8859-6-e" || name == "arabic" || name == "asmo-708" || name == "ecma-114" || name == "csisolatinarabic")
    return "iso-8859-6";
  if (name == "us-ascii" || name == "ascii" || name == "ansi_x3.4-1968" || name == "us") return "us-ascii";
  if (name == "latin1" || name == "iso-8859-1" || name == "iso8859-1" || name == "iso_8859-1" || name == "l1")
    return "iso-8859-1";
  if (name == "ks_c_5601-1987") return "cp949";
  if (name == "gb2312" || name == "gbk" || name == "x-gbk") return "gb18030";
  if (name == "unknown-8bit" || name == "x-unknown" || name == "unknown" || name == "default") return "";
  return name;
}

// Charsets whose ASCII-range bytes do not mean ASCII: no fast path for them.
bool ascii_incompatible(std::string_view cs) {
  return cs.starts_with("utf-16") || cs.starts_with("utf-32") || cs.starts_with("utf-7") || cs.starts_with("ucs") ||
         cs.starts_with("iso-2022") || cs.starts_with("hz");
}

bool all_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// Strict conversion: nullopt when the charset is unknown or a byte does not map.
std::optional<std::string> convert(std::string_view bytes, const std::string& charset) {
  if (charset == "utf-8") {
    if (!proto::valid_utf8(bytes)) return std::nullopt;
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);  // BOM
    return std::string(bytes);
  }
  if (charset == "us-ascii") return all_ascii(bytes) ? std::optional<std::string>(bytes) : std::nullopt;
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(bytes.size() * 2 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  std::size_t done = 0;
  bool ok = true;
  while (in_left > 0) {
    char* dst = out.data() + done;
    std::size_t out_left = out.size() - done;
    std::size_t r = iconv(cd, &in, &in_left, &dst, &out_left);
    done = out.size() - out_left;
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    ok = false;  // EILSEQ or EINVAL (truncated sequence)
    break;
  }
  if (ok) {  // flush shift state
    char* dst = out.data() + done;
    std::size_t out_left = out.size() - done;
    iconv(cd, nullptr, nullptr, &dst, &out_left);
    done = out.size() - out_left;
  }
  iconv_close(cd);
  if (!ok) return std::nullopt;
  out.resize(done);
  return out;
}

struct utf8_census {
  std::size_t invalid = 0;    // bytes that start no valid sequence
  std::size_t multibyte = 0;  // valid non-ASCII code points
};

utf8_census count_utf8(std::string_view bytes) {
  utf8_census census;
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t start = i;
    char32_t c = detail::next_code_point(bytes, i);
    if (c == 0xFFFD && i - start == 1) ++census.invalid;
    else if (c >= 0x80) ++census.multibyte;
  }
  return census;
}

// A few stray bytes (a footer gateway's 0xA0, a cut-off character) among many
// valid UTF-8 characters are damage, not another charset: text in a single-byte
// charset almost never forms valid multi-byte sequences by chance.
constexpr std::size_t valid_per_invalid = 4;

bool mostly_utf8(const utf8_census& census) {
  return census.invalid > 0 && census.multibyte >= valid_per_invalid * census.invalid;
}

bool arabic_letter(char32_t c) {
  return (c >= 0x0621 && c <= 0x063A) || (c >= 0x0641 && c <= 0x064A) || (c >= 0x0671 && c <= 0x06D3) || c == 0x06D5;
}
bool arabic_mark(char32_t c) { return (c >= 0x064B && c <= 0x0652) || c == 0x0670; }
bool tanween(char32_t c) { return c >= 0x064B && c <= 0x064D; }
bool latin_letter(char32_t c) {
  return (c < 0x80 && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}
bool persian_only(char32_t c) { return c == 0x067E || c == 0x0686 || c == 0x0698 || c == 0x06AF || c == 0x06A9; }

decoded_text damaged_utf8(std::string_view bytes, const utf8_census& census, bool unlabelled) {
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);  // BOM
  std::string note = unlabelled ? "8-bit text without a usable charset label; decoded as utf-8; " : "";
  note += std::to_string(census.invalid) + " invalid UTF-8 sequence(s) replaced with U+FFFD";
  return {detail::sanitize_utf8(bytes), "utf-8", std::move(note)};
}

// Words that begin with the article «ال», as most Arabic sentences have:
// the same bytes in the other Arabic charset begin «ان» or «اف» instead.
int article_count(std::string_view text) {
  int count = 0;
  for (std::size_t at = text.find("\u0627\u0644"); at != std::string_view::npos; at = text.find("\u0627\u0644", at + 4)) {
    bool word_start = at == 0 || text[at - 1] == ' ' || text[at - 1] == '\n' || text[at - 1] == '\t';
    count += word_start;
  }
  return count;
}

}  // namespace

int garble_score(std::string_view s) {
  int score = 0;
  struct word_state {
    int length = 0, latin_high = 0;
    bool arabic = false, latin = false;
    char32_t prev = 0;
  } w;
  auto end_word = [&] {
    if (w.arabic && w.latin) score += 3;
    if (!w.arabic && w.length >= 3 && w.latin_high * 2 > w.length) score += 3;
    w = {};
  };
  for (std::size_t i = 0; i < s.size();) {
    char32_t c = detail::next_code_point(s, i);
    if (c == 0xFFFD || (c >= 0x80 && c <= 0x9F) || (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')) {
      score += 10;
      end_word();
      continue;
    }
    bool in_word = arabic_letter(c) || arabic_mark(c) || latin_letter(c) || c == 0x0640 || c == 0x200C;
    if (!in_word) {
      end_word();
      continue;
    }
    if (arabic_mark(c)) {
      // A vowel mark must sit on a letter; two in a row only around shadda.
      bool after_mark = arabic_mark(w.prev);
      if (w.length == 0 || (after_mark && c != 0x0651 && w.prev != 0x0651)) score += 2;
    } else if (tanween(w.prev) && arabic_letter(c) && c != 0x0627 && c != 0x0649) {
      score += 2;  // tanween only ends a word (or precedes a final alef)
    }
    if (arabic_letter(c)) w.arabic = true;
    if (latin_letter(c)) {
      w.latin = true;
      if (c >= 0x80) ++w.latin_high;
    }
    ++w.length;
    w.prev = c;
  }
  end_word();
  return score;
}

decoded_text decode_charset(std::string_view bytes, std::string_view declared_raw) {
  std::string declared = canonical_charset(declared_raw);
  if (all_ascii(bytes) && !ascii_incompatible(declared)) {
    // ASCII is ASCII in every charset we meet; NULs never reach text.
    return {detail::sanitize_utf8(bytes), declared.empty() ? "us-ascii" : declared, {}};
  }
  // Valid UTF-8 labelled UTF-8 is never garbage: skip the scoring (the common case).
  if (declared == "utf-8" && proto::valid_utf8(bytes)) {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    bool nul = bytes.find('\0') != std::string_view::npos;
    return {nul ? detail::sanitize_utf8(bytes) : std::string(bytes), declared, {}};
  }
  bool unlabelled = declared.empty() || declared == "us-ascii";
  if (declared == "utf-8" || unlabelled) {
    if (auto census = count_utf8(bytes); mostly_utf8(census)) return damaged_utf8(bytes, census, unlabelled);
  }
  std::optional<std::string> first;
  if (!unlabelled) {
    first = convert(bytes, declared);
    if (first && garble_score(*first) == 0) {
      decoded_text out{std::move(*first), declared, {}};
      if (declared == "windows-1256") {
        bool persian = false, arabic_yeh = false;
        for (std::size_t i = 0; i < out.text.size();) {
          char32_t c = detail::next_code_point(out.text, i);
          persian |= persian_only(c);
          arabic_yeh |= c == 0x064A;
        }
        if (persian && arabic_yeh)
          out.note = "windows-1256 has no Farsi yeh: Persian text keeps Arabic yeh U+064A as decoded";
      }
      return out;
    }
  }
  // The declared charset failed or reads as garbage: score every candidate.
  std::vector<std::string> candidates;
  if (!declared.empty() && declared != "us-ascii") candidates.push_back(declared);
  for (const char* fb : {"utf-8", "windows-1256", "iso-8859-6", "iso-8859-1"})
    if (declared != fb) candidates.emplace_back(fb);
  decoded_text best;
  int best_score = -1;
  for (const auto& cs : candidates) {
    auto text = cs == declared && first ? std::move(first) : convert(bytes, cs);
    if (!text) continue;
    int score = garble_score(*text);
    // Arabic letters of iso-8859-6 are letters in windows-1256 too: read
    // there, every word is still Arabic and scores 0, so the article decides.
    bool arabic_tie = score == 0 && best_score == 0 && cs == "iso-8859-6" && best.charset == "windows-1256" &&
                      article_count(*text) > article_count(best.text);
    if (best_score < 0 || score < best_score || arabic_tie) {
      best = {std::move(*text), cs, {}};
      best_score = score;
    }
    if (best_score == 0 && cs != "windows-1256") break;  // after 1256: iso-8859-6 may tie
  }
  if (best_score < 0) return {detail::sanitize_utf8(bytes), "utf-8", "undecodable text, invalid bytes replaced"};
  if (declared.empty() || declared == "us-ascii")
    best.note = "8-bit text without a usable charset label; decoded as " + best.charset;
  else if (best.charset != declared)
    best.note = "declared charset " + declared + " does not fit the text; decoded as " + best.charset;
  if (best.charset == "windows-1256") {
    bool persian = false, arabic_yeh = false;
    for (std::size_t i = 0; i < best.text.size();) {
      char32_t c = detail::next_code_point(best.text, i);
      persian |= persian_only(c);
      arabic_yeh |= c == 0x064A;
    }
    if (persian && arabic_yeh)
      best.note += "; windows-1256 has no Farsi yeh: Persian text keeps Arabic yeh U+064A as decoded";
  }
  best.text = detail::sanitize_utf8(best.text);
  return best;
}

namespace {

struct encoded_word {
  std::string charset;
  std::string bytes;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string decode_q(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') out += ' ';
    else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else out += c;
  }
  return out;
}

std::string decode_b(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else continue;  // padding and junk
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

bool header_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Where a word's text starting at `from` closes: the "?=" after it, or npos
// with `stop` at the whitespace (or end) that came first: an encoded word holds
// no whitespace (RFC 2047 section 5).
std::size_t closing_mark(std::string_view s, std::size_t from, std::size_t& stop) {
  for (std::size_t i = from; i < s.size(); ++i) {
    if (header_space(s[i])) {
      stop = i;
      return std::string_view::npos;
    }
    if (s[i] == '?' && i + 1 < s.size() && s[i + 1] == '=') return i;
  }
  stop = s.size();
  return std::string_view::npos;
}

struct word_span {
  std::size_t start = std::string_view::npos;
  std::size_t end = std::string_view::npos;  // one past "?="
};

// The next "=?charset?X?text?=" at or after `from`, decoded into w; start is
// npos when there is none. Linear over s however many "=?" never close (a
// crafted header of them took seconds): when no "?=" comes before the next
// whitespace, no word starts before that whitespace either, so the search
// resumes there instead of at the next "=?".
word_span next_word(std::string_view s, std::size_t from, encoded_word& w) {
  for (auto pos = s.find("=?", from); pos != std::string_view::npos; pos = s.find("=?", from)) {
    from = pos + 2;
    std::size_t q1 = pos + 2;
    while (q1 < s.size() && s[q1] != '?' && !header_space(s[q1])) ++q1;
    if (q1 + 2 >= s.size() || s[q1] != '?' || s[q1 + 2] != '?') continue;
    char enc = static_cast<char>(s[q1 + 1] | 0x20);
    if (enc != 'b' && enc != 'q') continue;
    std::size_t stop = 0;
    auto end = closing_mark(s, q1 + 3, stop);
    if (end == std::string_view::npos) {
      from = stop;
      continue;
    }
    auto text = s.substr(q1 + 3, end - q1 - 3);
    w.charset = canonical_charset(s.substr(pos + 2, q1 - pos - 2));
    w.bytes = enc == 'b' ? decode_b(text) : decode_q(text);
    return {pos, end + 2};
  }
  return {};
}

std::string utf8_word(std::string_view text) { return "=?UTF-8?B?" + detail::base64_encode(text) + "?="; }

bool high_byte(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// What may sit between the 8-bit words of one display name: spaces, ASCII
// letters and digits, never the specials that delimit an address.
bool name_filler(char c) {
  return c == ' ' || c == '\t' || c == '.' || c == '-' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// `literal` with each stretch of raw 8-bit text (from its first 8-bit byte to
// its last, across spaces) as a UTF-8 encoded word of what decode_charset reads
// in `charset`; empty `charset`: as it is.
void append_literal(std::string& out, std::string_view literal, const std::string& charset) {
  std::size_t i = 0;
  while (!charset.empty() && i < literal.size()) {
    auto start = i;
    while (start < literal.size() && !high_byte(literal[start])) ++start;
    if (start == literal.size()) break;
    auto last = start;
    for (auto j = start; j < literal.size() && (high_byte(literal[j]) || name_filler(literal[j])); ++j)
      if (high_byte(literal[j])) last = j;
    out.append(literal.substr(i, start - i));
    out += utf8_word(decode_charset(literal.substr(start, last + 1 - start), charset).text);
    i = last + 1;
  }
  out.append(literal.substr(i));
}

}  // namespace

std::string merge_encoded_words(std::string_view s) {
  std::string out;
  std::string run_charset, run_bytes;
  std::size_t literal_start = 0;
  // Raw 8-bit names (an Arabic name in iso-8859-6, unencoded) would go to
  // GMime's fallback list, whose windows-1256 maps every byte and wins: they
  // are read as the Subject is, in the charset that reads plausibly. UTF-8 is
  // left alone (GMime reads it right; an address may be UTF-8 itself).
  std::string legacy_charset;
  if (!all_ascii(s) && !proto::valid_utf8(s)) legacy_charset = decode_charset(s, "").charset;
  auto flush = [&] {
    if (run_charset.empty()) return;
    // Re-labelled as UTF-8 after our repair: under its own (possibly wrong) label
    // the decoder downstream would garble what decode_charset reads correctly.
    out += utf8_word(decode_charset(run_bytes, run_charset).text);
    run_charset.clear();
    run_bytes.clear();
  };
  encoded_word w;
  for (auto word = next_word(s, 0, w); word.start != std::string_view::npos; word = next_word(s, word.end, w)) {
    if (w.charset.empty()) continue;  // left as it is, for GMime
    auto literal = s.substr(literal_start, word.start - literal_start);
    bool joins = !run_charset.empty() && run_charset == w.charset && detail::trim(literal).empty();
    if (!joins) {
      flush();
      append_literal(out, literal, legacy_charset);
    }
    run_charset = w.charset;
    run_bytes += w.bytes;
    literal_start = word.end;
  }
  flush();
  append_literal(out, s.substr(literal_start), legacy_charset);
  return out;
}

std::size_t unclosed_encoded_words(std::string_view s) {
  std::size_t count = 0, literal_start = 0;
  auto count_in = [&](std::string_view literal) {
    for (auto p = literal.find("=?"); p != std::string_view::npos; p = literal.find("=?", p + 2)) ++count;
  };
  encoded_word w;
  for (auto word = next_word(s, 0, w); word.start != std::string_view::npos; word = next_word(s, word.end, w)) {
    count_in(s.substr(literal_start, word.start - literal_start));
    literal_start = word.end;
  }
  count_in(s.substr(literal_start));
  return count;
}

std::string decode_header_text(std::string_view raw) {
  // Unfold: CR and LF go, the whitespace after them stays.
  std::string unfolded;
  unfolded.reserve(raw.size());
  for (char c : raw)
    if (c != '\r' && c != '\n') unfolded += c;
  std::string_view s = detail::trim(unfolded);

  std::string out;
  std::string pending_charset, pending_bytes;  // consecutive words of one charset
  auto flush = [&] {
    if (pending_bytes.empty() && pending_charset.empty()) return;
    out += decode_charset(pending_bytes, pending_charset).text;
    pending_bytes.clear();
    pending_charset.clear();
  };
  std::size_t literal_start = 0;
  bool last_was_word = false;
  encoded_word w;
  for (auto word = next_word(s, 0, w); word.start != std::string_view::npos; word = next_word(s, word.end, w)) {
    auto literal = s.substr(literal_start, word.start - literal_start);
    // Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
    bool only_space = detail::trim(literal).empty();
    if (!(last_was_word && only_space)) {
      flush();
      out += decode_charset(literal, "").text;
    }
    if (!pending_charset.empty() && pending_charset != w.charset) flush();
    pending_charset = w.charset.empty() ? "utf-8" : w.charset;
    pending_bytes += w.bytes;
    last_was_word = true;
    literal_start = word.end;
  }
  flush();
  out += decode_charset(s.substr(literal_start), "").text;
  return out;
}

}  // namespace pasokh::connectors::email
