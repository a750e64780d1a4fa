#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pasokh/connectors/meta/config.hpp"
#include "pasokh/connectors/telegram/config.hpp"
#include "pasokh/connectors/whatsapp/config.hpp"

namespace pasokh::connectors {
namespace {

using nlohmann::json;

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

const auto env = fake_env({{"TG_TOKEN", "123:abc"}, {"TG_SECRET", "s3cr3t-ok_1"}, {"BAD_SECRET", "has space"},
                           {"TG_SECRET_OLD", "old-s3cr3t"}, {"WA_TOKEN", "EAAG"},
                           {"APP_SECRET", "appsecret"}, {"APP_SECRET_OLD", "old-appsecret"}, {"VERIFY", "verify"}, {"EMPTY", ""}});

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

TEST(ChannelConfig, Telegram) {
  auto ch = telegram::parse_channel(json::parse(R"({"id":"tg-main","kind":"telegram","token_env":"TG_TOKEN",
      "secret_env":"TG_SECRET","api_base":"http://127.0.0.1:8081/"})"), env);
  EXPECT_EQ(ch.id, "tg-main");
  EXPECT_EQ(ch.api_base, "http://127.0.0.1:8081");
  EXPECT_EQ(ch.bot_token.reveal(), "123:abc");
  EXPECT_EQ(telegram::parse_channel(json::parse(R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET"})"), env).api_base,
            "https://api.telegram.org");
}

TEST(ChannelConfig, ErrorsNameTheKeyButNeverTheSecret) {
  struct row {
    std::string config;
    std::string must_contain;
  };
  const row rows[] = {
      {R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET","secert_env":"x"})", "unknown key(s) \"secert_env\""},
      {R"({"id":"t","token_env":"TG_TOKEN"})", "\"secret_env\" is required"},
      {R"({"id":"t","token_env":"NOPE","secret_env":"TG_SECRET"})", "NOPE, which is not set or empty"},
      {R"({"id":"t","token_env":"EMPTY","secret_env":"TG_SECRET"})", "EMPTY, which is not set or empty"},
      {R"({"id":"t","token_env":"TG_TOKEN","secret_env":"BAD_SECRET"})", "A-Z a-z 0-9 _ -"},
      {R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET","api_base":"ftp://x"})", "\"api_base\""},
      {R"({"id":"t","kind":"whatsapp","token_env":"TG_TOKEN","secret_env":"TG_SECRET"})", "\"kind\" must be \"telegram\""},
      {R"({"token_env":"TG_TOKEN","secret_env":"TG_SECRET"})", "\"id\" is required"},
      {R"([1])", "must be a JSON object"},
  };
  for (const auto& r : rows) {
    auto msg = error_of([&] { telegram::parse_channel(json::parse(r.config), env); });
    EXPECT_NE(msg.find(r.must_contain), std::string::npos) << r.config << " -> " << msg;
    EXPECT_EQ(msg.find("has space"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("123:abc"), std::string::npos) << msg;
  }
}

TEST(ChannelConfig, WhatsAppAndMeta) {
  auto wa = whatsapp::parse_channel(json::parse(R"({"id":"wa","phone_number_id":"1065","token_env":"WA_TOKEN",
      "app_secret_env":"APP_SECRET","verify_token_env":"VERIFY","template_language":"fa"})"), env);
  EXPECT_EQ(wa.api_version, "v23.0");
  EXPECT_EQ(wa.template_language, "fa");
  EXPECT_NE(error_of([&] {
              whatsapp::parse_channel(json::parse(R"({"id":"wa","token_env":"WA_TOKEN","app_secret_env":"APP_SECRET","verify_token_env":"VERIFY"})"), env);
            }).find("phone_number_id"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              whatsapp::parse_channel(json::parse(R"({"id":"wa","phone_number_id":"1","token_env":"WA_TOKEN","app_secret_env":"APP_SECRET",
                  "verify_token_env":"VERIFY","list_button":"a label that is far too long"})"), env);
            }).find("list_button"),
            std::string::npos);

  auto ig = meta::parse_channel(json::parse(R"({"id":"ig","kind":"instagram","account_id":"1784","token_env":"WA_TOKEN",
      "app_secret_env":"APP_SECRET","verify_token_env":"VERIFY"})"), env);
  EXPECT_EQ(ig.kind, proto::channel_kind::instagram);
  EXPECT_NE(error_of([&] {
              meta::parse_channel(json::parse(R"({"id":"x","kind":"whatsapp","token_env":"WA_TOKEN","app_secret_env":"APP_SECRET","verify_token_env":"VERIFY"})"), env);
            }).find("messenger"),
            std::string::npos);
}

TEST(ChannelConfig, PreviousSecretsForARotation) {
  auto tg = telegram::parse_channel(json::parse(R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET",
      "previous_secret_env":"TG_SECRET_OLD"})"), env);
  EXPECT_EQ(tg.webhook_secret.previous.reveal(), "old-s3cr3t");
  // Telegram refuses a secret_token outside its charset, so the old one is checked too.
  EXPECT_NE(error_of([&] {
              telegram::parse_channel(json::parse(R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET",
                  "previous_secret_env":"BAD_SECRET"})"), env);
            }).find("1-256 characters"),
            std::string::npos);
  auto wa = whatsapp::parse_channel(json::parse(R"({"id":"wa","phone_number_id":"1","token_env":"WA_TOKEN",
      "app_secret_env":"APP_SECRET","previous_app_secret_env":"APP_SECRET_OLD","verify_token_env":"VERIFY"})"), env);
  EXPECT_EQ(wa.app_secret.previous.reveal(), "old-appsecret");
  auto ig = meta::parse_channel(json::parse(R"({"id":"ig","kind":"instagram","token_env":"WA_TOKEN",
      "app_secret_env":"APP_SECRET","verify_token_env":"VERIFY"})"), env);
  EXPECT_TRUE(ig.app_secret.previous.empty());
  // The same value twice is a rotation mistake: the old secret was never swapped out.
  EXPECT_NE(error_of([&] {
              meta::parse_channel(json::parse(R"({"id":"ig","kind":"instagram","token_env":"WA_TOKEN",
                  "app_secret_env":"APP_SECRET","previous_app_secret_env":"APP_SECRET","verify_token_env":"VERIFY"})"), env);
            }).find("previous_app_secret_env"),
            std::string::npos);
}

TEST(ChannelConfig, TheGatewayCanAddItsOwnKeys) {
  auto object = json::parse(R"({"id":"t","token_env":"TG_TOKEN","secret_env":"TG_SECRET","team":"sales","bot":true})");
  config_reader r(object, "channels[0]", env);
  auto ch = telegram::read_channel(r);
  EXPECT_NE(error_of([&] { r.finish(); }).find("\"bot\", \"team\""), std::string::npos);
  r.allow("team");
  EXPECT_TRUE(r.boolean_or("bot", false));
  EXPECT_NO_THROW(r.finish());
}

TEST(Secret, NeverPrints) {
  std::ostringstream os;
  os << secret("hunter2");
  EXPECT_EQ(os.str(), "***");
}

}  // namespace
}  // namespace pasokh::connectors
