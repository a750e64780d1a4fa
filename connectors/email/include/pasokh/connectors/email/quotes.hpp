#pragma once
// Quoted history and signature removal for the text shown to agents. The
// original text is kept by the caller; this only decides what to show.
#include <string>
#include <string_view>

namespace pasokh::connectors::email {

struct stripped_text {
  std::string text;  // may be empty when the mail was only a quote
  bool quote_removed = false;
  bool signature_removed = false;
};

// Cuts at the first quote header — "-----Original Message-----" (and its
// Persian/Arabic forms), an Outlook From:/Sent: block (also after a line of
// underscores), "On … wrote:", "در تاریخ … نوشت:", "في … كتب:" (attribution lines
// wrapped over two lines too) — then drops remaining ">" lines, a trailing
// attribution that only introduces a trailing quote, the last "-- " signature and
// a final "Sent from my …" line. Forwarded-message blocks are content and stay.
stripped_text strip_quoted_text(std::string_view text);

}  // namespace pasokh::connectors::email
