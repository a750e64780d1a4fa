#include "pasokh/gateway/agent_socket.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/catch_up_claims.hpp"
#include "pasokh/gateway/catch_up_retry.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/read_marks.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/gateway/routing_api.hpp"
#include "pasokh/gateway/ws_frames.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

constexpr std::size_t max_text_chars = 10'000;
constexpr std::size_t max_id_chars = 128;
// Live events a session holds while its welcome or snapshot is built; past
// this it is closed (1013) and the console resumes from its seqs.
constexpr std::size_t max_held_events = 10000;
constexpr std::size_t history_page = 500;
// A catch-up holds its page while the agent reads it: 100 long messages are 4 MB.
constexpr std::size_t catch_up_page = 100;
// The first of each team's queue a welcome lists even when 200 newer
// conversations fill its page: who waits longest, or matters most.
constexpr int queue_head_listed = 25;

class agent_session : public ws_handler, public live_listener, public std::enable_shared_from_this<agent_session> {
 public:
  agent_session(services& s, std::shared_ptr<ws_peer> peer)
      : s_(s), peer_(std::move(peer)), retry_(peer_->executor()) {}

  void start_hello_timer() {
    auto timer = std::make_shared<net::steady_timer>(peer_->executor(), s_.cfg.limits.ws_hello_timeout);
    hello_timer_ = timer;
    timer->async_wait([weak = weak_from_this(), timer](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->agent_) return;
      global_metrics().errors.inc("ws_no_hello");
      self->peer_->close(1008, "no hello within the time limit");
    });
  }

  awaitable<void> on_text(std::string text) override {
    json frame;
    try {
      frame = json::parse(text);
    } catch (const json::parse_error&) {
      global_metrics().errors.inc("ws_not_json");
      peer_->close(1007, "frames must be JSON objects");
      co_return;
    }
    if (!frame.is_object() || !frame.contains("type") || !frame["type"].is_string()) {
      global_metrics().errors.inc("ws_not_json");
      peer_->close(1007, "frames must be JSON objects with a type");
      co_return;
    }
    auto type = frame["type"].get<std::string>();
    try {
      if (!agent_) {
        if (type != "hello") {
          global_metrics().errors.inc("ws_unauthenticated");
          peer_->close(1008, "the first frame must be hello");
          co_return;
        }
        co_await on_hello(frame);
      } else if (type == "reply") {
        co_await on_reply(frame);
      } else if (type == "resolve" || type == "assign" || type == "transfer" || type == "escalate" ||
                 type == "snooze" || type == "reopen") {
        co_await on_action(type, frame);
      } else if (type == "presence") {
        co_await on_presence(frame);
      } else if (type == "history") {
        co_await on_history(frame);
      } else if (type == "read") {
        co_await on_read(frame);
      } else if (type == "ping") {
        bool allowed = co_await still_allowed();
        if (!allowed) co_return;
        send(json{{"type", "pong"}});
        co_await heartbeat("", false);
      } else {
        global_metrics().errors.inc("ws_unknown_type");
        send(error_frame("unknown_type", "unknown frame type: " + type));
      }
    } catch (const json::exception& e) {
      global_metrics().errors.inc("ws_bad_frame");
      send(error_frame("bad_frame", std::string("malformed ") + type + " frame: " + e.what(),
                       client_id_of(frame)));
    }
  }

  void on_closed() override {
    closed_ = true;
    if (hello_timer_) hello_timer_->cancel();
    if (presence_timer_) presence_timer_->cancel();
    if (session_timer_) session_timer_->cancel();
    retry_.stop();
    if (!agent_) return;
    for (const auto& key : hub_keys()) s_.hub.remove(key, this);
    // The session still counts for the presence TTL (a reload comes back
    // within it), unless the agent was signed out or the console fell silent
    // (already unheard for a TTL: waiting another made it two); then the
    // agent is offline unless another session beats. (None yet: the hello
    // was refused before the first beat.)
    if (s_.routing && !session_.empty()) {
      bool gone = signed_out_ || peer_->went_silent();
      net::co_spawn(peer_->executor(), close_presence(s_.routing, agent_->id, session_, gone ? "end" : "close"),
                    net::detached);
    }
  }

  // From the hub (any thread): hop onto the session's strand.
  void deliver(const event_route& route, std::shared_ptr<const std::string> frame) override {
    net::post(peer_->executor(), [self = shared_from_this(), conv = route.conversation, seq = route.seq,
                                  frame = std::move(frame)]() mutable {
      if (self->holding_ > 0) {
        // A console whose snapshot takes this long reconnects and resumes
        // from its seqs instead: what waits here is memory without bound.
        if (self->pending_.size() >= max_held_events) return self->peer_->close(1013, "too many events held for a resync");
        self->pending_.push_back({std::move(conv), seq, std::move(frame)});
      } else
        self->forward(conv, seq, std::move(frame));
    });
  }

  // From the hub (any thread), before resync: live events handled from now
  // on wait until the snapshot is sent.
  void hold_for_resync() override { hold_events(); }

  // Ends of access published while pub/sub was down were missed: checked
  // too. The snapshot's team scans may be shared with the other sessions
  // from `need` on (team_scans.hpp).
  void resync(std::uint64_t need) override {
    net::co_spawn(peer_->executor(), [self = shared_from_this(), need]() -> awaitable<void> {
      events_held_until_done hold{self};  // released even if the snapshot throws
      bool allowed = co_await self->still_allowed();
      if (allowed) co_await self->catch_up_all(need);
    }, net::detached);
  }

  // From the hub (any thread): this session's or all the agent's sessions ended.
  void end_access(const std::string& session, const std::string& reason, bool signed_out) override {
    net::post(peer_->executor(), [self = shared_from_this(), session, reason, signed_out]() mutable {
      if (!session.empty() && session != self->login_session_) return;
      self->close_for(std::move(reason), signed_out);
    });
  }

 private:
  struct pending_event {
    std::string conv;
    std::uint64_t seq;
    std::shared_ptr<const std::string> frame;
  };

  // Admins see everything; agents their teams' conversations and the ones assigned to them anywhere.
  std::vector<std::string> hub_keys() const {
    std::vector<std::string> keys{"agent:" + agent_->id};
    if (agent_->role == "admin") {
      keys.push_back("all");
    } else {
      for (const auto& t : agent_->teams) keys.push_back("team:" + t);
      if (agent_->teams.empty()) keys.push_back("team:" + agent_->team);
    }
    return keys;
  }

  // `signed_out`: the login session is over (no reload will come back).
  void close_for(std::string reason, bool signed_out) {
    global_metrics().errors.inc("ws_access_ended");
    signed_out_ = signed_out;
    peer_->close(1008, std::move(reason));
  }

  // Whether the login session still stands, for the agent and with the rights
  // the socket was opened with; otherwise the socket is closed (1008). A
  // backstop for an end-of-access notice this instance missed. Storage
  // trouble keeps the socket: the next check decides.
  awaitable<bool> still_allowed() {
    auto now = co_await s_.agents.by_session(login_session_);
    if (!now) co_return true;
    if (!*now || (*now)->id != agent_->id) {
      close_for("the session ended; sign in again", true);
      co_return false;
    }
    if ((*now)->role != agent_->role || (*now)->teams != agent_->teams) {
      close_for("your role or teams changed; reconnect", false);
      co_return false;
    }
    co_return true;
  }

  static awaitable<void> close_presence(routing::routing_service* routing, std::string agent, std::string session,
                                        std::string op) {
    co_await routing->presence(std::move(op), std::move(agent), std::move(session), std::string());
  }

  // A heartbeat keeps the agent present (at most one write per third of the TTL).
  awaitable<void> heartbeat(std::string availability, bool force) {
    if (!s_.routing || !agent_) co_return;
    auto now = std::chrono::steady_clock::now();
    if (!force && availability.empty() && now - last_beat_ < s_.routing->config().presence_ttl / 3) co_return;
    last_beat_ = now;
    auto r = co_await s_.routing->presence("beat", agent_->id, session_, std::move(availability));
    if (r && r->found) presence_ = r->after;
  }

  // While the socket is open the agent stays present, pings or not: a
  // console in a background tab pings too seldom for the TTL (browsers wake
  // its timers once a minute). One beat per third of the TTL (a ping's beat
  // counts). A socket gone dead stops them when the transport drops it
  // (make_agent_endpoint's idle timeout).
  void keep_present() {
    if (!s_.routing || closed_) return;
    if (!presence_timer_) presence_timer_ = std::make_shared<net::steady_timer>(peer_->executor());
    auto timer = presence_timer_;
    timer->expires_at(last_beat_ + s_.routing->config().presence_ttl / 3);
    timer->async_wait([weak = weak_from_this(), timer](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      net::co_spawn(self->peer_->executor(), [self]() -> awaitable<void> {
        co_await self->heartbeat("", false);
        self->keep_present();
      }, net::detached);
    });
  }

  // A login session lasts auth.session_ttl and is never extended: its
  // sockets close (1008) when it ends, not at their next ping, so a token that
  // ended reads and writes nothing more (a script that never pings included).
  awaitable<void> close_when_session_ends() {
    auto left = co_await s_.agents.time_left(login_session_);
    if (!left) co_return;  // storage trouble: the pings still check
    if (!*left) {
      close_for("the session ended; sign in again", true);
      co_return;
    }
    if (!session_timer_) session_timer_ = std::make_shared<net::steady_timer>(peer_->executor());
    auto timer = session_timer_;
    timer->expires_after(**left);
    timer->async_wait([weak = weak_from_this(), timer](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      net::co_spawn(self->peer_->executor(), [self]() -> awaitable<void> { co_await self->close_when_session_ends(); },
                    net::detached);
    });
  }

  awaitable<void> on_presence(const json& frame) {
    auto status = frame.value("status", std::string{});
    auto client_id = client_id_of(frame);
    if (status != "online" && status != "away") {
      global_metrics().errors.inc("ws_bad_presence");
      send(error_frame("bad_frame", "presence status is online or away", client_id));
      co_return;
    }
    co_await heartbeat(status, true);
    json ack = {{"type", "ack"}, {"presence", presence_}};
    if (!client_id.empty()) ack["client_id"] = client_id;
    send(ack);
  }

  // The agent has seen the conversation up to `at` (its last customer
  // message's time): kept for every device of theirs (read_marks.hpp).
  awaitable<void> on_read(const json& frame) {
    auto conv = conversation_field(frame, "");
    if (!conv) co_return;
    auto at = frame.find("at");
    if (at == frame.end() || !at->is_number_unsigned()) {
      global_metrics().errors.inc("ws_bad_read");
      send(error_frame("bad_frame", "at: the time (ms) of the newest customer message seen"));
      co_return;
    }
    // A mark from the future would hold forever (marks only move forward):
    // none is later than now (the times are the server's own).
    const auto seen = static_cast<std::int64_t>(std::min<std::uint64_t>(at->get<std::uint64_t>(), routing::now_ms()));
    if (!co_await mark_read(s_.redis, s_.cfg.redis.prefix, agent_->id, *conv, seen))
      global_metrics().errors.inc("redis_unavailable");
  }

  // resolve, assign, transfer, escalate, snooze, reopen: the REST actions over the socket.
  awaitable<void> on_action(const std::string& type, const json& frame) {
    auto client_id = client_id_of(frame);
    auto conv = conversation_field(frame, client_id);
    if (!conv) co_return;
    json body = frame;
    if (body.contains("agent")) body["agent_id"] = body["agent"];
    auto r = co_await perform_action(s_, *agent_, *conv, type, body);
    if (r.status >= 400) {
      if (r.status >= 500) global_metrics().errors.inc("redis_unavailable");
      else global_metrics().errors.inc("ws_action_" + r.code);
      send(error_frame(r.code, r.message, client_id));
      co_return;
    }
    json ack = {{"type", "ack"}, {"conv", *conv}, {"seq", r.seq}};
    if (!client_id.empty()) ack["client_id"] = client_id;
    if (r.code == "unchanged") ack["unchanged"] = true;
    send(ack);
  }

  void send(const json& j) { peer_->send(frame_of(j)); }

  // Live events wait in pending_ while any hold is on (a hello until its
  // welcome is out, a resync until its snapshot is), then go out in order.
  // A hold taken on another thread (the hub's) counts for every event the
  // strand handles after it.
  void hold_events() { ++holding_; }
  void release_events() {
    if (--holding_ > 0) return;
    for (auto& p : std::exchange(pending_, {})) forward(p.conv, p.seq, std::move(p.frame));
  }
  // Releases a hold already taken when the coroutine that owns it ends.
  struct events_held_until_done {
    std::shared_ptr<agent_session> self;
    ~events_held_until_done() {
      try {
        self->release_events();
      } catch (const std::exception& e) {
        spdlog::get("gateway")->warn("agent={} held events not sent: {}", self->agent_->id, e.what());
      }
    }
  };

  // From here on this session gets every live event and holds it until its
  // list is sent: a shared team scan must have started after this.
  routing::team_scans::moment scan_need() { return s_.routing ? s_.routing->scans().now() : 0; }

  // Sends an event unless the agent already has it; a gap (an event missed
  // while pub/sub was reconnecting) is filled from the log first.
  void forward(const std::string& conv, std::uint64_t seq, std::shared_ptr<const std::string> frame) {
    // Delivery marks carry no sequence number (they are not log entries): always pass them on.
    if (seq == 0) {
      peer_->send(std::move(frame));
      return;
    }
    auto& last = last_seq_[conv];
    if (seq <= last) return;
    // Being caught up: the read of the log finds it (one more read if it came after).
    if (catching_up_.defer(conv)) return;
    if (last != 0 && seq > last + 1) {
      net::co_spawn(peer_->executor(), [self = shared_from_this(), conv]() -> awaitable<void> {
        co_await self->catch_up(conv);
      }, net::detached);
      return;
    }
    last = seq;
    peer_->send(std::move(frame));
  }

  // Sends what the agent has not got of the conversation, from its log. One
  // catch-up per conversation at a time: a second call only asks the running
  // one for another read.
  awaitable<void> catch_up(const std::string& conv) {
    if (catching_up_.claim(conv)) co_await send_missed(conv);
  }

  // The catch-up of a conversation claimed in catching_up_ (released here).
  // It waits for the agent to read what it sent before sending more (a gap
  // of many long messages would overflow the send queue: 1013, and the same
  // resume again at every reconnect); live events of the conversation wait
  // in the log meanwhile.
  awaitable<void> send_missed(std::string conv) {
    while (!closed_) {
      catching_up_.reading(conv);
      auto frames = co_await s_.conversations.events_after(conv, last_seq_[conv], catch_up_page);
      if (!frames) {
        catching_up_.release(conv);
        retry_.remember(conv, [self = shared_from_this()](const std::string& c) { return self->catch_up(c); });
        co_return;
      }
      for (auto& f : *frames) {
        auto seq = json::parse(f).value("seq", std::uint64_t{0});
        if (seq <= last_seq_[conv]) continue;
        bool open = co_await room_for(f.size());
        if (!open) {  // the socket is closing
          catching_up_.release(conv);
          co_return;
        }
        last_seq_[conv] = seq;
        peer_->send(std::make_shared<const std::string>(std::move(f)));
      }
      if (frames->size() < catch_up_page && !catching_up_.asked_again(conv)) break;
    }
    catching_up_.release(conv);
  }

  awaitable<bool> room_for(std::size_t frame_bytes) {
    const auto& limits = s_.cfg.limits;
    co_return co_await room_for_catch_up(*peer_, limits.ws_queue_max_bytes, limits.ws_queue_max_messages, frame_bytes);
  }

  awaitable<void> catch_up_all(routing::team_scans::moment need) {
    std::vector<std::string> convs;
    for (auto& [conv, seq] : last_seq_) convs.push_back(conv);
    for (auto& conv : convs) co_await catch_up(conv);
    auto snapshot = co_await open_conversations(need);
    if (snapshot) peer_->send(std::make_shared<const std::string>(R"({"type":"snapshot",)" + *snapshot + "}"));
  }

  // The open conversations the agent sees (every team of theirs, or all for
  // admins), newest first, at most 200, every one assigned to the agent
  // however old, and the head of each team's queue (the next to be assigned,
  // the longest waiting: with a backlog they are the oldest); as the frame
  // members "conversations":[...],"open_total":N,"counts":{...}, N and the
  // counts of each view (as GET /api/v1/conversations counts them) taking in
  // every conversation the agent could see, so the console's badges are
  // right whatever it was sent.
  // `need`: from scan_need(), taken once live events are held.
  awaitable<routing::result<std::string>> open_conversations(routing::team_scans::moment need) {
    if (!s_.routing) {
      auto list = co_await s_.conversations.team_snapshot(agent_->team, 200);
      if (!list) co_return list.error();
      co_return R"("conversations":)" + *list;
    }
    routing::list_request q;
    q.agent = agent_->id;
    q.teams = visible_teams(s_, *agent_);
    q.my_teams = own_teams(*agent_);
    q.limit = 200;
    q.with_own = true;
    q.queue_head = queue_head_listed;
    auto list = co_await s_.routing->list(q, need);
    if (!list) co_return list.error();
    try {
      auto all = json::parse(*list);
      co_return R"("conversations":)" + all.at("conversations").dump(-1, ' ', false, json::error_handler_t::replace) +
          R"(,"open_total":)" + std::to_string(all.at("counts").value("all", std::uint64_t{0})) +
          R"(,"counts":)" + all.at("counts").dump();
    } catch (const json::exception&) {
      co_return make_error_code(store::redis_errc::server_error);
    }
  }

  awaitable<void> on_hello(const json& frame) {
    auto token = string_or_empty(frame, "token");
    if (token.empty()) {
      global_metrics().errors.inc("ws_bad_token");
      peer_->close(1008, "hello needs a token");
      co_return;
    }
    auto who = co_await s_.agents.authenticate(token);
    if (!who) {
      send(error_frame("unavailable", "storage unavailable, retry"));
      peer_->close(1011, "storage unavailable");
      co_return;
    }
    if (!*who) {
      global_metrics().errors.inc("ws_bad_token");
      peer_->close(1008, "invalid or expired token");
      co_return;
    }
    agent_ = **who;
    login_session_ = agent_directory::session_id(token);
    if (hello_timer_) hello_timer_->cancel();
    // Register first and hold live events until the catch-up is sent, so
    // nothing falls between the two.
    hold_events();
    for (const auto& key : hub_keys()) s_.hub.add(key, shared_from_this());
    const auto need = scan_need();
    // An end of access published since the token was checked found no one here.
    bool allowed = co_await still_allowed();
    if (!allowed) co_return;
    session_ = random_token(12);
    auto wanted = frame.value("presence", std::string{});
    if (wanted != "online" && wanted != "away") wanted.clear();
    co_await heartbeat(wanted, true);
    keep_present();
    co_await close_when_session_ends();

    auto snapshot = co_await open_conversations(need);
    std::string conversations = snapshot ? *snapshot : R"("conversations":[])";
    json welcome = {{"type", "welcome"},
                    {"v", 1},
                    {"agent", {{"id", agent_->id}, {"name", agent_->name}, {"team", agent_->team}, {"role", agent_->role},
                               {"teams", agent_->teams}, {"capacity", agent_->capacity}}}};
    if (!presence_.empty()) welcome["presence"] = presence_;
    auto read = co_await read_marks_json(s_.redis, s_.cfg.redis.prefix, agent_->id);
    auto text = welcome.dump();
    text.pop_back();  // splice the snapshot and marks (already JSON) without re-parsing them
    text += "," + conversations + R"(,"read":)" + read + "}";
    peer_->send(std::make_shared<const std::string>(std::move(text)));

    // The resumed conversations are claimed for their catch-up, so their
    // live events wait in the log; the others' go out from here on.
    std::vector<std::string> resumed;
    if (auto resume = frame.find("resume"); resume != frame.end() && resume->is_object()) {
      for (auto& [conv, seq] : resume->items()) {
        if (!seq.is_number_unsigned() || conv.size() > max_id_chars) continue;
        // One that left the agent's teams since (or never was in them) stays behind.
        auto access = co_await access_to(s_, *agent_, conv);
        if (access == conversation_access::unavailable) {
          // Not resumed without its check: the console connects again and asks again.
          peer_->close(1011, "storage unavailable");
          co_return;
        }
        if (access != conversation_access::allowed) continue;
        last_seq_[conv] = seq.get<std::uint64_t>();
        if (catching_up_.claim(conv)) resumed.push_back(conv);
      }
    }
    release_events();
    spdlog::get("gateway")->info("agent={} connected", agent_->id);
    // Paced by the agent's reading, so not in on_text: the transport reads
    // no frame (not even the pong that keeps the socket from its idle
    // timeout) until on_text returns.
    if (!resumed.empty())
      net::co_spawn(peer_->executor(), [self = shared_from_this(), resumed]() -> awaitable<void> {
        for (const auto& conv : resumed) co_await self->send_missed(conv);
      }, net::detached);
  }

  // Validates the fields every conversation command carries.
  std::optional<std::string> conversation_field(const json& frame, const std::string& client_id) {
    auto conv = frame.value("conv", std::string{});
    if (conv.empty() || conv.size() > max_id_chars) {
      send(error_frame("bad_frame", "conv is required", client_id));
      return std::nullopt;
    }
    return conv;
  }

  // Whether the agent may read and act on the conversation (access_to);
  // otherwise the error frame is sent.
  awaitable<bool> may_use(const std::string& conv, const std::string& client_id) {
    co_return allowed_or_refused(co_await access_to(s_, *agent_, conv), client_id);
  }

  // Whether the access allows; otherwise the error frame is sent.
  bool allowed_or_refused(conversation_access access, const std::string& client_id) {
    switch (access) {
      case conversation_access::allowed: return true;
      case conversation_access::not_found: send(error_frame("not_found", "no such conversation", client_id)); break;
      case conversation_access::forbidden:
        global_metrics().errors.inc("forbidden");
        send(error_frame("forbidden", "the conversation is not in your teams", client_id));
        break;
      case conversation_access::unavailable:
        send(error_frame("unavailable", "storage unavailable, retry", client_id));
        break;
    }
    return false;
  }

  // A resend of a reply stored before the conversation left the agent's
  // teams (its ack was lost with the connection) is answered as the
  // duplicate it is, not refused: the console would show it "Not sent".
  awaitable<bool> answered_as_resend(const std::string& conv, const std::string& client_id) {
    auto seq = co_await s_.conversations.stored_reply(conv, client_id, agent_->id);
    if (!seq || !*seq) co_return false;
    routing::append_outcome duplicate;
    duplicate.seq = **seq;
    duplicate.duplicate = true;
    send_result(duplicate, conv, client_id);
    co_return true;
  }

  void send_result(const routing::result<routing::append_outcome>& r, const std::string& conv,
                   const std::string& client_id) {
    if (r) {
      json ack = {{"type", "ack"}, {"conv", conv}, {"seq", r->seq}};
      if (!client_id.empty()) ack["client_id"] = client_id;
      if (r->duplicate) ack["duplicate"] = true;
      send(ack);
    } else if (r.error() == routing::routing_errc::not_found) {
      send(error_frame("not_found", "no such conversation", client_id));
    } else if (r.error() == routing::routing_errc::closed) {
      send(error_frame("closed", "the conversation is closed", client_id));
    } else if (r.error() == routing::routing_errc::author_gone) {
      send(error_frame("forbidden", "your account was removed", client_id));
    } else {
      global_metrics().errors.inc("redis_unavailable");
      send(error_frame("unavailable", "storage unavailable, resend later", client_id));
    }
  }

  awaitable<void> on_reply(const json& frame) {
    auto client_id = client_id_of(frame);
    auto conv = conversation_field(frame, client_id);
    if (!conv) co_return;
    auto text = frame.value("text", std::string{});
    if (client_id.empty() || client_id.size() > max_id_chars) {
      send(error_frame("bad_frame", "client_id is required (at most 128 characters)"));
      co_return;
    }
    if (text.empty() || text.size() > max_text_chars * 4 || !proto::valid_utf8(text)) {
      global_metrics().errors.inc("ws_bad_reply");
      send(error_frame("bad_text", "text must be 1 to 10000 characters of UTF-8", client_id));
      co_return;
    }
    auto access = co_await access_to(s_, *agent_, *conv);
    if (access == conversation_access::forbidden) {
      bool answered = co_await answered_as_resend(*conv, client_id);
      if (answered) co_return;
    }
    if (!allowed_or_refused(access, client_id)) co_return;
    routing::author by{proto::author_kind::agent, agent_->id, agent_->name};
    auto r = co_await s_.conversations.append_reply(*conv, by, client_id, text);
    if (r && r->unserved_channel) {
      refuse_unserved(*r->unserved_channel, client_id);
      co_return;
    }
    send_result(r, *conv, client_id);
  }

  // No live gateway sends on the conversation's channel (removed from the
  // configuration, or its gateways down): the reply was not stored, and
  // the agent is told so at once rather than watching it wait.
  void refuse_unserved(const std::string& channel, const std::string& client_id) {
    global_metrics().channel_unavailable.inc({channel, "refused"});
    auto refused = error_frame("channel_unavailable", "no gateway sends on channel " + channel +
                               " now: the reply was not sent; reach the customer another way", client_id);
    refused["channel"] = channel;
    send(refused);
  }

  awaitable<void> on_history(const json& frame) {
    auto conv = conversation_field(frame, {});
    if (!conv) co_return;
    const std::string no_client_id;
    bool allowed = co_await may_use(*conv, no_client_id);
    if (!allowed) co_return;
    auto after = frame.value("after", std::uint64_t{0});
    auto limit = std::min<std::size_t>(frame.value("limit", history_page), history_page);
    auto frames = co_await s_.conversations.events_after(*conv, after, limit);
    if (!frames) {
      send(error_frame("unavailable", "storage unavailable, retry"));
      co_return;
    }
    auto marks = co_await s_.conversations.delivery_marks(*conv);
    if (!marks) {
      send(error_frame("unavailable", "storage unavailable, retry"));
      co_return;
    }
    // A page also ends once it holds a quarter of the session's send queue:
    // 500 long messages would overflow it (1013) at every opening of the
    // conversation. has_more: ask again after the last event sent.
    const auto max_bytes = s_.cfg.limits.ws_queue_max_bytes / 4;
    std::string text = R"({"type":"history","conv":)" + json(*conv).dump() + R"(,"events":[)";
    std::size_t sent = 0;
    for (std::size_t bytes = 0; sent < frames->size(); ++sent) {
      const auto& f = (*frames)[sent];
      if (sent > 0 && bytes + f.size() > max_bytes) break;
      bytes += f.size();
      text += (sent ? "," : "") + f;
    }
    const bool more = sent < frames->size() || frames->size() >= limit;
    text += R"(],"has_more":)" + std::string(more ? "true" : "false") + R"(,"deliveries":)" + *marks + "}";
    peer_->send(std::make_shared<const std::string>(std::move(text)));
  }

  services& s_;
  std::shared_ptr<ws_peer> peer_;
  std::optional<agent> agent_;
  std::shared_ptr<net::steady_timer> hello_timer_;
  std::shared_ptr<net::steady_timer> presence_timer_;  // keep_present
  std::shared_ptr<net::steady_timer> session_timer_;   // close_when_session_ends
  bool closed_ = false;
  std::map<std::string, std::uint64_t> last_seq_;  // per conversation: the last seq sent
  catch_up_claims catching_up_;
  catch_up_retry retry_;
  std::atomic<int> holding_{0};  // hold_events() not yet released
  bool signed_out_ = false;  // closed because the login session ended (presence ends too)
  std::vector<pending_event> pending_;
  std::string login_session_;  // the token's hash (agent_directory::session_id)
  std::string session_;   // presence session id
  std::string presence_;  // online | away | offline, as last written
  std::chrono::steady_clock::time_point last_beat_{};
};

}  // namespace

ws_endpoint make_agent_endpoint(services& s) {
  return [&s](const http_request&, std::shared_ptr<ws_peer> peer) {
    auto session = std::make_shared<agent_session>(s, std::move(peer));
    session->start_hello_timer();
    // A console that stops answering (a laptop shut, a network gone without
    // a word) is dropped within the presence TTL, and its beats with it
    // (keep_present): routing stops counting on that agent a TTL later.
    std::chrono::steady_clock::duration idle{};
    if (s.routing) idle = s.routing->config().presence_ttl;
    return ws_accept{session, {}, idle};
  };
}

}  // namespace pasokh::gateway
