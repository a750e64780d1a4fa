#include "pasokh/connectors/email/authentication.hpp"

#include <string>

#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

// The header value without its comments ("(p=none)", nested too), lower-cased,
// white space (folding included) as single spaces.
std::string plain(std::string_view value) {
  detail::folded_text out;
  int depth = 0;
  for (char c : value) {
    if (c == '(') ++depth;
    if (depth > 0) {
      if (c == ')') --depth;
      out.gap();
      continue;
    }
    out.add(c);
  }
  return out.take();
}

}  // namespace

bool dmarc_failed(const header_list& headers, std::string_view authserv_id) {
  if (authserv_id.empty()) return false;
  for (const auto& [name, value] : headers) {
    if (!detail::iequals(name, "Authentication-Results")) continue;
    auto text = plain(value);
    std::string_view rest(text);
    auto semi = rest.find(';');
    auto id = detail::trim(rest.substr(0, semi));
    id = id.substr(0, id.find(' '));  // an optional version follows the authserv-id
    if (!detail::iequals(id, authserv_id)) continue;
    // The topmost one of our MTA decides: the ones below it came with the mail.
    while (semi != std::string_view::npos) {
      rest.remove_prefix(semi + 1);
      semi = rest.find(';');
      auto result = detail::trim(rest.substr(0, semi));
      if (!result.starts_with("dmarc")) continue;
      result = detail::trim(result.substr(5));
      if (!result.starts_with('=')) continue;
      result = detail::trim(result.substr(1));
      return result.substr(0, result.find(' ')) == "fail";
    }
    return false;
  }
  return false;
}

}  // namespace pasokh::connectors::email
