#include "pasokh/gateway/live_hub.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

void live_hub::add(const std::string& key, const std::shared_ptr<live_listener>& listener) {
  std::lock_guard lock(mutex_);
  listeners_[key].push_back(listener);
}

void live_hub::remove(const std::string& key, const live_listener* listener) {
  std::lock_guard lock(mutex_);
  auto it = listeners_.find(key);
  if (it == listeners_.end()) return;
  std::erase_if(it->second, [&](const auto& weak) {
    auto strong = weak.lock();
    return !strong || strong.get() == listener;
  });
  if (it->second.empty()) listeners_.erase(it);
}

std::vector<std::shared_ptr<live_listener>> live_hub::collect(const std::vector<std::string>& keys) {
  std::vector<std::shared_ptr<live_listener>> out;
  std::lock_guard lock(mutex_);
  for (const auto& key : keys) {
    auto it = listeners_.find(key);
    if (it == listeners_.end()) continue;
    for (const auto& weak : it->second)
      if (auto strong = weak.lock()) out.push_back(std::move(strong));
  }
  // A listener under several keys (an agent in two teams) gets each event once.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool live_hub::dispatch(std::string_view payload) {
  // "header\nframe", or several such pairs joined by newlines (an ingest
  // batch publishes its events together); both are one-line JSON.
  bool all_good = true;
  while (!payload.empty()) {
    auto header_end = payload.find('\n');
    if (header_end == std::string_view::npos) return false;
    auto frame_end = payload.find('\n', header_end + 1);
    if (frame_end == std::string_view::npos) frame_end = payload.size();
    all_good &= dispatch_one(payload.substr(0, header_end), payload.substr(header_end + 1, frame_end - header_end - 1));
    payload.remove_prefix(std::min(frame_end + 1, payload.size()));
  }
  return all_good;
}

namespace {

// One string member of the header; escapes (rare: ids are plain) are decoded
// by the JSON library.
bool read_string(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '"') return false;
  std::size_t end = i + 1;
  bool escaped = false;
  for (; end < s.size() && s[end] != '"'; ++end)
    if (s[end] == '\\') escaped = true, ++end;
  if (end >= s.size()) return false;
  if (!escaped) {
    out.assign(s.substr(i + 1, end - i - 1));
  } else {
    try {
      out = nlohmann::json::parse(s.substr(i, end - i + 1)).get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return false;
    }
  }
  i = end + 1;
  return true;
}

// The header as the Lua scripts write it: a flat object of strings and the
// integer "seq". Read without building a JSON document, since every event
// passes here on every instance; nullopt for anything else.
std::optional<event_route> read_plain_route(std::string_view s) {
  event_route route;
  std::string key, ignored;
  std::size_t i = 0;
  auto skip_space = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) ++i; };
  auto expect = [&](char c) { skip_space(); return i < s.size() && s[i++] == c; };
  if (!expect('{')) return std::nullopt;
  skip_space();
  if (i < s.size() && s[i] == '}') return route;
  do {
    skip_space();
    if (!read_string(s, i, key) || !expect(':')) return std::nullopt;
    skip_space();
    if (key == "seq") {
      auto [end, ec] = std::from_chars(s.data() + i, s.data() + s.size(), route.seq);
      if (ec != std::errc{}) return std::nullopt;
      i = static_cast<std::size_t>(end - s.data());
      continue;
    }
    auto& target = key == "team" ? route.team : key == "conv" ? route.conversation : key == "customer" ? route.customer
                 : key == "assignee" ? route.assignee : key == "from_team" ? route.from_team
                 : key == "previous_assignee" ? route.previous_assignee : ignored;
    if (!read_string(s, i, target)) return std::nullopt;
  } while (expect(','));
  return s[i - 1] == '}' ? std::optional(route) : std::nullopt;
}

// Any other JSON the header may be.
std::optional<event_route> read_route(std::string_view header_text) {
  if (auto plain = read_plain_route(header_text)) return plain;
  try {
    auto header = nlohmann::json::parse(header_text);
    event_route route;
    route.team = header.value("team", "");
    route.conversation = header.value("conv", "");
    route.customer = header.value("customer", "");
    route.assignee = header.value("assignee", "");
    route.from_team = header.value("from_team", "");
    route.previous_assignee = header.value("previous_assignee", "");
    route.seq = header.value("seq", std::uint64_t{0});
    return route;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool live_hub::dispatch_one(std::string_view header_text, std::string_view frame_text) {
  auto route = read_route(header_text);
  if (!route) return false;
  // Sending outside the lock: a listener may unregister while being called.
  // "agent:<id>": the assignee sees its conversations in any team. Admins
  // ("all") see every team's events; a signal with no team (a web chat
  // visitor's own tabs) is nobody's business but the customer's. A team or
  // assignee the conversation just left hears it too (their consoles drop it).
  std::vector<std::string> keys{"customer:" + route->customer};
  if (!route->team.empty()) {
    keys.push_back("team:" + route->team);
    keys.push_back("all");
  }
  if (!route->assignee.empty()) keys.push_back("agent:" + route->assignee);
  if (!route->from_team.empty()) keys.push_back("team:" + route->from_team);
  if (!route->previous_assignee.empty()) keys.push_back("agent:" + route->previous_assignee);
  auto listeners = collect(keys);
  if (listeners.empty()) return true;
  auto frame = std::make_shared<const std::string>(frame_text);
  for (auto& l : listeners) l->deliver(*route, frame);
  return true;
}

bool live_hub::end_access(std::string_view payload) {
  std::string agent, session, reason;
  bool signed_out = false;
  try {
    auto notice = nlohmann::json::parse(payload);
    agent = notice.at("agent").get<std::string>();
    session = notice.value("session", "");
    reason = notice.value("reason", "");
    signed_out = notice.value("signed_out", false);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  if (agent.empty()) return false;
  for (auto& l : collect({"agent:" + agent})) l->end_access(session, reason, signed_out);
  return true;
}

void live_hub::resync_all() {
  std::vector<std::shared_ptr<live_listener>> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, list] : listeners_)
      for (auto& weak : list)
        if (auto strong = weak.lock()) all.push_back(std::move(strong));
  }
  // One list read serves every session whose hold began before it started:
  // all hold first, then the moment is taken (team_scans.hpp).
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (auto& l : all) l->hold_for_resync();
  const std::uint64_t need = resync_moment ? resync_moment() : 0;
  for (auto& l : all) l->resync(need);
}

std::size_t live_hub::listener_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [key, list] : listeners_) n += list.size();
  return n;
}

}  // namespace pasokh::gateway
