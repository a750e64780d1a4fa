#pragma once
// Proactive outreach (issue 8): campaigns an admin schedules — a follow-up N
// days after a purchase, an occasion greeting with an offer code (Nowruz,
// Yalda, a fixed date), the customer's birthday, a reminder N days before a
// warranty ends. One instance at a time (a lease in Redis, as for the routing
// timers) walks the customer files and hands each match to
// routing/src/lua/campaign.lua, which claims (campaign, customer) atomically,
// skips opted-out customers and closed messaging windows, and appends the
// message to a conversation of the customer on their preferred channel and to
// that channel's durable outbox, exactly like an agent's reply.
// The pure parts (definitions, audience, placeholders, quiet hours, dates in
// the Persian calendar) are plain functions, unit-tested in tests/unit/campaigns/.
#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/routing/time_zone.hpp"

namespace pasokh::gateway {

// POST|GET /api/v1/admin/campaigns, GET /api/v1/admin/campaigns/{id},
// POST /api/v1/admin/campaigns/{id}/{pause|resume|cancel}.
void add_campaign_routes(router& r, services& s);

// GET|POST /unsubscribe/{token}: the one-click opt-out link of campaign mail.
void add_unsubscribe_routes(router& r, services& s);

// The campaign loop of this instance: works only while it holds the lease;
// every instance publishes progress (live "campaign" events to admins).
class campaign_runner {
 public:
  campaign_runner(services& s, boost::asio::any_io_executor ex);
  ~campaign_runner();
  void start();
  // Gives the lease up, so another instance takes over at once; `done` after.
  void stop(std::function<void()> done = {});

 private:
  struct state;
  std::shared_ptr<state> state_;
};

namespace campaigns {

struct audience {
  std::vector<std::string> tags, languages, channels, products;  // empty: any; within one list, any of
};

struct wa_template {
  std::string name, language;       // language "" = the channel's default
  std::vector<std::string> params;  // with placeholders
};

// Local seconds of the day; from == to means none. A window may wrap midnight.
struct quiet_hours {
  int from_s = 0, to_s = 0;
  bool none() const { return from_s == to_s; }
};

struct definition {
  std::string name;
  std::string kind;      // follow_up | occasion | birthday | warranty_ending
  std::string occasion;  // occasion: nowruz | yalda | date
  std::string date;      // occasion: the local date, YYYY-MM-DD (resolved for nowruz/yalda)
  int days = 0;          // follow_up: after the purchase; warranty_ending: before the end
  audience who;
  std::map<std::string, std::string> texts;  // language -> text with placeholders
  std::vector<std::string> fallback;         // language order when the customer's is missing
  std::string code;                          // the offer code, {code}
  std::optional<wa_template> whatsapp_template;  // for customers outside WhatsApp's 24-hour window
  double rate = 0;                           // messages per second; 0: the configured default
  std::optional<quiet_hours> quiet;          // overrides the configured quiet hours
  std::int64_t start_at = 0;                 // ms; occasion: the date's local midnight unless given
  std::int64_t end_at = 0;                   // ms; 0: none
};

bool recurring(const definition& d);  // birthday, follow_up, warranty_ending: looked at again every day

// "HH:MM" or "HH:MM:SS" -> seconds of the day; nullopt when malformed.
std::optional<int> parse_clock(std::string_view s);
std::string clock_string(int seconds_of_day);

// What the API gets, checked. `today` is the local date (days since
// 1970-01-01) in `tz`, for resolving occasions; `now_ms` for defaults.
std::variant<definition, std::string> parse_definition(const nlohmann::json& j, const routing::time_zone& tz,
                                                       std::int64_t now_ms);
nlohmann::json to_json(const definition& d);

// Dates.
std::int64_t local_day(const routing::time_zone& tz, std::int64_t utc_ms);  // days since 1970-01-01
std::int64_t local_midnight_ms(const routing::time_zone& tz, std::int64_t day);
std::string date_string(std::int64_t day);                     // YYYY-MM-DD
std::optional<std::int64_t> parse_date(std::string_view s);    // YYYY-MM-DD -> day
// A customer's birthday: YYYY-MM-DD (a real date) or MM-DD.
bool valid_birthday(std::string_view s);
// 1 Farvardin (Nowruz) of the Persian year that begins in Gregorian `year`,
// by the 33-year-cycle arithmetic of the Solar Hijri calendar (as jalaali-js).
std::int64_t nowruz_day(int gregorian_year);
// 30 Azar, the night of Yalda, in December of `gregorian_year`.
std::int64_t yalda_day(int gregorian_year);
// A day (since 1970-01-01) in the Solar Hijri calendar, as Iranians write it:
// YYYY/MM/DD in Persian digits (2026-11-24: ۱۴۰۵/۰۹/۰۳).
std::string solar_hijri_date(std::int64_t day);
// A YYYY-MM-DD date as the reader of a text in `language` expects it:
// Solar Hijri for Persian, else as it is.
std::string date_for(std::string_view language, const std::string& date);
// The next occurrence on or after `today` of nowruz / yalda; nullopt for other names.
std::optional<std::int64_t> next_occasion(std::string_view occasion, std::int64_t today);

// Quiet hours at an instant, and when they end (ms); -1 when not quiet.
bool is_quiet(const quiet_hours& q, const routing::time_zone& tz, std::int64_t utc_ms);
std::int64_t quiet_until(const quiet_hours& q, const routing::time_zone& tz, std::int64_t utc_ms);

struct purchase {
  std::string key;  // order_id|serial, as stored
  std::string order_id, product, serial, purchase_date, warranty_end;
};
struct customer_facts {
  std::string id, name, language, birthday;  // birthday: YYYY-MM-DD or MM-DD
  std::vector<std::string> tags;
  std::vector<purchase> purchases;
};
// One message to send: `member` is what the claim is on (the customer; per
// due day for purchase kinds, so one order of two items is one message; per
// year for birthdays). `items`: the purchases due that day (purchase kinds).
struct target {
  std::string member;
  std::vector<purchase> items;
};
// Late by at most this many days, a purchase or birthday still gets its
// message (the campaign was paused, or every instance was down that day).
constexpr int catch_up_days = 3;
// The customer's targets today (channel and opt-out are checked in Redis).
std::vector<target> targets_for(const definition& d, const customer_facts& c, std::int64_t today);
// A birthday's, follow-up's or warranty reminder's targets that fall due on
// a day in [first, last] (days since the epoch), each with its day; `today`
// rules out warranties already over. None for an occasion.
struct dated_target {
  target what;
  std::int64_t day = 0;
};
std::vector<dated_target> targets_between(const definition& d, const customer_facts& c, std::int64_t first,
                                          std::int64_t last, std::int64_t today);

// The line that ends a campaign text on a messenger: how to opt out, in `language`.
std::string stop_hint(std::string_view language);

// The text in the customer's language, else the campaign's fallback order
// (the shop's, config campaigns.language_fallback, when the campaign gives
// none), else any; "" when the campaign has none.
std::string pick_text(const definition& d, std::string_view language, const std::vector<std::string>& shop_fallback,
                      std::string* picked_language = nullptr);
// {name} {product} {code} {order_id} {serial} {purchase_date} {warranty_end};
// other braces stay. A missing name is a polite word in the language; dates
// in a Persian text are Solar Hijri (solar_hijri_date). The
// purchase placeholders list each distinct value of the target's items
// ("Fridge and Washer"), or are the customer's first purchase without items.
std::string render(std::string_view text, const definition& d, const customer_facts& c, const target& t,
                   std::string_view language);

}  // namespace campaigns
}  // namespace pasokh::gateway
