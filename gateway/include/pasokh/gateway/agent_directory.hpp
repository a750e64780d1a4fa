#pragma once
// Agents, their passwords and login sessions, in Redis.
//   <prefix>agent:<id>              hash: id, login, name, role, team, teams, capacity, password, availability
//   <prefix>agent:<id>:sessions     set: the agent's session hashes, to end them all
//   <prefix>agent_login:<login>     agent id
//   <prefix>agent_ids               set: every agent id ever given (never given again)
//   <prefix>agents_removed          hash: removed agent id -> {"name","login","removed_at"} (reports name it)
//   <prefix>session:<sha256>        agent id, with the session TTL (the token itself is never stored)
//   <prefix>login_tries_at:<addr>|<login>  attempts at a login from one address in the current minute
//   <prefix>login_tries:<login>     attempts at a login from all addresses (a success clears both)
//   <prefix>login_tries_from:<addr> login attempts from one client address in the current minute
// Ending access is published on <prefix>agent_access (agent_sessions.lua):
// every instance closes the agent's sockets (live_hub::end_access).
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pasokh/gateway/password.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

struct agent {
  std::string id;
  std::string login;
  std::string name;
  std::string role = "agent";  // "agent" or "admin"
  std::string team = "support";
  std::vector<std::string> teams;  // every team the agent works in (team first); empty: just team
  int capacity = 5;
};

enum class login_status { ok, bad_credentials, rate_limited };

struct login_result {
  login_status status = login_status::bad_credentials;
  std::string token;
  agent who;
};

// Login attempts allowed a minute, counted before the password is checked.
struct login_limits {
  int per_login = 10;    // per login name and client address
  int per_address = 30;  // per client address, whatever the login
};
// A login name's attempts from all addresses together: this many times per_login.
inline constexpr int login_limit_all_addresses = 10;
// An address a login succeeded from is let past that ceiling (not past the
// others) for this many days; the newest this many are kept per login.
inline constexpr int known_address_days = 30;
inline constexpr int known_addresses_kept = 20;

class agent_directory {
 public:
  // `password_rounds`: PBKDF2 rounds of new hashes; a login whose stored hash
  // has fewer stores it again with these.
  agent_directory(store::redis_client& redis, std::string prefix, std::chrono::seconds session_ttl, login_limits limits,
                  int password_rounds);

  // Creates the agent unless the login exists (nullopt then) and answers its
  // id: ag_<login>, or ag_<login>_<n> when that id was given before (to an
  // agent since removed, whose history keeps it). `a.id` is not read.
  boost::asio::awaitable<store::result<std::optional<std::string>>> create(agent a, const std::string& password);
  // `address`: the client's, for the per-address limit.
  boost::asio::awaitable<store::result<login_result>> login(const std::string& login, const std::string& password,
                                                            const std::string& address);
  boost::asio::awaitable<store::result<std::optional<agent>>> authenticate(const std::string& token);
  // The agent of a live session (by session_id), as it is now; nothing once
  // the session ended or the agent was removed.
  boost::asio::awaitable<store::result<std::optional<agent>>> by_session(const std::string& session);
  // How long a live session has left (sessions are never extended); nothing
  // once it ended.
  boost::asio::awaitable<store::result<std::optional<std::chrono::milliseconds>>> time_left(const std::string& session);
  // Ends the session and closes its sockets on every instance.
  boost::asio::awaitable<store::result<void>> logout(const std::string& token);

  // Ends every session of the agent (password changed, agent removed) and
  // closes its sockets on every instance with `reason`.
  boost::asio::awaitable<store::result<void>> end_sessions(const std::string& id, const std::string& reason);
  // Closes the agent's sockets on every instance, sessions kept: the console
  // reconnects and gets the agent's new role and teams.
  boost::asio::awaitable<store::result<void>> close_sockets(const std::string& id, const std::string& reason);

  // A password as stored (hashed off the I/O threads).
  boost::asio::awaitable<std::string> hash(std::string password);

  // What names a session in Redis and in end-of-access notices: the token's hash.
  static std::string session_id(const std::string& token);
  // Where ends of access are published.
  std::string access_channel() const { return prefix_ + "agent_access"; }

 private:
  boost::asio::awaitable<store::result<std::optional<agent>>> load(const std::string& id);
  boost::asio::awaitable<store::result<bool>> attempt_allowed(const std::string& login, const std::string& address);
  // The attempts counter of a login from one address, or from all (address empty).
  std::string login_tries_key(const std::string& login, const std::string& address) const;
  std::string address_tries_key(const std::string& address) const;
  std::string known_addresses_key(const std::string& login) const;
  // The agent's stored password hash ('' for none).
  boost::asio::awaitable<store::result<std::string>> stored_password(const std::string& id);
  boost::asio::awaitable<store::result<bool>> open_session(const std::string& id, const std::string& session,
                                                           const std::string& checked_hash, const std::string& rehashed);
  boost::asio::awaitable<store::result<void>> end_access(const std::string& id, const std::string& reason, bool sessions_too);

  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds session_ttl_;
  login_limits limits_;
  password_hasher hasher_;
};

}  // namespace pasokh::gateway
