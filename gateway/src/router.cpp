#include "pasokh/gateway/router.hpp"

namespace pasokh::gateway {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path, route_params& params) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const auto& seg = pattern[i];
    if (seg == "*") {
      std::string rest;
      for (std::size_t j = i; j < path.size(); ++j) rest += (j > i ? "/" : "") + path[j];
      params["*"] = rest;
      return true;
    }
    if (i >= path.size()) return false;
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}')
      params[seg.substr(1, seg.size() - 2)] = path[i];
    else if (seg != path[i])
      return false;
  }
  return pattern.size() == path.size();
}

}  // namespace

void router::add(std::string method, std::string pattern, http_handler handler) {
  auto segments = split_path(pattern);
  routes_.push_back({std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

router::match router::find(std::string_view method, std::string_view path) const {
  match result;
  result.pattern = "unmatched";
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  auto segments = split_path(path);
  for (const auto& r : routes_) {
    route_params params;
    if (!matches(r.segments, segments, params)) continue;
    if (r.method != wanted) {
      result.wrong_method = true;
      result.pattern = r.pattern;
      if (!result.allowed.empty()) result.allowed += ", ";
      result.allowed += r.method == "GET" ? "GET, HEAD" : r.method;
      continue;
    }
    result.handler = &r.handler;
    result.params = std::move(params);
    result.pattern = r.pattern;
    result.wrong_method = false;
    return result;
  }
  return result;
}

}  // namespace pasokh::gateway
