#pragma once
// JSON frames for the WebSocket sessions (agent console and web chat).
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pasokh::gateway {

// The frame's text, shared by every session it goes to. Invalid UTF-8 (it
// can arrive in mail) is replaced rather than thrown on.
inline std::shared_ptr<const std::string> frame_of(const nlohmann::json& j) {
  return std::make_shared<const std::string>(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// {"type":"error","code":…,"message":…} answering the frame with `client_id` (if any).
inline nlohmann::json error_frame(std::string_view code, std::string_view message, const std::string& client_id = {}) {
  nlohmann::json j = {{"type", "error"}, {"code", code}, {"message", message}};
  if (!client_id.empty()) j["client_id"] = client_id;
  return j;
}

}  // namespace pasokh::gateway
