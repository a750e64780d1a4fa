#pragma once
#include <string>
#include <string_view>

namespace pasokh::connectors {

// Validates a configured API base URL ("https://graph.facebook.com", or
// "http://127.0.0.1:8081" for the fake provider) and drops a trailing slash.
// Throws config_error. Whether plain http is allowed is the HTTP client's call.
std::string checked_base_url(std::string_view where, std::string url);

}  // namespace pasokh::connectors
