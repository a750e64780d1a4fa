// Campaign rules as tables: Persian occasions, quiet hours across midnight
// and time zones, definitions checked, audiences, texts and placeholders.
#include <gtest/gtest.h>

#include <tuple>

#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/config.hpp"

using namespace pasokh;
using namespace pasokh::gateway::campaigns;
using nlohmann::json;

namespace {

std::int64_t day(const char* s) { return *parse_date(s); }
std::int64_t utc_ms(const char* date, int h, int m = 0) { return (day(date) * 86400 + h * 3600 + m * 60) * 1000LL; }
auto tehran() { return routing::time_zone::load("Asia/Tehran"); }
auto utc() { return routing::time_zone::fixed("UTC", 0); }

definition parsed(const json& j, std::int64_t now = utc_ms("2025-06-01", 12)) {
  auto r = parse_definition(j, *utc(), now);
  if (auto* e = std::get_if<std::string>(&r)) ADD_FAILURE() << *e;
  return std::get<definition>(r);
}

std::string error_of(const json& j) {
  auto r = parse_definition(j, *utc(), utc_ms("2025-06-01", 12));
  auto* e = std::get_if<std::string>(&r);
  return e ? *e : "";
}

}  // namespace

TEST(PersianCalendar, NowruzIsFirstOfFarvardin) {
  // 1 Farvardin 1402..1405 and two century edges, as the Iranian calendar has them.
  EXPECT_EQ(date_string(nowruz_day(2023)), "2023-03-21");
  EXPECT_EQ(date_string(nowruz_day(2024)), "2024-03-20");
  EXPECT_EQ(date_string(nowruz_day(2025)), "2025-03-21");
  EXPECT_EQ(date_string(nowruz_day(2026)), "2026-03-21");
  EXPECT_EQ(date_string(nowruz_day(2000)), "2000-03-20");
  EXPECT_EQ(date_string(nowruz_day(2017)), "2017-03-21");
}

TEST(PersianCalendar, YaldaIsThirtiethOfAzar) {
  EXPECT_EQ(date_string(yalda_day(2023)), "2023-12-21");
  EXPECT_EQ(date_string(yalda_day(2024)), "2024-12-20");
  EXPECT_EQ(date_string(yalda_day(2025)), "2025-12-21");
}

TEST(PersianCalendar, NextOccasionRollsOverToNextYear) {
  EXPECT_EQ(date_string(*next_occasion("nowruz", day("2025-03-21"))), "2025-03-21");
  EXPECT_EQ(date_string(*next_occasion("nowruz", day("2025-03-22"))), "2026-03-21");
  EXPECT_EQ(date_string(*next_occasion("yalda", day("2024-12-21"))), "2025-12-21");
  EXPECT_FALSE(next_occasion("christmas", day("2025-01-01")));
}

TEST(Clock, ParsesAndPrints) {
  EXPECT_EQ(parse_clock("21:00"), 21 * 3600);
  EXPECT_EQ(parse_clock("09:30:15"), 9 * 3600 + 30 * 60 + 15);
  for (const char* bad : {"24:00", "9:00", "21:60", "21-00", "", "21:00:0"}) EXPECT_FALSE(parse_clock(bad)) << bad;
  EXPECT_EQ(clock_string(9 * 3600), "09:00");
  EXPECT_EQ(clock_string(9 * 3600 + 5), "09:00:05");
}

TEST(QuietHours, WrapMidnightInTehranTime) {
  quiet_hours q{21 * 3600, 9 * 3600};
  auto tz = tehran();  // UTC+03:30, no DST since 2022
  // 17:00 UTC = 20:30 Tehran: open; 17:30 UTC = 21:00: quiet until 09:00 Tehran = 05:30 UTC next day.
  EXPECT_FALSE(is_quiet(q, *tz, utc_ms("2025-06-01", 17)));
  EXPECT_TRUE(is_quiet(q, *tz, utc_ms("2025-06-01", 17, 30)));
  EXPECT_EQ(quiet_until(q, *tz, utc_ms("2025-06-01", 17, 30)), utc_ms("2025-06-02", 5, 30));
  // 02:00 Tehran (22:30 UTC the day before): quiet until 09:00 the same local day.
  EXPECT_EQ(quiet_until(q, *tz, utc_ms("2025-06-01", 22, 30)), utc_ms("2025-06-02", 5, 30));
  EXPECT_FALSE(is_quiet(q, *tz, utc_ms("2025-06-02", 5, 30)));
  EXPECT_EQ(quiet_until(q, *tz, utc_ms("2025-06-02", 6)), -1);
}

TEST(QuietHours, DaytimeWindowAndNone) {
  quiet_hours q{12 * 3600, 13 * 3600};
  EXPECT_TRUE(is_quiet(q, *utc(), utc_ms("2025-06-01", 12, 59)));
  EXPECT_FALSE(is_quiet(q, *utc(), utc_ms("2025-06-01", 13)));
  EXPECT_FALSE(is_quiet(quiet_hours{}, *utc(), utc_ms("2025-06-01", 3)));
}

TEST(Definition, OccasionResolvesNowruzAndStartsAtLocalMidnight) {
  auto d = parsed({{"name", "نوروز ۱۴۰۵"}, {"kind", "occasion"}, {"occasion", "nowruz"}, {"texts", {{"fa", "نوروز مبارک {name}"}}},
                   {"code", "NOWRUZ"}});
  EXPECT_EQ(d.date, "2026-03-21");
  EXPECT_EQ(d.start_at, utc_ms("2026-03-21", 0));
  auto t = parse_definition({{"name", "n"}, {"kind", "occasion"}, {"occasion", "nowruz"}, {"texts", {{"fa", "x"}}}},
                            *tehran(), utc_ms("2025-06-01", 12));
  EXPECT_EQ(std::get<definition>(t).start_at, utc_ms("2026-03-20", 20, 30));  // 00:00 Tehran
}

TEST(Definition, RoundTripsThroughStoredJson) {
  json in = {{"name", "Follow-up"}, {"kind", "follow_up"}, {"days", 7},
             {"audience", {{"tags", {"gold"}}, {"languages", {"fa", "en"}}, {"channels", {"tg"}}, {"products", {"Phone"}}}},
             {"texts", {{"en", "Hi {name}"}, {"ar", "مرحبا {name}"}}}, {"fallback", {"ar"}},
             {"whatsapp_template", {{"name", "follow_up"}, {"language", "fa"}, {"params", {"{name}", "{product}"}}}},
             {"rate_per_second", 2.5}, {"quiet_hours", {{"from", "22:00"}, {"to", "08:30"}}}};
  auto d = parsed(in);
  auto again = parsed(to_json(d));
  EXPECT_EQ(to_json(again), to_json(d));
  EXPECT_EQ(again.quiet->from_s, 22 * 3600);
  EXPECT_EQ(again.whatsapp_template->params.size(), 2u);
  EXPECT_EQ(again.rate, 2.5);
  auto none = parsed({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}, {"quiet_hours", nullptr}});
  EXPECT_TRUE(none.quiet && none.quiet->none());
  EXPECT_TRUE(parsed(to_json(none)).quiet->none());
}

TEST(Definition, RejectsBadInputWithTheField) {
  EXPECT_NE(error_of({{"kind", "occasion"}}).find("name"), std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "spam"}, {"texts", {{"en", "x"}}}}).find("kind"), std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "follow_up"}, {"texts", {{"en", "x"}}}}).find("days"), std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"de", "x"}}}}).find("texts.de"), std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", json::object()}}).find("texts"), std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "occasion"}, {"date", "2025-02-30"}, {"texts", {{"en", "x"}}}}).find("date"),
            std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}, {"rate_per_second", 0}}).find("rate"),
            std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}, {"colour", 1}}).find("colour"),
            std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}, {"audience", {{"languages", {"de"}}}}})
                .find("audience.languages"),
            std::string::npos);
  EXPECT_NE(error_of({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}, {"quiet_hours", {{"from", "25:00"}, {"to", "09:00"}}}})
                .find("quiet_hours"),
            std::string::npos);
}

TEST(Audience, TagsLanguagesProductsAnyOfEach) {
  auto d = parsed({{"name", "x"}, {"kind", "occasion"}, {"date", "2025-06-01"}, {"texts", {{"en", "x"}}},
                   {"audience", {{"tags", {"gold", "vip"}}, {"languages", {"fa"}}, {"products", {"phone"}}}}});
  customer_facts c{"cu_1", "Sara", "fa", "", {"silver", "vip"}, {{"O1|S1", "O1", "Phone X", "S1", "2025-01-01", "2026-01-01"}}};
  EXPECT_EQ(targets_for(d, c, day("2025-06-01")).size(), 1u);
  auto other = c;
  other.language = "ar";
  EXPECT_TRUE(targets_for(d, other, day("2025-06-01")).empty());
  other = c;
  other.tags = {"silver"};
  EXPECT_TRUE(targets_for(d, other, day("2025-06-01")).empty());
  other = c;
  other.purchases[0].product = "Vacuum";
  EXPECT_TRUE(targets_for(d, other, day("2025-06-01")).empty());
}

TEST(Audience, FollowUpPerPurchaseOnItsDayWithCatchUp) {
  auto d = parsed({{"name", "x"}, {"kind", "follow_up"}, {"days", 7}, {"texts", {{"en", "x"}}}});
  customer_facts c{"cu_2", "", "en", "", {}, {{"A|1", "A", "Phone", "1", "2025-05-25", ""}, {"B|2", "B", "Tablet", "2", "2025-05-01", ""}}};
  auto t = targets_for(d, c, day("2025-06-01"));  // A was bought 7 days ago
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].member, "cu_2|2025-06-01");
  ASSERT_EQ(t[0].items.size(), 1u);
  EXPECT_EQ(t[0].items[0].product, "Phone");
  EXPECT_EQ(targets_for(d, c, day("2025-06-04")).size(), 1u);  // late, within the catch-up days
  EXPECT_TRUE(targets_for(d, c, day("2025-06-05")).empty());
  EXPECT_TRUE(targets_for(d, c, day("2025-05-31")).empty());   // not yet
}

// The customer hears once a day, however many of their items fall due then.
TEST(Audience, ItemsDueTheSameDayAreOneMessage) {
  auto d = parsed({{"name", "x"}, {"kind", "follow_up"}, {"days", 7}, {"texts", {{"en", "x"}}}});
  customer_facts c{"cu_8", "Sara", "en", "", {},
                   {{"O|1", "O-77", "Fridge", "S1", "2025-05-25", "2026-05-25"},
                    {"O|2", "O-77", "Washer", "S2", "2025-05-25", "2026-05-25"},
                    {"P|3", "P-78", "Kettle", "S3", "2025-05-26", "2026-05-25"}}};
  auto t = targets_for(d, c, day("2025-06-01"));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].member, "cu_8|2025-06-01");
  ASSERT_EQ(t[0].items.size(), 2u);
  EXPECT_EQ(render("Your {product} ({serial}) of order {order_id}", d, c, t[0], "en"),
            "Your Fridge and Washer (S1 and S2) of order O-77");
  // The kettle, bought a day later, has its own day (caught up together with the rest, each day once).
  auto late = targets_for(d, c, day("2025-06-02"));
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[1].member, "cu_8|2025-06-02");
  EXPECT_EQ(render("{product}", d, c, late[1], "en"), "Kettle");
  // A warranty reminder: the three end the same day, one message naming all.
  auto w = parsed({{"name", "x"}, {"kind", "warranty_ending"}, {"days", 30}, {"texts", {{"en", "x"}}}});
  auto ending = targets_for(w, c, day("2026-04-25"));
  ASSERT_EQ(ending.size(), 1u);
  EXPECT_EQ(render("{product}", w, c, ending[0], "en"), "Fridge, Washer and Kettle");
  EXPECT_EQ(render("{product} {order_id}", w, c, ending[0], "ar"), "Fridge\u060C Washer \u0648 Kettle O-77 \u0648 P-78");
}

TEST(Audience, WarrantyEndingBeforeTheEndOnly) {
  auto d = parsed({{"name", "x"}, {"kind", "warranty_ending"}, {"days", 30}, {"texts", {{"en", "x"}}}});
  customer_facts c{"cu_3", "", "en", "", {}, {{"A|1", "A", "Phone", "1", "2024-07-01", "2025-07-01"}}};
  EXPECT_EQ(targets_for(d, c, day("2025-06-01")).size(), 1u);
  EXPECT_TRUE(targets_for(d, c, day("2025-05-31")).empty());
  d.days = 0;
  EXPECT_EQ(targets_for(d, c, day("2025-07-01")).size(), 1u);
  EXPECT_TRUE(targets_for(d, c, day("2025-07-02")).empty());  // over: no reminder
}

TEST(Audience, BirthdayOncePerYearLeapDayOnThe28th) {
  auto d = parsed({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}});
  customer_facts c{"cu_4", "", "en", "1990-06-01", {}, {}};
  auto t = targets_for(d, c, day("2025-06-01"));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].member, "cu_4|2025");
  EXPECT_TRUE(targets_for(d, c, day("2025-06-10")).empty());
  c.birthday = "02-29";
  EXPECT_EQ(targets_for(d, c, day("2025-02-28")).size(), 1u);
  EXPECT_EQ(targets_for(d, c, day("2024-02-29")).size(), 1u);
  EXPECT_TRUE(targets_for(d, c, day("2024-02-28")).empty());
  c.birthday = "12-31";  // caught up on 2 January
  auto jan = targets_for(d, c, day("2026-01-02"));
  ASSERT_EQ(jan.size(), 1u);
  EXPECT_EQ(jan[0].member, "cu_4|2025");
  c.birthday = "not a date";
  EXPECT_TRUE(targets_for(d, c, day("2025-06-01")).empty());
}

TEST(Audience, UpcomingDaysForTheForecast) {
  // Birthdays across the new year: the 30 days after 20 December hold this
  // year's 31 December and next year's 5 January, not 1 June.
  auto d = parsed({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "x"}}}});
  const auto today = day("2025-12-20");
  for (auto [birthday, when, member] : {std::tuple{"12-31", "2025-12-31", "cu_6|2025"}, {"1990-01-05", "2026-01-05", "cu_6|2026"}}) {
    customer_facts c{"cu_6", "", "en", birthday, {}, {}};
    auto t = targets_between(d, c, today + 1, today + 30, today);
    ASSERT_EQ(t.size(), 1u) << birthday;
    EXPECT_EQ(t[0].day, day(when));
    EXPECT_EQ(t[0].what.member, member);
  }
  customer_facts june{"cu_6", "", "en", "06-01", {}, {}};
  EXPECT_TRUE(targets_between(d, june, today + 1, today + 30, today).empty());

  // A follow-up per purchase on its own day; one already due today is not upcoming.
  auto f = parsed({{"name", "x"}, {"kind", "follow_up"}, {"days", 7}, {"texts", {{"en", "x"}}}});
  customer_facts c{"cu_7", "", "en", "", {}, {{"A|1", "A", "Phone", "1", "2025-12-13", ""}, {"B|2", "B", "Tablet", "2", "2025-12-25", ""}}};
  auto t = targets_between(f, c, today + 1, today + 30, today);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].what.member, "cu_7|2026-01-01");
  EXPECT_EQ(t[0].day, day("2026-01-01"));

  // An occasion is sent once, on its date: it has no forecast.
  auto o = parsed({{"name", "x"}, {"kind", "occasion"}, {"date", "2025-12-21"}, {"texts", {{"en", "x"}}}});
  EXPECT_TRUE(targets_between(o, c, today + 1, today + 30, today).empty());
}

TEST(Text, CustomerLanguageThenFallbackThenAny) {
  auto d = parsed({{"name", "x"}, {"kind", "birthday"}, {"texts", {{"en", "EN"}, {"ar", "AR"}}}, {"fallback", {"ar", "en"}}});
  const std::vector<std::string> shop{"en"};
  std::string lang;
  EXPECT_EQ(pick_text(d, "en", shop, &lang), "EN");
  EXPECT_EQ(pick_text(d, "fa", shop, &lang), "AR");  // the campaign's order before the shop's
  EXPECT_EQ(lang, "ar");
  d.fallback.clear();
  EXPECT_EQ(pick_text(d, "fa", {}, &lang), "AR");  // any: the first by name
}

// A customer with no known language on a campaign that names no fallback gets
// the shop's order (campaigns.language_fallback), not the first text by name.
TEST(Text, ShopFallbackWhenTheCampaignGivesNone) {
  auto d = parsed({{"name", "x"}, {"kind", "occasion"}, {"date", "2026-03-20"},
                   {"texts", {{"fa", "FA"}, {"en", "EN"}, {"ar", "AR"}}}});
  ASSERT_TRUE(d.fallback.empty());
  std::string lang;
  EXPECT_EQ(pick_text(d, "", gateway::campaigns_config{}.language_fallback, &lang), "FA");
  EXPECT_EQ(lang, "fa");
  EXPECT_EQ(pick_text(d, "", {"en", "fa"}, &lang), "EN");
  EXPECT_EQ(lang, "en");
}

TEST(Text, PlaceholdersFilledOthersKept) {
  auto d = parsed({{"name", "x"}, {"kind", "warranty_ending"}, {"days", 30}, {"texts", {{"fa", "x"}}}, {"code", "YALDA-۱۴۰۴"}});
  customer_facts c{"cu_5", "", "fa", "", {}, {}};
  target t{"cu_5|2025-06-01", {purchase{"A|1", "A-7", "گوشی X", "SN1", "2024-07-01", "2025-07-01"}}};
  EXPECT_EQ(render("{name}، گارانتی {product} ({serial}) در {warranty_end} تمام می‌شود. کد: {code} {unknown} {", d, c, t, "fa"),
            "مشتری گرامی، گارانتی گوشی X (SN1) در ۱۴۰۴/۰۴/۱۰ تمام می‌شود. کد: YALDA-۱۴۰۴ {unknown} {");
  c.name = "Sara";
  EXPECT_EQ(render("Hi {name}, order {order_id} of {purchase_date}", d, c, t, "en"), "Hi Sara, order A-7 of 2024-07-01");
  // Dates in Solar Hijri for Persian only.
  EXPECT_EQ(render("{purchase_date} / {warranty_end}", d, c, t, "fa"), "۱۴۰۳/۰۴/۱۱ / ۱۴۰۴/۰۴/۱۰");
  EXPECT_EQ(render("{purchase_date} / {warranty_end}", d, c, t, "ar"), "2024-07-01 / 2025-07-01");
}

TEST(Dates, SolarHijri) {
  for (auto [gregorian, persian] : {std::pair{"2026-03-21", "۱۴۰۵/۰۱/۰۱"},  // Nowruz 1405
                                    {"2025-03-21", "۱۴۰۴/۰۱/۰۱"},
                                    {"2024-03-20", "۱۴۰۳/۰۱/۰۱"},
                                    {"2025-03-20", "۱۴۰۳/۱۲/۳۰"},  // the last day of the leap year 1403
                                    {"2026-03-20", "۱۴۰۴/۱۲/۲۹"},  // 1404 is not leap
                                    {"2025-09-22", "۱۴۰۴/۰۶/۳۱"},  // the last 31-day month ends
                                    {"2025-09-23", "۱۴۰۴/۰۷/۰۱"},  // 1 Mehr
                                    {"2024-12-20", "۱۴۰۳/۰۹/۳۰"},  // Yalda
                                    {"2026-11-24", "۱۴۰۵/۰۹/۰۳"},
                                    {"1979-02-11", "۱۳۵۷/۱۱/۲۲"}})
    EXPECT_EQ(solar_hijri_date(day(gregorian)), persian) << gregorian;
}
