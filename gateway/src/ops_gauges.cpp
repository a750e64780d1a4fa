#include "pasokh/gateway/ops_gauges.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>
#include <utility>
#include <vector>

#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/outbox.hpp"

namespace pasokh::gateway {

namespace {

using boost::asio::awaitable;
using store::reply;

// When Redis cannot say how many entries are unread they are counted one by
// one, up to this many per channel: enough to alert on. A scrape may do it for
// every channel, hence the cached reading below.
constexpr int unread_count_limit = 1000;
constexpr auto gauges_kept_for = std::chrono::seconds(5);

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::optional<std::int64_t> stream_id_ms(std::string_view id) {
  auto dash = id.find('-');
  if (dash == 0 || dash == std::string_view::npos) return std::nullopt;
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + dash, ms);
  if (ec != std::errc() || end != id.data() + dash) return std::nullopt;
  return ms;
}

outbox_group_state parse_outbox_group(const reply& xinfo_groups, const reply& xpending_summary) {
  outbox_group_state out;
  if (xinfo_groups.is_error()) return out;  // no stream yet: nothing queued
  const reply* group = nullptr;
  for (const auto& g : xinfo_groups.elements)
    for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2)
      if (g.elements[i].str == "name" && g.elements[i + 1].str == routing::outbox_group) group = &g;
  if (!group) {
    out.unread_unknown = true;  // a stream no worker has made its group for: all of it is unread
    return out;
  }
  bool lag_known = false;
  for (std::size_t i = 0; i + 1 < group->elements.size(); i += 2) {
    const auto& name = group->elements[i].str;
    const auto& value = group->elements[i + 1];
    if (name == "pending") out.pending = value.as_int();
    if (name == "last-delivered-id") out.last_read_id = value.str;
    if (name == "lag" && !value.is_nil()) {
      out.unread = value.as_int();
      lag_known = true;
    }
  }
  out.unread_unknown = !lag_known;
  // [count, smallest id, greatest id, consumers]; ids nil when none.
  if (!xpending_summary.is_error() && xpending_summary.elements.size() >= 2 && xpending_summary.elements[0].as_int() > 0)
    out.oldest_pending_id = xpending_summary.elements[1].str;
  return out;
}

namespace {

awaitable<std::string> read_gauges_now(services& s) {
  const auto& prefix = s.cfg.redis.prefix;
  const auto teams = all_team_ids(s);  // whose queues to show
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back(store::make_command("TIME"));  // entry ids are on Redis's clock
  for (const auto& ch : s.cfg.channels) {
    auto key = routing::outbox_key(prefix, ch.id);
    cmds.push_back(store::make_command("XINFO", "GROUPS", key));
    cmds.push_back(store::make_command("XPENDING", key, std::string(routing::outbox_group)));
  }
  for (const auto& t : teams) {
    cmds.push_back(store::make_command("ZCARD", prefix + "queue:" + t));
    cmds.push_back(store::make_command("ZCARD", prefix + "team:" + t + ":avail"));
  }
  auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
  if (!rows || rows->size() != 1 + 2 * (s.cfg.channels.size() + teams.size())) co_return std::string();
  const auto& time = (*rows)[0].elements;
  const std::int64_t now_ms = time.size() == 2 ? to_int(time[0].str) * 1000 + to_int(time[1].str) / 1000 : 0;

  std::vector<outbox_group_state> outboxes;
  std::vector<std::vector<std::string>> unread_reads;
  std::vector<std::size_t> unread_of;  // unread_reads[i] is of outboxes[unread_of[i]]
  for (std::size_t i = 0; i < s.cfg.channels.size(); ++i) {
    auto& o = outboxes.emplace_back(parse_outbox_group((*rows)[1 + 2 * i], (*rows)[2 + 2 * i]));
    if (!o.needs_unread_entries()) continue;
    const int count = o.unread_unknown ? unread_count_limit : 1;
    unread_reads.push_back(store::make_command("XRANGE", routing::outbox_key(prefix, s.cfg.channels[i].id),
                                               o.unread_range_start(), "+", "COUNT", std::to_string(count)));
    unread_of.push_back(i);
  }
  std::vector<std::string> oldest_unread(outboxes.size());
  if (!unread_reads.empty()) {
    auto unread = co_await s.redis.exec_pipeline(std::move(unread_reads));
    if (!unread || unread->size() != unread_of.size()) co_return std::string();
    for (std::size_t k = 0; k < unread_of.size(); ++k) {
      auto& o = outboxes[unread_of[k]];
      const auto& entries = (*unread)[k].elements;
      if (o.unread_unknown) o.unread = static_cast<std::int64_t>(entries.size());
      if (!entries.empty() && !entries[0].elements.empty()) oldest_unread[unread_of[k]] = entries[0].elements[0].str;
    }
  }

  std::vector<std::pair<std::string, double>> pending, age, queued, available;
  for (std::size_t i = 0; i < outboxes.size(); ++i) {
    const auto& o = outboxes[i];
    const auto& channel = s.cfg.channels[i].id;
    pending.emplace_back(channel, static_cast<double>(o.pending + o.unread));
    // Pending entries were all read before any unread one: the oldest is among them.
    const auto& oldest = o.oldest_pending_id.empty() ? oldest_unread[i] : o.oldest_pending_id;
    auto since = stream_id_ms(oldest);
    age.emplace_back(channel, since && now_ms > 0 ? std::max<std::int64_t>(0, now_ms - *since) / 1000.0 : 0.0);
  }
  const std::size_t team_rows = 1 + 2 * s.cfg.channels.size();
  for (std::size_t j = 0; j < teams.size(); ++j) {
    queued.emplace_back(teams[j], static_cast<double>((*rows)[team_rows + 2 * j].as_int()));
    available.emplace_back(teams[j], static_cast<double>((*rows)[team_rows + 2 * j + 1].as_int()));
  }
  std::string out;
  render_gauge(out, "pasokh_outbox_pending_messages",
               "Messages in the channel's outbox not sent yet: being sent, waiting to retry, or not read by a worker yet",
               "channel", pending);
  render_gauge(out, "pasokh_outbox_oldest_pending_age_seconds",
               "Age of the channel's oldest outbox message not sent yet; 0 when there is none", "channel", age);
  render_gauge(out, "pasokh_team_queued_conversations", "Conversations waiting in the team's queue for an agent", "team",
               queued);
  render_gauge(out, "pasokh_team_agents_available",
               "Agents of the team online with room for one more conversation", "team", available);
  co_return out;
}

// One reading for the process; scrapes on other threads wait for the lock only
// to copy the text, not while Redis is read.
struct shared_reading {
  std::mutex lock;
  gauge_cache cache{gauges_kept_for};
};

shared_reading& last_reading() {
  static shared_reading r;
  return r;
}

}  // namespace

awaitable<std::string> read_ops_gauges(services& s) {
  auto& last = last_reading();
  {
    std::lock_guard held(last.lock);
    if (auto text = last.cache.fresh(gauge_cache::clock::now())) co_return std::move(*text);
  }
  auto text = co_await read_gauges_now(s);
  if (!text.empty()) {  // Redis not answering is not kept: its return shows at once
    std::lock_guard held(last.lock);
    last.cache.keep(text, gauge_cache::clock::now());
  }
  co_return text;
}

}  // namespace pasokh::gateway
