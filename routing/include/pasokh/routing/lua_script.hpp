#pragma once
// Conversation Lua scripts: the shared prelude (routing/src/lua/prelude.lua)
// with a body in front of it, built and hashed once per body.
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

// prelude + body
const store::lua_script& script(const char* body);
// prelude + routing_lib.lua + body
const store::lua_script& routing_script(const char* body);

}  // namespace pasokh::routing
