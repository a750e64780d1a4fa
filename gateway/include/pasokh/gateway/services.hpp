#pragma once
// What request handlers and WebSocket protocols share, built once in main.
#include "pasokh/gateway/agent_directory.hpp"
#include "pasokh/gateway/config.hpp"
#include "pasokh/gateway/live_hub.hpp"
#include "pasokh/routing/bot_flow.hpp"
#include "pasokh/routing/conversation_service.hpp"
#include "pasokh/routing/routing_service.hpp"
#include "pasokh/routing/search_service.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

struct services {
  const config& cfg;
  store::redis_client& redis;
  routing::conversation_service& conversations;
  agent_directory& agents;
  live_hub& hub;
  bot::bot& faq_bot;
  routing::bot_flow& bot_turns;
  routing::routing_service* routing = nullptr;  // presence, queues, assignment (routing_api.cpp)
  routing::search_service* search = nullptr;    // search_api.cpp
  // The pub/sub link that carries live events to agents: /readyz and /metrics
  // report it with the command link.
  const store::redis_subscriber* subscriber = nullptr;
  // The web chat's own pub/sub link (typing, queue places, ended visitors).
  const store::redis_subscriber* webchat_subscriber = nullptr;
  // The connection for files' bytes (attachment_blobs.hpp; main.cpp opens
  // it): writing or reading a file of many MB, even a chunk at a time, must
  // not hold ingest and replies behind it. Null: `redis` (unit tests).
  store::redis_client* files = nullptr;
  store::redis_client& file_bytes() { return files ? *files : redis; }
};

}  // namespace pasokh::gateway
