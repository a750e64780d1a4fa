#include "pasokh/connectors/common/base_url.hpp"

#include "pasokh/connectors/common/config.hpp"

namespace pasokh::connectors {

std::string checked_base_url(std::string_view where, std::string url) {
  auto starts = [&](std::string_view p) { return url.compare(0, p.size(), p) == 0; };
  std::size_t scheme = starts("https://") ? 8 : starts("http://") ? 7 : 0;
  if (scheme == 0 || url.size() == scheme || url.find_first_of(" ?#", scheme) != std::string::npos)
    throw config_error(std::string(where) + ": \"api_base\" must be an http(s) URL without query, got \"" + url + "\"");
  while (url.size() > scheme && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace pasokh::connectors
