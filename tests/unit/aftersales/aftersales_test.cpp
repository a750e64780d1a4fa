// The pure parts of after-sales: CSV records and line numbers, reply
// normalization (opt-out words, ratings in three scripts), import rows,
// warranty status, percentiles and the report figures (CRR).
#include <gtest/gtest.h>

#include <filesystem>

#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/config.hpp"

namespace as = pasokh::gateway::aftersales;

TEST(AftersalesCsv, QuotedFieldsLineBreaksAndLineNumbers) {
  auto r = as::parse_csv("\xEF\xBB\xBF" "a,b,c\r\n1,\"x, \"\"y\"\"\",3\r\n\r\n2,\"multi\nline\",\n4,,\n", 100);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r.records[1].line, 2u);
  EXPECT_EQ(r.records[1].fields[1], "x, \"y\"");
  EXPECT_EQ(r.records[2].line, 4u);  // the blank line 3 is skipped
  EXPECT_EQ(r.records[2].fields, (std::vector<std::string>{"2", "multi\nline", ""}));
  EXPECT_EQ(r.records[3].line, 6u);  // after a record spanning two lines
  EXPECT_EQ(r.records[3].fields, (std::vector<std::string>{"4", "", ""}));
}

TEST(AftersalesCsv, Errors) {
  auto open = as::parse_csv("a,b\n1,\"never closed\n2,3\n", 100);
  EXPECT_EQ(open.error, "unterminated quoted field");
  EXPECT_EQ(open.error_line, 2u);
  auto junk = as::parse_csv("a\n\"x\"y\n", 100);
  EXPECT_EQ(junk.error, "text after a closing quote");
  auto many = as::parse_csv("a\n1\n2\n3\n", 3);
  EXPECT_EQ(many.error_line, 4u);
}

TEST(AftersalesReply, OptOutWords) {
  EXPECT_EQ(as::opt_out_language("stop"), "en");
  EXPECT_EQ(as::opt_out_language("Unsubscribe"), "en");  // the subject a List-Unsubscribe mailto sends
  EXPECT_EQ(as::opt_out_language("  STOP!\n"), "en");
  EXPECT_EQ(as::opt_out_language("\u0644\u063A\u0648"), "fa");              // لغو
  EXPECT_EQ(as::opt_out_language("\u200F\u0644\u063A\u0648 ."), "fa");      // with an RLM and a dot
  EXPECT_EQ(as::opt_out_language("\u0625\u0644\u063A\u0627\u0621"), "ar");  // إلغاء
  EXPECT_EQ(as::opt_out_language("\u0627\u0644\u063A\u0627\u0621"), "ar");  // الغاء, typed without hamza
  EXPECT_EQ(as::opt_out_language("\u0644\u0640\u063A\u0648"), "fa");        // with a tatweel
  EXPECT_EQ(as::opt_out_language("please stop"), "");
  EXPECT_EQ(as::opt_out_language("stopped"), "");
  EXPECT_EQ(as::opt_out_language("\xff"), "");
}

// The word as the campaign hint quotes it («لغو», «إلغاء», "stop"), with the
// curly quotes a phone keyboard makes, and as copied with the hint's stop.
TEST(AftersalesReply, OptOutWordsInQuotes) {
  EXPECT_EQ(as::opt_out_language("\u00AB\u0644\u063A\u0648\u00BB"), "fa");              // «لغو»
  EXPECT_EQ(as::opt_out_language("\u00AB\u0644\u063A\u0648\u00BB."), "fa");             // «لغو».
  EXPECT_EQ(as::opt_out_language("\u00AB\u0644\u063A\u0648\u200C\u00BB\u06D4"), "fa");  // with a ZWNJ, Arabic stop
  EXPECT_EQ(as::opt_out_language("\u00AB\u0625\u0644\u063A\u0627\u0621\u00BB"), "ar");  // «إلغاء»
  EXPECT_EQ(as::opt_out_language("\u00AB\u0625\u0644\u063A\u0627\u0621\u00BB\u061B"), "ar");  // with an Arabic semicolon
  EXPECT_EQ(as::opt_out_language("\"stop\""), "en");
  EXPECT_EQ(as::opt_out_language("\u201Cstop\u201D"), "en");  // “stop”
  EXPECT_EQ(as::opt_out_language("\u2018Stop\u2019."), "en");  // ‘Stop’.
  EXPECT_EQ(as::opt_out_language("\u201EUNSUBSCRIBE\u201C"), "en");  // „UNSUBSCRIBE“
  EXPECT_EQ(as::opt_out_language("\u00ABstop\u00BB please"), "");
}

TEST(AftersalesReply, Ratings) {
  auto rating = [](std::string_view text) { return as::csat_reply(text).rating; };
  EXPECT_EQ(rating("5"), 5);
  EXPECT_EQ(rating(" 1 "), 1);
  EXPECT_EQ(rating("\u06F5"), 5);  // ۵
  EXPECT_EQ(rating("\u0663"), 3);  // ٣
  EXPECT_EQ(rating("\u06F4."), 4);
  EXPECT_EQ(rating("csat:2"), 2);
  EXPECT_EQ(rating("0"), 0);
  EXPECT_EQ(rating("6"), 0);
  EXPECT_EQ(rating("\u06F6"), 0);  // ۶
  EXPECT_EQ(rating("55"), 0);
  EXPECT_EQ(rating("5 stars"), 0);
  EXPECT_EQ(rating(""), 0);
  EXPECT_EQ(as::normalize_reply("\u06F1\u06F2\u0661"), "121");
}

TEST(AftersalesReply, ASurveysButtonNamesItsConversation) {
  EXPECT_EQ(as::csat_button_id("cv_17", 4), "csat:cv_17:4");
  auto pressed = as::csat_reply(as::csat_button_id("cv_17", 4));
  EXPECT_EQ(pressed.rating, 4);
  EXPECT_EQ(pressed.conversation, "cv_17");
  // Sent before buttons named their conversation, or typed: the latest asked.
  EXPECT_EQ(as::csat_reply("csat:3").conversation, "");
  EXPECT_EQ(as::csat_reply("3").conversation, "");
  // Within Telegram's 64 bytes of callback data, or the old form.
  const std::string longest(48, '9');
  EXPECT_LE(as::csat_button_id(longest, 5).size(), 64u);
  EXPECT_EQ(as::csat_reply(as::csat_button_id(longest, 5)).conversation, longest);
  EXPECT_EQ(as::csat_button_id(std::string(49, '9'), 5), "csat:5");
  // Anything else is no rating.
  EXPECT_EQ(as::csat_reply("csat:cv_17:6").rating, 0);
  EXPECT_EQ(as::csat_reply("csat::4").rating, 0);
  EXPECT_EQ(as::csat_reply("csat:cv 17:4").rating, 0);
  EXPECT_EQ(as::csat_reply("csat:a:b:4").rating, 0);
  EXPECT_EQ(as::csat_reply("cv_17:4").rating, 0);
}

TEST(AftersalesReply, WarrantySerials) {
  using v = std::vector<std::string>;
  EXPECT_EQ(as::warranty_serials("Is my phone SN-100 still under warranty?"), v{"SN-100"});
  EXPECT_EQ(as::warranty_serials("گارانتی سریال SN-۱۰۰"), v{"SN-100"});
  EXPECT_EQ(as::warranty_serials("ضمان AB12CD."), v{"AB12CD"});
  EXPECT_EQ(as::warranty_serials("SN-100"), v{"SN-100"});  // just a serial
  EXPECT_EQ(as::warranty_serials("I called 2024 times"), v{});  // no warranty words
  EXPECT_EQ(as::warranty_serials("warranty please"), v{});      // no serial
  EXPECT_EQ(as::warranty_serials("warranty 12"), v{});          // too short
}

TEST(AftersalesDates, ValidityAndWarranty) {
  EXPECT_TRUE(as::valid_date("2024-02-29"));
  EXPECT_FALSE(as::valid_date("2023-02-29"));
  EXPECT_FALSE(as::valid_date("2024-13-01"));
  EXPECT_FALSE(as::valid_date("2024-1-01"));
  EXPECT_FALSE(as::valid_date("24-01-01xx"));
  EXPECT_EQ(as::days_from_date("1970-01-02"), 1);
  auto utc = pasokh::routing::time_zone::fixed("UTC", 0);
  EXPECT_EQ(as::local_date(*utc, 0), "1970-01-01");
  EXPECT_EQ(as::local_date(*utc, as::days_from_date("2026-03-21") * 86'400'000 + 5), "2026-03-21");
  EXPECT_EQ(as::warranty_status("2026-03-21", "2026-03-21"), "active");
  EXPECT_EQ(as::warranty_status("2026-03-20", "2026-03-21"), "expired");
  EXPECT_EQ(as::warranty_status("", "2026-03-21"), "unknown");
}

// Between 00:00 and 03:30 in Tehran it is still yesterday in UTC: a warranty
// that ended yesterday has ended for the customer asking at 01:00.
TEST(AftersalesDates, TodayInTheConfiguredZone) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran")) GTEST_SKIP() << "no zoneinfo";
  auto tehran = pasokh::routing::time_zone::load("Asia/Tehran");
  // 2026-11-24 01:00 in Tehran (+03:30) is 2026-11-23 21:30 UTC.
  const std::int64_t one_am = (as::days_from_date("2026-11-23") * 86400 + 21 * 3600 + 1800) * 1000;
  const auto today = as::local_date(*tehran, one_am);
  EXPECT_EQ(today, "2026-11-24");
  EXPECT_EQ(as::warranty_status("2026-11-23", today), "expired");
  EXPECT_EQ(as::local_date(*tehran, one_am - 3600'000 - 1), "2026-11-23");  // 23:59:59.999 the day before
}

TEST(AftersalesRows, Checks) {
  using fields = std::map<std::string, std::string>;
  auto ok = as::check_row(fields{{"customer_id", "cu_1"}, {"order_id", "A-1"}, {"product", "Phone X"},
                                 {"serial", "SN1"}, {"purchase_date", "2025-01-10"}, {"warranty_end", "2027-01-10"},
                                 {"tags", "gold; repair ,gold"}, {"vip", "Yes"}});
  ASSERT_TRUE(std::holds_alternative<as::import_row>(ok));
  const auto& row = std::get<as::import_row>(ok);
  EXPECT_EQ(row.tags, "gold,repair");
  EXPECT_EQ(row.vip, "1");
  ASSERT_TRUE(row.item);
  EXPECT_EQ(row.item->serial, "SN1");
  auto error = [](const fields& f) {
    auto r = as::check_row(f);
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string{};
  };
  EXPECT_EQ(error({{"name", "x"}}), "customer_id, or channel and external_id, or email or phone, are required");
  EXPECT_EQ(error({{"channel", "api"}, {"external_id", "c1"}}), "");  // a customer-only row
  // Known by email or phone alone; both normalised, both checked.
  auto keyed = as::check_row(fields{{"email", " Sara@Example.COM"}, {"phone", "۰۹۱۲ ۱۲۳ ۴۵۶۷"}});
  ASSERT_TRUE(std::holds_alternative<as::import_row>(keyed));
  EXPECT_EQ(std::get<as::import_row>(keyed).email, "sara@example.com");
  EXPECT_EQ(std::get<as::import_row>(keyed).phone, "989121234567");
  EXPECT_EQ(error({{"email", "sara at example"}}), "email: not an email address");
  EXPECT_EQ(error({{"phone", "123"}}), "phone: not a phone number (+98 912 123 4567, 09121234567)");
  EXPECT_EQ(error({{"customer_id", "cu_1"}, {"order_id", "A-1"}, {"product", "P"}, {"purchase_date", "2025-02-30"}}),
            "purchase_date: required, a date YYYY-MM-DD");
  EXPECT_EQ(error({{"customer_id", "cu_1"}, {"order_id", "A 1"}, {"product", "P"}, {"purchase_date", "2025-02-03"}}),
            "order_id: required, 1 to 64 of letters, digits and -_./#:");
  EXPECT_EQ(error({{"customer_id", "cu_1"}, {"order_id", "A1"}, {"product", "P"}, {"purchase_date", "2025-02-03"},
                   {"warranty_end", "2025-01-01"}}),
            "warranty_end: before purchase_date");
  EXPECT_EQ(error({{"customer_id", "cu_1"}, {"language", "de"}}), "language: one of fa, ar, en");
  EXPECT_EQ(error({{"customer_id", "cu_1"}, {"colour", "red"}}), "unknown column colour");
}

TEST(AftersalesConfig, CsatSection) {
  using pasokh::gateway::parse_config;
  auto defaults = parse_config(nlohmann::json::object());
  EXPECT_TRUE(defaults.csat.enabled);
  EXPECT_FALSE(defaults.csat.bot_only);
  EXPECT_EQ(defaults.csat.window.count(), 7LL * 24 * 3600 * 1000);
  auto c = parse_config(nlohmann::json::parse(R"({"csat":{"enabled":false,"window_ms":60000,"comment_window_ms":0,"bot_only":true}})"));
  EXPECT_FALSE(c.csat.enabled);
  EXPECT_TRUE(c.csat.bot_only);
  EXPECT_EQ(c.csat.window.count(), 60000);
  EXPECT_EQ(c.csat.comment_window.count(), 0);
  EXPECT_THROW(parse_config(nlohmann::json::parse(R"({"csat":{"windw_ms":1}})")), std::runtime_error);
  EXPECT_THROW(parse_config(nlohmann::json::parse(R"({"csat":{"window_ms":0}})")), std::runtime_error);
}
