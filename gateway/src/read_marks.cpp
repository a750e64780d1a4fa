#include "pasokh/gateway/read_marks.hpp"

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

using boost::asio::awaitable;
using nlohmann::json;

awaitable<bool> mark_read(store::redis_client& redis, const std::string& prefix, const std::string& agent,
                          const std::string& conv, std::int64_t at) {
  const auto key = prefix + "agent:" + agent + ":read";
  std::vector<std::vector<std::string>> writes;
  writes.push_back(store::make_command("ZADD", key, "GT", "CH", std::to_string(at), conv));
  writes.push_back(store::make_command("ZREMRANGEBYRANK", key, "0", std::to_string(-static_cast<long>(max_read_marks) - 1)));
  auto r = co_await redis.exec_pipeline(std::move(writes));
  if (!r || r->empty() || r->front().is_error()) co_return false;
  if (r->front().integer == 0) co_return true;  // not newer than the stored mark: nothing to tell
  // The header names only the agent: the hub passes it to that agent's sessions alone.
  auto header = json{{"team", ""}, {"conv", conv}, {"customer", ""}, {"seq", 0}, {"assignee", agent}}.dump();
  auto frame = json{{"type", "read"}, {"agent", agent}, {"conv", conv}, {"at", at}}.dump();
  auto published = co_await redis.exec(store::make_command("PUBLISH", prefix + "events", header + "\n" + frame));
  co_return published && !published->is_error();
}

awaitable<std::string> read_marks_json(store::redis_client& redis, const std::string& prefix, const std::string& agent) {
  auto r = co_await redis.exec(store::make_command("ZRANGE", prefix + "agent:" + agent + ":read", "0", "-1", "WITHSCORES"));
  json marks = json::object();
  if (r && !r->is_error()) {
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) marks[r->elements[i].str] = r->elements[i + 1].as_int();
  }
  co_return marks.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pasokh::gateway
