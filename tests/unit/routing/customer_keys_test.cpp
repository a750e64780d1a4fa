// Keys that link one person's identities: emails, phones in any digits, names.
#include "pasokh/routing/customer_keys.hpp"
#include "pasokh/proto/utf8.hpp"

#include <gtest/gtest.h>

namespace pasokh::routing {
namespace {

TEST(CustomerKeys, EmailsAreTrimmedAndLowerCased) {
  EXPECT_EQ(normalize_email("  Sara.Ahmadi@Example.COM "), "sara.ahmadi@example.com");
  EXPECT_EQ(normalize_email("mailto:Ali@shop.ir"), "ali@shop.ir");
  EXPECT_EQ(normalize_email("\xE2\x80\x8F" "ali@shop.ir"), "ali@shop.ir");  // RLM typed before it
  EXPECT_EQ(normalize_email("ali@shop"), "");
  EXPECT_EQ(normalize_email("ali@@shop.ir"), "");
  EXPECT_EQ(normalize_email("ali at shop.ir"), "");
  EXPECT_EQ(normalize_email("a li@shop.ir"), "");
  EXPECT_EQ(normalize_email("@shop.ir"), "");
  EXPECT_EQ(normalize_email("ali@shop..ir"), "");
}

TEST(CustomerKeys, PhonesBecomeE164DigitsFromAnyScriptAndPrefix) {
  const std::string want = "989121234567";
  EXPECT_EQ(normalize_phone("+98 912 123 4567"), want);
  EXPECT_EQ(normalize_phone("0098-912-123-4567"), want);
  EXPECT_EQ(normalize_phone("09121234567"), want);
  EXPECT_EQ(normalize_phone("+98 (0)912 123 4567"), want);
  EXPECT_EQ(normalize_phone("۰۹۱۲۱۲۳۴۵۶۷"), want);             // Persian digits
  EXPECT_EQ(normalize_phone("٠٩١٢١٢٣٤٥٦٧"), want);             // Arabic-Indic digits
  EXPECT_EQ(normalize_phone("\xE2\x80\xAA+۹۸ ۹۱۲ ۱۲۳ ۴۵۶۷\xE2\x80\xAC"), want);  // LRE … PDF around it
  EXPECT_EQ(normalize_phone("0501234567", "971"), "971501234567");
  EXPECT_EQ(normalize_phone("+971 50 123 4567"), "971501234567");
  EXPECT_EQ(normalize_phone("12345"), "");
  EXPECT_EQ(normalize_phone("0912abc4567"), "");
  EXPECT_EQ(normalize_phone("+1234567890123456"), "");  // more than 15 digits
}

TEST(CustomerKeys, VerifiedKeysComeFromEmailSendersAndWhatsAppIds) {
  EXPECT_EQ(verified_keys({"mail", proto::channel_kind::email, "Sara@Example.com", ""}),
            std::vector<std::string>{"email:sara@example.com"});
  EXPECT_EQ(verified_keys({"wa", proto::channel_kind::whatsapp, "989121234567", ""}),
            std::vector<std::string>{"phone:989121234567"});
  EXPECT_TRUE(verified_keys({"tg", proto::channel_kind::telegram, "12345678901", ""}).empty());
  EXPECT_TRUE(verified_keys({"api", proto::channel_kind::api, "sara@example.com", ""}).empty());
}

TEST(CustomerKeys, NamesFoldLetterFormsAndNeedTwoWords) {
  // Arabic yeh/kaf and a ZWNJ against Persian letters and a space.
  EXPECT_EQ(name_key("علي كريمي"), name_key("علی کریمی"));
  EXPECT_EQ(name_key("محمد\xE2\x80\x8Cحسین  رضایی"), name_key("محمد حسین رضایی"));
  EXPECT_EQ(name_key("  Sara   AHMADI "), "name:sara ahmadi");
  EXPECT_EQ(name_key("Sara"), "");
  EXPECT_EQ(name_key("سارا"), "");
  EXPECT_NE(name_key("Sara Ahmadi"), name_key("Sara Karimi"));
}

TEST(CustomerKeys, MentionedAddressesAndNumbers) {
  EXPECT_EQ(mentioned_keys("my email is Sara@Example.com."), std::vector<std::string>{"email:sara@example.com"});
  EXPECT_EQ(mentioned_keys("شماره من ۰۹۱۲ ۱۲۳ ۴۵۶۷ است"), std::vector<std::string>{"phone:989121234567"});
  EXPECT_EQ(mentioned_keys("رقمي ٠٩١٢١٢٣٤٥٦٧"), std::vector<std::string>{"phone:989121234567"});  // Arabic-Indic digits
  EXPECT_EQ(mentioned_keys("call +98-912-123-4567 or mail ali@shop.ir"),
            (std::vector<std::string>{"email:ali@shop.ir", "phone:989121234567"}));
  EXPECT_TRUE(mentioned_keys("order 12345 serial SN-2024-001").empty());
  EXPECT_TRUE(mentioned_keys("serial ABC1234567890").empty());  // digits inside a token are no phone
  EXPECT_EQ(mentioned_keys("a@b.co c@d.co e@f.co g@h.co", 3).size(), 3u);
}

// A mail's display name or an integration's customer.name of any size would
// ride in every event of the conversation to every console.
TEST(CustomerKeys, ShownNameIsCutWhereACharacterEnds) {
  EXPECT_EQ(shown_name("سارا احمدی"), "سارا احمدی");
  std::string long_name = "a";
  for (int i = 0; i < 400; ++i) long_name += "مُ";  // a letter with a vowel mark: cut after the mark, never between
  const auto cut = shown_name(long_name);
  EXPECT_LE(cut.size(), max_name_bytes);
  EXPECT_GT(cut.size(), max_name_bytes - 8);
  EXPECT_TRUE(proto::valid_utf8(cut));
  EXPECT_EQ((cut.size() - 1) % 4, 0u) << "a vowel mark left without its letter, or a letter without its mark";
  EXPECT_EQ(long_name.substr(0, cut.size()), cut);
}

}  // namespace
}  // namespace pasokh::routing
