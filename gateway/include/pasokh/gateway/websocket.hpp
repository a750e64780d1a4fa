#pragma once
// The seam between the WebSocket transport (Beast, in the server's
// translation unit) and the protocols spoken over it (agent, customer chat).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "pasokh/gateway/http.hpp"

namespace pasokh::gateway {

// The transport side of one WebSocket session. Thread-safe: calls are posted
// to the session's strand.
class ws_peer {
 public:
  virtual ~ws_peer() = default;
  // Queues a text frame. A session whose queue is full is closed with 1013.
  virtual void send(std::shared_ptr<const std::string> frame) = 0;
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // Completes once the send queue holds at most `bytes` bytes and `frames`
  // frames, counting every frame sent before the call: true, or false once
  // the session is closing. Lets a sender of many frames (a catch-up) keep
  // to a share of the queue instead of overflowing it. Call on the strand.
  virtual boost::asio::awaitable<bool> drained_to(std::size_t bytes, std::size_t frames) = 0;
  // The session's strand; protocol handlers run on it.
  virtual boost::asio::any_io_executor executor() const = 0;
  // After on_closed: the peer was dropped for saying nothing, not even a
  // pong, for the idle timeout (a laptop shut, a network gone).
  virtual bool went_silent() const = 0;
};

// A catch-up (missed events sent from a log) keeps to half of a send queue of
// `max_bytes` and `max_frames`, the rest being for live events and answers:
// waits until a frame of `frame_bytes` fits. False once the session is closing.
inline boost::asio::awaitable<bool> room_for_catch_up(ws_peer& peer, std::size_t max_bytes, std::size_t max_frames,
                                                      std::size_t frame_bytes) {
  const auto share = max_bytes / 2;
  co_return co_await peer.drained_to(share > frame_bytes ? share - frame_bytes : 0, max_frames / 2);
}

// The protocol side. on_text runs on the session's strand, one frame at a
// time. on_closed runs once, when the transport is gone.
class ws_handler {
 public:
  virtual ~ws_handler() = default;
  virtual boost::asio::awaitable<void> on_text(std::string frame) = 0;
  virtual void on_closed() = 0;
};

// Decides on the upgrade request: a handler accepts, or an HTTP error refuses
// (e.g. 403 for a forbidden Origin) before the handshake.
struct ws_accept {
  std::shared_ptr<ws_handler> handler;
  http_response refusal;
  // A peer that sends nothing (not even the pong to the server's ping, sent
  // after half of it) for this long is dropped; zero: Beast's suggested 300 s.
  std::chrono::steady_clock::duration idle_timeout{};
};
using ws_endpoint = std::function<ws_accept(const http_request&, std::shared_ptr<ws_peer>)>;

}  // namespace pasokh::gateway
