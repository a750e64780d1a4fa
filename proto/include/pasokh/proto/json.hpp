#pragma once
// JSON codecs for the canonical types (nlohmann ADL hooks). Decoding throws a
// std::exception (nlohmann::json::exception for missing or mistyped fields,
// std::invalid_argument for unknown enum names); callers at the network
// boundary catch it and answer with a 4xx. Empty optional fields are omitted.
#include <nlohmann/json_fwd.hpp>

#include "pasokh/proto/types.hpp"

namespace pasokh::proto {

void to_json(nlohmann::json&, const channel_identity&);
void from_json(const nlohmann::json&, channel_identity&);
void to_json(nlohmann::json&, const customer&);
void from_json(const nlohmann::json&, customer&);
void to_json(nlohmann::json&, const conversation&);
void from_json(const nlohmann::json&, conversation&);
void to_json(nlohmann::json&, const attachment&);
void from_json(const nlohmann::json&, attachment&);
void to_json(nlohmann::json&, const message&);
void from_json(const nlohmann::json&, message&);
void to_json(nlohmann::json&, const inbound_event&);
void from_json(const nlohmann::json&, inbound_event&);
void to_json(nlohmann::json&, const button&);
void from_json(const nlohmann::json&, button&);
void to_json(nlohmann::json&, const outbound_message&);
void from_json(const nlohmann::json&, outbound_message&);

}  // namespace pasokh::proto
