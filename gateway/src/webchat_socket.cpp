// The customer WebSocket (/ws/chat): hello with a visitor token, replay of the
// conversation log after the widget's last seq, live events for the customer,
// idempotent messages (the client id is the ingest dedup key), typing, read
// marks, queue position. Mirrors agent_socket.cpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/bot/language.hpp"
#include "pasokh/gateway/catch_up_claims.hpp"
#include "pasokh/gateway/catch_up_retry.hpp"
#include "pasokh/gateway/followup.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/webchat.hpp"
#include "pasokh/gateway/webchat_token.hpp"
#include "pasokh/gateway/webchat_uploads.hpp"
#include "pasokh/gateway/webchat_verify.hpp"
#include "pasokh/gateway/ws_frames.hpp"

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

// A catch-up holds its page while the widget reads it: 100 long answers are 4 MB.
constexpr std::size_t catch_up_page = 100;
constexpr std::size_t max_followed = 8;           // conversations one session tracks
constexpr int max_frames_per_minute = 120;        // all frame types, per session

// The welcome's {conv: customer_read_seq} of the conversations it replays:
// the widget counts the replies after them as unread (after a page change).
json read_marks(const visitor_state& v) {
  json marks = json::object();
  if (!v.asked_conv.empty()) marks[v.asked_conv] = v.asked_read_seq;
  if (!v.open_conv.empty()) marks[v.open_conv] = v.open_read_seq;
  return marks;
}

class chat_session : public ws_handler,
                     public live_listener,
                     public queue_watcher,
                     public std::enable_shared_from_this<chat_session> {
 public:
  chat_session(webchat_service& w, const webchat_channel& channel, std::shared_ptr<ws_peer> peer)
      : w_(w), channel_(channel), peer_(std::move(peer)), retry_(peer_->executor()) {}

  void start_hello_timer() {
    timer_ = std::make_shared<net::steady_timer>(peer_->executor(), w_.core().cfg.limits.ws_hello_timeout);
    timer_->async_wait([weak = weak_from_this(), timer = timer_](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->authed_) return;
      global_metrics().errors.inc("ws_no_hello");
      self->fail(1008, "no_hello", "no hello within the time limit");
    });
  }

  awaitable<void> on_text(std::string text) override {
    if (closing_) co_return;
    if (!count_frame()) {
      global_metrics().errors.inc("webchat_flood");
      fail(1008, "rate_limited", "too many frames; slow down and reconnect later");
      co_return;
    }
    auto parsed = parse_client_frame(text, {w_.cfg().max_message_chars, 128});
    if (auto* err = std::get_if<frame_error>(&parsed)) {
      global_metrics().errors.inc("webchat_" + err->code);
      if (err->close_code) {
        fail(err->close_code, err->code, err->message);
      } else {
        json e = error_frame(err->code, err->message, err->client_id);
        send(e);
      }
      co_return;
    }
    auto& frame = std::get<client_frame>(parsed);
    if (!authed_) {
      auto* hello = std::get_if<hello_frame>(&frame);
      if (!hello) {
        global_metrics().errors.inc("ws_unauthenticated");
        fail(1008, "no_hello", "the first frame must be hello");
        co_return;
      }
      co_await on_hello(*hello);
    } else if (auto* m = std::get_if<message_frame>(&frame)) {
      co_await on_message(*m);
    } else if (auto* t = std::get_if<typing_frame>(&frame)) {
      co_await on_typing(*t);
    } else if (auto* s = std::get_if<seen_frame>(&frame)) {
      co_await on_seen(*s);
    } else if (auto* c = std::get_if<contact_frame>(&frame)) {
      co_await on_contact(*c);
    } else if (auto* v = std::get_if<verify_email_frame>(&frame)) {
      co_await on_verify_email(*v);
    } else if (std::holds_alternative<ping_frame>(frame)) {
      send(json{{"type", "pong"}});
    } else {
      send(error_frame("bad_frame", "hello was already received"));
    }
  }

  void on_closed() override {
    closing_ = true;
    queue_watching_ = false;
    if (timer_) timer_->cancel();
    retry_.stop();
    unregister();
    if (socket_id_) w_.sockets().remove(sockets_key(), socket_id_);
  }

  // From the hubs (any thread): hop onto the session's strand. Events have
  // seq >= 1; typing and receipt signals have seq 0.
  void deliver(const event_route& route, std::shared_ptr<const std::string> frame) override {
    net::post(peer_->executor(), [self = shared_from_this(), conv = route.conversation, seq = route.seq,
                                  frame = std::move(frame)]() mutable {
      if (self->closing_) return;
      if (seq == 0)
        self->signal(*frame);
      else if (self->resuming_)
        self->pending_.push_back({std::move(conv), seq, std::move(frame)});
      else
        self->forward(*frame, seq);
    });
  }

  void resync(std::uint64_t) override {
    net::co_spawn(peer_->executor(), [self = shared_from_this()]() -> awaitable<void> {
      co_await self->catch_up_all();
    }, net::detached);
  }

 private:
  struct followed {
    std::string conv;
    std::uint64_t last = 0;  // the last seq the widget has been sent
    std::string team;
    std::string status;
    std::uint64_t delivered = 0, read = 0;  // marks already stored
    bool side = false;  // a side conversation: a rating that opened one, closed at once
  };
  struct pending_event {
    std::string conv;
    std::uint64_t seq;
    std::shared_ptr<const std::string> frame;
  };

  void send(const json& j) { peer_->send(frame_of(j)); }

  void fail(std::uint16_t code, std::string_view error_code, std::string_view message) {
    if (closing_) return;
    send(error_frame(error_code, message));
    closing_ = true;
    peer_->close(code, std::string(error_code));
  }

  bool count_frame() {
    auto now = std::chrono::steady_clock::now();
    if (now - window_start_ > std::chrono::minutes(1)) {
      window_start_ = now;
      frames_in_window_ = 0;
    }
    return ++frames_in_window_ <= max_frames_per_minute;
  }

  followed* find(std::string_view conv) {
    for (auto& f : followed_)
      if (f.conv == conv) return &f;
    return nullptr;
  }

  followed& follow(const std::string& conv, std::uint64_t after) {
    if (auto* f = find(conv)) return *f;
    if (followed_.size() >= max_followed) followed_.erase(followed_.begin());
    followed_.push_back({conv, after, {}, {}, 0, 0});
    return followed_.back();
  }

  // The conversation the customer is writing in: the newest one followed,
  // never a side conversation (as in the widget, the one it rated stays current).
  followed* current() {
    auto it = std::find_if(followed_.rbegin(), followed_.rend(), [](const followed& f) { return !f.side; });
    return it == followed_.rend() ? nullptr : &*it;
  }

  // Listens on the customer's hub key. Another customer than the one listened
  // on moves the registration: the visitor's file was erased and their next
  // message opened a new one, whose replies would never reach this socket.
  void register_customer(const std::string& customer) {
    if (customer == customer_ || customer.empty()) return;
    unregister_customer();
    customer_ = customer;
    auto self = shared_from_this();
    w_.core().hub.add("customer:" + customer_, self);
    w_.signals().add("customer:" + customer_, self);
  }

  // Before the visitor's first message there is no customer id to listen on:
  // listen on the visitor, so that another tab's first message reaches this one.
  std::string visitor_key() const { return "customer:v:" + channel_.config->id + ":" + visitor_; }

  std::string sockets_key() const { return channel_.config->id + ":" + visitor_; }

  // Counted among the visitor's sockets here; the ones past the cap close.
  void hold_socket() {
    socket_id_ = w_.sockets().next_id();
    auto close = [weak = weak_from_this()](visitor_sockets::close_why why) {
      if (auto self = weak.lock()) self->closed_from_outside(why);
    };
    for (auto& past_cap : w_.sockets().add(sockets_key(), socket_id_, std::move(close)))
      past_cap(visitor_sockets::close_why::replaced);
  }

  // A newer socket of the visitor took this one's place, or End chat ended
  // the visitor (any thread). The widget reconnects a replaced tab only when
  // the customer comes back to it.
  void closed_from_outside(visitor_sockets::close_why why) {
    net::post(peer_->executor(), [self = shared_from_this(), why] {
      if (self->closing_) return;
      if (why == visitor_sockets::close_why::ended) {
        self->refuse_ended();
        return;
      }
      global_metrics().errors.inc("webchat_too_many_sockets");
      self->fail(1008, "too_many_sockets", "the chat is open in too many other tabs or windows; this one was closed");
    });
  }

  // The visitor's token, however valid its signature, is no more (End chat).
  void refuse_ended() {
    global_metrics().errors.inc("webchat_token_ended");
    fail(1008, "token_invalid", "this chat was ended; start a new session");
  }

  void unregister() {
    if (!visitor_.empty()) w_.signals().remove(visitor_key(), this);
    unregister_customer();
  }

  void unregister_customer() {
    if (customer_.empty()) return;
    w_.core().hub.remove("customer:" + customer_, this);
    w_.signals().remove("customer:" + customer_, this);
  }

  // Sends one event unless the widget has it; fills a gap from the log first.
  void forward(const std::string& frame, std::uint64_t seq) {
    event_meta meta;
    auto view = customer_event_frame(frame, &meta);
    // A customer's other channels reach the same hub key: not for this widget.
    if (meta.conv.empty() || meta.channel != channel_.config->id) return;
    auto* f = find(meta.conv);
    if (!f) f = &follow(meta.conv, 0);
    if (seq <= f->last) return;
    // Being caught up: the read of the log finds it (one more read if it came after).
    if (catching_up_.defer(meta.conv)) return;
    if (seq > f->last + 1) {
      net::co_spawn(peer_->executor(), [self = shared_from_this(), conv = meta.conv]() -> awaitable<void> {
        co_await self->catch_up(conv);
      }, net::detached);
      return;
    }
    apply(*f, meta, view);
  }

  void apply(followed& f, const event_meta& meta, const std::optional<std::string>& view) {
    f.last = meta.seq;
    if (!meta.team.empty()) f.team = meta.team;
    bool became_queued = meta.status == "queued" && f.status != "queued";
    if (!meta.status.empty()) f.status = meta.status;
    if (!meta.side_of.empty()) f.side = true;
    if (view) peer_->send(std::make_shared<const std::string>(*view));
    if (became_queued && !resuming_ && &f == current()) start_queue_updates();
  }

  // Sends what the widget has not got of the conversation, from its log. One
  // catch-up per conversation at a time: a second call only asks the running
  // one for another read.
  awaitable<void> catch_up(const std::string& conv) {
    if (catching_up_.claim(conv)) co_await send_missed(conv);
  }

  // The catch-up of a conversation claimed in catching_up_ (released here).
  // It waits for the widget to read what it sent before sending more (a
  // customer back to a long conversation of long answers would overflow the
  // send queue: 1013, and the same replay again at every reconnect); live
  // events of the conversation wait in the log meanwhile.
  awaitable<void> send_missed(std::string conv) {
    for (;;) {
      auto* f = find(conv);
      if (!f || closing_) break;
      catching_up_.reading(conv);
      auto frames = co_await w_.core().conversations.events_after(conv, f->last, catch_up_page);
      if (!frames) {
        catching_up_.release(conv);
        retry_.remember(conv, [self = shared_from_this()](const std::string& c) { return self->catch_up(c); });
        co_return;
      }
      for (auto& text : *frames) {
        event_meta meta;
        auto view = customer_event_frame(text, &meta);
        f = find(conv);
        if (f && meta.seq <= f->last) continue;
        bool open = true;  // false: the socket is closing
        if (f && view) open = co_await room_for(view->size());  // a frame not shown needs no room
        f = find(conv);  // followed_ may have changed while waiting
        if (!open || !f) {
          catching_up_.release(conv);
          co_return;
        }
        apply(*f, meta, view);
      }
      if (frames->size() < catch_up_page && !catching_up_.asked_again(conv)) break;
    }
    catching_up_.release(conv);
  }

  awaitable<bool> room_for(std::size_t frame_bytes) {
    const auto& limits = w_.core().cfg.limits;
    co_return co_await room_for_catch_up(*peer_, limits.ws_queue_max_bytes, limits.ws_queue_max_messages, frame_bytes);
  }

  awaitable<void> catch_up_all() {
    std::vector<std::string> convs;
    for (auto& f : followed_) convs.push_back(f.conv);
    for (auto& c : convs) co_await catch_up(c);
  }

  // A merge (or its undo) gave a conversation of the file listened on to
  // another file (customer_merge.lua): listen on the file this visitor is in
  // now. That is the old one still for another visitor of it (an undone
  // merge gives back only the other file's visitors).
  awaitable<void> follow_visitor_file() {
    auto state = co_await w_.load_visitor(channel_.config->id, visitor_, std::string(), channel_.config->team);
    if (!state || closing_ || state->customer_id.empty() || state->customer_id == customer_) co_return;
    register_customer(state->customer_id);
    co_await catch_up_all();  // what the new file's events brought before
  }

  awaitable<void> on_hello(const hello_frame& hello) {
    auto verified = w_.verify_token(hello.token, webchat_now_ms() / 1000);
    if (auto* e = std::get_if<token_error>(&verified)) {
      global_metrics().errors.inc(*e == token_error::expired ? "webchat_token_expired" : "webchat_token_invalid");
      fail(1008, to_string(*e), *e == token_error::expired ? "the visitor token has expired; start a new session"
                                                           : "the visitor token is not valid; start a new session");
      co_return;
    }
    auto& claims = std::get<visitor_claims>(verified);
    if (claims.channel != channel_.config->id) {
      global_metrics().errors.inc("webchat_token_invalid");
      fail(1008, "token_invalid", "the visitor token belongs to another channel");
      co_return;
    }
    visitor_ = claims.visitor_id;
    lang_ = hello.lang;
    hold_socket();
    // Held first: an End chat from now on closes this socket, one before shows here.
    auto ended = co_await w_.visitor_ended(channel_.config->id, visitor_);
    if (ended && *ended) {
      refuse_ended();
      co_return;
    }
    auto state = co_await w_.load_visitor(channel_.config->id, visitor_, hello.conv, channel_.config->team);
    if (!ended || !state) {
      global_metrics().errors.inc("redis_unavailable");
      fail(1011, "unavailable", "storage unavailable, reconnect later");
      co_return;
    }
    authed_ = true;
    if (timer_) {
      timer_->cancel();
      timer_.reset();
    }
    name_ = state->name;
    email_ = state->email;
    if (lang_.empty()) lang_ = state->language;

    // Register first and hold live events until the replay is sent, so
    // nothing falls between the two.
    resuming_ = true;
    if (state->customer_id.empty())
      w_.signals().add(visitor_key(), shared_from_this());
    else
      register_customer(state->customer_id);

    json welcome = {{"type", "welcome"},
                    {"v", 1},
                    {"settings", public_settings(channel_.settings, w_.cfg().max_message_chars, upload_limit(w_.cfg()))},
                    {"profile", json::object()},
                    {"agents_online", state->agents_online > 0},
                    {"customer_read_seq", read_marks(*state)}};
    if (!name_.empty()) welcome["profile"]["name"] = name_;
    if (!email_.empty()) welcome["profile"]["email"] = email_;
    if (state->email_proved) welcome["profile"]["email_proved"] = true;
    send(welcome);

    // The replayed conversations are claimed for the replay, so a catch-up
    // asked for meanwhile (a message's, a resync's) only makes it read again.
    std::vector<std::string> replayed;
    auto replay = [&](const std::string& conv, std::uint64_t after) {
      follow(conv, after);
      if (catching_up_.claim(conv)) replayed.push_back(conv);
    };
    if (!state->asked_conv.empty()) replay(state->asked_conv, hello.after);
    // Newer than what the widget knows (or it knew nothing): all of it.
    if (!state->open_conv.empty() && state->open_conv != state->asked_conv) replay(state->open_conv, 0);
    // Paced by the widget's reading, so not in on_text: the transport reads
    // no frame (not the widget's pings, nor the pong that keeps the socket
    // from its idle timeout) until on_text returns.
    net::co_spawn(peer_->executor(), [self = shared_from_this(), replayed]() -> awaitable<void> {
      for (const auto& conv : replayed) co_await self->send_missed(conv);
      self->end_replay();
    }, net::detached);
  }

  // The replay after hello is sent: the live events held meanwhile follow, then synced.
  void end_replay() {
    if (closing_) return;
    resuming_ = false;
    for (auto& p : std::exchange(pending_, {})) forward(*p.frame, p.seq);
    send(json{{"type", "synced"}});
    if (auto* f = current(); f && f->status == "queued") start_queue_updates();
    spdlog::get("gateway")->debug("webchat channel={} visitor={} connected", channel_.config->id, visitor_);
  }

  awaitable<void> on_message(const message_frame& m) {
    auto now = webchat_now_ms();
    auto count = co_await w_.count_in_window(
        w_.key("webchat:rate:" + channel_.config->id + ":" + visitor_ + ":" + std::to_string(now / 60'000)),
        std::chrono::seconds(60));
    if (!count) {
      global_metrics().errors.inc("redis_unavailable");
      send(error_frame("unavailable", "storage unavailable, resend later", m.client_id));
      co_return;
    }
    auto limit = w_.cfg().messages_per_minute;
    if (*count > limit) {
      global_metrics().errors.inc("webchat_rate_limited");
      if (*count > 3 * static_cast<long long>(limit)) {
        fail(1008, "rate_limited", "too many messages; wait a minute before writing again");
        co_return;
      }
      json e = error_frame("rate_limited", "you are sending messages too fast; wait a moment", m.client_id);
      e["retry_after_s"] = 60 - (now / 1000) % 60;
      send(e);
      co_return;
    }

    proto::inbound_event event;
    event.kind = proto::inbound_kind::message;
    event.from = {channel_.config->id, proto::channel_kind::webchat, visitor_, name_};
    event.provider_message_id = m.client_id;
    // Scoped by visitor: one visitor's client ids can never collide with another's.
    event.dedup_key = visitor_ + ":" + m.client_id;
    event.text = m.text;
    event.button_payload = m.button;
    event.sent_at = now;
    // The text's own guess first where the widget cannot tell: between Persian
    // and Arabic (it goes by letters only, and Persian typed on an Arabic
    // keyboard has Arabic's ي ك), and Latin text with Persian words in it
    // ("salam, garanti yakhchal chand mahe?" is Persian, "salam, where is my
    // order?" English). Else the message's language (the widget's: an English
    // sentence, or the language so far for an order number), the session's,
    // the text's guess.
    const auto guess = bot::guess_language(m.text);
    const std::string guessed(guess.lang ? bot::to_string(*guess.lang) : "");
    const bool server_reads =
        guess.lang && (*guess.lang != bot::language::en || bot::has_finglish_words(m.text));
    event.language = server_reads ? guessed : !m.lang.empty() ? m.lang : !lang_.empty() ? lang_ : guessed;
    if (!co_await attach_uploads(m, event)) co_return;
    // Named, not braced: GCC 12 destroys braced temporaries in co_await expressions twice.
    routing::channel_route route{channel_.config->team, channel_.config->bot};
    auto outcome = co_await w_.core().conversations.ingest(event, route);
    if (!outcome) {
      global_metrics().errors.inc("redis_unavailable");
      static routing::repeated_warning ingest_failures;
      ingest_failures.warn(*spdlog::get("gateway"), "channel={} ingest failed: {}", channel_.config->id, outcome.error().message());
      send(error_frame("unavailable", "storage unavailable, resend later", m.client_id));
      co_return;
    }
    bool filed = co_await file_attached(m, outcome->conversation_id);
    if (outcome->duplicate) {
      global_metrics().dedup_hits.inc(channel_.config->id);
      co_await follow_up_duplicate(w_.core(), *outcome);
    } else {
      global_metrics().inbound_messages.inc(channel_.config->id);
      co_await follow_up(w_.core(), *outcome, event);
    }
    if (closing_) co_return;
    if (!filed) {
      // Not acked: the widget resends, and the resend files them (the ingest dedups it).
      send(error_frame("unavailable", "storage unavailable, resend later", m.client_id));
      co_return;
    }

    bool new_customer = customer_ != outcome->customer_id;
    register_customer(outcome->customer_id);
    if (new_customer) {
      json frame = {{"type", "customer"}, {"conv", outcome->conversation_id}, {"customer", outcome->customer_id}};
      auto conv = outcome->conversation_id;
      // No team: only this visitor's other sessions listen.
      co_await w_.publish_signal(std::string(), conv, "v:" + channel_.config->id + ":" + visitor_, frame);
    }
    bool new_conv = !find(outcome->conversation_id);
    follow(outcome->conversation_id, 0);
    // The conversation the customer writes in is the current one: keep it last.
    auto it = std::find_if(followed_.begin(), followed_.end(),
                           [&](const followed& x) { return x.conv == outcome->conversation_id; });
    std::rotate(it, it + 1, followed_.end());

    json ack = {{"type", "ack"}, {"client_id", m.client_id}, {"conv", outcome->conversation_id}, {"seq", outcome->seq}};
    if (outcome->duplicate) ack["duplicate"] = true;
    // Typed text the widget could not tell: the panel takes the language the
    // server read (and its bot answers in).
    if (server_reads && m.button.empty() && guessed != m.lang) ack["lang"] = guessed;
    send(ack);
    // Registered just now, or a conversation the hub may have announced before
    // we followed it: read the log instead of trusting the race.
    if (new_customer || new_conv || outcome->duplicate) co_await catch_up(outcome->conversation_id);
    if (!outcome->duplicate && outcome->status == "queued") start_queue_updates();
  }

  // The message's uploads as its attachments, claimed for it; false when it
  // names one that is not the visitor's to send (answered here).
  awaitable<bool> attach_uploads(const message_frame& m, proto::inbound_event& event) {
    if (m.uploads.empty()) co_return true;
    auto claimed = co_await claim_uploads(w_.core(), sockets_key(), event.dedup_key, m.uploads);
    if (!claimed) {
      global_metrics().errors.inc("redis_unavailable");
      send(error_frame("unavailable", "storage unavailable, resend later", m.client_id));
      co_return false;
    }
    if (!claimed->refused.empty()) {
      global_metrics().errors.inc("webchat_bad_upload");
      send(error_frame("bad_upload", "that file is not yours to send, was sent already or expired; attach it again",
                       m.client_id));
      co_return false;
    }
    event.attachments = std::move(claimed->attachments);
    co_return true;
  }

  // Once the message is stored: its conversation's agents may open its files.
  awaitable<bool> file_attached(const message_frame& m, const std::string& conv) {
    if (m.uploads.empty()) co_return true;
    auto filed = co_await file_uploads(w_.core(), conv, m.uploads);
    if (!filed) spdlog::get("gateway")->warn("conv={} cannot file web chat uploads: {}", conv, filed.error().message());
    co_return filed.has_value();
  }

  awaitable<void> on_typing(const typing_frame& t) {
    // A resolved conversation still hears the customer (a rating's comment,
    // shown there, or words that reopen it); a closed one does not.
    auto* f = current();
    if (!f || f->team.empty() || f->status == "closed") co_return;
    auto now = webchat_now_ms();
    if (t.state && now - last_typing_ms_ < typing_interval_ms) co_return;
    if (!t.state && last_typing_ms_ == 0) co_return;  // nothing to clear
    last_typing_ms_ = t.state ? now : 0;
    // Named, not braced inside co_await (GCC 12 miscompiles that).
    json frame = {{"type", "typing"}, {"conv", f->conv}, {"who", "customer"}, {"state", t.state}};
    auto team = f->team, conv = f->conv;
    // For the team's agents only: no customer, so not echoed to this customer's own tabs.
    co_await w_.publish_signal(team, conv, std::string(), frame);
  }

  awaitable<void> on_seen(const seen_frame& s) {
    auto* f = find(s.conv);
    if (!f) {
      send(error_frame("not_found", "no such conversation here"));
      co_return;
    }
    auto delivered = std::min(s.seq, f->last);
    auto read = s.read ? delivered : 0;
    if (delivered <= f->delivered && read <= f->read) co_return;
    f->delivered = std::max(f->delivered, delivered);
    f->read = std::max(f->read, read);
    auto conv = f->conv, team = f->team;
    auto changed = co_await w_.mark_seen(conv, delivered, read);
    if (changed && *changed) {
      json frame = {{"type", "receipt"}, {"conv", conv}, {"who", "customer"}, {"delivered", delivered}, {"read", read}};
      co_await w_.publish_signal(team, conv, std::string(), frame);  // for the agents, as typing
    }
  }

  awaitable<void> on_contact(const contact_frame& c) {
    auto saved = co_await w_.save_contact(channel_.config->id, visitor_, c.email, c.name, lang_);
    if (!saved) {
      global_metrics().errors.inc("redis_unavailable");
      send(error_frame("unavailable", "storage unavailable, try again"));
      co_return;
    }
    name_ = saved->name;
    email_ = saved->email;
    json out = {{"type", "contact_saved"}};
    if (!name_.empty()) out["name"] = name_;
    if (!email_.empty()) out["email"] = email_;
    if (saved->verification_sent) out["verification_sent"] = true;
    send(out);
  }

  // The code mailed to the email this visitor gave (webchat_verify.hpp): only
  // this visitor's pending code counts, a wrong one uses up a try.
  awaitable<void> on_verify_email(const verify_email_frame& v) {
    auto checked = co_await check_email_code(w_.core(), channel_.config->id, visitor_, v.code);
    if (!checked) {
      global_metrics().errors.inc("redis_unavailable");
      send(error_frame("unavailable", "storage unavailable, try again"));
      co_return;
    }
    if (checked->result == code_check::wrong) {
      json e = error_frame("wrong_code", checked->tries_left > 0 ? "that is not the code we mailed"
                                                                  : "that is not the code we mailed; ask for a new one");
      e["tries_left"] = checked->tries_left;
      send(e);
      co_return;
    }
    if (checked->result == code_check::no_code) {
      send(error_frame("code_expired", "no code is waiting: give your email again to get a new one"));
      co_return;
    }
    json out = {{"type", "email_verified"}};
    if (!checked->email.empty()) out["email"] = checked->email;
    send(out);
    // Merged into the file that holds the address: its conversations are this chat's now.
    co_await follow_visitor_file();
  }

  // A typing or receipt signal; only agents' typing concerns the customer.
  void signal(const std::string& text) {
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception&) {
      return;
    }
    if (j.value("type", "") == "customer" && j.value("moved", false)) {
      net::co_spawn(peer_->executor(), [self = shared_from_this()]() -> awaitable<void> {
        co_await self->follow_visitor_file();
      }, net::detached);
      return;
    }
    if (j.value("type", "") == "customer" && j.value("customer", json()).is_string() &&
        j.value("customer", json()) != customer_ && j.value("conv", json()).is_string()) {
      // Another tab of this visitor wrote first (or first since their file
      // was erased): follow the new customer and conversation.
      register_customer(j["customer"].get<std::string>());
      follow(j["conv"].get<std::string>(), 0);
      net::co_spawn(peer_->executor(), [self = shared_from_this(), conv = j["conv"].get<std::string>()]() -> awaitable<void> {
        co_await self->catch_up(conv);
      }, net::detached);
      return;
    }
    if (j.value("type", "") != "typing" || j.value("who", "") != "agent") return;
    auto conv = j.value("conv", "");
    if (!find(conv)) return;
    json out = {{"type", "typing"}, {"conv", conv}, {"who", "agent"}, {"state", j.value("state", false)}};
    if (auto name = j.value("name", std::string{}); !name.empty()) out["name"] = name;
    send(out);
  }

  // While the current conversation waits in the queue: its position now, then
  // at every tick of the service's queue timer (one timer for all sessions).
  void start_queue_updates() {
    if (!queue_watching_.exchange(true)) w_.watch_queue(shared_from_this());
    refresh_queue();
  }

  // From the service's timer (any thread); false: stop calling.
  bool refresh_queue() override {
    if (!queue_watching_) return false;
    net::co_spawn(peer_->executor(), [self = shared_from_this()]() -> awaitable<void> {
      if (self->querying_queue_ || self->closing_) co_return;
      self->querying_queue_ = true;
      co_await self->send_queue_info();
      self->querying_queue_ = false;
    }, net::detached);
    return true;
  }

  awaitable<void> send_queue_info() {
    auto* f = current();
    if (!f) {
      queue_watching_ = false;
      co_return;
    }
    auto conv = f->conv;
    auto q = co_await w_.queue_info(conv);
    if (closing_ || !q) co_return;
    if (auto* g = find(conv); g && !q->status.empty()) g->status = q->status;
    json out = {{"type", "queue"},
                {"conv", conv},
                {"status", q->status},
                {"position", q->position},
                {"agents_online", q->agents_online > 0}};
    if (q->position > 0) {
      auto per = w_.cfg().wait_per_position.count();
      auto agents = std::max<long long>(q->agents_online, 1);
      out["estimated_wait_s"] = (q->position * per + agents - 1) / agents;
    }
    send(out);
    if (q->status != "queued") queue_watching_ = false;
  }

  webchat_service& w_;
  const webchat_channel& channel_;
  std::shared_ptr<ws_peer> peer_;
  std::shared_ptr<net::steady_timer> timer_;  // the hello timeout
  catch_up_retry retry_;
  std::string visitor_, customer_, name_, email_, lang_;
  std::vector<followed> followed_;
  std::vector<pending_event> pending_;
  catch_up_claims catching_up_;
  std::chrono::steady_clock::time_point window_start_{};
  int frames_in_window_ = 0;
  std::int64_t last_typing_ms_ = 0;
  visitor_sockets::socket_id socket_id_ = 0;  // 0: not counted yet (before hello)
  bool authed_ = false;
  bool resuming_ = false;
  bool closing_ = false;
  bool querying_queue_ = false;
  std::atomic<bool> queue_watching_{false};
};

}  // namespace

ws_endpoint make_webchat_endpoint(webchat_service& w) {
  return [&w](const http_request& req, std::shared_ptr<ws_peer> peer) -> ws_accept {
    auto channel_id = req.query_param("channel");
    const auto* channel = w.channel(channel_id);
    if (channel_id.empty() || !channel) {
      global_metrics().errors.inc("unknown_channel");
      return {nullptr, error_response(404, "unknown_channel", "connect to /ws/chat?channel=<web chat channel id>")};
    }
    if (!origin_allowed(req.header("origin"), req.header("host"), channel->settings.allowed_origins,
                        channel->settings.allow_missing_origin)) {
      global_metrics().errors.inc("webchat_origin");
      return {nullptr, error_response(403, "origin_not_allowed", "this site may not use the chat")};
    }
    auto session = std::make_shared<chat_session>(w, *channel, std::move(peer));
    session->start_hello_timer();
    return {session, {}};
  };
}

}  // namespace pasokh::gateway
