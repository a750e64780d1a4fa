#include "pasokh/gateway/live_hub.hpp"

#include <algorithm>

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

bool live_hub::dispatch_one(std::string_view header_text, std::string_view frame_text) {
  event_route route;
  try {
    auto header = nlohmann::json::parse(header_text);
    route.team = header.value("team", "");
    route.conversation = header.value("conv", "");
    route.customer = header.value("customer", "");
    route.assignee = header.value("assignee", "");
    route.seq = header.value("seq", std::uint64_t{0});
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  auto frame = std::make_shared<const std::string>(frame_text);
  // Sending outside the lock: a listener may unregister while being called.
  // "agent:<id>": the assignee sees its conversations in any team. Admins
  // ("all") see every team's events; a signal with no team (a web chat
  // visitor's own tabs) is nobody's business but the customer's.
  std::vector<std::string> keys{"customer:" + route.customer};
  if (!route.team.empty()) {
    keys.push_back("team:" + route.team);
    keys.push_back("all");
  }
  if (!route.assignee.empty()) keys.push_back("agent:" + route.assignee);
  for (auto& l : collect(keys)) l->deliver(route, frame);
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
  for (auto& l : all) l->resync();
}

std::size_t live_hub::listener_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (auto& [key, list] : listeners_) n += list.size();
  return n;
}

}  // namespace pasokh::gateway
