#pragma once
// Plain request/response values that handlers see. The Beast types stay in
// the server's translation unit, so handlers compile fast.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pasokh::gateway {

struct http_request {
  std::string method;  // upper case: GET, POST, ...
  std::string target;  // as received, path plus query
  std::string path;    // percent-decoded, no query
  std::map<std::string, std::string, std::less<>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;

  // Empty when absent. Names are matched case-insensitively.
  std::string_view header(std::string_view name) const;
  std::string_view query_param(std::string_view name) const;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error":{"code":..,"message":..}} with the given status.
http_response error_response(unsigned status, std::string_view code, std::string_view message);
http_response json_response(unsigned status, std::string body);
// A small HTML page for a customer's browser (the links in our mail:
// unsubscribe, email verification): a title, `message`, then, with a
// `button`, a form that posts back to the same URL (`hidden_inputs`: HTML
// inside it). Right-to-left for fa and ar; no scripts, not cached, no referrer.
http_response customer_page(unsigned status, std::string_view language, std::string_view title, std::string_view message,
                            std::string_view button = {}, std::string_view hidden_inputs = {});

// The words of such a page that asks before it acts, in one language.
struct customer_page_texts {
  const char* title;
  const char* ask;
  const char* button;
  const char* done;
  const char* unknown;
};

// Splits "a=1&b=%20" into decoded pairs; '+' is a space.
std::map<std::string, std::string, std::less<>> parse_query(std::string_view query);
// Percent-decoding; returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);
// ASCII case-insensitive equality (header names, media types).
bool iequals(std::string_view a, std::string_view b);

}  // namespace pasokh::gateway
