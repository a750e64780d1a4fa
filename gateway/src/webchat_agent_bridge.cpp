// Web chat additions to the agent socket, as a decorator around the agent
// endpoint (agent_socket.cpp is untouched):
//  - client frame {"type":"typing","conv","state"} → relayed to the other
//    agents of the conversation's team on any channel (the console warns of
//    two replies at once), and to the customer on web chat;
//  - client frame {"type":"viewing","conv","state"} → relayed to the other
//    agents of the team only (the console shows who else has it open;
//    agent_viewing.cpp);
//  - server frames {"type":"typing"|"receipt","conv","who":"customer",...}
//    from the customers of the agent's teams, and other agents' typing;
//  - the session counts as presence for the widget's "no agent online"
//    while the agent is online, not away (webchat_agents_online, routing_lib.lua).
// The agent is learnt from the inner protocol's own welcome frame.
#include <boost/asio/post.hpp>

#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/agent_viewing.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/webchat.hpp"
#include "pasokh/gateway/ws_frames.hpp"

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

class agent_bridge;

// Passes everything to the transport, watching for the welcome frame.
class bridge_peer : public ws_peer {
 public:
  explicit bridge_peer(std::shared_ptr<ws_peer> real) : real_(std::move(real)) {}
  void send(std::shared_ptr<const std::string> frame) override;
  void close(std::uint16_t code, std::string reason) override { real_->close(code, std::move(reason)); }
  net::awaitable<bool> drained_to(std::size_t bytes, std::size_t frames) override {
    return real_->drained_to(bytes, frames);
  }
  net::any_io_executor executor() const override { return real_->executor(); }
  bool went_silent() const override { return real_->went_silent(); }

  std::shared_ptr<ws_peer> real_;
  std::weak_ptr<agent_bridge> bridge_;
  std::atomic<bool> welcomed_{false};
};

class agent_bridge : public ws_handler, public live_listener, public std::enable_shared_from_this<agent_bridge> {
 public:
  agent_bridge(webchat_service& w, std::shared_ptr<bridge_peer> peer) : w_(w), peer_(std::move(peer)) {}

  void set_inner(std::shared_ptr<ws_handler> inner) { inner_ = std::move(inner); }

  awaitable<void> on_text(std::string text) override {
    // Cheap test first: only typing and viewing frames are ours.
    if (!agent_id_.empty() &&
        (text.find("\"typing\"") != std::string::npos || text.find("\"viewing\"") != std::string::npos)) {
      auto j = json::parse(text, nullptr, false);
      auto type = j.is_object() ? j.value("type", json()) : json();
      if (type == "typing") {
        co_await on_typing(j);
        co_return;
      }
      if (type == "viewing") {
        co_await viewing_->on_frame(j);
        co_return;
      }
    }
    co_await inner_->on_text(std::move(text));
  }

  void on_closed() override {
    inner_->on_closed();
    if (viewing_) viewing_->closed(peer_->executor());
    if (!agent_id_.empty()) {
      for (const auto& t : teams_) w_.agent_offline(t, agent_id_);
      for (const auto& k : hub_keys()) w_.signals().remove(k, this);
    }
  }

  // Runs on the session's strand (the inner protocol sends from it).
  bool on_welcome(const std::string& frame) {
    try {
      auto j = json::parse(frame);
      if (j.value("type", "") != "welcome") return false;
      const auto& a = j.at("agent");
      agent_id_ = a.value("id", "");
      name_ = a.value("name", "");
      admin_ = a.value("role", "") == "admin";
      if (auto t = a.find("teams"); t != a.end() && t->is_array())
        for (const auto& team : *t)
          if (team.is_string()) teams_.insert(team.get<std::string>());
      if (teams_.empty()) teams_.insert(a.value("team", ""));
    } catch (const json::exception&) {
      return false;
    }
    if (agent_id_.empty()) return false;
    viewing_.emplace(
        w_, agent_id_, name_,
        [this](const std::string& conv) -> awaitable<std::optional<std::string>> {
          auto facts = co_await visible(conv, "ws_viewing_forbidden");
          if (!facts) co_return std::nullopt;
          co_return facts->team;
        },
        [this](const json& f) { peer_->real_->send(frame_of(f)); });
    for (const auto& t : teams_) w_.agent_online(t, agent_id_);
    for (const auto& k : hub_keys()) w_.signals().add(k, shared_from_this());
    return true;
  }

  void deliver(const event_route& route, std::shared_ptr<const std::string> frame) override {
    if (route.seq != 0) return;
    net::post(peer_->executor(), [self = shared_from_this(), frame = std::move(frame)] {
      // Not the agent's own typing echoed back.
      if (frame->find("\"agent_id\":" + json(self->agent_id_).dump()) != std::string::npos) return;
      self->peer_->real_->send(frame);
    });
  }
  void resync(std::uint64_t) override {}

 private:
  std::vector<std::string> hub_keys() const {
    if (admin_) return {"all"};
    std::vector<std::string> keys;
    for (const auto& t : teams_) keys.push_back("team:" + t);
    return keys;
  }

  // The team, customer and channel kind of a conversation this agent may see
  // (an admin: any; an agent: its teams' and its own); nothing when it is
  // unknown or not the agent's (counted as `forbidden`).
  struct conversation_facts {
    std::string team, customer, kind;
  };
  awaitable<std::optional<conversation_facts>> visible(const std::string& conv, const char* forbidden) {
    auto r = co_await w_.core().redis.exec(
        store::make_command("HMGET", w_.key("conv:" + conv), "team", "customer_id", "kind", "assignee"));
    if (!r || r->is_error() || r->elements.size() != 4 || r->elements[0].is_nil()) co_return std::nullopt;
    conversation_facts facts{r->elements[0].str, r->elements[1].str, r->elements[2].str};
    if (!admin_ && !teams_.contains(facts.team) && r->elements[3].str != agent_id_) {
      global_metrics().errors.inc(forbidden);
      co_return std::nullopt;
    }
    co_return facts;
  }

  awaitable<void> on_typing(const json& j) {
    auto conv = j.value("conv", json()).is_string() ? j["conv"].get<std::string>() : std::string{};
    bool state = j.value("state", json(true)).is_boolean() ? j.value("state", true) : true;
    if (conv.empty() || conv.size() > 128) co_return;
    auto now = webchat_now_ms();
    auto& last = last_typing_[conv];
    if (state && now - last < typing_interval_ms) co_return;
    if (!state && last == 0) co_return;
    last = state ? now : 0;
    if (last_typing_.size() > 64) last_typing_.clear();
    auto facts = co_await visible(conv, "webchat_typing_forbidden");
    if (!facts) co_return;
    json frame = {{"type", "typing"}, {"conv", conv},   {"who", "agent"},
                  {"agent_id", agent_id_}, {"name", name_}, {"state", state}};
    // Only a web chat customer sees it; on other channels only the agents do.
    // (Named arguments: GCC 12 mishandles temporaries inside co_await.)
    auto customer = facts->kind == "webchat" ? facts->customer : std::string();
    co_await w_.publish_signal(facts->team, conv, customer, frame);
  }

  webchat_service& w_;
  std::shared_ptr<bridge_peer> peer_;
  std::shared_ptr<ws_handler> inner_;
  std::string agent_id_, name_;
  std::set<std::string> teams_;
  bool admin_ = false;
  std::map<std::string, std::int64_t> last_typing_;
  std::optional<agent_viewing> viewing_;  // from the welcome on
};

void bridge_peer::send(std::shared_ptr<const std::string> frame) {
  if (!welcomed_.load(std::memory_order_relaxed) && frame->find("\"welcome\"") != std::string::npos) {
    if (auto b = bridge_.lock(); b && b->on_welcome(*frame)) welcomed_ = true;
  }
  real_->send(std::move(frame));
}

}  // namespace

ws_endpoint webchat_service::bridge_agent_endpoint(ws_endpoint inner) {
  return [this, inner = std::move(inner)](const http_request& req, std::shared_ptr<ws_peer> peer) -> ws_accept {
    auto wrapped = std::make_shared<bridge_peer>(std::move(peer));
    auto bridge = std::make_shared<agent_bridge>(*this, wrapped);
    wrapped->bridge_ = bridge;
    auto accepted = inner(req, wrapped);
    if (!accepted.handler) return accepted;
    bridge->set_inner(std::move(accepted.handler));
    return {bridge, {}, accepted.idle_timeout};
  };
}

}  // namespace pasokh::gateway
