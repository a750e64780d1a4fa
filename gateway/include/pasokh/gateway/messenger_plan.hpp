#pragma once
// What one outbound message becomes for a messenger provider: the requests to
// send, or a refusal (the provider's messaging window).
#include <chrono>
#include <optional>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/gateway/messenger_config.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::gateway {

// `since`: time since the customer's last message (nullopt: never wrote).
connectors::send_plan plan_for(const messenger_provider& provider, const proto::outbound_message& msg,
                               std::optional<std::chrono::milliseconds> since);

}  // namespace pasokh::gateway
