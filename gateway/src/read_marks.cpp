#include "pasokh/gateway/read_marks.hpp"

#include <nlohmann/json.hpp>

#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using boost::asio::awaitable;
using nlohmann::json;

namespace {

std::string marks_key(const std::string& prefix, const std::string& agent) { return prefix + "agent:" + agent + ":read"; }

}  // namespace

awaitable<bool> mark_read(store::redis_client& redis, const std::string& prefix, const std::string& agent,
                          const std::string& conv, std::int64_t at) {
  auto r = co_await redis.fcall(routing::script(routing::lua::read_mark), store::make_command(marks_key(prefix, agent)),
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
