// The pure parts of campaigns: definitions checked, dates (Persian occasions
// included), quiet hours, audience matching, text and placeholders.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway::campaigns {
namespace {

using nlohmann::json;

constexpr std::int64_t day_ms = 86'400'000;
constexpr std::size_t max_text_bytes = 4000;
constexpr std::size_t max_list = 50;
constexpr std::size_t max_item_bytes = 200;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

using proto::known_language;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// A list of short strings, or the error.
std::optional<std::string> string_list(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_array() || it->size() > max_list) return fmt::format("{}: an array of at most {} strings", key, max_list);
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > max_item_bytes ||
        !proto::valid_utf8(v.get<std::string>()))
      return fmt::format("{}: non-empty strings of at most {} bytes", key, max_item_bytes);
    out.push_back(v.get<std::string>());
  }
  return std::nullopt;
}

std::optional<std::int64_t> ms_field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) return std::nullopt;
  return it->get<std::int64_t>();
}

std::optional<quiet_hours> parse_quiet(const json& q, std::string& error) {
  if (q.is_null()) return quiet_hours{};  // explicitly none
  if (!q.is_object() || !q.contains("from") || !q.contains("to") || !q["from"].is_string() || !q["to"].is_string()) {
    error = "quiet_hours: {\"from\": \"HH:MM\", \"to\": \"HH:MM\"} or null";
    return std::nullopt;
  }
  auto f = parse_clock(q["from"].get<std::string>()), t = parse_clock(q["to"].get<std::string>());
  if (!f || !t) {
    error = "quiet_hours: from and to are HH:MM or HH:MM:SS";
    return std::nullopt;
  }
  return quiet_hours{*f, *t};
}

// Birthday as month and day: "YYYY-MM-DD" or "MM-DD".
bool month_day(std::string_view b, unsigned& m, unsigned& d) {
  if (b.size() == 10) b.remove_prefix(5);
  if (b.size() != 5 || b[2] != '-') return false;
  auto two = [](std::string_view s, unsigned& v) {
    if (!std::isdigit(static_cast<unsigned char>(s[0])) || !std::isdigit(static_cast<unsigned char>(s[1]))) return false;
    v = static_cast<unsigned>((s[0] - '0') * 10 + (s[1] - '0'));
    return true;
  };
  return two(b.substr(0, 2), m) && two(b.substr(3, 2), d) && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

}  // namespace

bool recurring(const definition& d) { return d.kind != "occasion"; }

std::optional<int> parse_clock(std::string_view s) {
  if (s.size() != 5 && s.size() != 8) return std::nullopt;
  int parts[3] = {0, 0, 0};
  for (std::size_t i = 0, k = 0; i < s.size(); i += 3, ++k) {
    if (i > 0 && s[i - 1] != ':') return std::nullopt;
    if (!std::isdigit(static_cast<unsigned char>(s[i])) || !std::isdigit(static_cast<unsigned char>(s[i + 1])))
      return std::nullopt;
    parts[k] = (s[i] - '0') * 10 + (s[i + 1] - '0');
  }
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
  return parts[0] * 3600 + parts[1] * 60 + parts[2];
}

std::string clock_string(int s) {
  if (s % 60) return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 3600, s / 60 % 60);
}

// --- dates -----------------------------------------------------------------------

std::int64_t local_day(const routing::time_zone& tz, std::int64_t utc_ms) {
  auto s = floor_div(utc_ms, 1000);
  return floor_div(s + tz.offset_at(s), 86'400);
}

std::int64_t local_midnight_ms(const routing::time_zone& tz, std::int64_t day) { return tz.to_utc(day * 86'400) * 1000; }

std::string date_string(std::int64_t day) {
  int y;
  unsigned m, d;
  routing::civil_from_days(day, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int v[3] = {0, 0, 0};
  std::size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int k = 0; k < 3; ++k)
    for (std::size_t i = starts[k]; i < starts[k] + lens[k]; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      v[k] = v[k] * 10 + (s[i] - '0');
    }
  if (v[0] < 1900 || v[0] > 2999 || v[1] < 1 || v[1] > 12 || v[2] < 1) return std::nullopt;
  auto day = routing::days_from_civil(v[0], static_cast<unsigned>(v[1]), static_cast<unsigned>(v[2]));
  int y;
  unsigned m, d;
  routing::civil_from_days(day, y, m, d);
  if (static_cast<int>(d) != v[2]) return std::nullopt;  // 2025-02-30
  return day;
}

bool valid_birthday(std::string_view s) {
  unsigned m, d;
  if (s.size() == 10) return parse_date(s).has_value();
  if (!month_day(s, m, d)) return false;
  static constexpr unsigned days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return d <= days_in[m - 1];
}

std::int64_t nowruz_day(int gregorian_year) {
  // Years in which the 33-year leap cycle of the Solar Hijri calendar breaks
  // (jalaali-js, after Borkowski); valid for Persian years -61..3177.
  static constexpr int breaks[] = {-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210,
                                   1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178};
  auto div = [](int a, int b) { return a / b; };  // truncating, as the reference
  auto mod = [](int a, int b) { return a - a / b * b; };
  const int jy = gregorian_year - 621;
  int leap_j = -14, jp = breaks[0], jump = 0;
  for (std::size_t i = 1; i < std::size(breaks); ++i) {
    int jm = breaks[i];
    jump = jm - jp;
    if (jy < jm) break;
    leap_j += div(jump, 33) * 8 + div(mod(jump, 33), 4);
    jp = jm;
  }
  int n = jy - jp;
  leap_j += div(n, 33) * 8 + div(mod(n, 33) + 3, 4);
  if (mod(jump, 33) == 4 && jump - n == 4) leap_j += 1;
  int leap_g = div(gregorian_year, 4) - div((div(gregorian_year, 100) + 1) * 3, 4) - 150;
  int march = 20 + leap_j - leap_g;
  return routing::days_from_civil(gregorian_year, 3, 1) + march - 1;
}

// 1 Farvardin + 275 days: six months of 31 days, two of 30, then 30 Azar.
std::int64_t yalda_day(int gregorian_year) { return nowruz_day(gregorian_year) + 275; }

std::string solar_hijri_date(std::int64_t day) {
  int gy;
  unsigned gm, gd;
  routing::civil_from_days(day, gy, gm, gd);
  // The Persian year begins at Nowruz (20 or 21 March): before it, the year begun the March before.
  auto nowruz = nowruz_day(gy);
  int year = gy - 621;
  if (day < nowruz) {
    nowruz = nowruz_day(gy - 1);
    year = gy - 622;
  }
  // Farvardin to Shahrivar have 31 days, Mehr to Bahman 30, Esfand 29 or 30.
  const auto of_year = static_cast<int>(day - nowruz);
  const int month = of_year < 186 ? of_year / 31 + 1 : (of_year - 186) / 30 + 7;
  const int month_day = of_year < 186 ? of_year % 31 + 1 : (of_year - 186) % 30 + 1;
  std::string out;
  for (char c : fmt::format("{:04}/{:02}/{:02}", year, month, month_day))
    if (c >= '0' && c <= '9') proto::append_utf8(out, static_cast<char32_t>(0x06F0 + (c - '0')));  // Persian digits
    else out += c;
  return out;
}

std::optional<std::int64_t> next_occasion(std::string_view occasion, std::int64_t today) {
  int y;
  unsigned m, d;
  routing::civil_from_days(today, y, m, d);
  auto of = [&](int year) { return occasion == "nowruz" ? nowruz_day(year) : yalda_day(year); };
  if (occasion != "nowruz" && occasion != "yalda") return std::nullopt;
  auto day = of(y);
  return day >= today ? day : of(y + 1);
}

// --- quiet hours -----------------------------------------------------------------

bool is_quiet(const quiet_hours& q, const routing::time_zone& tz, std::int64_t utc_ms) {
  if (q.none()) return false;
  auto s = floor_div(utc_ms, 1000);
  auto sod = static_cast<int>(((s + tz.offset_at(s)) % 86'400 + 86'400) % 86'400);
  return q.from_s < q.to_s ? sod >= q.from_s && sod < q.to_s : sod >= q.from_s || sod < q.to_s;
}

std::int64_t quiet_until(const quiet_hours& q, const routing::time_zone& tz, std::int64_t utc_ms) {
  if (!is_quiet(q, tz, utc_ms)) return -1;
  auto s = floor_div(utc_ms, 1000);
  auto local = s + tz.offset_at(s);
  auto day = floor_div(local, 86'400);
  auto sod = local - day * 86'400;
  auto end_local = day * 86'400 + q.to_s + (sod >= q.to_s ? 86'400 : 0);
  return tz.to_utc(end_local) * 1000;
}

// --- definitions -----------------------------------------------------------------

std::variant<definition, std::string> parse_definition(const json& j, const routing::time_zone& tz, std::int64_t now_ms) {
  static const std::vector<std::string> keys{"name", "kind", "occasion", "date", "days", "audience", "texts",
                                             "fallback", "code", "whatsapp_template", "rate_per_second",
                                             "quiet_hours", "start_at", "end_at"};
  for (const auto& [k, _] : j.items())
    if (!contains(keys, k)) return fmt::format("{}: unknown field", k);
  definition d;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty() || name->get<std::string>().size() > 200 ||
      !proto::valid_utf8(name->get<std::string>()))
    return std::string("name: 1 to 200 bytes of text");
  d.name = name->get<std::string>();
  d.kind = j.value("kind", std::string{});
  if (d.kind != "follow_up" && d.kind != "occasion" && d.kind != "birthday" && d.kind != "warranty_ending")
    return std::string("kind: follow_up, occasion, birthday or warranty_ending");
  const auto today = local_day(tz, now_ms);
  if (d.kind == "follow_up" || d.kind == "warranty_ending") {
    auto days = j.find("days");
    if (days == j.end() || !days->is_number_integer() || days->get<int>() < 0 || days->get<int>() > 3650)
      return std::string("days: 0 to 3650 (after the purchase, or before the warranty ends)");
    d.days = days->get<int>();
  }
  if (d.kind == "occasion") {
    d.occasion = j.value("occasion", std::string("date"));
    if (d.occasion == "date") {
      auto date = parse_date(j.value("date", std::string{}));
      if (!date) return std::string("date: YYYY-MM-DD (occasion \"date\")");
      d.date = date_string(*date);
    } else if (auto day = next_occasion(d.occasion, today)) {
      d.date = date_string(*day);
    } else {
      return std::string("occasion: nowruz, yalda or date");
    }
  }
  if (auto a = j.find("audience"); a != j.end() && !a->is_null()) {
    if (!a->is_object()) return std::string("audience: an object");
    for (const auto& [k, _] : a->items())
      if (k != "tags" && k != "languages" && k != "channels" && k != "products")
        return fmt::format("audience.{}: unknown field (tags, languages, channels, products)", k);
    for (auto [key, list] : {std::pair{"tags", &d.who.tags}, std::pair{"languages", &d.who.languages},
                             std::pair{"channels", &d.who.channels}, std::pair{"products", &d.who.products}})
      if (auto err = string_list(*a, key, *list)) return "audience." + *err;
    for (const auto& l : d.who.languages)
      if (!known_language(l)) return std::string("audience.languages: fa, ar or en");
  }
  auto texts = j.find("texts");
  if (texts == j.end() || !texts->is_object() || texts->empty())
    return std::string("texts: an object of language (fa, ar, en) to text, at least one");
  for (const auto& [lang, text] : texts->items()) {
    if (!known_language(lang)) return fmt::format("texts.{}: the languages are fa, ar and en", lang);
    if (!text.is_string() || text.get<std::string>().empty() || text.get<std::string>().size() > max_text_bytes ||
        !proto::valid_utf8(text.get<std::string>()))
      return fmt::format("texts.{}: 1 to {} bytes of text", lang, max_text_bytes);
    d.texts[lang] = text.get<std::string>();
  }
  if (auto err = string_list(j, "fallback", d.fallback)) return *err;
  for (const auto& l : d.fallback)
    if (!known_language(l)) return std::string("fallback: fa, ar or en");
  if (auto c = j.find("code"); c != j.end() && !c->is_null()) {
    if (!c->is_string() || c->get<std::string>().size() > 64 || !proto::valid_utf8(c->get<std::string>()))
      return std::string("code: at most 64 bytes");
    d.code = c->get<std::string>();
  }
  if (auto t = j.find("whatsapp_template"); t != j.end() && !t->is_null()) {
    wa_template w;
    if (!t->is_object() || !t->contains("name") || !(*t)["name"].is_string() || (*t)["name"].get<std::string>().empty() ||
        (*t)["name"].get<std::string>().size() > 512)
      return std::string("whatsapp_template: {\"name\", \"language\"?, \"params\"?}");
    for (const auto& [k, _] : t->items())
      if (k != "name" && k != "language" && k != "params") return fmt::format("whatsapp_template.{}: unknown field", k);
    w.name = (*t)["name"].get<std::string>();
    if (t->contains("language")) {
      if (!(*t)["language"].is_string() || (*t)["language"].get<std::string>().size() > 16)
        return std::string("whatsapp_template.language: a language code such as fa or en_US");
      w.language = (*t)["language"].get<std::string>();
    }
    if (auto err = string_list(*t, "params", w.params)) return "whatsapp_template." + *err;
    d.whatsapp_template = std::move(w);
  }
  if (auto r = j.find("rate_per_second"); r != j.end() && !r->is_null()) {
    if (!r->is_number() || !(r->get<double>() > 0) || r->get<double>() > 1000)
      return std::string("rate_per_second: more than 0, at most 1000");
    d.rate = r->get<double>();
  }
  if (auto q = j.find("quiet_hours"); q != j.end()) {
    std::string error;
    d.quiet = parse_quiet(*q, error);
    if (!d.quiet) return error;
  }
  auto start = ms_field(j, "start_at"), end = ms_field(j, "end_at");
  if (!start || !end) return std::string("start_at, end_at: ms since the epoch");
  d.start_at = *start;
  d.end_at = *end;
  if (d.start_at == 0) d.start_at = d.kind == "occasion" ? local_midnight_ms(tz, *parse_date(d.date)) : now_ms;
  if (d.kind == "occasion" && *start == 0 && d.start_at < now_ms) d.start_at = now_ms;
  if (d.end_at != 0 && d.end_at <= d.start_at) return std::string("end_at: after start_at");
  return d;
}

json to_json(const definition& d) {
  json j = {{"name", d.name}, {"kind", d.kind}, {"texts", d.texts}, {"start_at", d.start_at}};
  if (!d.occasion.empty()) j["occasion"] = d.occasion;
  if (!d.date.empty()) j["date"] = d.date;
  if (d.kind == "follow_up" || d.kind == "warranty_ending") j["days"] = d.days;
  j["audience"] = {{"tags", d.who.tags}, {"languages", d.who.languages}, {"channels", d.who.channels},
                   {"products", d.who.products}};
  if (!d.fallback.empty()) j["fallback"] = d.fallback;
  if (!d.code.empty()) j["code"] = d.code;
  if (d.whatsapp_template)
    j["whatsapp_template"] = {{"name", d.whatsapp_template->name}, {"language", d.whatsapp_template->language},
                              {"params", d.whatsapp_template->params}};
  if (d.rate > 0) j["rate_per_second"] = d.rate;
  if (d.quiet)
    j["quiet_hours"] = d.quiet->none() ? json(nullptr)
                                       : json{{"from", clock_string(d.quiet->from_s)}, {"to", clock_string(d.quiet->to_s)}};
  if (d.end_at) j["end_at"] = d.end_at;
  return j;
}

// --- audience ------------------------------------------------------------------

namespace {

bool in_audience(const definition& d, const customer_facts& c) {
  if (!d.who.languages.empty() && !contains(d.who.languages, c.language)) return false;
  return d.who.tags.empty() ||
         std::any_of(d.who.tags.begin(), d.who.tags.end(), [&](const auto& t) { return contains(c.tags, t); });
}

bool product_matches(const definition& d, const purchase& p) {
  if (d.who.products.empty()) return true;
  auto have = lower_ascii(p.product);
  return std::any_of(d.who.products.begin(), d.who.products.end(),
                     [&](const auto& want) { return have.find(lower_ascii(want)) != std::string::npos; });
}

// No products named, or the customer bought one of them.
bool bought_wanted(const definition& d, const customer_facts& c) {
  return d.who.products.empty() ||
         std::any_of(c.purchases.begin(), c.purchases.end(), [&](const purchase& p) { return product_matches(d, p); });
}

}  // namespace

std::vector<dated_target> targets_between(const definition& d, const customer_facts& c, std::int64_t first,
                                          std::int64_t last, std::int64_t today) {
  std::vector<dated_target> out;
  if (d.kind == "occasion" || !in_audience(d, c)) return out;
  if (d.kind == "birthday") {
    if (!bought_wanted(d, c)) return out;
    unsigned bm, bd;
    if (!month_day(c.birthday, bm, bd)) return out;
    int first_year, last_year;
    unsigned m, dd;
    routing::civil_from_days(first, first_year, m, dd);
    routing::civil_from_days(last, last_year, m, dd);
    // Each year's birthday (29 February on the 28th in other years), claimed
    // once per year.
    for (int year = first_year; year <= last_year; ++year) {
      bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
      unsigned day = bm == 2 && bd == 29 && !leap ? 28 : bd;
      auto when = routing::days_from_civil(year, bm, day);
      if (when >= first && when <= last) out.push_back({{fmt::format("{}|{}", c.id, year), {}}, when});
    }
    return out;
  }
  // The customer hears once a day however many items fall due: a message per
  // due day names them all.
  std::map<std::int64_t, std::vector<purchase>> due;
  for (const auto& p : c.purchases) {
    if (!product_matches(d, p)) continue;
    auto base = parse_date(d.kind == "follow_up" ? p.purchase_date : p.warranty_end);
    if (!base) continue;
    auto day = d.kind == "follow_up" ? *base + d.days : *base - d.days;
    if (d.kind == "warranty_ending" && *base < today) continue;  // already over: too late to remind
    if (day >= first && day <= last) due[day].push_back(p);
  }
  for (auto& [day, items] : due) {
    // By order and serial, not in the order the purchases hash gives them.
    std::sort(items.begin(), items.end(), [](const purchase& a, const purchase& b) { return a.key < b.key; });
    out.push_back({{c.id + "|" + date_string(day), std::move(items)}, day});
  }
  return out;
}

std::vector<target> targets_for(const definition& d, const customer_facts& c, std::int64_t today) {
  std::vector<target> out;
  if (d.kind == "occasion") {
    if (in_audience(d, c) && bought_wanted(d, c)) out.push_back({c.id, {}});
    return out;
  }
  // Due today or within the catch-up days before it.
  for (auto& t : targets_between(d, c, today - catch_up_days, today, today)) out.push_back(std::move(t.what));
  return out;
}

// --- text --------------------------------------------------------------------------

std::string stop_hint(std::string_view language) {
  if (language == "fa") return "برای دریافت نکردن پیام‌هایی مانند این، «لغو» را بفرستید.";
  if (language == "ar") return "للتوقف عن تلقي رسائل كهذه أرسل «إلغاء».";
  return "Reply \"stop\" to get no more messages like this.";
}

std::string pick_text(const definition& d, std::string_view language, const std::vector<std::string>& shop_fallback,
                      std::string* picked) {
  auto take = [&](const std::string& lang) -> const std::string* {
    auto it = d.texts.find(lang);
    if (it == d.texts.end()) return nullptr;
    if (picked) *picked = lang;
    return &it->second;
  };
  if (auto* t = take(std::string(language))) return *t;
  for (const auto& l : d.fallback.empty() ? shop_fallback : d.fallback)
    if (auto* t = take(l)) return *t;
  if (d.texts.empty()) return {};
  if (picked) *picked = d.texts.begin()->first;
  return d.texts.begin()->second;
}

std::string date_for(std::string_view language, const std::string& date) {
  auto day = parse_date(date);
  return language == "fa" && day ? solar_hijri_date(*day) : date;
}

namespace {

// "A", "A and B", "A, B and C" in the language; each value once, empty ones left out.
std::string spoken_list(const std::vector<std::string>& all, std::string_view language) {
  std::vector<std::string_view> values;
  for (const auto& v : all)
    if (!v.empty() && std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
  const bool arabic_script = language == "fa" || language == "ar";
  const std::string_view comma = arabic_script ? "، " : ", ", last = arabic_script ? " و " : " and ";
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += i + 1 == values.size() ? last : comma;
    out += values[i];
  }
  return out;
}

}  // namespace

std::string render(std::string_view text, const definition& d, const customer_facts& c, const target& t,
                   std::string_view language) {
  std::string name = c.name;
  if (name.empty()) name = language == "fa" ? "مشتری گرامی" : language == "ar" ? "عميلنا العزيز" : "valued customer";
  std::vector<purchase> first;
  if (t.items.empty() && !c.purchases.empty()) first.push_back(c.purchases.front());
  const auto& items = t.items.empty() ? first : t.items;
  const auto listed = [&](std::string purchase::*field, bool date = false) {
    std::vector<std::string> values;
    for (const auto& p : items) values.push_back(date ? date_for(language, p.*field) : p.*field);
    return spoken_list(values, language);
  };
  const std::string product = listed(&purchase::product), order_id = listed(&purchase::order_id),
                    serial = listed(&purchase::serial), purchase_date = listed(&purchase::purchase_date, true),
                    warranty_end = listed(&purchase::warranty_end, true);
  const std::pair<std::string_view, const std::string*> vars[] = {
      {"name", &name},         {"product", &product},     {"code", &d.code},
      {"order_id", &order_id}, {"serial", &serial},       {"purchase_date", &purchase_date},
      {"warranty_end", &warranty_end}};
  std::string out;
  out.reserve(text.size() + 32);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      auto close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        auto key = text.substr(i + 1, close - i - 1);
        auto it = std::find_if(std::begin(vars), std::end(vars), [&](const auto& v) { return v.first == key; });
        if (it != std::end(vars)) {
          out += *it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace pasokh::gateway::campaigns
