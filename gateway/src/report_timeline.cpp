// A conversation's event log folded into a report timeline, and the cache
// form of a timeline. No I/O here.
#include <algorithm>

#include "pasokh/gateway/reports.hpp"

namespace pasokh::gateway::reports {
namespace {

using nlohmann::json;

constexpr int cache_version = 1;

std::int64_t int_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<std::int64_t>();
}

std::string str_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// When the event happened: a message's own time, else the event's `at`, else
// the conversation's last update.
std::int64_t event_time(const json& frame, const json& conv) {
  if (auto m = frame.find("message"); m != frame.end() && m->is_object())
    if (auto t = int_of(*m, "created_at")) return t;
  if (auto t = int_of(frame, "at")) return t;
  return int_of(conv, "updated_at");
}

bool finished(std::string_view status) { return status == "resolved" || status == "closed"; }

void add_agent(timeline& t, const std::string& a) {
  if (!a.empty() && std::find(t.agents.begin(), t.agents.end(), a) == t.agents.end()) t.agents.push_back(a);
}

bool is_csat_ask(const json& message) {
  auto b = message.find("buttons");
  if (b == message.end() || !b->is_array()) return false;
  return std::any_of(b->begin(), b->end(), [](const json& x) {
    return x.is_object() && str_of(x, "id").rfind("csat:", 0) == 0;
  });
}

}  // namespace

void fold(timeline& t, const json& f) {
  if (!f.is_object()) return;
  auto seq = int_of(f, "seq");
  if (seq <= t.seq) return;  // folded already (a cache continues after its last entry)
  t.seq = seq;
  static const json no_conv = json::object();
  auto ci = f.find("conversation");
  const json& c = ci != f.end() && ci->is_object() ? *ci : no_conv;
  if (t.id.empty()) t.id = str_of(f, "conv");
  if (auto v = str_of(c, "channel"); !v.empty()) t.channel = v;
  if (auto v = str_of(c, "team"); !v.empty()) t.team = v;
  if (auto v = str_of(c, "customer_id"); !v.empty()) t.customer = v;
  if (!t.created_at) t.created_at = int_of(c, "created_at");
  if (c.contains("sla_first_due") || c.contains("sla_resolve_due")) t.sla = true;
  const auto event = str_of(f, "event");
  const auto at = event_time(f, c);

  const std::string before = t.status;
  const std::string after = c.contains("status") ? str_of(c, "status") : before;
  const bool first = before.empty();
  if (first) t.bot = after == "bot";
  if (!first && finished(before) && !finished(after)) {
    ++t.reopens;
    // The customer's message that reopened it is waiting for an answer.
    if (str_of(f, "reason") == "reopened_by_customer" && !t.waiting_since) t.waiting_since = at;
  }
  if (!after.empty() && after != "bot" && !finished(after)) {
    if (!t.clock_start) t.clock_start = at;
    if (!t.segment_start) t.segment_start = at;
  }
  if (finished(after) && !finished(before)) {
    if (t.segment_start) t.resolutions.push_back({t.segment_start, at, str_of(c, "assignee")});
    t.segment_start = 0;
    t.waiting_since = 0;
    if (event == "status" && after == "closed") {
      auto reason = str_of(f, "reason");
      if (reason == "csat" || reason == "opt_out") t.side = true;
    }
  }
  t.status = after;
  add_agent(t, str_of(c, "assignee"));

  if (event == "message" && !f.value("edit", false)) {
    const auto mi = f.find("message");
    if (mi == f.end() || !mi->is_object()) return;
    const auto direction = str_of(*mi, "direction"), author = str_of(*mi, "author");
    if (direction == "in") {
      // A message to a resolved conversation (a CSAT rating) waits for nobody.
      if (!finished(after) && !t.waiting_since) t.waiting_since = at;
    } else if (author == "agent") {
      auto agent = str_of(*mi, "author_id");
      add_agent(t, agent);
      if (!t.clock_start) t.clock_start = t.segment_start = at;
      auto waiting = t.waiting_since ? std::max(t.waiting_since, t.clock_start) : 0;
      t.replies.push_back({agent, at, waiting});
      t.waiting_since = 0;
      if (!t.first_response_at) {
        t.first_response_at = at;
        t.first_responder = agent;
      }
    } else if (author == "system" && !t.csat_asked_at && is_csat_ask(*mi)) {
      t.csat_asked_at = at;
    }
  } else if (event == "sla" && str_of(f, "state") == "breached") {
    (str_of(f, "sla") == "first_response" ? t.first_breached : t.resolution_breached) = true;
  } else if (event == "csat") {
    t.csat_rating = static_cast<int>(int_of(f, "rating"));
    t.csat_at = at;
    t.csat_agent = str_of(f, "agent");
  }
}

std::string encode(const timeline& t) {
  json replies = json::array(), segments = json::array();
  for (const auto& r : t.replies) replies.push_back({r.agent, r.at, r.waiting_since});
  for (const auto& s : t.resolutions) segments.push_back({s.start, s.end, s.agent});
  int flags = (t.bot ? 1 : 0) | (t.side ? 2 : 0) | (t.sla ? 4 : 0) | (t.first_breached ? 8 : 0) |
              (t.resolution_breached ? 16 : 0);
  json j = {{"v", cache_version}, {"id", t.id}, {"ch", t.channel}, {"tm", t.team}, {"cu", t.customer},
            {"sq", t.seq}, {"cr", t.created_at}, {"ck", t.clock_start}, {"fr", t.first_response_at},
            {"fa", t.first_responder}, {"fl", flags}, {"ro", t.reopens}, {"r", replies}, {"z", segments},
            {"ag", t.agents}, {"qa", t.csat_asked_at}, {"qt", t.csat_at}, {"qr", t.csat_rating},
            {"qg", t.csat_agent}, {"st", t.status}, {"ss", t.segment_start}, {"ws", t.waiting_since}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<timeline> decode(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || int_of(j, "v") != cache_version) return std::nullopt;
  timeline t;
  t.id = str_of(j, "id");
  t.channel = str_of(j, "ch");
  t.team = str_of(j, "tm");
  t.customer = str_of(j, "cu");
  t.seq = int_of(j, "sq");
  t.created_at = int_of(j, "cr");
  t.clock_start = int_of(j, "ck");
  t.first_response_at = int_of(j, "fr");
  t.first_responder = str_of(j, "fa");
  auto flags = int_of(j, "fl");
  t.bot = flags & 1;
  t.side = flags & 2;
  t.sla = flags & 4;
  t.first_breached = flags & 8;
  t.resolution_breached = flags & 16;
  t.reopens = static_cast<int>(int_of(j, "ro"));
  try {
    for (const auto& r : j.at("r")) t.replies.push_back({r.at(0).get<std::string>(), r.at(1).get<std::int64_t>(), r.at(2).get<std::int64_t>()});
    for (const auto& s : j.at("z")) t.resolutions.push_back({s.at(0).get<std::int64_t>(), s.at(1).get<std::int64_t>(), s.at(2).get<std::string>()});
    for (const auto& a : j.at("ag")) t.agents.push_back(a.get<std::string>());
  } catch (const json::exception&) {
    return std::nullopt;
  }
  t.csat_asked_at = int_of(j, "qa");
  t.csat_at = int_of(j, "qt");
  t.csat_rating = static_cast<int>(int_of(j, "qr"));
  t.csat_agent = str_of(j, "qg");
  t.status = str_of(j, "st");
  t.segment_start = int_of(j, "ss");
  t.waiting_since = int_of(j, "ws");
  return t;
}

}  // namespace pasokh::gateway::reports
