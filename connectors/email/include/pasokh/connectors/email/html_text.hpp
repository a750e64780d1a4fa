#pragma once
// HTML mail bodies as readable plain text: script, style and head dropped,
// block elements become line breaks, list items get "- ", entities decoded,
// whitespace collapsed outside <pre>. Not a browser: tolerant of broken markup,
// linear in the input, no allocation beyond the output.
#include <string>
#include <string_view>

namespace pasokh::connectors::email {

struct html_text_options {
  // Drop the quoted history the big clients mark up: Gmail's gmail_quote,
  // Outlook's divRplyFwdMsg (and everything after it), Thunderbird's
  // moz-cite-prefix, <blockquote type="cite">, Yahoo's yahoo_quoted, and the
  // signature containers gmail_signature / moz-signature.
  bool strip_quotes = false;
  bool show_link_targets = true;  // "text <https://...>" when the target differs
};

struct html_text {
  std::string text;
  bool quote_removed = false;
};

html_text html_to_text(std::string_view html, const html_text_options& options = {});

// Decodes one entity body ("amp", "#1578", "#x62A"); false when unknown.
bool decode_html_entity(std::string_view name, std::string& out);

}  // namespace pasokh::connectors::email
