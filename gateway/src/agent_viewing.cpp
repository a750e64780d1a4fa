#include "pasokh/gateway/agent_viewing.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <set>
#include <utility>
#include <vector>

#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/webchat.hpp"
#include "pasokh/gateway/ws_frames.hpp"

namespace pasokh::gateway {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

namespace {

// A conversation the agent may not see is looked up again after this long
// (it may have been assigned to the agent meanwhile).
constexpr std::int64_t refused_for_ms = 60'000;

std::string agent_of(const std::string& member) { return member.substr(0, member.rfind('|')); }

// This session no longer shows the conversation; the others hear of it
// unless another session of the agent still shows it. Static, with its own
// copies: it runs on after a closed session.
awaitable<void> finish(webchat_service& w, std::string team, std::string member, json frame) {
  const std::string conv = frame.at("conv"), no_customer;
  const auto key = w.key("viewing:" + conv);
  std::vector<std::vector<std::string>> commands;
  commands.push_back(store::make_command("ZREM", key, member));
  // Only entries still alive (a score is when its entry lapses): one left by
  // a session whose instance died must not hold the others' view forever.
  commands.push_back(store::make_command("ZRANGE", key, std::to_string(webchat_now_ms()), "+inf", "BYSCORE"));
  auto left = co_await w.core().redis.exec_pipeline(std::move(commands));
  if (left && left->size() == 2)
    for (const auto& other : (*left)[1].elements)
      if (agent_of(other.str) == agent_of(member)) co_return;
  // To the team's agents only, never a customer.
  co_await w.publish_signal(team, conv, no_customer, frame);
}

}  // namespace

agent_viewing::agent_viewing(webchat_service& w, std::string agent_id, std::string name, team_lookup team_of,
                             reply_fn reply)
    : w_(w), agent_id_(std::move(agent_id)), name_(std::move(name)), team_of_(std::move(team_of)),
      reply_(std::move(reply)), member_(agent_id_ + "|" + random_token(8)) {}

json agent_viewing::frame(const std::string& conv, bool state) const {
  return {{"type", "viewing"}, {"conv", conv}, {"agent_id", agent_id_}, {"name", name_}, {"state", state}};
}

awaitable<void> agent_viewing::end() {
  auto ended = frame(std::exchange(shown_, std::string()), false);
  co_await finish(w_, team_, member_, std::move(ended));
}

awaitable<void> agent_viewing::on_frame(const json& j) {
  auto conv = j.find("conv");
  auto state = j.find("state");
  const auto* id = conv != j.end() && conv->is_string() ? &conv->get_ref<const std::string&>() : nullptr;
  if (!id || id->empty() || id->size() > 128 || state == j.end() || !state->is_boolean()) {
    global_metrics().errors.inc("ws_bad_viewing");
    reply_(error_frame("bad_frame", "viewing: conv and state (true or false) are required"));
    co_return;
  }
  const std::string wanted = *id;
  const auto now = webchat_now_ms();
  if (!state->get<bool>()) {
    if (wanted == shown_) co_await end();
    co_return;
  }
  if (wanted == refused_ && now - refused_at_ < refused_for_ms) co_return;
  const bool refresh = wanted == shown_;
  if (refresh && now - since_ < viewing_interval_ms) co_return;
  // Looked up on every refresh too: a transfer moves the viewers to the new team.
  auto team = co_await team_of_(wanted);
  if (!team) {
    refused_ = wanted;
    refused_at_ = now;
    if (!shown_.empty()) co_await end();
    co_return;
  }
  if (!shown_.empty() && (!refresh || *team != team_)) co_await end();
  const bool opened = shown_.empty();
  shown_ = wanted;
  team_ = *team;
  since_ = now;
  refused_.clear();

  // One round trip: listed (with the others read when it just opened), and told.
  const auto key = w_.key("viewing:" + wanted);
  std::vector<std::vector<std::string>> commands;
  commands.push_back(store::make_command("ZREMRANGEBYSCORE", key, "-inf", std::to_string(now)));
  commands.push_back(store::make_command("ZADD", key, std::to_string(now + viewing_lapse_ms), member_));
  commands.push_back(store::make_command("PEXPIRE", key, std::to_string(viewing_lapse_ms)));
  const auto told_at = commands.size();
  commands.push_back(w_.signal_command(team_, wanted, std::string(), frame(wanted, true)));
  if (opened) commands.push_back(store::make_command("ZRANGE", key, "0", "-1"));
  const auto sent = commands.size();
  auto done = co_await w_.core().redis.exec_pipeline(std::move(commands));
  if (!done || done->size() != sent || (*done)[told_at].is_error()) global_metrics().errors.inc("webchat_signal_failed");
  if (opened && done && done->size() == sent) {
    std::set<std::string> told{agent_id_};
    for (const auto& other : done->back().elements)  // the console names them from the agent directory
      if (auto agent = agent_of(other.str); told.insert(agent).second)
        reply_({{"type", "viewing"}, {"conv", wanted}, {"agent_id", agent}, {"state", true}});
  }
}

void agent_viewing::closed(const net::any_io_executor& ex) {
  if (shown_.empty()) return;
  net::co_spawn(ex, finish(w_, team_, member_, frame(shown_, false)), net::detached);
}

}  // namespace pasokh::gateway
