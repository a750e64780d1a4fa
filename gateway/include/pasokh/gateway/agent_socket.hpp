#pragma once
// The agent WebSocket protocol (/ws/agent), version 1: see proto/README.md.
#include "pasokh/gateway/services.hpp"
#include "pasokh/gateway/websocket.hpp"

namespace pasokh::gateway {

ws_endpoint make_agent_endpoint(services& s);

}  // namespace pasokh::gateway
