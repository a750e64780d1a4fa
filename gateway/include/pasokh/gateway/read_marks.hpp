#pragma once
// An agent's read marks, shared by all their devices: per conversation, the
// time of the newest customer message the agent has seen
// (agent:<id>:read, a zset scored by that time, newest max_read_marks kept).
// A mark that moved forward is published to the agent's other sessions as a
// seq-less `read` frame (live_hub key "agent:<id>").
#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

inline constexpr std::size_t max_read_marks = 500;

// Records that `agent` has read `conv` up to `at` (ms); an older mark never
// replaces a newer one. False when Redis failed.
boost::asio::awaitable<bool> mark_read(store::redis_client& redis, const std::string& prefix, const std::string& agent,
                                       const std::string& conv, std::int64_t at);

// The agent's newest marks as a JSON object {conv: at}; "{}" when Redis failed.
boost::asio::awaitable<std::string> read_marks_json(store::redis_client& redis, const std::string& prefix,
                                                    const std::string& agent);

}  // namespace pasokh::gateway
