// libFuzzer target over the MIME → message path. Invariants checked beyond
// "does not crash": the event text is valid UTF-8 and a dedup key is always set.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pasokh/connectors/email/charset.hpp"
#include "pasokh/connectors/email/html_text.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/quotes.hpp"
#include "pasokh/proto/utf8.hpp"

namespace email = pasokh::connectors::email;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const email::email_config config = [] {
    email::email_config c;
    c.max_attachment_bytes = 1 << 16;
    c.max_text_bytes = 1 << 16;
    return c;
  }();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto mail = email::parse_email(input, config);
  if (!pasokh::proto::valid_utf8(mail.event.text) || !pasokh::proto::valid_utf8(mail.full_text) ||
      !pasokh::proto::valid_utf8(mail.subject) || !pasokh::proto::valid_utf8(mail.event.from.display_name) ||
      mail.event.dedup_key.empty())
    __builtin_trap();
  // The text helpers also take arbitrary bytes from the wild.
  if (!pasokh::proto::valid_utf8(email::decode_header_text(input.substr(0, 2048)))) __builtin_trap();
  auto html = email::html_to_text(input, {.strip_quotes = true});
  (void)email::strip_quoted_text(html.text);
  return 0;
}
