#pragma once
// HTTP routes. Each handler only adapts HTTP to the services: it checks the
// request, calls a service and maps the outcome to a status code.
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

// After a new customer message is stored: mentions, opt-out and CSAT, the
// bot's turn if the conversation is with the bot, routing. Every ingress
// path calls it through follow_up (followup.hpp), which makes it durable.
// False when a step failed for Redis trouble (it is run again later); each
// step is safe to run again.
boost::asio::awaitable<bool> run_bot(services& s, const routing::ingest_outcome& stored,
                                     const proto::inbound_event& event);

class redis_memory_watch;
void add_health_routes(router& r, services& s, redis_memory_watch& redis_memory);  // /healthz /readyz /metrics
void add_auth_routes(router& r, services& s);        // /api/v1/auth/*
void add_api_channel_routes(router& r, services& s); // /api/v1/channels/{channel}/*
void add_admin_routes(router& r, services& s);       // /api/v1/admin/* (admin role)
void add_static_routes(router& r, services& s);      // /console/* /widget/* /

}  // namespace pasokh::gateway
