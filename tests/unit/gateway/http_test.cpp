#include "pasokh/gateway/http.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

TEST(Http, PercentDecoding) {
  std::string out;
  EXPECT_TRUE(percent_decode("/a%20b/%D8%B3", out));
  EXPECT_EQ(out, "/a b/\xD8\xB3");
  EXPECT_FALSE(percent_decode("/bad%2", out));
  EXPECT_FALSE(percent_decode("/bad%zz", out));
  EXPECT_TRUE(percent_decode("a+b", out, true));
  EXPECT_EQ(out, "a b");
}

TEST(Http, QueryParsing) {
  auto q = parse_query("after=12&name=%D8%B3%D8%A7%D8%B1%D8%A7&flag&x=a+b");
  EXPECT_EQ(q.at("after"), "12");
  EXPECT_EQ(q.at("name"), "سارا");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("x"), "a b");
}

TEST(Http, HeadersAreCaseInsensitiveAndErrorsAreJson) {
  http_request r;
  r.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("authorization"), "");
  auto e = error_response(415, "unsupported_media_type", "use JSON");
  EXPECT_EQ(e.status, 415u);
  EXPECT_EQ(e.body, R"({"error":{"code":"unsupported_media_type","message":"use JSON"}})");
}
