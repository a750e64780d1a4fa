#include "pasokh/gateway/read_marks.hpp"

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

using boost::asio::awaitable;
using nlohmann::json;

namespace {

// One round trip: the mark moves forward only; when it did, the set is
// trimmed and the other sessions are told. The header names only the agent:
// the hub passes it to that agent's sessions alone.
// KEYS: the marks; ARGV: prefix, agent, conv, at, max marks.
const store::lua_script& mark_read_script() {
  static const store::lua_script s(R"lua(
local key = KEYS[1]
if redis.call('ZADD', key, 'GT', 'CH', ARGV[4], ARGV[3]) == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', key, 0, -tonumber(ARGV[5]) - 1)
local header = cjson.encode({ team = '', conv = ARGV[3], customer = '', seq = 0, assignee = ARGV[2] })
local frame = cjson.encode({ type = 'read', agent = ARGV[2], conv = ARGV[3], at = tonumber(ARGV[4]) })
redis.call('PUBLISH', ARGV[1] .. 'events', header .. '\n' .. frame)
return 1
)lua");
  return s;
}

std::string marks_key(const std::string& prefix, const std::string& agent) { return prefix + "agent:" + agent + ":read"; }

}  // namespace

awaitable<bool> mark_read(store::redis_client& redis, const std::string& prefix, const std::string& agent,
                          const std::string& conv, std::int64_t at) {
  auto r = co_await redis.eval(mark_read_script(), store::make_command(marks_key(prefix, agent)),
                               store::make_command(prefix, agent, conv, std::to_string(at), std::to_string(max_read_marks)));
  co_return r && !r->is_error();
}

awaitable<std::string> read_marks_json(store::redis_client& redis, const std::string& prefix, const std::string& agent) {
  auto r = co_await redis.exec(store::make_command("ZRANGE", marks_key(prefix, agent), "0", "-1", "WITHSCORES"));
  json marks = json::object();
  if (r && !r->is_error()) {
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) marks[r->elements[i].str] = r->elements[i + 1].as_int();
  }
  co_return marks.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pasokh::gateway
