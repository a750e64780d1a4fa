#include "pasokh/gateway/router.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

namespace {
http_handler nothing() {
  return [](const http_request&, const route_params&) -> boost::asio::awaitable<http_response> { co_return http_response{}; };
}
}  // namespace

TEST(Router, MatchesLiteralsParametersAndWildcards) {
  router r;
  r.add("POST", "/api/v1/channels/{channel}/messages", nothing());
  r.add("GET", "/console/*", nothing());
  r.add("GET", "/healthz", nothing());

  auto m = r.find("POST", "/api/v1/channels/shop/messages");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.params.at("channel"), "shop");
  EXPECT_EQ(m.pattern, "/api/v1/channels/{channel}/messages");

  auto files = r.find("GET", "/console/js/app.js");
  ASSERT_NE(files.handler, nullptr);
  EXPECT_EQ(files.params.at("*"), "js/app.js");

  EXPECT_NE(r.find("GET", "/healthz/").handler, nullptr);  // a trailing slash is the same path
  EXPECT_EQ(r.find("GET", "/healthzz").handler, nullptr);
  EXPECT_EQ(r.find("POST", "/api/v1/channels/shop/messages/extra").handler, nullptr);
}

TEST(Router, ReportsAWrongMethodSeparatelyFromAMissingRoute) {
  router r;
  r.add("POST", "/api/v1/auth/login", nothing());
  auto wrong = r.find("GET", "/api/v1/auth/login");
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_TRUE(wrong.wrong_method);
  auto missing = r.find("GET", "/nope");
  EXPECT_FALSE(missing.wrong_method);
  EXPECT_EQ(missing.pattern, "unmatched");
}

TEST(Router, HeadFindsTheGetRouteAndA405NamesWhatIsAllowed) {
  router r;
  r.add("GET", "/healthz", nothing());
  r.add("POST", "/api/v1/channels/{channel}/messages", nothing());
  r.add("GET", "/api/v1/channels/{channel}/messages", nothing());
  EXPECT_NE(r.find("HEAD", "/healthz").handler, nullptr);
  auto put = r.find("PUT", "/api/v1/channels/shop/messages");
  EXPECT_TRUE(put.wrong_method);
  EXPECT_EQ(put.allowed, "POST, GET, HEAD");
  EXPECT_EQ(r.find("HEAD", "/api/v1/channels/shop/messages").handler, r.find("GET", "/api/v1/channels/shop/messages").handler);
}
