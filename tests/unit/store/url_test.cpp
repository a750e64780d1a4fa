#include "pasokh/store/redis_client.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace pasokh::store {
namespace {

struct url_case {
  const char* url;
  const char* host;
  int port;
  const char* username;
  const char* password;
  int database;
};

TEST(ParseRedisUrl, ValidUrls) {
  const url_case cases[] = {
      {"redis://localhost", "localhost", 6379, "", "", 0},
      {"redis://127.0.0.1:6380", "127.0.0.1", 6380, "", "", 0},
      {"redis://redis.internal:7000/", "redis.internal", 7000, "", "", 0},
      {"redis://h/5", "h", 6379, "", "", 5},
      {"redis://:s3cret@h:1/2", "h", 1, "", "s3cret", 2},
      {"redis://gateway:pw@h", "h", 6379, "gateway", "pw", 0},
      {"redis://:p%40ss%3Aw%2Frd@h", "h", 6379, "", "p@ss:w/rd", 0},
      {"redis://:a@b@h", "h", 6379, "", "a@b", 0},  // lenient: the last '@' ends the credentials
      {"redis://[::1]:6390/3", "::1", 6390, "", "", 3},
      {"redis://[::1]", "::1", 6379, "", "", 0},
      {"redis://:@h", "h", 6379, "", "", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto cfg = parse_redis_url(c.url);
    EXPECT_EQ(cfg.host, c.host);
    EXPECT_EQ(cfg.port, c.port);
    EXPECT_EQ(cfg.username, c.username);
    EXPECT_EQ(cfg.password, c.password);
    EXPECT_EQ(cfg.database, c.database);
  }
}

TEST(ParseRedisUrl, KeepsDefaultTimeouts) {
  auto cfg = parse_redis_url("redis://h");
  EXPECT_EQ(cfg.connect_timeout, redis_config{}.connect_timeout);
  EXPECT_EQ(cfg.command_timeout, redis_config{}.command_timeout);
}

TEST(ParseRedisUrl, InvalidUrls) {
  const char* cases[] = {
      "",
      "localhost:6379",
      "http://h",
      "rediss://h",  // TLS is not supported
      "redis://",
      "redis://:6379",
      "redis://h:",
      "redis://h:0",
      "redis://h:65536",
      "redis://h:63x9",
      "redis://h/db",
      "redis://h/-1",
      "redis://h/1/2",
      "redis://h?timeout=1",
      "redis://h#x",
      "redis://nopassword@h",
      "redis://:%zz@h",
      "redis://:%4@h",
      "redis://[::1",
      "redis://[::1]x",
      "redis://[::1]:",
  };
  for (const char* url : cases) {
    SCOPED_TRACE(url);
    EXPECT_THROW(parse_redis_url(url), std::invalid_argument);
  }
}

TEST(ParseRedisUrl, ErrorNeverQuotesThePassword) {
  try {
    parse_redis_url("redis://:hunter2@h:notaport");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pasokh::store
