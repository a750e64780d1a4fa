#pragma once
// Customer files that may be one person (issue 8): after ingest, an email
// address or phone number a customer writes that another file holds becomes
// a merge suggestion for an agent (customer_links_api.cpp). Costs a Redis call
// only when the text holds an address or a 10+ digit number.
#include <boost/asio/awaitable.hpp>

#include "pasokh/gateway/services.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/routing/conversation_service.hpp"

namespace pasokh::gateway {

boost::asio::awaitable<void> note_mentions(services& s, const routing::ingest_outcome& stored,
                                           const proto::inbound_event& event);

}  // namespace pasokh::gateway
