#pragma once
// Route table: method + path pattern → handler. Patterns are literal
// segments, "{name}" for one segment, or a final "*" for the rest of the path.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/http.hpp"

namespace pasokh::gateway {

using route_params = std::map<std::string, std::string, std::less<>>;
using http_handler = std::function<boost::asio::awaitable<http_response>(const http_request&, const route_params&)>;

class router {
 public:
  void add(std::string method, std::string pattern, http_handler handler);

  struct match {
    const http_handler* handler = nullptr;  // null: no route
    route_params params;
    std::string_view pattern;    // for metrics labels; "unmatched" when none
    bool wrong_method = false;   // the path exists with another method
    std::string allowed;         // with wrong_method: its methods, for the 405's Allow ("GET, HEAD")
  };
  // HEAD finds the GET route (the server sends its headers without the body).
  match find(std::string_view method, std::string_view path) const;

 private:
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    http_handler handler;
  };
  std::vector<route> routes_;
};

}  // namespace pasokh::gateway
