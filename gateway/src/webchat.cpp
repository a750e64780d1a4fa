#include "pasokh/gateway/webchat.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>

#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/gateway/webchat_token.hpp"
#include "pasokh/gateway/webchat_transcript.hpp"
#include "pasokh/gateway/webchat_uploads.hpp"
#include "pasokh/gateway/webchat_verify.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/customer_keys.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

constexpr auto heartbeat_period = std::chrono::seconds(15);
constexpr std::int64_t presence_window_ms = 45'000;

std::string reply_str(const store::reply& r) { return r.type == store::reply::kind::integer ? std::to_string(r.integer) : r.str; }

store::result<const std::vector<store::reply>*> array_answer(const store::result<store::reply>& r, std::size_t n) {
  if (!r) return r.error();
  if (r->is_error() || r->type != store::reply::kind::array || r->elements.size() < n)
    return make_error_code(store::redis_errc::server_error);
  return &r->elements;
}

}  // namespace

std::int64_t webchat_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::vector<visitor_sockets::closer> visitor_sockets::add(const std::string& visitor, socket_id id, closer close) {
  std::vector<closer> past_cap;
  std::lock_guard lock(mutex_);
  auto& held = by_visitor_[visitor];
  held.emplace_back(id, std::move(close));
  while (held.size() > cap_) {
    past_cap.push_back(std::move(held.front().second));
    held.pop_front();
  }
  return past_cap;
}

void visitor_sockets::remove(const std::string& visitor, socket_id id) {
  std::lock_guard lock(mutex_);
  auto it = by_visitor_.find(visitor);
  if (it == by_visitor_.end()) return;
  std::erase_if(it->second, [id](const auto& held) { return held.first == id; });
  if (it->second.empty()) by_visitor_.erase(it);
}

std::vector<visitor_sockets::closer> visitor_sockets::remove_all(const std::string& visitor) {
  std::vector<closer> closers;
  std::lock_guard lock(mutex_);
  auto it = by_visitor_.find(visitor);
  if (it == by_visitor_.end()) return closers;
  for (auto& held : it->second) closers.push_back(std::move(held.second));
  by_visitor_.erase(it);
  return closers;
}

std::size_t visitor_sockets::count(const std::string& visitor) const {
  std::lock_guard lock(mutex_);
  auto it = by_visitor_.find(visitor);
  return it == by_visitor_.end() ? 0 : it->second.size();
}

webchat_service::webchat_service(services& core, net::any_io_executor ex, store::redis_config redis)
    : core_(core),
      ex_(std::move(ex)),
      marks_(core.redis, core.cfg.redis.prefix),
      sockets_(core.cfg.webchat.max_sockets_per_visitor),
      instance_(random_token(6)),
      running_(std::make_shared<bool>(false)) {
  for (const auto& c : core_.cfg.channels)
    if (c.webchat) channels_.push_back({&c, *c.webchat});
  subscriber_ = std::make_unique<store::redis_subscriber>(
      ex_, std::move(redis), [this, ended = key("webchat:ended")](std::string_view channel, std::string_view payload) {
        if (channel == ended)
          close_ended_visitor(std::string(payload));
        else if (!signals_.dispatch(payload))
          global_metrics().errors.inc("bad_pubsub_payload");
      });
  subscriber_->subscribe(key("webchat:signals"));
  subscriber_->subscribe(key("webchat:ended"));
}

webchat_service::~webchat_service() { stop(); }

void webchat_service::start() {
  *running_ = true;
  subscriber_->start();
  net::co_spawn(ex_, heartbeat_loop(), net::detached);
  net::co_spawn(ex_, queue_loop(), net::detached);
}

void webchat_service::stop() {
  if (!*running_) return;
  *running_ = false;
  subscriber_->stop();
}

std::string webchat_service::key(std::string_view rest) const { return core_.cfg.redis.prefix + std::string(rest); }

const webchat_channel* webchat_service::channel(std::string_view id) const {
  for (const auto& c : channels_)
    if (c.config->id == id) return &c;
  return nullptr;
}

std::variant<visitor_claims, token_error> webchat_service::verify_token(std::string_view token, std::int64_t now_s) const {
  auto verified = verify_visitor_token(token, token_secrets{cfg().secret, cfg().previous_secret}, now_s);
  auto* v = std::get_if<verified_visitor>(&verified);
  if (!v) return std::get<token_error>(verified);
  if (v->by_previous) global_metrics().auth_previous_key.inc(v->claims.channel);
  return std::move(v->claims);
}

awaitable<store::result<visitor_state>> webchat_service::load_visitor(const std::string& channel,
                                                                       const std::string& visitor,
                                                                       const std::string& conv,
                                                                       const std::string& team) {
  auto r = co_await core_.redis.fcall(routing::script(routing::lua::webchat_visitor), store::make_command(),
                                     store::make_command(core_.cfg.redis.prefix, channel, visitor, conv, team,
                                                         std::to_string(webchat_now_ms()),
                                                         std::to_string(presence_window_ms)));
  auto a = array_answer(r, 10);
  if (!a) co_return a.error();
  const auto& e = **a;
  visitor_state v;
  v.customer_id = e[0].str;
  v.asked_conv = e[1].str;
  v.open_conv = e[2].str;
  v.name = e[3].str;
  v.email = e[4].str;
  v.language = e[5].str;
  v.agents_online = e[6].as_int();
  v.asked_read_seq = static_cast<std::uint64_t>(e[7].as_int());
  v.open_read_seq = static_cast<std::uint64_t>(e[8].as_int());
  v.email_proved = e[9].as_int() != 0;
  co_return v;
}

awaitable<store::result<saved_contact>> webchat_service::save_contact(const std::string& channel_id,
                                                                      const std::string& visitor,
                                                                      const std::string& email, const std::string& name,
                                                                      const std::string& language) {
  auto key = routing::normalize_email(email);
  auto r = co_await core_.redis.fcall(routing::script(routing::lua::webchat_contact), store::make_command(),
                                     store::make_command(core_.cfg.redis.prefix, channel_id, visitor, email, name,
                                                         std::to_string(2 * cfg().token_ttl.count()), key,
                                                         std::to_string(webchat_now_ms())));
  auto a = array_answer(r, 4);
  if (!a) co_return a.error();
  const auto& e = **a;
  saved_contact saved{reply_str(e[0]), reply_str(e[1])};
  const auto* ch = channel(channel_id);
  if (e[2].str.empty() || !ch) co_return saved;
  verification_request request{channel_id, ch->settings.email_fallback_channel, visitor, email, e[2].str,
                               language.empty() ? e[3].str : language};
  // The contact is saved either way: a code that could not go out is asked for again with the next contact.
  auto sent = co_await request_email_verification(core_, request);
  if (!sent) global_metrics().errors.inc("redis_unavailable");
  saved.verification_sent = sent && *sent;
  co_return saved;
}

awaitable<store::result<bool>> webchat_service::end_visitor(const std::string& channel_id, const std::string& visitor,
                                                             std::optional<std::string> copy_language) {
  using out = store::result<bool>;  // not built from an error_code implicitly (see mark_seen)
  // As long as any token of the visitor could live: one renewed just before
  // the end expires a token TTL after it.
  const auto ttl = cfg().token_ttl + std::chrono::minutes(1);
  const auto* ch = channel(channel_id);
  const auto mail_channel = ch ? ch->settings.email_fallback_channel : std::string();
  auto args = store::make_command(core_.cfg.redis.prefix, channel_id, visitor, std::to_string(webchat_now_ms()),
                                  std::to_string(ttl.count()), mail_channel);
  // The copy is extra: the chat ends without it when it cannot be read. (A
  // repeated End chat does not get here: an ended visitor's token is refused.)
  if (copy_language && !mail_channel.empty()) {
    auto copy = co_await transcript_of(*ch, visitor, *copy_language);
    if (copy) args.insert(args.end(), {copy->email, copy->mail.subject, copy->mail.text});
    else spdlog::get("gateway")->warn("channel={} End chat without the transcript asked for: {}", channel_id, copy.error().message());
  }
  auto r = co_await core_.redis.fcall(routing::script(routing::lua::webchat_end), store::make_command(), std::move(args));
  auto a = array_answer(r, 1);
  if (!a) co_return out(boost::system::in_place_error, a.error());
  const bool mailed = a.value()->size() > 3 && (**a)[3].str == "1";
  if (mailed) global_metrics().routing_events.inc("webchat_transcript_mailed");
  co_return out(boost::system::in_place_value, mailed);
}

// The conversation the widget shows (the open one, else the latest), as a
// mail to the visitor's email when that is proved theirs; none (empty text)
// otherwise. webchat_end.lua checks the proof again as it queues the mail.
awaitable<store::result<webchat_service::transcript_copy>> webchat_service::transcript_of(const webchat_channel& ch,
                                                                                         const std::string& visitor,
                                                                                         const std::string& language) {
  constexpr std::size_t max_events = 5000;  // the log read for one copy (a chat rarely has a few hundred)
  auto v = co_await load_visitor(ch.config->id, visitor, std::string(), ch.config->team);
  if (!v) co_return v.error();
  transcript_copy copy;
  if (!v->email_proved || v->open_conv.empty()) co_return copy;
  // The newest entries, one more than kept: when it comes, earlier ones are left out.
  auto r = co_await core_.redis.exec(store::make_command("XREVRANGE", key("conv:" + v->open_conv + ":log"), "+", "-",
                                                         "COUNT", std::to_string(max_events + 1)));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  const bool earlier_omitted = r->elements.size() > max_events;
  std::vector<std::string> frames;  // oldest first; each entry is [id, ["f", frame]]
  for (auto entry = r->elements.rbegin() + (earlier_omitted ? 1 : 0); entry != r->elements.rend(); ++entry)
    if (entry->elements.size() == 2 && entry->elements[1].elements.size() >= 2)
      frames.push_back(std::move(entry->elements[1].elements[1].str));
  auto lines = transcript_lines(frames);
  if (lines.empty()) co_return copy;
  copy.email = v->email;
  copy.mail = transcript_mail_in(language.empty() ? v->language : language, lines, earlier_omitted);
  co_return copy;
}

awaitable<store::result<bool>> webchat_service::visitor_ended(const std::string& channel, const std::string& visitor) {
  using out = store::result<bool>;  // not built from an error_code implicitly (see mark_seen)
  auto r = co_await core_.redis.exec(store::make_command("EXISTS", key("webchat:ended:" + channel + ":" + visitor)));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  if (r->is_error()) co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  co_return out(boost::system::in_place_value, r->integer != 0);
}

void webchat_service::close_ended_visitor(const std::string& sockets_key) {
  for (auto& close : sockets_.remove_all(sockets_key)) close(visitor_sockets::close_why::ended);
}

awaitable<store::result<long long>> webchat_service::count_in_window(const std::string& counter,
                                                                      std::chrono::seconds window, long long by) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back(store::make_command("INCRBY", counter, std::to_string(by)));
  commands.push_back(store::make_command("EXPIRE", counter, std::to_string(window.count() + 60)));
  auto r = co_await core_.redis.exec_pipeline(std::move(commands));
  if (!r) co_return r.error();
  if (r->empty() || (*r)[0].is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return (*r)[0].integer;
}

awaitable<store::result<queue_state>> webchat_service::queue_info(const std::string& conv) {
  auto r = co_await core_.redis.fcall(routing::script(routing::lua::webchat_queue), store::make_command(),
                                     store::make_command(core_.cfg.redis.prefix, conv, std::to_string(webchat_now_ms()),
                                                         std::to_string(presence_window_ms)));
  auto a = array_answer(r, 3);
  if (!a) co_return a.error();
  co_return queue_state{reply_str((**a)[0]), (**a)[1].as_int(), (**a)[2].as_int()};
}

awaitable<store::result<bool>> webchat_service::mark_seen(const std::string& conv, std::uint64_t delivered,
                                                          std::uint64_t read) {
  auto r = co_await core_.redis.fcall(routing::script(routing::lua::webchat_seen), store::make_command(),
                                     store::make_command(core_.cfg.redis.prefix, conv, std::to_string(delivered),
                                                         std::to_string(read)));
  // result<bool> cannot be built from an error_code implicitly (bool is constructible from it).
  auto a = array_answer(r, 4);
  if (!a) co_return store::result<bool>(boost::system::in_place_error, a.error());
  auto mark = [&](std::size_t i) { return static_cast<std::uint64_t>((**a)[i].as_int()); };
  // Named, not braced inside co_await (GCC 12 miscompiles that).
  const seen_marks before{mark(0), mark(1)}, now{mark(2), mark(3)};
  if (now.delivered <= before.delivered && now.read <= before.read)
    co_return store::result<bool>(boost::system::in_place_value, false);
  co_await mark_replies(conv, before, now);
  co_return store::result<bool>(boost::system::in_place_value, true);
}

// The replies (agent, bot and system messages) the customer now has or has
// seen get the same delivery marks a messenger's receipts give: the console
// shows them, live and after a reload.
awaitable<void> webchat_service::mark_replies(const std::string& conv, seen_marks before, seen_marks now) {
  constexpr std::uint64_t max_entries = 500;  // a first receipt after a long history: its newest replies matter
  const auto after = std::min(before.delivered, before.read), last = std::max(now.delivered, now.read);
  if (last <= after) co_return;
  const auto first = last - after > max_entries ? last - max_entries + 1 : after + 1;
  auto r = co_await core_.redis.exec(store::make_command("XRANGE", key("conv:" + conv + ":log"),
                                                         std::to_string(first) + "-0", std::to_string(last) + "-1"));
  if (!r || r->is_error()) co_return;
  for (const auto& entry : r->elements) {
    if (entry.elements.size() < 2 || entry.elements[1].elements.size() < 2) continue;
    auto frame = json::parse(entry.elements[1].elements[1].str, nullptr, false);
    if (!frame.is_object() || frame.value("event", "") != "message") continue;
    const auto& m = frame["message"];
    if (!m.is_object() || m.value("direction", "") != "out") continue;
    const auto seq = frame.value("seq", std::uint64_t{0});
    routing::delivery_update u;
    if (seq > before.read && seq <= now.read) u.status = proto::delivery_status::read;
    else if (seq > before.delivered && seq <= now.delivered) u.status = proto::delivery_status::delivered;
    else continue;
    u.channel = m.value("channel", "");
    u.conversation_id = conv;
    u.message_seq = seq;
    if (auto marked = co_await marks_.mark(u); !marked) global_metrics().errors.inc("webchat_mark_failed");
  }
}

std::vector<std::string> webchat_service::signal_command(const std::string& team, const std::string& conv,
                                                         const std::string& customer, const json& frame) const {
  // The same "<header>\n<frame>" shape as conversation events, with seq 0.
  json header = {{"team", team}, {"conv", conv}, {"customer", customer}, {"seq", 0}};
  auto payload = header.dump() + "\n" + frame.dump(-1, ' ', false, json::error_handler_t::replace);
  return store::make_command("PUBLISH", key("webchat:signals"), std::move(payload));
}

awaitable<void> webchat_service::publish_signal(const std::string& team, const std::string& conv,
                                                const std::string& customer, const json& frame) {
  auto r = co_await core_.redis.exec(signal_command(team, conv, customer, frame));
  if (!r || r->is_error()) global_metrics().errors.inc("webchat_signal_failed");
}

void webchat_service::agent_online(const std::string& team, const std::string& agent_id) {
  bool first;
  {
    std::lock_guard lock(presence_mutex_);
    first = ++local_agents_[{team, agent_id}] == 1;
  }
  if (first) net::co_spawn(ex_, presence_write(team, instance_ + "|" + agent_id, true), net::detached);
}

void webchat_service::agent_offline(const std::string& team, const std::string& agent_id) {
  bool last = false;
  {
    std::lock_guard lock(presence_mutex_);
    auto it = local_agents_.find({team, agent_id});
    if (it != local_agents_.end() && --it->second <= 0) {
      local_agents_.erase(it);
      last = true;
    }
  }
  if (last && *running_) net::co_spawn(ex_, presence_write(team, instance_ + "|" + agent_id, false), net::detached);
}

awaitable<void> webchat_service::presence_write(std::string team, std::string member, bool online) {
  // Not a conditional with co_await in both arms: GCC 12 destroys the result twice.
  auto command = online ? store::make_command("ZADD", key("webchat:online:" + team), std::to_string(webchat_now_ms()), member)
                        : store::make_command("ZREM", key("webchat:online:" + team), member);
  auto r = co_await core_.redis.exec(std::move(command));
  if (!r) global_metrics().errors.inc("redis_unavailable");
}

awaitable<void> webchat_service::heartbeat_loop() {
  auto running = running_;
  net::steady_timer timer(ex_);
  while (*running) {
    timer.expires_after(heartbeat_period);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || !*running) co_return;
    std::vector<std::vector<std::string>> commands;
    auto now = webchat_now_ms();
    // Forget agents of instances that stopped without saying so: in the
    // teams of web chat channels and every team this instance writes.
    std::set<std::string> teams;
    for (const auto& c : channels_) teams.insert(c.config->team);
    {
      std::lock_guard lock(presence_mutex_);
      for (const auto& [who, count] : local_agents_) {
        commands.push_back(store::make_command("ZADD", key("webchat:online:" + who.first), std::to_string(now),
                                               instance_ + "|" + who.second));
        teams.insert(who.first);
      }
    }
    for (const auto& team : teams)
      commands.push_back(store::make_command("ZREMRANGEBYSCORE", key("webchat:online:" + team), "-inf",
                                             std::to_string(now - 2 * presence_window_ms)));
    if (!commands.empty()) co_await core_.redis.exec_pipeline(std::move(commands));
  }
}

void webchat_service::watch_queue(const std::shared_ptr<queue_watcher>& w) {
  std::lock_guard lock(queue_mutex_);
  queue_watchers_.push_back(w);
}

awaitable<void> webchat_service::queue_loop() {
  auto running = running_;
  net::steady_timer timer(ex_);
  while (*running) {
    timer.expires_after(queue_refresh);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || !*running) co_return;
    std::vector<std::shared_ptr<queue_watcher>> due;
    {
      std::lock_guard lock(queue_mutex_);
      due.reserve(queue_watchers_.size());
      for (auto& w : queue_watchers_)
        if (auto strong = w.lock()) due.push_back(std::move(strong));
      queue_watchers_.clear();
    }
    std::vector<std::weak_ptr<queue_watcher>> keep;
    for (auto& w : due)
      if (w->refresh_queue()) keep.push_back(w);
    std::lock_guard lock(queue_mutex_);
    queue_watchers_.insert(queue_watchers_.end(), keep.begin(), keep.end());
  }
}

// --- HTTP: visitor sessions ------------------------------------------------

namespace {

// CORS of the visitor's HTTP routes: the origin, already checked, echoed.
// Retry-After is exposed so the widget on the shop's page can wait as told
// after a 503 busy or a 429.
void add_cors(http_response& r, std::string_view origin) {
  if (origin.empty()) return;
  r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  r.headers.emplace_back("Access-Control-Expose-Headers", "Retry-After");
  r.headers.emplace_back("Vary", "Origin");
}

// The channel is in the body or the token, which a preflight (or a request
// refused before its body) does not show: any web chat channel that allows
// the origin will do. A route answers 403 to an origin its channel does not allow.
bool some_channel_allows(webchat_service& w, const http_request& req) {
  for (const auto& c : w.channels())
    if (origin_allowed(req.header("origin"), req.header("host"), c.settings.allowed_origins,
                       c.settings.allow_missing_origin))
      return true;
  return false;
}

bool has_header(const http_response& r, std::string_view name) {
  return std::any_of(r.headers.begin(), r.headers.end(), [name](const auto& h) { return h.first == name; });
}

}  // namespace

void add_webchat_cors(webchat_service& w, const http_request& req, http_response& res) {
  if (!req.path.starts_with(webchat_api_prefix) || has_header(res, "Access-Control-Allow-Origin")) return;
  if (some_channel_allows(w, req)) add_cors(res, req.header("origin"));
}

awaitable<std::variant<visitor_claims, http_response>> bearer_visitor(webchat_service& w, const http_request& req) {
  auto verified = w.verify_token(bearer_token(req), webchat_now_ms() / 1000);
  auto* claims = std::get_if<visitor_claims>(&verified);
  const auto* channel = claims ? w.channel(claims->channel) : nullptr;
  auto unauthorized = [] {
    auto res = error_response(401, "unauthorized", "a valid visitor token is required (Authorization: Bearer <token>)");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return res;
  };
  if (!channel) co_return unauthorized();
  if (!origin_allowed(req.header("origin"), req.header("host"), channel->settings.allowed_origins,
                      channel->settings.allow_missing_origin)) {
    global_metrics().errors.inc("webchat_origin");
    co_return error_response(403, "origin_not_allowed", "this site may not use the chat");
  }
  auto ended = co_await w.visitor_ended(claims->channel, claims->visitor_id);
  if (!ended) co_return unavailable();
  if (*ended) {
    global_metrics().errors.inc("webchat_token_ended");
    co_return unauthorized();
  }
  co_return std::move(*claims);
}

http_response webchat_preflight(webchat_service& w, const http_request& req, std::string_view methods,
                                std::string_view headers) {
  auto origin = req.header("origin");
  if (!some_channel_allows(w, req)) {
    global_metrics().errors.inc("webchat_origin");
    return error_response(403, "origin_not_allowed", "this site may not use the chat");
  }
  http_response res{204, "text/plain", "", {}};
  add_cors(res, origin);
  res.headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
  res.headers.emplace_back("Access-Control-Allow-Headers", std::string(headers));
  res.headers.emplace_back("Access-Control-Max-Age", "600");
  return res;
}

namespace {

http_response rejected(unsigned status, std::string_view code, std::string_view message, std::string_view metric) {
  global_metrics().errors.inc(metric);
  return error_response(status, code, message);
}

}  // namespace

void add_webchat_routes(router& r, webchat_service& w) {
  r.add("OPTIONS", "/api/v1/webchat/sessions",
        [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
          co_return webchat_preflight(w, req, "POST, DELETE, OPTIONS", "Authorization, Content-Type");
        });

  // End chat: the widget forgets the visitor; this makes their token worthless
  // to anyone who copied it on a shared computer.
  r.add("DELETE", "/api/v1/webchat/sessions", [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await bearer_visitor(w, req);
    if (auto* res = std::get_if<http_response>(&who)) co_return std::move(*res);
    const auto& claims = std::get<visitor_claims>(who);
    // ?transcript=1: "Email me a copy of this conversation" (&lang= the widget's language).
    std::optional<std::string> copy_language;
    if (req.query_param("transcript") == "1") copy_language = std::string(req.query_param("lang").substr(0, 8));
    const bool copy_asked = copy_language.has_value();
    auto mailed = co_await w.end_visitor(claims.channel, claims.visitor_id, std::move(copy_language));
    if (!mailed) co_return unavailable();
    // Asked for a copy: whether it was mailed, for the widget to say so.
    if (copy_asked) co_return json_response(200, *mailed ? R"({"mailed":true})" : R"({"mailed":false})");
    co_return http_response{204, "text/plain", "", {}};
  });

  r.add("POST", "/api/v1/webchat/sessions", [&w](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    auto& j = std::get<json>(body);
    auto field = [&](const char* key) -> std::optional<std::string> {
      auto it = j.find(key);
      if (it == j.end() || it->is_null()) return std::string{};
      if (!it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    auto channel_id = field("channel"), token = field("token"), visitor_id = field("visitor_id"), name = field("name"),
         email = field("email");
    if (!channel_id || !token || !visitor_id || !name || !email)
      co_return rejected(400, "invalid_field", "channel, token, visitor_id, name and email must be strings",
                         "invalid_field");
    const auto* channel = w.channel(*channel_id);
    if (!channel) co_return rejected(404, "unknown_channel", "no web chat channel named " + channel_id->substr(0, 64),
                                     "unknown_channel");
    if (!origin_allowed(req.header("origin"), req.header("host"), channel->settings.allowed_origins,
                        channel->settings.allow_missing_origin))
      co_return rejected(403, "origin_not_allowed", "this site may not use the chat", "webchat_origin");

    if (!email->empty() && !valid_email(*email))
      co_return rejected(400, "invalid_field", "email: not an email address", "invalid_field");
    if (name->size() > 400 || proto::utf8_length(*name) > 100 || !proto::valid_utf8(*name))
      co_return rejected(400, "invalid_field", "name: at most 100 characters", "invalid_field");

    auto now_ms = webchat_now_ms();
    std::string visitor;
    bool renewed = false;
    if (!token->empty()) {
      auto verified = w.verify_token(*token, now_ms / 1000);
      auto* claims = std::get_if<visitor_claims>(&verified);
      if (!claims || claims->channel != channel->config->id || (!visitor_id->empty() && *visitor_id != claims->visitor_id)) {
        auto code = claims ? std::string_view("token_invalid") : to_string(std::get<token_error>(verified));
        co_return rejected(401, code, "the visitor token is invalid or expired; start a new session", "webchat_bad_token");
      }
      auto ended = co_await w.visitor_ended(claims->channel, claims->visitor_id);
      if (!ended) co_return unavailable();
      if (*ended)
        co_return rejected(401, "token_invalid", "this chat was ended; start a new session", "webchat_token_ended");
      visitor = claims->visitor_id;
      renewed = true;
    } else if (!visitor_id->empty()) {
      co_return rejected(401, "token_invalid", "resuming a visitor needs its token", "webchat_bad_token");
    } else {
      auto hour = now_ms / 3'600'000;
      auto address = client_address(req, w.core().cfg.proxy.trust_forwarded_for);
      auto count = co_await w.count_in_window(w.key("webchat:sessions_ip:" + address + ":" + std::to_string(hour)),
                                              std::chrono::seconds(3600));
      if (!count) co_return unavailable();
      if (*count > w.cfg().sessions_per_ip_per_hour) {
        global_metrics().errors.inc("webchat_sessions_rate_limited");
        auto res = error_response(429, "rate_limited", "too many new chat sessions from this address; try later");
        res.headers.emplace_back("Retry-After", std::to_string(3600 - (now_ms / 1000) % 3600));
        co_return res;
      }
      visitor = new_visitor_id();
    }

    auto profile = co_await w.save_contact(channel->config->id, visitor, *email, *name, std::string());
    if (!profile) co_return unavailable();

    auto expires_at = now_ms / 1000 + w.cfg().token_ttl.count();
    json out = {{"token", sign_visitor_token({channel->config->id, visitor, expires_at}, w.cfg().secret)},
                {"visitor_id", visitor},
                {"expires_at", expires_at * 1000},
                {"settings", public_settings(channel->settings, w.cfg().max_message_chars, upload_limit(w.cfg()))},
                {"profile", json::object()}};
    if (!profile->name.empty()) out["profile"]["name"] = profile->name;
    if (!profile->email.empty()) out["profile"]["email"] = profile->email;
    if (profile->verification_sent) out["verification_sent"] = true;
    co_return json_response(renewed ? 200 : 201, out.dump(-1, ' ', false, json::error_handler_t::replace));
  });
}

}  // namespace pasokh::gateway
