#pragma once
// Agents, their passwords and login sessions, in Redis.
//   <prefix>agent:<id>            hash: id, login, name, role, team, teams, capacity, password, availability
//   <prefix>agent_login:<login>   agent id
//   <prefix>session:<sha256>      agent id, with the session TTL (the token itself is never stored)
//   <prefix>login_fail:<login>    failed attempts in the current minute
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

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

class agent_directory {
 public:
  agent_directory(store::redis_client& redis, std::string prefix, std::chrono::seconds session_ttl,
                  int attempts_per_minute);

  // Creates the agent unless the login exists; returns false if it existed.
  boost::asio::awaitable<store::result<bool>> create(const agent& a, const std::string& password);
  boost::asio::awaitable<store::result<login_result>> login(const std::string& login, const std::string& password);
  boost::asio::awaitable<store::result<std::optional<agent>>> authenticate(const std::string& token);
  boost::asio::awaitable<store::result<void>> logout(const std::string& token);

 private:
  boost::asio::awaitable<store::result<std::optional<agent>>> load(const std::string& id);

  store::redis_client& redis_;
  std::string prefix_;
  std::chrono::seconds session_ttl_;
  int attempts_per_minute_;
};

}  // namespace pasokh::gateway
