#pragma once
// Text decoding with fallbacks for mail from the region: the declared charset
// first, then UTF-8 if the bytes are valid, windows-1256, iso-8859-6, iso-8859-1.
// A declared charset that decodes but reads as garbage (Arabic written in
// windows-1256 and labelled iso-8859-6, or the other way round) loses to a
// fallback that reads plausibly; the decision is reported in `note`. Text
// labelled UTF-8 (or unlabelled) that is almost all valid UTF-8 stays UTF-8,
// its few invalid bytes replaced by U+FFFD.
#include <string>
#include <string_view>

namespace pasokh::connectors::email {

struct decoded_text {
  std::string text;     // UTF-8
  std::string charset;  // what was used, lower-case ("utf-8", "windows-1256", ...)
  std::string note;     // empty, or why the result is not the plain declared decoding
};

decoded_text decode_charset(std::string_view bytes, std::string_view declared);

// How implausible decoded UTF-8 text looks as human writing: stray C1 controls,
// U+FFFD, Arabic and Latin letters mixed in one word, Arabic vowel marks where no
// letter carries them, words made mostly of Latin-1 accented letters. 0 = clean.
int garble_score(std::string_view utf8);

// RFC 2047 header decoding (B and Q, adjacent words joined, split multi-byte
// characters rejoined), each word's bytes through decode_charset; unencoded 8-bit
// bytes get the same fallbacks. Always returns valid UTF-8.
std::string decode_header_text(std::string_view raw);

// Rewrites runs of adjacent encoded words of one charset as a single encoded
// word, so that a character split across two words survives decoders that
// decode word by word (GMime's address parser). The merged word carries the
// text as decode_charset reads it, in UTF-8, so a mislabelled charset is repaired
// too. Raw 8-bit text that is not UTF-8 (an unencoded name in iso-8859-6 or
// windows-1256) becomes such a word too, read as decode_header_text reads it.
// Other text is left as is.
std::string merge_encoded_words(std::string_view raw);

// How many "=?" in s start no encoded word (no "?=" before the next whitespace).
std::size_t unclosed_encoded_words(std::string_view s);

}  // namespace pasokh::connectors::email
