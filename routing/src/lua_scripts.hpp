#pragma once
// The conversation Lua scripts (routing/src/lua/*.lua, embedded at build
// time), each with the shared prelude in front.
#include <cstdint>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

namespace lua {
extern const char* const prelude;
extern const char* const ingest;
extern const char* const append_reply;
extern const char* const set_status;
extern const char* const team_snapshot;
extern const char* const bot_turn;
extern const char* const routing_lib;
}  // namespace lua



}  // namespace pasokh::routing
