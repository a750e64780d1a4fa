#include "pasokh/gateway/config.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;
using nlohmann::json;

namespace {
std::optional<std::string> test_env(const char* name) {
  std::string_view n = name;
  if (n == "SHOP_API_KEY") return std::string("s3cret-0123456789");
  if (n == "OLD_SHOP_API_KEY") return std::string("old-s3cret-0123456789");
  if (n == "WEB_SECRET") return std::string("web-secret-0123456789");
  if (n == "OLD_WEB_SECRET") return std::string("old-web-secret-0123456789");
  if (n == "SHORT_SECRET") return std::string("fifteen-bytes!!");
  return std::nullopt;
}
config parse(const char* text) { return parse_config(json::parse(text), test_env); }
}  // namespace

TEST(Config, EmptyObjectGivesDefaults) {
  auto c = parse("{}");
  EXPECT_EQ(c.listen.port, 8080);
  EXPECT_EQ(c.limits.max_body_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_webhook_body_bytes, 4u << 20);
  EXPECT_EQ(c.redis.prefix, "pasokh:");
  EXPECT_EQ(c.auth.password_rounds, 600'000);  // OWASP's advice for PBKDF2-HMAC-SHA256
  EXPECT_TRUE(c.channels.empty());
}

TEST(Config, ReadsSecretsFromTheNamedEnvironmentVariable) {
  auto c = parse(R"({"channels":[{"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","team":"returns"}]})");
  ASSERT_EQ(c.channels.size(), 1u);
  EXPECT_EQ(c.channels[0].api_key, "s3cret-0123456789");
  EXPECT_TRUE(c.channels[0].previous_api_key.empty());
  EXPECT_EQ(c.channels[0].team, "returns");
  EXPECT_EQ(c.find_channel("shop"), &c.channels[0]);
  EXPECT_EQ(c.find_channel("other"), nullptr);
}

// A rotation: the old key (or web chat secret) is read beside the new one.
TEST(Config, ReadsThePreviousSecretsOfARotation) {
  auto c = parse(R"({"webchat":{"secret_env":"WEB_SECRET","previous_secret_env":"OLD_WEB_SECRET"},"channels":[
    {"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","previous_api_key_env":"OLD_SHOP_API_KEY"},
    {"id":"web","kind":"webchat"}]})");
  EXPECT_EQ(c.channels[0].api_key, "s3cret-0123456789");
  EXPECT_EQ(c.channels[0].previous_api_key, "old-s3cret-0123456789");
  EXPECT_EQ(c.webchat.secret, "web-secret-0123456789");
  EXPECT_EQ(c.webchat.previous_secret, "old-web-secret-0123456789");
}

// A typo in a channel's team would open an empty team nobody works in; the
// team may also have been made in the console, so it is a warning.
TEST(Config, WarnsOfAChannelTeamMissingFromRoutingTeams) {
  auto typo = parse(R"({"routing":{"teams":[{"id":"support","name":"Support"},{"id":"sales","name":"Sales"}]},
    "channels":[{"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","team":"slaes"},
                {"id":"api","kind":"api","api_key_env":"SHOP_API_KEY","team":"support"}]})");
  ASSERT_EQ(typo.warnings.size(), 1u);
  EXPECT_EQ(typo.warnings[0], "channels[0] (\"shop\"): team \"slaes\" is not in routing.teams (support, sales); unless it "
                              "was made in the console, it starts as an empty team with no agents");
  // No teams configured: the channels' teams are the teams.
  EXPECT_TRUE(parse(R"({"channels":[{"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","team":"returns"}]})")
                  .warnings.empty());
}

TEST(Config, RejectsWithAMessageNamingTheProblem) {
  struct bad_case { const char* text; const char* expected; };
  for (auto [text, expected] : std::initializer_list<bad_case>{
           {R"({"listen":{"prot":1}})", "listen: unknown key \"prot\""},
           {R"({"colour":"red"})", "config: unknown key \"colour\""},
           {R"({"listen":{"port":"eighty"}})", "listen: \"port\" must be a whole number"},
           {R"({"listen":{"address":80}})", "listen: \"address\" has the wrong type"},
           {R"({"channels":[{"id":"a","kind":"fax"}]})", "unknown kind \"fax\""},
           {R"({"channels":[{"id":"a","kind":"api","api_key_env":"MISSING"}]})", "MISSING is not set"},
           {R"({"metrics":{"token_env":"MISSING"}})", "metrics.token_env: environment variable MISSING is not set"},
           {R"({"metrics":{"token_env":"SHORT_SECRET"}})",
            "metrics.token_env: the metrics token in environment variable SHORT_SECRET must be at least 16 bytes"},
           // A key of one byte was taken: a caller could guess it.
           {R"({"channels":[{"id":"shop","kind":"api","api_key_env":"SHORT_SECRET"}]})",
            "channels[0].api_key_env (channel \"shop\"): the API key in environment variable SHORT_SECRET must be at "
            "least 16 bytes"},
           {R"({"channels":[{"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","previous_api_key_env":"SHORT_SECRET"}]})",
            "channels[0].previous_api_key_env (channel \"shop\"): the previous API key in environment variable "
            "SHORT_SECRET must be at least 16 bytes"},
           {R"({"channels":[{"id":"shop","kind":"api","api_key_env":"SHOP_API_KEY","previous_api_key_env":"MISSING"}]})",
            "channels[0].previous_api_key_env (channel \"shop\"): environment variable MISSING is not set"},
           {R"({"channels":[{"id":"tg","kind":"telegram","previous_api_key_env":"OLD_SHOP_API_KEY"}]})",
            "channels[0]: only api channels take \"previous_api_key_env\""},
           {R"({"webchat":{"secret_env":"SHORT_SECRET"},"channels":[{"id":"web","kind":"webchat"}]})",
            "webchat.secret_env: the web chat secret in environment variable SHORT_SECRET must be at least 16 bytes"},
           {R"({"webchat":{"secret_env":"WEB_SECRET","previous_secret_env":"SHORT_SECRET"},"channels":[{"id":"web","kind":"webchat"}]})",
            "webchat.previous_secret_env: the previous web chat secret in environment variable SHORT_SECRET must be at "
            "least 16 bytes"},
           {R"({"metrics":{"token":"in the file"}})", "metrics: unknown key \"token\""},
           {R"({"channels":[{"id":"a","kind":"api"}]})", "need \"api_key_env\""},
           {R"({"channels":[{"id":"a/b","kind":"api","api_key_env":"SHOP_API_KEY"}]})", "may not contain"},
           {R"({"channels":[{"id":"a","kind":"api","api_key_env":"SHOP_API_KEY"},{"id":"a","kind":"api","api_key_env":"SHOP_API_KEY"}]})", "duplicate id"},
           {R"({"listen":{"tls":{"cert_file":"c.pem"}}})", "key_file are both required"},
           {R"({"bot":{"name":{"de":"Bot"}}})", "bot.name: unknown language \"de\""},
           {R"({"bot":{"name":{"fa":""}}})", "bot.name: \"fa\" must be a name"},
           {R"({"bot":{"name":""}})", "bot.name: must be 1 to 100 bytes"},
           {R"({"channels":[{"id":"web","kind":"webchat","provider":{"email_fallback_channel":"mail"}}]})",
            "channels[0]: provider: email_fallback_channel \"mail\" is not an email channel"},
           {R"({"channels":[{"id":"a","kind":"api","api_key_env":"SHOP_API_KEY"},{"id":"web","kind":"webchat","provider":{"email_fallback_channel":"a"}}]})",
            "email_fallback_channel \"a\" is not an email channel"},
           {R"({"channels":[{"id":"web","kind":"webchat","provider":{"email_fallback_after_s":0}}]})",
            "\"email_fallback_after_s\" must be a whole number of seconds"},
           // Accepted once, then every connection or message failed at run time.
           {R"({"limits":{"idle_timeout_ms":0}})",
            "limits: timeouts (\"idle_timeout_ms\", \"read_timeout_ms\", \"ws_hello_timeout_ms\") must be at least 100 ms"},
           {R"({"limits":{"max_connections":-1}})", "limits: \"max_connections\" is out of range (0 to"},
           // Accepted once, then wrapped or silently off.
           {R"({"listen":{"port":70000}})", "listen: \"port\" is out of range (0 to 65535)"},
           {R"({"limits":{"max_body_bytes":-1}})", "limits: \"max_body_bytes\" is out of range"},
           {R"({"listen":{"threads":1.5}})", "listen: \"threads\" must be a whole number"},
           {R"({"auth":{"session_ttl_s":0}})", "auth: \"session_ttl_s\" must be at least 60"},
           {R"({"log_level":"information"})", "\"log_level\" must be one of trace, debug, info"},
           {R"({"channels":[{"id":"a","kind":"api","api_key_env":"SHOP_API_KEY","provider":{"x":1}}]})",
            "channels[0]: api channels take no \"provider\""},
           {R"({"limits":{"max_body_bytes":0}})", "limits: \"max_body_bytes\", \"max_webhook_body_bytes\" and \"max_header_bytes\" must be at least 1024 bytes"},
           {R"({"redis":{"command_timeout_ms":0}})", "redis: command_timeout_ms and connect_timeout_ms must be at least 1"},
           {R"({"redis":{"url":"http://nope"}})", "redis.url: "},
           {R"({"dedup_ttl_s":0})", "\"dedup_ttl_s\" must be at least 60"},
           {R"({"retention":{"message_text_days":-1}})", "retention: \"message_text_days\" and \"email_automatic_days\" must be 0 (keep) or more"},
           // Each names the keys it is about, not "limits must be positive".
           {R"({"webchat":{"messages_per_minute":0}})", "webchat: \"max_message_chars\", \"messages_per_minute\" and \"sessions_per_ip_per_hour\" must be at least 1"},
           {R"({"auth":{"login_attempts_per_minute":0}})", "auth: \"login_attempts_per_minute\" and \"login_attempts_per_address_per_minute\" must be at least 1"},
           {R"({"listen":{"threads":-1}})", "listen.threads must be 0 (one per core) or more"},
           {R"({"retention":{"text_days":30}})", "retention: unknown key \"text_days\""},
           {R"({"channels":[{"id":"tg","kind":"telegram","sends_per_second":-1}]})",
            "channels[0]: \"sends_per_second\" must be 0 (the provider's default) to 1000"},
           {R"({"auth":{"password_rounds":1000}})", "auth: \"password_rounds\" must be 10000 to 10000000"},
           {R"({"webchat":{"max_sockets_per_visitor":0}})", "webchat: \"max_sockets_per_visitor\" must be 1 to 1000"},
           {R"({"proxy":{"trust_forwarded_for":true},"webchat":{"trust_forwarded_for":false}})",
            "webchat.trust_forwarded_for (false) contradicts proxy.trust_forwarded_for (true)"},
           {R"({"proxy":{"trust":true}})", "proxy: unknown key \"trust\""},
           {R"({"meta_media":{"max_bytes":0}})", "meta_media: \"max_bytes\" must be positive"},
           {R"({"meta_media":{"attempts":0}})", "meta_media: \"attempts\" must be from 1 to 20"},
           {R"({"meta_media":{"attempts":21}})", "meta_media: \"attempts\" must be from 1 to 20"},
           {R"({"meta_media":{"size":1}})", "meta_media: unknown key \"size\""},
           {R"({"meta_media":{"max_bytes":104857601}})", "meta_media: \"max_bytes\" must be at most 104857600"},
           {R"({"meta_media":{"retry_ms":10}})", "meta_media: \"retry_ms\" must be at least 100"},
           {R"({"meta_media":{"max_redis_memory_share":0}})", "meta_media: \"max_redis_memory_share\" must be above 0"},
           {R"({"meta_media":{"max_redis_memory_share":1.5}})", "meta_media: \"max_redis_memory_share\" must be above 0"},
           {R"({"meta_media":{"hosts":["https://fbcdn.net"]}})", "meta_media: \"hosts\" are host names"},
       }) {
    try {
      parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
}

TEST(Config, RetentionKeepsEverythingUnlessDaysAreSet) {
  auto keep = parse("{}");
  EXPECT_EQ(keep.retention.message_text_days, 0);
  EXPECT_EQ(keep.retention.email_automatic_days, 0);
  auto c = parse(R"({"retention":{"message_text_days":0.5,"email_automatic_days":30,"tick_ms":50,"lease_ms":200}})");
  EXPECT_DOUBLE_EQ(c.retention.message_text_days, 0.5);
  EXPECT_DOUBLE_EQ(c.retention.email_automatic_days, 30);
  EXPECT_EQ(c.retention.tick.count(), 50);
  EXPECT_EQ(c.retention.lease.count(), 200);
}

TEST(Config, MetaMediaCopiesTakeUpToTenMegabytesFromMetasCdnUnlessSet) {
  auto d = parse("{}");
  EXPECT_TRUE(d.meta_media.enabled);
  EXPECT_EQ(d.meta_media.max_bytes, 10u * 1024 * 1024) << "as mail and web chat files";
  EXPECT_EQ(d.meta_media.hosts, (std::vector<std::string>{"fbcdn.net", "fbsbx.com", "cdninstagram.com"}));
  EXPECT_FALSE(d.meta_media.allow_plain_http_loopback);
  EXPECT_DOUBLE_EQ(d.meta_media.max_redis_memory_share, 0.8);
  EXPECT_EQ(d.meta_media.timeout.count(), 60'000);
  EXPECT_EQ(d.meta_media.attempts, 3);
  auto c = parse(R"({"meta_media":{"max_bytes":65536,"timeout_ms":2000,"attempts":2,"retry_ms":300,"poll_ms":50}})");
  EXPECT_EQ(c.meta_media.max_bytes, 65536u);
  EXPECT_EQ(c.meta_media.timeout.count(), 2000);
  EXPECT_EQ(c.meta_media.attempts, 2);
  EXPECT_EQ(parse(R"({"meta_media":{"attempts":20}})").meta_media.attempts, 20) << "the most";
  EXPECT_EQ(c.meta_media.retry.count(), 300);
  EXPECT_EQ(c.meta_media.poll.count(), 50);
  auto t = parse(R"({"meta_media":{"enabled":false,"hosts":["127.0.0.1"],"allow_plain_http_loopback":true,)"
                 R"("max_redis_memory_share":0.5,"bytes_per_customer_per_hour":1000}})");
  EXPECT_FALSE(t.meta_media.enabled);
  EXPECT_EQ(t.meta_media.hosts, std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(t.meta_media.allow_plain_http_loopback);
  EXPECT_DOUBLE_EQ(t.meta_media.max_redis_memory_share, 0.5);
  EXPECT_EQ(t.meta_media.bytes_per_customer_per_hour, 1000u);
}

// One setting for every client address; the two it replaces still start the
// gateway (either one on: behind a proxy), with a warning naming the new key.
TEST(Config, TrustForwardedForIsOneSettingAndTheOldKeysStillWork) {
  EXPECT_FALSE(parse("{}").proxy.trust_forwarded_for);
  auto current = parse(R"({"proxy":{"trust_forwarded_for":true}})");
  EXPECT_TRUE(current.proxy.trust_forwarded_for);
  EXPECT_TRUE(current.warnings.empty());
  for (const char* text : {R"({"auth":{"trust_forwarded_for":true}})", R"({"webchat":{"trust_forwarded_for":true}})",
                           R"({"auth":{"trust_forwarded_for":true},"webchat":{"trust_forwarded_for":false}})"}) {
    auto old = parse(text);
    EXPECT_TRUE(old.proxy.trust_forwarded_for) << text;
    ASSERT_FALSE(old.warnings.empty()) << text;
    EXPECT_NE(old.warnings[0].find("set proxy.trust_forwarded_for instead"), std::string::npos) << old.warnings[0];
  }
  auto both = parse(R"({"proxy":{"trust_forwarded_for":true},"auth":{"trust_forwarded_for":true}})");
  EXPECT_TRUE(both.proxy.trust_forwarded_for);
  EXPECT_EQ(both.warnings.size(), 1u);
  EXPECT_FALSE(parse(R"({"auth":{"trust_forwarded_for":false}})").proxy.trust_forwarded_for);
}

TEST(Config, BotNameByLanguageFallsBackToEnglish) {
  auto one = parse(R"({"bot":{"name":"Pasokh"}})");
  EXPECT_EQ(one.bot.name.in("fa"), "Pasokh");
  auto each = parse(R"({"bot":{"name":{"fa":"دستیار","en":"Assistant"}}})");
  EXPECT_EQ(each.bot.name.in("fa"), "دستیار");
  EXPECT_EQ(each.bot.name.in("en"), "Assistant");
  EXPECT_EQ(each.bot.name.in("ar"), "Assistant");
  // Without English, Persian before Arabic, whatever order the file gives.
  auto no_english = parse(R"({"bot":{"name":{"fa":"دستیار","ar":"المساعد"}}})");
  EXPECT_EQ(no_english.bot.name.fallback, "دستیار");
  EXPECT_EQ(parse(R"({"bot":{"name":{"ar":"المساعد"}}})").bot.name.in("fa"), "المساعد");
}

TEST(Config, ShopZoneIsCampaignsTimezoneElseTheFirstTeamWithHoursElseUTC) {
  EXPECT_EQ(parse("{}").shop_tz->name(), "UTC");
  const char* teams = R"("routing":{"teams":[{"id":"support"},
    {"id":"sales","hours":{"timezone":"UTC+03:30","weekly":{"sat":["09:00-17:00"]}}},
    {"id":"vip","hours":{"timezone":"UTC+04","weekly":{"sat":["09:00-17:00"]}}}]})";
  EXPECT_EQ(parse((std::string("{") + teams + "}").c_str()).shop_tz->name(), "UTC+03:30");
  auto set = parse((std::string("{") + teams + R"(,"campaigns":{"timezone":"UTC-05"}})").c_str());
  EXPECT_EQ(set.shop_tz->name(), "UTC-05");
  EXPECT_EQ(set.shop_tz->offset_at(0), -5 * 3600);
}
