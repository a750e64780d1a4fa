#include "pasokh/routing/routing_config.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <set>
#include <stdexcept>

#include "pasokh/proto/types.hpp"

namespace pasokh::routing {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw std::runtime_error(path + ": " + what); }

void check_keys(const json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  if (!j.is_object()) fail(path, "must be an object");
  for (const auto& [key, _] : j.items())
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
      fail(path, "unknown key \"" + key + "\"");
}

std::vector<std::string> string_list(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end()) return out;
  if (!it->is_array()) fail(path, std::string("\"") + key + "\" must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 64)
      fail(path, std::string("\"") + key + "\" must hold strings of 1 to 64 characters");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::int64_t seconds_field(const json& j, const char* key, const std::string& path, std::int64_t def) {
  auto it = j.find(key);
  if (it == j.end()) return def;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
    fail(path, std::string("\"") + key + "\" must be a non-negative integer");
  return it->get<std::int64_t>();
}

// "HH:MM" -> minutes; "24:00" allowed as an end.
int parse_clock(const std::string& s, const std::string& path) {
  if (s.size() != 5 || s[2] != ':' || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s[1])) || !std::isdigit(static_cast<unsigned char>(s[3])) ||
      !std::isdigit(static_cast<unsigned char>(s[4])))
    fail(path, "times are HH:MM, not \"" + s + "\"");
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) fail(path, "no such time \"" + s + "\"");
  return h * 60 + m;
}

std::int64_t parse_date(const std::string& s, const std::string& path) {
  int y = 0;
  unsigned mo = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || std::sscanf(s.c_str(), "%4d-%2u-%2u", &y, &mo, &d) != 3 || mo < 1 ||
      mo > 12 || d < 1 || d > 31)
    fail(path, "dates are YYYY-MM-DD, not \"" + s + "\"");
  auto days = days_from_civil(y, mo, d);
  int y2;
  unsigned m2, d2;
  civil_from_days(days, y2, m2, d2);
  if (m2 != mo) fail(path, "no such date \"" + s + "\"");
  return days;
}

const char* const weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(), [&](const std::string& x) { return contains(b, x); });
}

}  // namespace

std::string hours_history_key(const std::string& prefix, const std::string& team) {
  return prefix + "team_hours:" + team;
}

std::string hours_version_member(std::int64_t since, const team_def& t) {
  return std::to_string(since) + "|" + to_json(t)["hours"].dump();
}

std::string hours_json_of_member(std::string_view member) {
  auto bar = member.find('|');
  return bar == std::string_view::npos ? std::string() : std::string(member.substr(bar + 1));
}

std::optional<hours_version> parse_hours_version(const std::string& team, std::string_view member, const std::string& zoneinfo_dir) {
  auto bar = member.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  hours_version v;
  auto [end, ec] = std::from_chars(member.data(), member.data() + bar, v.since);
  if (ec != std::errc{} || end != member.data() + bar) return std::nullopt;
  auto hours = json::parse(member.substr(bar + 1), nullptr, false);
  if (hours.is_discarded()) return std::nullopt;
  try {
    v.hours = parse_team(json{{"id", team}, {"hours", hours}}, zoneinfo_dir, "team_hours." + team).hours;
  } catch (const std::exception&) {
    return std::nullopt;  // a time zone gone from the system, say: that version is skipped
  }
  return v;
}

bool valid_team_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

team_def parse_team(const json& j, const std::string& zoneinfo_dir, const std::string& path) {
  check_keys(j, path, {"id", "name", "strategy", "skills", "languages", "hours", "sla", "closed_message"});
  team_def t;
  if (!j.contains("id") || !j["id"].is_string() || !valid_team_id(j["id"].get<std::string>()))
    fail(path, "\"id\" is required: 1 to 64 of a-z 0-9 _ -");
  t.id = j["id"].get<std::string>();
  t.name = j.value("name", t.id);
  if (!j.value("name", json("")).is_string()) fail(path, "\"name\" must be a string");
  t.strategy = j.value("strategy", t.strategy);
  if (t.strategy != "least_loaded" && t.strategy != "round_robin")
    fail(path, "\"strategy\" is round_robin or least_loaded");
  t.skills = string_list(j, "skills", path);
  t.languages = string_list(j, "languages", path);
  for (const auto& l : t.languages)
    if (!proto::known_language(l)) fail(path, "languages are fa, ar, en");
  if (auto h = j.find("hours"); h != j.end() && !h->is_null()) {
    auto hp = path + ".hours";
    check_keys(*h, hp, {"timezone", "weekly", "holidays"});
    t.timezone = h->value("timezone", std::string("UTC"));
    try {
      t.hours.tz = time_zone::load(t.timezone, zoneinfo_dir);
    } catch (const std::runtime_error& e) {
      fail(hp, e.what());
    }
    auto w = h->find("weekly");
    if (w == h->end() || !w->is_object()) fail(hp, "\"weekly\" is required: {\"sat\": [\"09:00-17:00\"], ...}");
    for (const auto& [day, list] : w->items()) {
      auto it = std::find(std::begin(weekday_names), std::end(weekday_names), day);
      if (it == std::end(weekday_names)) fail(hp + ".weekly", "days are sun mon tue wed thu fri sat, not \"" + day + "\"");
      if (!list.is_array()) fail(hp + ".weekly." + day, "must be an array of \"HH:MM-HH:MM\"");
      auto& slots = t.hours.weekly[static_cast<std::size_t>(it - std::begin(weekday_names))];
      for (const auto& v : list) {
        auto s = v.is_string() ? v.get<std::string>() : std::string();
        if (s.size() != 11 || s[5] != '-') fail(hp + ".weekly." + day, "intervals are \"HH:MM-HH:MM\"");
        int open = parse_clock(s.substr(0, 5), hp), close = parse_clock(s.substr(6), hp);
        if (close <= open) fail(hp + ".weekly." + day, "an interval must end after it starts: \"" + s + "\"");
        slots.emplace_back(open, close);
      }
      std::sort(slots.begin(), slots.end());
      for (std::size_t i = 1; i < slots.size(); ++i)
        if (slots[i].first < slots[i - 1].second) fail(hp + ".weekly." + day, "intervals overlap");
    }
    for (const auto& d : string_list(*h, "holidays", hp)) {
      t.hours.holidays.insert(parse_date(d, hp + ".holidays"));
      t.holiday_dates.push_back(d);
    }
  }
  if (auto s = j.find("sla"); s != j.end() && !s->is_null()) {
    auto sp = path + ".sla";
    check_keys(*s, sp, {"first_response_s", "resolution_s", "warn_before_s"});
    t.sla.first_response = std::chrono::seconds(seconds_field(*s, "first_response_s", sp, 0));
    t.sla.resolution = std::chrono::seconds(seconds_field(*s, "resolution_s", sp, 0));
    t.sla.warn_before = std::chrono::seconds(seconds_field(*s, "warn_before_s", sp, 0));
    // A warning at least as long as every target could never come (one
    // shorter than the resolution target alone is fine: it warns for that).
    const auto& sla = t.sla;
    auto warns_for = [&](std::chrono::seconds target) { return target.count() > 0 && sla.warn_before < target; };
    bool any_target = sla.first_response.count() > 0 || sla.resolution.count() > 0;
    if (sla.warn_before.count() > 0 && any_target && !warns_for(sla.first_response) && !warns_for(sla.resolution))
      fail(sp, "\"warn_before_s\" must be shorter than a target");
  }
  if (auto m = j.find("closed_message"); m != j.end() && !m->is_null()) {
    auto mp = path + ".closed_message";
    check_keys(*m, mp, {"fa", "ar", "en"});
    for (const auto& [lang, text] : m->items()) {
      if (!text.is_string() || text.get<std::string>().empty() || text.get<std::string>().size() > 4000)
        fail(mp, "messages are strings of 1 to 4000 bytes");
      t.closed_message[lang] = text.get<std::string>();
    }
  }
  return t;
}

json to_json(const team_def& t) {
  json j = {{"id", t.id}, {"name", t.name}, {"strategy", t.strategy}, {"skills", t.skills}, {"languages", t.languages}};
  if (t.hours.tz) {
    json weekly = json::object();
    for (std::size_t d = 0; d < 7; ++d) {
      if (t.hours.weekly[d].empty()) continue;
      json list = json::array();
      for (auto [o, c] : t.hours.weekly[d]) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", o / 60, o % 60, c / 60, c % 60);
        list.push_back(buf);
      }
      weekly[weekday_names[d]] = list;
    }
    j["hours"] = {{"timezone", t.timezone}, {"weekly", weekly}, {"holidays", t.holiday_dates}};
  } else {
    j["hours"] = nullptr;
  }
  j["sla"] = {{"first_response_s", t.sla.first_response.count()},
              {"resolution_s", t.sla.resolution.count()},
              {"warn_before_s", t.sla.warn_before.count()}};
  j["closed_message"] = t.closed_message;
  return j;
}

routing_config parse_routing_config(const json& j) {
  routing_config c;
  check_keys(j, "routing", {"default_capacity", "presence_ttl_s", "reassign_after_s", "reopen_window_s",
                            "bot_idle_resolve_s", "tick_interval_ms", "followup_grace_s", "sticky_agent", "teams", "rules",
                            "zoneinfo_dir"});
  auto cap = j.value("default_capacity", json(c.default_capacity));
  if (!cap.is_number_integer() || cap.get<int>() < 1 || cap.get<int>() > 1000) fail("routing", "\"default_capacity\" is 1 to 1000");
  c.default_capacity = cap.get<int>();
  c.presence_ttl = std::chrono::seconds(seconds_field(j, "presence_ttl_s", "routing", c.presence_ttl.count()));
  if (c.presence_ttl.count() < 5) fail("routing", "\"presence_ttl_s\" must be at least 5");
  c.reassign_after = std::chrono::seconds(seconds_field(j, "reassign_after_s", "routing", c.reassign_after.count()));
  c.reopen_window = std::chrono::seconds(seconds_field(j, "reopen_window_s", "routing", c.reopen_window.count()));
  c.bot_idle_resolve = std::chrono::seconds(seconds_field(j, "bot_idle_resolve_s", "routing", c.bot_idle_resolve.count()));
  c.tick_interval = std::chrono::milliseconds(seconds_field(j, "tick_interval_ms", "routing", c.tick_interval.count()));
  if (c.tick_interval.count() < 50) fail("routing", "\"tick_interval_ms\" must be at least 50");
  c.followup_grace = std::chrono::seconds(seconds_field(j, "followup_grace_s", "routing", c.followup_grace.count()));
  if (c.followup_grace.count() < 1) fail("routing", "\"followup_grace_s\" must be at least 1");
  if (auto s = j.find("sticky_agent"); s != j.end()) {
    if (!s->is_boolean()) fail("routing", "\"sticky_agent\" must be true or false");
    c.sticky_agent = s->get<bool>();
  }
  if (auto z = j.find("zoneinfo_dir"); z != j.end()) {
    if (!z->is_string()) fail("routing", "\"zoneinfo_dir\" must be a string");
    c.zoneinfo_dir = z->get<std::string>();
  }
  if (auto t = j.find("teams"); t != j.end()) {
    if (!t->is_array()) fail("routing", "\"teams\" must be an array");
    for (std::size_t i = 0; i < t->size(); ++i) {
      auto team = parse_team((*t)[i], c.zoneinfo_dir, "routing.teams[" + std::to_string(i) + "]");
      for (const auto& other : c.teams)
        if (other.id == team.id) fail("routing.teams[" + std::to_string(i) + "]", "duplicate id \"" + team.id + "\"");
      c.teams.push_back(std::move(team));
    }
  }
  if (auto r = j.find("rules"); r != j.end()) {
    if (!r->is_array()) fail("routing", "\"rules\" must be an array");
    for (std::size_t i = 0; i < r->size(); ++i) {
      auto path = "routing.rules[" + std::to_string(i) + "]";
      const auto& rj = (*r)[i];
      check_keys(rj, path, {"channels", "languages", "tags", "vip", "team", "priority"});
      routing_rule rule;
      rule.channels = string_list(rj, "channels", path);
      rule.languages = string_list(rj, "languages", path);
      rule.tags = string_list(rj, "tags", path);
      if (auto v = rj.find("vip"); v != rj.end()) {
        if (!v->is_boolean()) fail(path, "\"vip\" must be true or false");
        rule.vip = v->get<bool>();
      }
      rule.team = rj.value("team", std::string());
      rule.priority = rj.value("priority", std::string());
      if (!rule.priority.empty() && rule.priority != "low" && rule.priority != "normal" && rule.priority != "high" &&
          rule.priority != "urgent")
        fail(path, "\"priority\" is low, normal, high or urgent");
      if (rule.team.empty() && rule.priority.empty()) fail(path, "a rule needs \"team\" or \"priority\"");
      if (!rule.team.empty() && std::none_of(c.teams.begin(), c.teams.end(), [&](const team_def& t) { return t.id == rule.team; }))
        fail(path, "no team \"" + rule.team + "\" in routing.teams");
      c.rules.push_back(std::move(rule));
    }
  }
  return c;
}

route_decision decide_route(const routing_config& cfg, const std::vector<team_def>& teams, const route_facts& f) {
  auto team_exists = [&](const std::string& id) {
    return std::any_of(teams.begin(), teams.end(), [&](const team_def& t) { return t.id == id; });
  };
  route_decision d{f.current_team, f.vip ? "high" : "", "channel default", ""};
  for (std::size_t i = 0; i < cfg.rules.size(); ++i) {
    const auto& r = cfg.rules[i];
    if (!r.channels.empty() && !contains(r.channels, f.channel)) continue;
    if (!r.languages.empty() && !contains(r.languages, f.language)) continue;
    if (!r.tags.empty() && !intersects(r.tags, f.tags)) continue;
    if (r.vip && *r.vip != f.vip) continue;
    if (!r.team.empty() && !team_exists(r.team)) continue;
    if (!r.team.empty()) d.team = r.team;
    if (!r.priority.empty()) d.priority = r.priority;
    d.why = "rule " + std::to_string(i + 1);
    return d;
  }
  const team_def* by_skill = nullptr;
  for (const auto& t : teams) {
    if (!intersects(t.skills, f.tags)) continue;
    bool speaks = t.languages.empty() || f.language.empty() || contains(t.languages, f.language);
    if (speaks) {
      by_skill = &t;
      break;
    }
    if (!by_skill) by_skill = &t;
  }
  if (by_skill) {
    d.team = by_skill->id;
    d.why = "skill";
    return d;
  }
  if (!team_exists(d.team) && !teams.empty()) {
    d.unknown_team = d.team;
    auto stand_in = std::find_if(cfg.teams.begin(), cfg.teams.end(), [&](const team_def& t) { return team_exists(t.id); });
    d.team = stand_in != cfg.teams.end() ? stand_in->id : teams.front().id;
    d.why += ", team " + d.unknown_team + " does not exist";
  }
  return d;
}

std::string escalated(std::string_view p) {
  if (p == "low") return "normal";
  if (p == "high" || p == "urgent") return "urgent";
  return "high";
}

sla_times sla_for(const team_def& team, std::int64_t start_ms) {
  sla_times s;
  auto due = [&](std::chrono::seconds target, std::int64_t& due_at, std::int64_t& warn_at) {
    if (target.count() <= 0) return;
    due_at = team.hours.add(start_ms, target.count() * 1000);
    if (due_at < 0) {
      due_at = 0;
      return;
    }
    if (team.sla.warn_before.count() > 0 && team.sla.warn_before < target)
      warn_at = team.hours.add(start_ms, (target - team.sla.warn_before).count() * 1000);
  };
  due(team.sla.first_response, s.first_due, s.first_warn);
  due(team.sla.resolution, s.resolve_due, s.resolve_warn);
  return s;
}

std::string closed_message_for(const team_def& team, std::string_view language) {
  std::string lang = language == "fa" || language == "ar" ? std::string(language) : "en";
  if (auto it = team.closed_message.find(lang); it != team.closed_message.end()) return it->second;
  if (lang == "fa")
    return "از پیام شما سپاسگزاریم. اکنون خارج از ساعت کاری هستیم؛ با شروع ساعت کاری همکاران ما پاسخ می‌دهند.";
  if (lang == "ar") return "شكرًا لرسالتك. نحن الآن خارج ساعات العمل، وسيرد عليك أحد موظفينا فور عودتنا.";
  return "Thanks for your message. We are outside our working hours right now; an agent will answer as soon as we are back.";
}

}  // namespace pasokh::routing
