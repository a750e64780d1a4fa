#include "pasokh/gateway/agent_directory.hpp"

#include <charconv>
#include <thread>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using boost::asio::awaitable;
using store::reply;
using store::result;

namespace {
// result<bool> cannot be built implicitly from an error_code (it converts to bool).
result<bool> failed(boost::system::error_code ec) { return result<bool>(boost::system::in_place_error, ec); }

std::string join_teams(const agent& a) {
  std::string out = a.team;
  for (const auto& t : a.teams)
    if (t != a.team) out += "," + t;
  return out;
}
}  // namespace

// Two hashing threads at most: the I/O threads keep the rest of the CPU.
agent_directory::agent_directory(store::redis_client& redis, std::string prefix, std::chrono::seconds session_ttl,
                                 login_limits limits, int password_rounds)
    : redis_(redis), prefix_(std::move(prefix)), session_ttl_(session_ttl), limits_(limits),
      hasher_(std::thread::hardware_concurrency() > 2 ? 2 : 1, password_rounds) {}

awaitable<std::string> agent_directory::hash(std::string password) { co_return co_await hasher_.hash(std::move(password)); }

std::string agent_directory::session_id(const std::string& token) { return connectors::sha256_hex(token); }

awaitable<result<std::optional<std::string>>> agent_directory::create(agent a, const std::string& password) {
  using out = result<std::optional<std::string>>;
  // The login and a fresh id in one step (agent_admin.lua's claim).
  auto claimed = co_await redis_.fcall(routing::script(routing::lua::agent_admin), store::make_command(),
                                       store::make_command(prefix_, "claim", a.login, std::to_string(routing::now_ms()), ""));
  if (!claimed) co_return out(boost::system::in_place_error, claimed.error());
  if (claimed->is_error() || claimed->elements.empty())
    co_return out(boost::system::in_place_error, store::make_error_code(store::redis_errc::server_error));
  if (claimed->elements[0].str != "ok" || claimed->elements.size() < 2) co_return std::optional<std::string>{};
  a.id = claimed->elements[1].str;
  auto hashed = co_await hasher_.hash(password);
  auto r = co_await redis_.exec(store::make_command("HSET", prefix_ + "agent:" + a.id, "id", a.id, "login", a.login, "name", a.name,
                                 "role", a.role, "team", a.team, "teams", join_teams(a), "capacity", std::to_string(a.capacity), "password",
                                 hashed));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  co_await redis_.exec(store::make_command("SADD", prefix_ + "agents", a.id));
  co_return std::optional<std::string>(a.id);
}

awaitable<result<std::optional<agent>>> agent_directory::load(const std::string& id) {
  auto r = co_await redis_.exec(store::make_command("HMGET", prefix_ + "agent:" + id, "id", "login", "name", "role", "team", "capacity", "teams"));
  if (!r) co_return r.error();
  if (r->elements.size() != 7 || r->elements[0].is_nil()) co_return std::optional<agent>{};
  agent a;
  a.id = r->elements[0].str;
  a.login = r->elements[1].str;
  a.name = r->elements[2].str;
  a.role = r->elements[3].str;
  a.team = r->elements[4].str;
  const auto& cap = r->elements[5].str;
  std::from_chars(cap.data(), cap.data() + cap.size(), a.capacity);
  a.teams = proto::split_nonempty(r->elements[6].str, ',');
  if (a.teams.empty()) a.teams.push_back(a.team);
  co_return a;
}

// Counted before the password is checked, in one step: concurrent guesses
// cannot all pass a check of a count that only failures raise afterwards.
// The window is the minute from the first attempt. A login is limited per
// client address, so guesses from elsewhere do not lock its agent out, and
// in all (a ceiling for guesses spread over many addresses).
awaitable<result<bool>> agent_directory::attempt_allowed(const std::string& login, const std::string& address) {
  const std::string keys[] = {login_tries_key(login, address), login_tries_key(login, {}),
                              address_tries_key(address)};
  const int limits[] = {limits_.per_login, limits_.per_login * login_limit_all_addresses, limits_.per_address};
  std::vector<std::vector<std::string>> count;
  for (const auto& key : keys) {
    count.push_back(store::make_command("INCR", key));
    count.push_back(store::make_command("EXPIRE", key, "60", "NX"));
  }
  count.push_back(store::make_command("ZSCORE", known_addresses_key(login), address));
  auto counted = co_await redis_.exec_pipeline(std::move(count));
  if (!counted) co_return failed(counted.error());
  const auto& r = *counted;
  if (r.size() != 2 * std::size(keys) + 1) co_return failed(store::redis_errc::server_error);
  bool within[std::size(keys)];
  for (std::size_t i = 0; i < std::size(keys); ++i) {
    if (r[2 * i].is_error()) co_return failed(store::redis_errc::server_error);
    within[i] = r[2 * i].integer <= limits[i];
  }
  // Guesses spread over many addresses reach the login's ceiling; the agent
  // still gets in from an address they signed in from before.
  const auto since = proto::parse_int(r.back().str);
  const bool known_address = since > 0 && routing::now_ms() - since < std::int64_t{known_address_days} * 86'400'000;
  co_return within[0] && within[2] && (within[1] || known_address);
}


std::string agent_directory::known_addresses_key(const std::string& login) const {
  return prefix_ + "login_known:" + login;
}

std::string agent_directory::address_tries_key(const std::string& address) const {
  return prefix_ + "login_tries_from:" + address;
}

std::string agent_directory::login_tries_key(const std::string& login, const std::string& address) const {
  // The address first: a login name is the client's to choose and may hold a '|'.
  return address.empty() ? prefix_ + "login_tries:" + login : prefix_ + "login_tries_at:" + address + "|" + login;
}

// The session is stored only if the password is still the one checked: a
// password change (or a removal) while it was checked ends it first. A
// `rehashed` password replaces the checked hash in the same step.
awaitable<result<bool>> agent_directory::open_session(const std::string& id, const std::string& session,
                                                      const std::string& checked_hash, const std::string& rehashed) {
  auto r = co_await redis_.fcall(routing::script(routing::lua::agent_sessions), store::make_command(),
                                 store::make_command(prefix_, "open", id, session, std::to_string(session_ttl_.count()),
                                                     checked_hash, rehashed));
  if (!r) co_return failed(r.error());
  if (r->is_error() || r->elements.empty()) co_return failed(store::redis_errc::server_error);
  co_return r->elements[0].str == "ok";
}

awaitable<result<login_result>> agent_directory::login(const std::string& login, const std::string& password,
                                                      const std::string& address) {
  login_result out;
  auto allowed = co_await attempt_allowed(login, address);
  if (!allowed) co_return allowed.error();
  if (!*allowed) {
    out.status = login_status::rate_limited;
    co_return out;
  }
  auto id = co_await redis_.exec(store::make_command("GET", prefix_ + "agent_login:" + login));
  if (!id) co_return id.error();
  std::string stored_hash;  // none: checked against a dummy all the same
  if (!id->is_nil()) {
    auto h = co_await stored_password(id->str);
    if (!h) co_return h.error();
    stored_hash = std::move(*h);
  }
  bool right = co_await hasher_.verify(password, stored_hash);
  if (!right || id->is_nil()) co_return out;
  auto who = co_await load(id->str);
  if (!who) co_return who.error();
  if (!*who) co_return out;
  // Hashed at fewer rounds than configured (an older version's): hashed
  // again now, while the password is known.
  std::string rehashed;
  if (needs_rehash(stored_hash, hasher_.rounds())) rehashed = co_await hasher_.hash(password);
  auto token = random_token();
  auto session = session_id(token);
  auto opened = co_await open_session(id->str, session, stored_hash, rehashed);
  if (!opened) co_return opened.error();
  if (!*opened && !rehashed.empty()) {
    // Another login of the agent (a form sent twice, a second device) stored
    // its rehash of the same old hash first: the password was right, so the
    // session opens against the hash it stored, if the password fits it.
    auto now_stored = co_await stored_password(id->str);
    if (!now_stored) co_return now_stored.error();
    bool fits = co_await hasher_.verify(password, *now_stored);
    if (fits) opened = co_await open_session(id->str, session, *now_stored, std::string());
    if (!opened) co_return opened.error();
  }
  if (!*opened) co_return out;
  // A login that worked gives its attempt back to the address: a whole
  // office behind one NAT address signs in at nine without being refused.
  // Given back, not cleared: one known password buys no guesses at others.
  // The address is remembered as the agent's (the newest few, for
  // known_address_days): attempt_allowed lets it past the login's ceiling.
  const auto known = known_addresses_key(login);
  std::vector<std::vector<std::string>> after;
  after.push_back(store::make_command("DEL", login_tries_key(login, address), login_tries_key(login, {})));
  after.push_back(store::make_command("DECR", address_tries_key(address)));
  after.push_back(store::make_command("EXPIRE", address_tries_key(address), "60", "NX"));  // it may have lapsed meanwhile
  after.push_back(store::make_command("ZADD", known, std::to_string(routing::now_ms()), address));
  after.push_back(store::make_command("ZREMRANGEBYRANK", known, "0", std::to_string(-known_addresses_kept - 1)));
  after.push_back(store::make_command("EXPIRE", known, std::to_string(known_address_days * 86400)));
  co_await redis_.exec_pipeline(std::move(after));
  out.token = std::move(token);
  out.status = login_status::ok;
  out.who = **who;
  co_return out;
}

awaitable<result<std::string>> agent_directory::stored_password(const std::string& id) {
  auto h = co_await redis_.exec(store::make_command("HGET", prefix_ + "agent:" + id, "password"));
  if (!h) co_return h.error();
  co_return h->is_nil() ? std::string() : h->str;
}

awaitable<result<std::optional<agent>>> agent_directory::authenticate(const std::string& token) {
  if (token.empty() || token.size() > 256) co_return std::optional<agent>{};
  auto session = session_id(token);
  co_return co_await by_session(session);
}

awaitable<result<std::optional<agent>>> agent_directory::by_session(const std::string& session) {
  auto id = co_await redis_.exec(store::make_command("GET", prefix_ + "session:" + session));
  if (!id) co_return id.error();
  if (id->is_nil()) co_return std::optional<agent>{};
  co_return co_await load(id->str);
}

awaitable<result<std::optional<std::chrono::milliseconds>>> agent_directory::time_left(const std::string& session) {
  auto left = co_await redis_.exec(store::make_command("PTTL", prefix_ + "session:" + session));
  if (!left) co_return left.error();
  if (left->is_error()) co_return make_error_code(store::redis_errc::server_error);
  if (left->integer < 0) co_return std::optional<std::chrono::milliseconds>{};
  co_return std::chrono::milliseconds(left->integer);
}

awaitable<result<void>> agent_directory::logout(const std::string& token) {
  if (token.empty() || token.size() > 256) co_return result<void>{};
  auto r = co_await redis_.fcall(routing::script(routing::lua::agent_sessions), store::make_command(),
                                 store::make_command(prefix_, "close", session_id(token), "logged out"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return result<void>{};
}

awaitable<result<void>> agent_directory::end_access(const std::string& id, const std::string& reason, bool sessions_too) {
  auto r = co_await redis_.fcall(routing::script(routing::lua::agent_sessions), store::make_command(),
                                 store::make_command(prefix_, "end", id, reason, sessions_too ? "1" : "0"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return result<void>{};
}

awaitable<result<void>> agent_directory::end_sessions(const std::string& id, const std::string& reason) {
  co_return co_await end_access(id, reason, true);
}

awaitable<result<void>> agent_directory::close_sockets(const std::string& id, const std::string& reason) {
  co_return co_await end_access(id, reason, false);
}

}  // namespace pasokh::gateway
