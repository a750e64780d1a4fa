#pragma once
// Who else has a conversation open. An agent's console says which
// conversation it shows ({"type":"viewing","conv","state"}, refreshed while
// it stays on screen); the other agents of the conversation's team are told,
// never a customer. `viewing:<conv>` (a zset, "<agent>|<session>" -> until)
// lists the viewers for an agent who opens it later, one entry per session so
// that one device moving on does not end the agent's viewing on another.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

class webchat_service;

class agent_viewing {
 public:
  // The team of a conversation the agent may see; nothing otherwise.
  using team_lookup = std::function<boost::asio::awaitable<std::optional<std::string>>(const std::string& conv)>;
  // A frame for this session alone (an error, or a viewer already there).
  using reply_fn = std::function<void(const nlohmann::json&)>;

  agent_viewing(webchat_service& w, std::string agent_id, std::string name);

  // One "viewing" frame of the session. A refresh sooner than
  // viewing_interval_ms after the last is dropped; a conversation the agent
  // may not see is refused once and then ignored for a minute, or until the
  // console shows another one.
  boost::asio::awaitable<void> on_frame(const nlohmann::json& frame, const team_lookup& team_of, const reply_fn& reply);

  // The session closed: what it showed is no longer shown (this runs on after
  // the object is gone).
  void closed(const boost::asio::any_io_executor& ex);

 private:
  nlohmann::json frame(const std::string& conv, bool state) const;
  boost::asio::awaitable<void> end();

  webchat_service& w_;
  std::string agent_id_, name_;
  std::string member_;           // "<agent>|<session>" in viewing:<conv>
  std::string shown_, team_;     // the conversation on screen, and its team
  std::string refused_;          // the last one the agent may not see
  std::int64_t refused_at_ = 0;
  std::int64_t since_ = 0;       // when "viewing" was last relayed
};

}  // namespace pasokh::gateway
