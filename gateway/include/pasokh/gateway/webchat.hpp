#pragma once
// Web chat: visitor sessions (POST /api/v1/webchat/sessions), the customer
// WebSocket (/ws/chat, see webchat_protocol.hpp) and what both share: channel
// settings, limits, agent presence and the typing/receipt relay.
//
// Redis keys (under the configured prefix):
//   webchat:visitor:<channel>:<visitor>      hash name, email, key_email, verified_email (webchat_verify.hpp);
//                                            TTL 2 × token TTL
//   webchat:rate:<channel>:<visitor>:<min>   messages in that minute
//   webchat:sessions_ip:<address>:<hour>     new visitors from that address in that hour
//   webchat:ended:<channel>:<visitor>        End chat: the visitor's tokens are refused (ms it ended);
//                                            TTL token TTL + 1 min, the life of any token of theirs
//   webchat:ended                            pub/sub "<channel>:<visitor>": close their sockets; never stored
//   webchat:online:<team>                    sorted set "<instance>|<agent id>" → last heartbeat (ms)
//   webchat:signals                          pub/sub: typing, read marks, a merge's moved conversations; never stored
//   conv:<id> fields customer_delivered_seq, customer_read_seq; cust:<id> field email
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/live_hub.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/gateway/webchat_protocol.hpp"
#include "pasokh/gateway/webchat_token.hpp"
#include "pasokh/gateway/webchat_transcript.hpp"
#include "pasokh/gateway/websocket.hpp"
#include "pasokh/routing/delivery.hpp"

namespace pasokh::gateway {

struct webchat_channel {
  const channel_config* config = nullptr;
  webchat_settings settings;
};

// What hello needs, in one round trip.
struct visitor_state {
  std::string customer_id;  // empty until the first message
  std::string asked_conv;   // the conversation hello named, if it is the visitor's
  std::string open_conv;    // the open (or else the latest) conversation on this channel
  std::string name, email, language;
  bool email_proved = false;  // one of the file's verified keys: unread replies are mailed to it
  long long agents_online = 0;
  // How far the customer has read each (customer_read_seq): replayed replies
  // after it are unread.
  std::uint64_t asked_read_seq = 0, open_read_seq = 0;
};

struct saved_contact {
  std::string name, email;
  bool verification_sent = false;  // a code to prove the email went to it
};

struct queue_state {
  std::string status;
  long long position = 0;  // 1-based; 0 when not queued
  long long agents_online = 0;
};

// A session showing a queue position, refreshed by the service's timer.
class queue_watcher {
 public:
  virtual ~queue_watcher() = default;
  // Called from the timer's thread; returns false when it no longer watches.
  virtual bool refresh_queue() = 0;
};

// The customer sockets of each visitor on this instance, oldest first. One
// visitor token could otherwise open sockets up to the per-address cap:
// past the cap a new socket closes the oldest (the tab in front of the
// customer is the newest; a forgotten one is the oldest).
class visitor_sockets {
 public:
  using socket_id = std::uint64_t;
  // Why a socket is closed from outside: a newer one of the visitor took its
  // place, or End chat ended the visitor.
  enum class close_why { replaced, ended };
  using closer = std::function<void(close_why)>;
  explicit visitor_sockets(std::size_t cap) : cap_(cap) {}

  // Registers a socket of `visitor`; returns how to close the ones now past
  // the cap, oldest first (no longer registered), to call outside the lock.
  std::vector<closer> add(const std::string& visitor, socket_id id, closer close);
  void remove(const std::string& visitor, socket_id id);
  // Unregisters every socket of `visitor`; returns how to close them.
  std::vector<closer> remove_all(const std::string& visitor);
  std::size_t count(const std::string& visitor) const;
  socket_id next_id() { return ++last_id_; }

 private:
  const std::size_t cap_;
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<std::pair<socket_id, closer>>> by_visitor_;
  std::atomic<socket_id> last_id_{0};
};

class webchat_service {
 public:
  webchat_service(services& core, boost::asio::any_io_executor ex, store::redis_config redis);
  ~webchat_service();
  webchat_service(const webchat_service&) = delete;
  webchat_service& operator=(const webchat_service&) = delete;

  // Subscribes to the signal channel and starts the presence heartbeat.
  void start();
  void stop();
  // Its own pub/sub link, for /readyz and /metrics.
  store::redis_subscriber& subscriber() { return *subscriber_; }

  services& core() { return core_; }
  const webchat_config& cfg() const { return core_.cfg.webchat; }
  const webchat_channel* channel(std::string_view id) const;
  // A visitor token's claims: signed with webchat.secret or, while it is
  // rotated, the previous secret (counted: pasokh_auth_previous_key_total).
  std::variant<visitor_claims, token_error> verify_token(std::string_view token, std::int64_t now_s) const;
  const std::vector<webchat_channel>& channels() const { return channels_; }
  live_hub& signals() { return signals_; }
  visitor_sockets& sockets() { return sockets_; }
  std::string_view instance_id() const { return instance_; }

  // Redis operations. Errors are storage outages.
  boost::asio::awaitable<store::result<visitor_state>> load_visitor(const std::string& channel, const std::string& visitor,
                                                                     const std::string& conv, const std::string& team);
  // Saves name/email on the visitor (and their own customer file, once it
  // exists) and mails a code to prove the email (webchat_verify.hpp; in
  // `language`, else the file's); returns the profile after.
  boost::asio::awaitable<store::result<saved_contact>> save_contact(const std::string& channel, const std::string& visitor,
                                                                    const std::string& email, const std::string& name,
                                                                    const std::string& language);
  // End chat: the visitor's tokens are refused from now on, on every
  // instance, and their open sockets close (1008 token_invalid). Their
  // conversations stay as they are, with the agents; the open one logs a
  // `visitor_left` event once (routing/src/lua/webchat_end.lua). With
  // `copy_language` the customer asked for a copy of the conversation by
  // email (webchat_transcript.hpp): mailed first, when their email is proved
  // and the chat was not ended already; true when it was. A transcript that
  // cannot be read is not mailed, and the chat ends all the same.
  boost::asio::awaitable<store::result<bool>> end_visitor(const std::string& channel, const std::string& visitor,
                                                          std::optional<std::string> copy_language = std::nullopt);
  // Did End chat end the visitor? Checked wherever a token is taken.
  boost::asio::awaitable<store::result<bool>> visitor_ended(const std::string& channel, const std::string& visitor);
  // Increments and returns the counter of a fixed window.
  boost::asio::awaitable<store::result<long long>> count_in_window(const std::string& key, std::chrono::seconds window,
                                                                   long long by = 1);
  boost::asio::awaitable<store::result<queue_state>> queue_info(const std::string& conv);
  // Raises the customer's delivered/read marks, and marks the replies up to
  // them delivered / read; true when one of them moved.
  boost::asio::awaitable<store::result<bool>> mark_seen(const std::string& conv, std::uint64_t delivered,
                                                        std::uint64_t read);
  // Publishes a typing, viewing or receipt frame to the instances (never
  // stored); signal_command is the PUBLISH, for a caller's own pipeline.
  boost::asio::awaitable<void> publish_signal(const std::string& team, const std::string& conv,
                                              const std::string& customer, const nlohmann::json& frame);
  std::vector<std::string> signal_command(const std::string& team, const std::string& conv, const std::string& customer,
                                          const nlohmann::json& frame) const;

  // Refreshes the watcher every queue_refresh until it says stop or is gone.
  void watch_queue(const std::shared_ptr<queue_watcher>& w);
  static constexpr std::chrono::seconds queue_refresh{30};

  // Agent presence, fed by the agent endpoint bridge.
  void agent_online(const std::string& team, const std::string& agent_id);
  void agent_offline(const std::string& team, const std::string& agent_id);

  // Wraps the agent endpoint: agents get "typing" (client frame, relayed to the
  // customer) and the customers' typing and read marks; their sessions count
  // as presence for "no agent online". The agent protocol is otherwise untouched.
  ws_endpoint bridge_agent_endpoint(ws_endpoint inner);

  std::string key(std::string_view rest) const;

 private:
  boost::asio::awaitable<void> heartbeat_loop();
  boost::asio::awaitable<void> queue_loop();
  boost::asio::awaitable<void> presence_write(std::string team, std::string member, bool online);
  // From the webchat:ended channel: closes the visitor's sockets here.
  void close_ended_visitor(const std::string& sockets_key);
  struct seen_marks {
    std::uint64_t delivered = 0, read = 0;
  };
  boost::asio::awaitable<void> mark_replies(const std::string& conv, seen_marks before, seen_marks now);
  struct transcript_copy {
    std::string email;  // empty: nothing to mail
    transcript_mail mail;
  };
  boost::asio::awaitable<store::result<transcript_copy>> transcript_of(const webchat_channel& ch,
                                                                       const std::string& visitor,
                                                                       const std::string& language);

  services& core_;
  boost::asio::any_io_executor ex_;
  routing::delivery_marks marks_;
  std::vector<webchat_channel> channels_;
  live_hub signals_;
  visitor_sockets sockets_;
  std::unique_ptr<store::redis_subscriber> subscriber_;
  std::string instance_;
  std::mutex presence_mutex_;
  std::map<std::pair<std::string, std::string>, int> local_agents_;  // (team, agent) → sessions here
  std::shared_ptr<bool> running_;
  std::mutex queue_mutex_;
  std::vector<std::weak_ptr<queue_watcher>> queue_watchers_;
};

// The customer endpoint; refuses a forbidden Origin with 403 before the handshake.
ws_endpoint make_webchat_endpoint(webchat_service& w);
// POST, DELETE (End chat) and OPTIONS /api/v1/webchat/sessions.
void add_webchat_routes(router& r, webchat_service& w);

// The visitor of a request's `Authorization: Bearer <visitor token>`: a token
// signed and unexpired, of a web chat channel that allows the request's
// Origin, whose visitor End chat has not ended. Else the answer: 401
// unauthorized (with WWW-Authenticate), 403 origin_not_allowed or 503.
boost::asio::awaitable<std::variant<visitor_claims, http_response>> bearer_visitor(webchat_service& w,
                                                                                    const http_request& req);

// The visitor's HTTP routes, all under this path.
constexpr std::string_view webchat_api_prefix = "/api/v1/webchat/";
// CORS on every answer under webchat_api_prefix, errors too (the server's own
// 413 included): for an origin a web chat channel allows, so that the widget
// can read why. The http_server's answer_decorator.
void add_webchat_cors(webchat_service& w, const http_request& req, http_response& res);
// The OPTIONS answer of a visitor route: 204 for an origin a web chat channel allows, else 403.
http_response webchat_preflight(webchat_service& w, const http_request& req, std::string_view methods,
                                std::string_view headers);

// Milliseconds since the Unix epoch (system clock).
std::int64_t webchat_now_ms();

// Typing signals, from customers and agents alike: at most one "typing: true"
// per conversation in this many ms.
constexpr std::int64_t typing_interval_ms = 2000;

}  // namespace pasokh::gateway
