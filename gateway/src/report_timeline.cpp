// A conversation's event log folded into a report timeline, and the cache
// form of a timeline. No I/O here.
#include <algorithm>
#include <charconv>

#include "pasokh/gateway/reports.hpp"
#include "pasokh/gateway/request_checks.hpp"

namespace pasokh::gateway::reports {
namespace {

using nlohmann::json;

std::int64_t int_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->get<std::int64_t>();
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
    return x.is_object() && string_or_empty(x, "id").rfind("csat:", 0) == 0;
  });
}

// The customer answered our campaign message (`at`, the conversation going
// on as `status`): a contact from the answer on, counted on that day, not the
// day the campaign went out, nor as a reopen. The conversation's contact
// before it is kept as it was, unless it was only our message (no contact).
void start_contact(timeline& t, std::int64_t at, const std::string& status) {
  timeline next;
  next.id = t.id;
  next.channel = t.channel;
  next.customer = t.customer;
  next.seq = t.seq;
  next.created_at = at;
  next.bot = status == "bot";
  if (!t.teams.empty()) next.teams.push_back({t.teams.back().team, at});
  next.earlier = std::move(t.earlier);
  t.earlier.clear();
  if (!t.side) next.earlier.push_back(std::move(t));
  t = std::move(next);
}

// An SLA target set for this contact (one from an earlier contact of the
// conversation is still in its view, due before this one began).
bool target_of(const timeline& t, const json& conv, const char* due_key) { return int_of(conv, due_key) > t.created_at; }

}  // namespace

const std::string& team_at(const timeline& t, std::int64_t at) {
  static const std::string none;
  if (t.teams.empty()) return none;
  auto it = std::upper_bound(t.teams.begin(), t.teams.end(), at,
                             [](std::int64_t x, const team_stay& s) { return x < s.since; });
  return it == t.teams.begin() ? it->team : std::prev(it)->team;
}

std::vector<std::string> teams_before(const timeline& t, std::int64_t before) {
  std::vector<std::string> out;
  if (t.teams.empty()) out.emplace_back();
  for (const auto& s : t.teams)
    if ((s.since < before || out.empty()) && std::find(out.begin(), out.end(), s.team) == out.end()) out.push_back(s.team);
  return out;
}

void fold(timeline& t, const json& f) {
  if (!f.is_object()) return;
  auto seq = int_of(f, "seq");
  if (seq <= t.seq) return;  // folded already (a cache continues after its last entry)
  t.seq = seq;
  // Closed because its customer was erased (routing/src/lua/erase.lua): the
  // reports count the conversation as it was, not as resolved then.
  if (string_or_empty(f, "event") == "status" && string_or_empty(f, "reason") == "erased") return;
  static const json no_conv = json::object();
  auto ci = f.find("conversation");
  const json& c = ci != f.end() && ci->is_object() ? *ci : no_conv;
  if (t.id.empty()) t.id = string_or_empty(f, "conv");
  if (auto v = string_or_empty(c, "channel"); !v.empty()) t.channel = v;
  if (auto v = string_or_empty(c, "customer_id"); !v.empty()) t.customer = v;
  if (!t.created_at) t.created_at = int_of(c, "created_at");
  if (target_of(t, c, "sla_first_due")) t.sla_first = true;
  if (target_of(t, c, "sla_resolve_due")) t.sla_resolve = true;
  const auto event = string_or_empty(f, "event");
  const auto at = event_time(f, c);
  if (auto v = string_or_empty(c, "team"); !v.empty() && (t.teams.empty() || v != t.teams.back().team)) t.teams.push_back({v, at});

  const std::string before = t.status;
  const std::string after = c.contains("status") ? string_or_empty(c, "status") : before;
  const bool first = before.empty();
  if (first) {
    t.bot = after == "bot";
    // Opened already resolved: our campaign message, not a contact, until the
    // customer answers it (the answer is no reopen either).
    t.side = finished(after);
  }
  if (!first && finished(before) && !finished(after)) {
    const bool by_customer = string_or_empty(f, "reason") == "reopened_by_customer";
    if (t.side || (t.campaign_sent && by_customer)) start_contact(t, at, after);
    else ++t.reopens;
    t.campaign_sent = false;
    // The customer's message that reopened it is waiting for an answer.
    if (by_customer && !t.waiting_since) t.waiting_since = at;
  }
  if (!after.empty() && after != "bot" && !finished(after)) {
    if (!t.clock_start) t.clock_start = at;
    if (!t.segment_start) t.segment_start = at;
  }
  if (finished(after) && !finished(before)) {
    if (t.segment_start) t.resolutions.push_back({t.segment_start, at, string_or_empty(c, "assignee")});
    t.segment_start = 0;
    t.waiting_since = 0;
    if (event == "status" && after == "closed") {
      auto reason = string_or_empty(f, "reason");
      if (reason == "csat" || reason == "csat_comment" || reason == "opt_out") t.side = true;
    }
  }
  t.status = after;
  const auto assignee = string_or_empty(c, "assignee");
  add_agent(t, assignee);
  // Given to a person (a queue drain, a transfer, their own reply): under a
  // team filter they count for the team it was in then, replies or not.
  if (after == "assigned" && !assignee.empty() &&
      (before != "assigned" || t.assignments.empty() || t.assignments.back().agent != assignee))
    t.assignments.push_back({assignee, at});

  if (event == "message" && !f.value("edit", false)) {
    const auto mi = f.find("message");
    if (mi == f.end() || !mi->is_object()) return;
    const auto direction = string_or_empty(*mi, "direction"), author = string_or_empty(*mi, "author");
    if (direction == "in") {
      // A message to a resolved conversation (a CSAT rating) waits for
      // nobody, nor does an out-of-office reply or a bounce (automatic mail).
      if (author == "customer" && !mi->value("automatic", false) && !finished(after) && !t.waiting_since)
        t.waiting_since = at;
    } else if (author == "agent" && finished(after)) {
      // A follow-up on a finished conversation (append_reply.lua keeps it
      // resolved): a reply answering nobody waiting. It starts no clock and
      // is no first response: a bot's deflected case stays deflected, one
      // resolved unanswered gets no first response days later, and a reopen
      // measures its resolution from the reopen.
      auto agent = string_or_empty(*mi, "author_id");
      add_agent(t, agent);
      t.replies.push_back({agent, at, 0});
    } else if (author == "agent") {
      auto agent = string_or_empty(*mi, "author_id");
      add_agent(t, agent);
      if (!t.clock_start) t.clock_start = t.segment_start = at;
      auto waiting = t.waiting_since ? std::max(t.waiting_since, t.clock_start) : 0;
      t.replies.push_back({agent, at, waiting});
      t.waiting_since = 0;
      if (!t.first_response_at) {
        t.first_response_at = at;
        t.first_responder = agent;
      }
    } else if (author == "bot" && mi->contains("campaign") && finished(after)) {
      t.campaign_sent = true;
    } else if (author == "system" && !t.csat_asked_at && is_csat_ask(*mi)) {
      t.csat_asked_at = at;
      // The survey is about the agent who has the case (aftersales.lua keeps
      // the same as csat_agent): the agent filter counts it for them before a rating.
      t.csat_agent = string_or_empty(c, "assignee");
    }
  } else if (event == "sla" && string_or_empty(f, "state") == "breached") {
    auto& breached_at = string_or_empty(f, "sla") == "first_response" ? t.first_breached_at : t.resolution_breached_at;
    if (!breached_at) breached_at = at;
  } else if (event == "csat") {
    t.csat_rating = static_cast<int>(int_of(f, "rating"));
    t.csat_at = at;
    t.csat_agent = string_or_empty(f, "agent");
  } else if (event == "csat_comment") {
    t.csat_complaint = string_or_empty(f, "kind") == "complaint";
  }
}

// The cache form: a version, then fields separated by US (0x1f); lists by RS
// (0x1e), an item's parts by GS (0x1d); the conversation's earlier contacts
// follow the current one, each after FS (0x1c). Read for every conversation of
// every report, so it is plain text split in place (JSON parsing cost three
// times more).
namespace {
constexpr char fs = '\x1f', rs = '\x1e', gs = '\x1d', cs = '\x1c';

void put(std::string& out, std::string_view s, char sep) {
  for (char c : s) out += (c == fs || c == rs || c == gs || c == cs) ? '?' : c;
  out += sep;
}
void put(std::string& out, std::int64_t v, char sep) {
  out += std::to_string(v);
  out += sep;
}

// Splits `text` at `sep`, keeping empty parts.
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    auto cut = text.find(sep, start);
    parts.push_back(text.substr(start, cut == std::string_view::npos ? std::string_view::npos : cut - start));
    if (cut == std::string_view::npos) return parts;
    start = cut + 1;
  }
}

bool number(std::string_view s, std::int64_t& out) {
  out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// One contact (its earlier ones aside).
void encode_contact(std::string& out, const timeline& t) {
  out += "v8";
  out += fs;
  for (auto s : {std::string_view(t.id), std::string_view(t.channel), std::string_view(t.customer)}) put(out, s, fs);
  int flags = (t.bot ? 1 : 0) | (t.side ? 2 : 0) | (t.sla_first ? 4 : 0) | (t.sla_resolve ? 8 : 0) | (t.campaign_sent ? 16 : 0) |
              (t.csat_complaint ? 32 : 0);
  for (auto v : {t.seq, t.created_at, t.clock_start, t.first_response_at, std::int64_t{flags}, std::int64_t{t.reopens},
                 t.csat_asked_at, t.csat_at, std::int64_t{t.csat_rating}, t.segment_start, t.waiting_since,
                 t.first_breached_at, t.resolution_breached_at})
    put(out, v, fs);
  put(out, t.first_responder, fs);
  put(out, t.csat_agent, fs);
  put(out, t.status, fs);
  for (const auto& a : t.agents) put(out, a, rs);
  out += fs;
  for (const auto& r : t.replies) {
    put(out, r.agent, gs);
    put(out, r.at, gs);
    put(out, r.waiting_since, rs);
  }
  out += fs;
  for (const auto& z : t.resolutions) {
    put(out, z.agent, gs);
    put(out, z.start, gs);
    put(out, z.end, rs);
  }
  out += fs;
  for (const auto& s : t.teams) {
    put(out, s.team, gs);
    put(out, s.since, rs);
  }
  out += fs;
  for (const auto& a : t.assignments) {
    put(out, a.agent, gs);
    put(out, a.at, rs);
  }
}

std::optional<timeline> decode_contact(std::string_view text) {
  auto f = split(text, fs);
  // An older version is refolded (v5 kept one contact a conversation, v6 no
  // assignments, v7 took an agent's follow-up on a resolved case for its
  // first response and kept no agent for a survey not rated yet).
  if (f.size() != 25 || f[0] != "v8") return std::nullopt;
  timeline t;
  t.id = f[1];
  t.channel = f[2];
  t.customer = f[3];
  std::int64_t n[13];
  for (int i = 0; i < 13; ++i)
    if (!number(f[4 + static_cast<std::size_t>(i)], n[i])) return std::nullopt;
  t.seq = n[0];
  t.created_at = n[1];
  t.clock_start = n[2];
  t.first_response_at = n[3];
  t.bot = n[4] & 1;
  t.side = n[4] & 2;
  t.sla_first = n[4] & 4;
  t.sla_resolve = n[4] & 8;
  t.campaign_sent = n[4] & 16;
  t.csat_complaint = n[4] & 32;
  t.reopens = static_cast<int>(n[5]);
  t.csat_asked_at = n[6];
  t.csat_at = n[7];
  t.csat_rating = static_cast<int>(n[8]);
  t.segment_start = n[9];
  t.waiting_since = n[10];
  t.first_breached_at = n[11];
  t.resolution_breached_at = n[12];
  t.first_responder = f[17];
  t.csat_agent = f[18];
  t.status = f[19];
  // Each list ends with its separator, so the last part is empty.
  auto agents = split(f[20], rs);
  for (std::size_t i = 0; i + 1 < agents.size(); ++i) t.agents.emplace_back(agents[i]);
  auto replies = split(f[21], rs);
  for (std::size_t i = 0; i + 1 < replies.size(); ++i) {
    auto p = split(replies[i], gs);
    agent_reply r;
    if (p.size() != 3 || !number(p[1], r.at) || !number(p[2], r.waiting_since)) return std::nullopt;
    r.agent = p[0];
    t.replies.push_back(std::move(r));
  }
  auto segments = split(f[22], rs);
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    auto p = split(segments[i], gs);
    resolved_segment z;
    if (p.size() != 3 || !number(p[1], z.start) || !number(p[2], z.end)) return std::nullopt;
    z.agent = p[0];
    t.resolutions.push_back(std::move(z));
  }
  auto stays = split(f[23], rs);
  for (std::size_t i = 0; i + 1 < stays.size(); ++i) {
    auto p = split(stays[i], gs);
    team_stay z;
    if (p.size() != 2 || !number(p[1], z.since)) return std::nullopt;
    z.team = p[0];
    t.teams.push_back(std::move(z));
  }
  auto given = split(f[24], rs);
  for (std::size_t i = 0; i + 1 < given.size(); ++i) {
    auto p = split(given[i], gs);
    assignment a;
    if (p.size() != 2 || !number(p[1], a.at)) return std::nullopt;
    a.agent = p[0];
    t.assignments.push_back(std::move(a));
  }
  return t;
}
}  // namespace

std::string encode(const timeline& t) {
  std::string out;
  encode_contact(out, t);
  for (const auto& e : t.earlier) {
    out += cs;
    encode_contact(out, e);
  }
  return out;
}

std::optional<timeline> decode(std::string_view text) {
  auto contacts = split(text, cs);
  auto t = decode_contact(contacts[0]);
  for (std::size_t i = 1; t && i < contacts.size(); ++i) {
    auto e = decode_contact(contacts[i]);
    if (!e) return std::nullopt;
    t->earlier.push_back(std::move(*e));
  }
  return t;
}

void add_contacts(std::vector<timeline>& out, timeline t) {
  for (auto& e : t.earlier) out.push_back(std::move(e));
  t.earlier.clear();
  out.push_back(std::move(t));
}

}  // namespace pasokh::gateway::reports
