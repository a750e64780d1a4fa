#pragma once
// The conversation scripts (routing/src/lua/*.lua) as the functions of one
// Redis function library: the shared prelude and routing helpers are loaded
// once with it, so a call runs only its own script.
#include "pasokh/routing/lua_bodies.hpp"  // generated: lua::ingest, lua::campaign, ...
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

// The library: prelude.lua and routing_lib.lua, then every script of
// lua::functions as a function. Its name and its functions' names carry a
// hash of the code, so gateways of two versions on one Redis keep their own.
const store::lua_library& script_library();

// Loads the library (FUNCTION LOAD REPLACE) and deletes the libraries of
// other versions: a gateway still running one loads it again on its next
// call. A library Redis refuses (a Lua error) is a server_error, logged.
boost::asio::awaitable<store::result<void>> load_script_library(store::redis_client& redis);

// The script `body` (one of lua::functions, e.g. lua::ingest), called with FCALL.
const store::lua_script& script(const char* body);

}  // namespace pasokh::routing
