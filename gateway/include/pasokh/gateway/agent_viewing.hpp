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

// A refresh sooner than this after the last one is dropped (the console
// refreshes every VIEW_REFRESH_MS, web/console/js/typing.js), and a viewer
// not refreshed for viewing_lapse_ms is gone (VIEW_LAPSE_MS there).
constexpr std::int64_t viewing_interval_ms = 5000;
constexpr std::int64_t viewing_lapse_ms = 35000;

class agent_viewing {
 public:
  // The team of a conversation the agent may see; nothing otherwise.
  using team_lookup = std::function<boost::asio::awaitable<std::optional<std::string>>(const std::string& conv)>;
  // A frame for this session alone (an error, or a viewer already there).
  using reply_fn = std::function<void(const nlohmann::json&)>;

  agent_viewing(webchat_service& w, std::string agent_id, std::string name, team_lookup team_of, reply_fn reply);

  // One "viewing" frame of the session. A refresh sooner than
  // viewing_interval_ms after the last is dropped; a conversation the agent
  // may not see is refused once and then ignored for a minute, or until the
  // console shows another one.
  boost::asio::awaitable<void> on_frame(const nlohmann::json& frame);

  // The session closed: what it showed is no longer shown (this runs on after
  // the object is gone).
  void closed(const boost::asio::any_io_executor& ex);

 private:
  nlohmann::json frame(const std::string& conv, bool state) const;
  boost::asio::awaitable<void> end();

  webchat_service& w_;
  std::string agent_id_, name_;
  team_lookup team_of_;
  reply_fn reply_;
  std::string member_;           // "<agent>|<session>" in viewing:<conv>
  std::string shown_, team_;     // the conversation on screen, and its team
  std::string refused_;          // the last one the agent may not see
  std::int64_t refused_at_ = 0;
  std::int64_t since_ = 0;       // when "viewing" was last relayed
};

}  // namespace pasokh::gateway
