#include "pasokh/routing/inbox_list.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/team_scans.hpp"

namespace pasokh::routing {

namespace {

using boost::asio::awaitable;
using store::reply;
template <class T> using result = boost::system::result<T>;

// Status reads per pipeline: the replies of one are held at once.
constexpr std::size_t reads_per_pipeline = 1000;
// Rows per conv_views call: a row holds Redis about 20 µs.
constexpr std::size_t rows_per_call = 30;

bool is_open(const std::string& status) { return status != "resolved" && status != "closed"; }

double number_of(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

const std::string& text_of(const reply& r) {
  static const std::string none;
  return r.type == reply::kind::string ? r.str : none;
}

// One rule for a view's rows and its count (the console's state.js inView
// says the same): "mine" is the agent's own, snoozed ones included;
// "unassigned" waits for a person (queued), not for the bot.
bool in_view(const std::string& view, const std::string& agent, const std::set<std::string>& my_teams,
             const inbox_candidate& c) {
  if (view == "mine") return c.assignee == agent && (c.status == "assigned" || c.status == "snoozed");
  if (view == "unassigned") return c.status == "queued";
  if (view == "team") return my_teams.contains(c.team);
  return true;
}

bool matches(const list_request& q, const std::set<std::string>& my_teams, const inbox_candidate& c) {
  if (!q.team.empty() && c.team != q.team) return false;
  const bool any_open = q.status.empty() || q.status == "open";
  if (any_open ? !is_open(c.status) : c.status != q.status) return false;
  return in_view(q.view, q.agent, my_teams, c);
}

std::string counts_json(const inbox_counts& n) {
  return R"({"mine":)" + std::to_string(n.mine) + R"(,"unassigned":)" + std::to_string(n.unassigned) +
         R"(,"team":)" + std::to_string(n.team) + R"(,"all":)" + std::to_string(n.all) + "}";
}

// Reads the status, assignee and team of each candidate from `first`, and
// for those from `first_own` (the agent's own ones and queue heads found in
// no team list) their newest activity: pipelines of plain HMGETs, which
// Redis serves between other clients' commands.
awaitable<result<void>> read_states(store::redis_client& redis, const std::string& prefix,
                                    std::vector<inbox_candidate>& candidates, std::size_t first_own,
                                    std::size_t first = 0) {
  for (std::size_t from = first; from < candidates.size(); from += reads_per_pipeline) {
    const auto to = std::min(candidates.size(), from + reads_per_pipeline);
    std::vector<std::vector<std::string>> reads;
    reads.reserve(to - from);
    for (auto i = from; i < to; ++i)
      reads.push_back({"HMGET", prefix + "conv:" + candidates[i].id, "status", "assignee", "team", "updated_at"});
    auto answers = co_await redis.exec_pipeline(std::move(reads));
    if (!answers) co_return answers.error();
    for (auto i = from; i < to; ++i) {
      const auto& fields = (*answers)[i - from].elements;
      if (fields.size() < 4) continue;
      auto& c = candidates[i];
      c.status = text_of(fields[0]);
      c.assignee = text_of(fields[1]);
      c.team = text_of(fields[2]);
      if (i >= first_own) c.score = number_of(text_of(fields[3]));
    }
  }
  co_return result<void>{};
}

// An ended conversation left in a team's open list (by earlier versions)
// would crowd the open ones out of the scan: taken out.
awaitable<void> drop_ended(store::redis_client& redis, const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& ended) {
  if (ended.empty()) co_return;
  std::vector<std::vector<std::string>> removals;
  for (const auto& [team, id] : ended) removals.push_back({"ZREM", prefix + "team:" + team + ":open", id});
  co_await redis.exec_pipeline(std::move(removals));  // best effort: the next list tries again
}

// The page's rows (conv_views, rows_per_call at a time), the total and the counts, as JSON.
awaitable<result<std::string>> page_json(store::redis_client& redis, const std::string& prefix, const list_request& q,
                                         const std::vector<inbox_candidate>& candidates) {
  auto chosen = select_inbox(q, candidates);
  std::string rows;
  for (std::size_t from = 0; from < chosen.page.size(); from += rows_per_call) {
    std::vector<std::string> args{prefix};
    const auto to = std::min(chosen.page.size(), from + rows_per_call);
    args.insert(args.end(), chosen.page.begin() + static_cast<std::ptrdiff_t>(from),
                chosen.page.begin() + static_cast<std::ptrdiff_t>(to));
    auto views = co_await redis.fcall(script(lua::conv_views), {}, std::move(args));
    if (!views) co_return views.error();
    if (views->is_error() || views->str.size() < 2) co_return store::make_error_code(store::redis_errc::server_error);
    if (views->str.size() > 2) rows += (rows.empty() ? "" : ",") + views->str.substr(1, views->str.size() - 2);
  }
  co_return R"({"conversations":[)" + rows + R"(],"total":)" + std::to_string(chosen.total) +
      R"(,"counts":)" + counts_json(chosen.counts) + "}";
}

// One team's scan of its `list` ("open" or "resolved"): the list's newest
// `scan_cap`, then the first `queue_head` of its queue that the list does
// not hold (their score from the hash, as for the agent's own), with their
// states in one pass. Ended ones left in the open list are taken out of it.
awaitable<result<team_scan>> scan_team(store::redis_client& redis, const std::string& prefix, const std::string& team,
                                       const std::string& list, int scan_cap, int queue_head) {
  std::vector<std::vector<std::string>> lists{
      {"ZREVRANGE", prefix + "team:" + team + ":" + list, "0", std::to_string(std::max(scan_cap, 1) - 1), "WITHSCORES"}};
  if (queue_head > 0) lists.push_back({"ZRANGE", prefix + "queue:" + team, "0", std::to_string(queue_head - 1)});
  auto answers = co_await redis.exec_pipeline(std::move(lists));
  if (!answers) co_return answers.error();

  std::vector<inbox_candidate> read;
  std::unordered_map<std::string, std::size_t> at;
  const auto& ids = (*answers)[0].elements;
  for (std::size_t i = 0; i + 1 < ids.size(); i += 2)
    if (at.emplace(ids[i].str, read.size()).second) read.push_back({ids[i].str, number_of(ids[i + 1].str), {}, {}, {}, false});
  const auto listed = read.size();
  std::vector<std::string> heads;
  if (queue_head > 0)
    for (const auto& id : (*answers)[1].elements) {
      heads.push_back(id.str);
      if (at.emplace(id.str, read.size()).second) read.push_back({id.str, 0, {}, {}, {}, false});
    }
  auto states = co_await read_states(redis, prefix, read, listed);
  if (!states) co_return states.error();

  if (list == "open") {
    std::vector<std::pair<std::string, std::string>> left_behind;
    for (std::size_t i = 0; i < listed; ++i)
      if (!read[i].status.empty() && !is_open(read[i].status)) left_behind.emplace_back(team, read[i].id);
    co_await drop_ended(redis, prefix, left_behind);
  }

  team_scan scan;
  for (const auto& id : heads) {
    auto head = read[at[id]];
    head.queue_head = true;
    scan.queue_heads.push_back(std::move(head));
  }
  read.resize(listed);
  scan.listed = std::move(read);
  co_return scan;
}

// The list's JSON from each team's scan (in q.teams' order) and the agent's
// own. The one builder of candidates, whether the scans were shared or not,
// so that select_inbox orders ties alike: each once, from the first team
// list naming it, then the agent's own (their states read here: per agent)
// and the queue heads from no list.
awaitable<result<std::string>> list_from_scans(store::redis_client& redis, const std::string& prefix,
                                               const list_request& q, const std::vector<const team_scan*>& parts) {
  auto own = co_await redis.exec(store::make_command("SMEMBERS", prefix + "agent:" + q.agent + ":convs"));
  if (!own) co_return own.error();
  if (own->is_error()) co_return store::make_error_code(store::redis_errc::server_error);

  std::vector<inbox_candidate> candidates;
  std::unordered_map<std::string, std::size_t> seen;
  for (const auto* part : parts)
    for (const auto& c : part->listed)
      if (seen.emplace(c.id, candidates.size()).second) candidates.push_back(c);
  const auto first_own = candidates.size();
  for (const auto& id : own->elements)
    if (seen.emplace(id.str, candidates.size()).second) candidates.push_back({id.str, 0, {}, {}, {}, false});
  auto states = co_await read_states(redis, prefix, candidates, first_own, first_own);
  if (!states) co_return states.error();
  for (const auto* part : parts)
    for (const auto& head : part->queue_heads) {
      auto [at, added] = seen.emplace(head.id, candidates.size());
      if (added) candidates.push_back(head);
      candidates[at->second].queue_head = true;
    }
  co_return co_await page_json(redis, prefix, q, candidates);
}

}  // namespace

inbox_selection select_inbox(const list_request& q, const std::vector<inbox_candidate>& candidates) {
  const std::set<std::string> my_teams(q.my_teams.begin(), q.my_teams.end());
  inbox_selection out;
  std::vector<const inbox_candidate*> rows;
  for (const auto& c : candidates) {
    if (c.status.empty()) continue;  // gone
    if (is_open(c.status)) {
      ++out.counts.all;
      if (in_view("team", q.agent, my_teams, c)) ++out.counts.team;
      if (in_view("mine", q.agent, my_teams, c)) ++out.counts.mine;
      if (in_view("unassigned", q.agent, my_teams, c)) ++out.counts.unassigned;
    }
    if (matches(q, my_teams, c)) rows.push_back(&c);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) { return a->score > b->score; });
  out.total = rows.size();
  const auto begin = std::min<std::size_t>(rows.size(), static_cast<std::size_t>(std::max(q.offset, 0)));
  const auto end = std::min<std::size_t>(rows.size(), begin + static_cast<std::size_t>(std::max(q.limit, 0)));
  for (auto i = begin; i < end; ++i) out.page.push_back(rows[i]->id);
  for (auto i = end; i < rows.size(); ++i) {
    const auto& c = *rows[i];
    if ((q.with_own && c.assignee == q.agent) || (c.queue_head && c.status == "queued")) out.page.push_back(c.id);
  }
  return out;
}

awaitable<result<team_scan>> read_team_scan(store::redis_client& redis, const std::string& prefix,
                                            const std::string& team, int scan_cap, int queue_head) {
  const std::string list = "open";
  co_return co_await scan_team(redis, prefix, team, list, scan_cap, queue_head);
}

// Each team's scan read for this caller alone (resolved and closed ones
// from the team's resolved list, with no queue heads).
awaitable<result<std::string>> read_inbox_list(store::redis_client& redis, const std::string& prefix,
                                               const list_request& q) {
  const bool ended = q.status == "resolved" || q.status == "closed";
  const std::string list = ended ? "resolved" : "open";
  const int queue_head = ended ? 0 : q.queue_head;
  std::vector<team_scan> scans;
  scans.reserve(q.teams.size());
  for (const auto& t : q.teams) {
    auto part = co_await scan_team(redis, prefix, t, list, q.scan_cap, queue_head);
    if (!part) co_return part.error();
    scans.push_back(std::move(*part));
  }
  std::vector<const team_scan*> parts;
  for (const auto& s : scans) parts.push_back(&s);
  co_return co_await list_from_scans(redis, prefix, q, parts);
}

awaitable<result<std::string>> read_inbox_list(store::redis_client& redis, const std::string& prefix,
                                               const list_request& q, team_scans& scans, team_scans::moment need) {
  if (!q.status.empty() && q.status != "open") co_return co_await read_inbox_list(redis, prefix, q);
  std::vector<team_scans::shared_scan> shared;
  for (const auto& t : q.teams) {
    auto part = co_await scans.read(t, q.scan_cap, q.queue_head, need);
    if (!part) co_return part.error();
    shared.push_back(std::move(*part));
  }
  std::vector<const team_scan*> parts;
  for (const auto& s : shared) parts.push_back(s.get());
  co_return co_await list_from_scans(redis, prefix, q, parts);
}

}  // namespace pasokh::routing
