#include "pasokh/gateway/http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/email_webhook_limit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/gateway/file_slots.hpp"
#include "pasokh/gateway/webchat_uploads.hpp"

namespace pasokh::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::awaitable;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// Web chat uploads read at once (each held whole, up to max_upload_bytes),
// in all and from one client address; how long a body read piece by piece
// (an upload, a mail posted by a webhook) may take in all.
constexpr std::size_t max_uploads_at_once = 32;
constexpr std::size_t max_uploads_at_once_per_address = 4;
constexpr auto long_body_read_limit = std::chrono::minutes(5);
// Mail posted by a webhook (up to 2 × max_message_bytes each), the same way:
// the provider posts a few at a time and retries a 503.
constexpr std::size_t max_mail_posts_at_once = 8;
constexpr std::size_t max_mail_posts_at_once_per_address = 4;
// Draining, a keep-alive connection may already carry its next request (the
// client sent it as the last answer left): how long it has to arrive, to be
// served and answered with Connection: close, before the connection closes.
constexpr auto drain_read_grace = std::chrono::milliseconds(500);

std::shared_ptr<spdlog::logger> log() {
  static auto logger = [] {
    auto l = spdlog::get("http");
    return l ? l : spdlog::default_logger()->clone("http");
  }();
  return logger;
}

// Expected ends of a connection: not worth more than a debug line.
bool is_ordinary_end(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == beast::error::timeout || ec == net::error::connection_reset || ec == ssl::error::stream_truncated ||
         ec == websocket::error::closed || ec == net::error::broken_pipe;
}

// The request without its body: all a refusal before the body needs.
http_request to_request_head(const http::request<http::string_body>& req, std::string remote) {
  http_request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  std::string_view target = req.target();
  auto q = target.find('?');
  if (!percent_decode(target.substr(0, q), out.path)) out.path.clear();
  if (q != std::string_view::npos) out.query = parse_query(target.substr(q + 1));
  out.headers.reserve(std::distance(req.begin(), req.end()));
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.remote_address = std::move(remote);
  return out;
}

http_request to_request(const http::request<http::string_body>& req, std::string remote) {
  auto out = to_request_head(req, std::move(remote));
  out.body = req.body();
  return out;
}

http::response<http::string_body> to_beast(const http_response& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "pasokh");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// The answer to a HEAD: the GET's headers and length, no body (RFC 9110 9.3.2).
void drop_body(http::response<http::string_body>& res) {
  const auto length = res.body().size();
  res.body().clear();
  res.content_length(length);
}

void load_tls(ssl::context& tls, const tls_config& files) {
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  try {
    tls.use_certificate_chain_file(files.cert_file);
    tls.use_private_key_file(files.key_file, ssl::context::pem);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("listen.tls ({}, {}): {}", files.cert_file, files.key_file, e.what()));
  }
}

// Over max_connections: told so in one write that never waits (a client that
// does not read gets nothing), then closed.
template <class Socket>
void refuse_busy(Socket& socket) {
  static constexpr std::string_view busy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: 83\r\n\r\n"
      R"({"error":{"code":"too_many_connections","message":"the server is busy; try again"}})";
  static_assert(busy.size() - busy.find("\r\n\r\n") - 4 == 83);
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(net::buffer(busy), ignored);
  socket.close(ignored);
}

// A close code sent by the peer as a metrics label: applications may send
// any of 3000-4999, and every label is a series kept forever.
std::string close_code_label(std::uint16_t code) {
  return code >= 1000 && code <= 1015 ? std::to_string(code) : std::string("other");
}

}  // namespace

void http_server::check_tls(const config& cfg) {
  if (!cfg.listen.tls) return;
  ssl::context tls(ssl::context::tls_server);
  load_tls(tls, *cfg.listen.tls);
}

struct http_server::impl : std::enable_shared_from_this<impl> {
  impl(net::io_context& ioc, const config& cfg, const router& routes,
       std::map<std::string, ws_endpoint, std::less<>> ws, answer_decorator decorate)
      : ioc(ioc),
        cfg(cfg),
        routes(routes),
        ws_endpoints(std::move(ws)),
        decorate(std::move(decorate)),
        acceptor(net::make_strand(ioc)) {
    if (cfg.listen.tls) {
      tls.emplace(ssl::context::tls_server);
      load_tls(*tls, *cfg.listen.tls);
    }
  }

  net::io_context& ioc;
  const config& cfg;
  const router& routes;
  std::map<std::string, ws_endpoint, std::less<>> ws_endpoints;
  answer_decorator decorate;
  // The largest body any target takes: Beast checks the Content-Length
  // against it while it reads the header, before the target is known.
  const std::size_t largest_body = std::max({cfg.limits.max_body_bytes, cfg.limits.max_webhook_body_bytes,
                                             cfg.webchat.max_upload_bytes, largest_email_webhook_body_limit(cfg)});
  upload_gate gate;
  file_slots uploads{max_uploads_at_once, max_uploads_at_once_per_address};
  file_slots mail_posts{max_mail_posts_at_once, max_mail_posts_at_once_per_address};
  tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::atomic<bool> draining{false};

  // Live connections and how to close each one on shutdown; how many each
  // client address holds.
  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::function<void()>> closers;
  std::unordered_map<std::uint64_t, std::string> address_of;
  std::unordered_map<std::string, std::size_t> per_address;
  std::uint64_t next_id = 0;
  std::function<void()> on_all_closed;

  // Registers a connection from `address`; nullopt when it would pass
  // max_connections or max_connections_per_address.
  std::optional<std::uint64_t> add_connection(const net::ip::address& address) {
    const auto per_address_cap = cfg.proxy.trust_forwarded_for ? 0 : cfg.limits.max_connections_per_address;
    std::lock_guard lock(mutex);
    if (closers.size() >= cfg.limits.max_connections) return std::nullopt;
    auto key = address.to_string();
    if (per_address_cap > 0 && per_address[key] >= per_address_cap) return std::nullopt;
    ++per_address[key];
    closers.emplace(++next_id, [] {});
    address_of.emplace(next_id, std::move(key));
    global_metrics().http_connections.add(1);
    return next_id;
  }
  void set_closer(std::uint64_t id, std::function<void()> closer) {
    std::lock_guard lock(mutex);
    if (auto it = closers.find(id); it != closers.end()) it->second = std::move(closer);
  }
  void remove_connection(std::uint64_t id) {
    std::function<void()> done;
    {
      std::lock_guard lock(mutex);
      closers.erase(id);
      if (auto it = address_of.find(id); it != address_of.end()) {
        if (auto count = per_address.find(it->second); count != per_address.end() && --count->second == 0)
          per_address.erase(count);
        address_of.erase(it);
      }
      if (closers.empty() && draining && on_all_closed) done = std::exchange(on_all_closed, nullptr);
    }
    global_metrics().http_connections.add(-1);
    if (done) done();
  }
  std::size_t connection_count() {
    std::lock_guard lock(mutex);
    return closers.size();
  }

  awaitable<void> accept_loop();
  awaitable<void> run_connection(tcp::socket socket, std::uint64_t id, std::string remote);
  // True when the connection became a WebSocket session, which then owns `id`.
  template <class Stream> awaitable<bool> serve(Stream& stream, std::uint64_t id, std::string remote);
  template <class Stream>
  awaitable<bool> upgrade(Stream& stream, http::request<http::string_body> req, std::uint64_t id, std::string remote);
  awaitable<http_response> dispatch(const http_request& req);
};

namespace {

// What a WebSocket read asks for first (see ws_transport::run).
constexpr std::size_t idle_read_bytes = 256;

// One WebSocket session: a read loop feeding the protocol handler and a
// bounded write queue (by count and bytes) drained one frame at a time.
template <class Stream>
class ws_transport : public ws_peer, public std::enable_shared_from_this<ws_transport<Stream>> {
 public:
  ws_transport(Stream&& stream, const limits_config& limits, std::string endpoint)
      : ws_(std::move(stream)), limits_(limits), endpoint_(std::move(endpoint)) {}

  void send(std::shared_ptr<const std::string> frame) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), frame = std::move(frame)]() mutable {
      self->enqueue(std::move(frame));
    });
  }

  void close(std::uint16_t code, std::string reason) override {
    net::post(ws_.get_executor(), [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->begin_close(code, std::move(reason));
    });
  }

  awaitable<bool> drained_to(std::size_t bytes, std::size_t frames) override {
    auto self = this->shared_from_this();
    // Frames sent before the call are posted to the strand: they queue first.
    co_await net::post(ws_.get_executor(), net::use_awaitable);
    while (!closed_ && !closing_ && (queued_bytes_ > bytes || queue_.size() > frames)) {
      // Made on first use: most sessions never wait.
      if (!drained_)
        drained_ = std::make_unique<net::steady_timer>(ws_.get_executor(), net::steady_timer::time_point::max());
      co_await drained_->async_wait(use_tuple);  // woken by wake_drain_waiters
    }
    co_return !closed_ && !closing_;
  }

  net::any_io_executor executor() const override { return const_cast<ws_transport*>(this)->ws_.get_executor(); }
  bool went_silent() const override { return silent_; }

  websocket::stream<Stream>& stream() { return ws_; }

  awaitable<void> run(std::shared_ptr<ws_handler> handler) {
    std::uint16_t close_code = 1000;
    for (;;) {
      // A pending read holds the buffer space it prepared. async_read prepares
      // 1.5 KB up front; reading the start of a message with a small limit keeps
      // that to idle_read_bytes while idle (most sessions), then the rest.
      beast::flat_buffer buffer;
      auto [ec, n] = co_await ws_.async_read_some(buffer, idle_read_bytes, use_tuple);
      while (!ec && !ws_.is_message_done()) std::tie(ec, n) = co_await ws_.async_read_some(buffer, 0, use_tuple);
      if (ec) {
        close_code = close_code_for(ec);
        silent_ = ec == beast::error::timeout;
        if (!is_ordinary_end(ec)) log()->debug("websocket {} read ended: {}", endpoint_, ec.message());
        break;
      }
      if (!ws_.got_text()) {
        global_metrics().errors.inc("ws_binary_frame");
        begin_close(websocket::close_code::unknown_data, "text frames only");
        continue;  // keep reading until the close handshake completes
      }
      std::string frame = beast::buffers_to_string(buffer.data());
      if (closing_) continue;
      // A frame the handler failed on (a bug) ends the session with 1011 and a
      // reason, not a dropped socket (1006) the client cannot tell from an outage.
      bool failed = false;
      try {
        co_await handler->on_text(std::move(frame));
      } catch (const std::exception& e) {
        failed = true;
        log()->error("websocket {} frame failed: {}", endpoint_, e.what());
      }
      if (failed) {
        global_metrics().errors.inc("ws_handler_exception");
        begin_close(websocket::close_code::internal_error, "internal error");
      }
    }
    closed_ = true;
    drop_queue();
    if (sent_close_code_) close_code = *sent_close_code_;
    global_metrics().ws_closed.inc({endpoint_, close_code_label(close_code)});
    handler->on_closed();
  }

 private:
  std::uint16_t close_code_for(const beast::error_code& ec) {
    if (ec == websocket::error::closed) return ws_.reason().code;
    if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
      global_metrics().errors.inc("ws_frame_too_large");
      return websocket::close_code::too_big;
    }
    if (ec == websocket::error::bad_frame_payload) {
      global_metrics().errors.inc("ws_invalid_utf8");
      return websocket::close_code::bad_payload;
    }
    return websocket::close_code::abnormal;
  }

  void enqueue(std::shared_ptr<const std::string> frame) {
    if (closed_ || closing_) return;
    if (queue_.size() >= limits_.ws_queue_max_messages || queued_bytes_ + frame->size() > limits_.ws_queue_max_bytes) {
      global_metrics().errors.inc("ws_slow_consumer");
      begin_close(websocket::close_code::try_again_later, "send queue overflow: reconnect and resume");
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (close_pending_) start_close_handshake();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->queue_.empty()) return;  // cleared by the read loop's end
      self->queued_bytes_ -= self->queue_.front()->size();
      self->queue_.pop_front();
      self->wake_drain_waiters();
      if (ec) {
        self->writing_ = false;
        self->drop_queue();
        return;
      }
      self->write_next();
    });
  }

  void begin_close(std::uint16_t code, std::string reason) {
    if (closing_ || closed_) return;
    closing_ = true;
    wake_drain_waiters();
    sent_close_code_ = code;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), std::move(reason));
    // Frames already queued go out first, so a client sees every event before the close.
    if (writing_)
      close_pending_ = true;
    else
      start_close_handshake();
  }

  void start_close_handshake() {
    close_pending_ = false;
    drop_queue();
    ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {});
  }

  void drop_queue() {
    queue_.clear();
    queued_bytes_ = 0;
    wake_drain_waiters();
  }

  // Each waiter in drained_to looks at the queue again.
  void wake_drain_waiters() {
    if (drained_) drained_->cancel();
  }

  websocket::stream<Stream> ws_;
  const limits_config& limits_;
  std::string endpoint_;
  // A list, not a deque: an empty deque already holds a 512-byte block, and
  // most sessions are idle.
  std::list<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  std::unique_ptr<net::steady_timer> drained_;  // never expires: cancelled to wake drained_to
  bool writing_ = false;
  bool closing_ = false;
  bool close_pending_ = false;
  bool closed_ = false;
  bool silent_ = false;  // ended by the idle timeout
  std::optional<std::uint16_t> sent_close_code_;
  websocket::close_reason close_reason_;
};

// The answer to a request whose read failed, if it gets one (a client that
// went away gets none).
std::optional<http_response> read_refusal(beast::error_code ec, bool upload, std::size_t body_limit,
                                          const std::string& remote) {
  if (ec == http::error::body_limit) {
    global_metrics().errors.inc("body_too_large");
    if (upload) global_metrics().webchat_uploads.inc("too_large");
    return error_response(413, "body_too_large", fmt::format("request body exceeds {} bytes", body_limit));
  }
  if (ec == http::error::header_limit) {
    global_metrics().errors.inc("header_too_large");
    return error_response(431, "header_too_large", "request header too large");
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
    global_metrics().errors.inc("bad_http");
    return error_response(400, "bad_request", "malformed HTTP request: " + ec.message());
  }
  if (!is_ordinary_end(ec)) log()->debug("read from {} failed: {}", remote, ec.message());
  return std::nullopt;
}

// Over TLS, browsers are told to come back over TLS only, for a year.
template <class Stream>
void mark_tls_only(http::response<http::string_body>& res) {
  if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>)
    res.set(http::field::strict_transport_security, "max-age=31536000");
}

template <class Stream>
awaitable<void> write_response(Stream& stream, const http_response& r, unsigned version, bool keep_alive) {
  auto res = to_beast(r, version, keep_alive);
  mark_tls_only<Stream>(res);
  co_await http::async_write(stream, res, use_tuple);
}

template <class Stream>
awaitable<void> graceful_close(Stream& stream) {
  if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(use_tuple);
  } else {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }
}

// After a refusal with the request unread (a body too large): closing while
// the body still arrives makes the client's TCP reset the connection, and a
// browser uploading a file loses the answer it was sent. The rest is read and
// dropped first, for at most `limit` (a lingering close).
template <class Stream>
awaitable<void> drain_before_close(Stream& stream, std::chrono::milliseconds limit) {
  auto& socket_layer = beast::get_lowest_layer(stream);
  if constexpr (!std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
    beast::error_code ignored;
    socket_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);  // the answer ends here
  }
  socket_layer.expires_after(limit);
  std::array<char, 16384> dropped;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(dropped), use_tuple);
    if (ec) co_return;
  }
}

}  // namespace

awaitable<void> http_server::impl::accept_loop() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), use_tuple);
    if (ec) {
      if (!acceptor.is_open() || ec == net::error::operation_aborted) co_return;
      log()->warn("accept failed: {}", ec.message());
      global_metrics().errors.inc("accept_failed");
      // Out of descriptors or similar: back off instead of spinning.
      net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    beast::error_code ignored;
    const auto address = socket.remote_endpoint(ignored).address();
    auto id = add_connection(address);
    if (!id) {
      global_metrics().errors.inc("too_many_connections");
      refuse_busy(socket);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    auto ex = socket.get_executor();
    net::co_spawn(ex, run_connection(std::move(socket), *id, address.to_string()), net::detached);
  }
}

awaitable<void> http_server::impl::run_connection(tcp::socket socket, std::uint64_t id, std::string remote) {
  auto self = shared_from_this();
  beast::tcp_stream stream(std::move(socket));
  bool handed_off = false;
  try {
    if (tls) {
      beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
      beast::get_lowest_layer(secure).expires_after(cfg.limits.read_timeout);
      auto [hs_ec] = co_await secure.async_handshake(ssl::stream_base::server, use_tuple);
      if (hs_ec) {
        global_metrics().errors.inc("tls_handshake_failed");
        log()->debug("TLS handshake from {} failed: {}", remote, hs_ec.message());
      } else {
        handed_off = co_await serve(secure, id, remote);
      }
    } else {
      handed_off = co_await serve(stream, id, remote);
    }
  } catch (const std::exception& e) {
    global_metrics().errors.inc("connection_exception");
    log()->error("connection from {} failed: {}", remote, e.what());
  }
  if (!handed_off) remove_connection(id);
}

template <class Stream>
awaitable<bool> http_server::impl::serve(Stream& stream, std::uint64_t id, std::string remote) {
  auto& socket_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  // Shutdown closes a connection that waits for its next request once
  // drain_read_grace passes without one (a request already on its way is
  // served); one that is busy finishes its request and then closes
  // (keep_alive is off by then). `idle` is true only while the header read
  // below is pending, so the stream is alive whenever a handler finds it true.
  auto idle = std::make_shared<std::atomic<bool>>(true);
  set_closer(id, [idle, &socket_layer, ex = socket_layer.get_executor()] {
    net::post(ex, [idle, &socket_layer, ex] {
      if (!*idle) return;
      auto grace = std::make_shared<net::steady_timer>(ex, drain_read_grace);
      grace->async_wait([grace, idle, &socket_layer](beast::error_code) {
        if (*idle) socket_layer.cancel();
      });
    });
  });

  for (;;) {
    std::unique_ptr<file_slots::slot> body_slot;
    std::optional<http_response> early_refusal;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(cfg.limits.max_header_bytes));
    // Narrowed to the target's own limit once the header is read.
    parser.body_limit(largest_body);
    idle->store(true);
    // Draining: a next request already sent gets drain_read_grace to arrive.
    socket_layer.expires_after(draining ? std::chrono::milliseconds(drain_read_grace) : cfg.limits.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    idle->store(false);
    const std::string_view target(parser.get().target().data(), parser.get().target().size());
    const bool upload = is_webchat_upload(target);
    const auto mail_limit = email_webhook_body_limit(cfg, target);  // a whole mail, up to 25 MB
    const std::size_t body_limit = mail_limit                       ? *mail_limit
                                   : target.starts_with("/webhooks/") ? cfg.limits.max_webhook_body_bytes
                                   : upload                         ? cfg.webchat.max_upload_bytes
                                                                    : cfg.limits.max_body_bytes;
    if (!ec && !parser.is_done()) {
      if (websocket::is_upgrade(parser.get())) {
        set_closer(id, [] {});
        co_return co_await upgrade(stream, parser.release(), id, remote);
      }
      parser.body_limit(body_limit);
      // Refused from its Content-Length, before the body is read.
      if (parser.content_length().value_or(0) > body_limit) {
        ec = http::error::body_limit;
      } else if (upload || mail_limit) {
        // How many such bodies are read at a time is capped, in all and per
        // client address (each is held whole); an upload's sender is checked
        // before its body is read (a mail post's signature is in its body).
        const auto head = to_request_head(parser.get(), remote);
        body_slot = (upload ? uploads : mail_posts).try_take(client_address(head, cfg.proxy.trust_forwarded_for));
        if (!body_slot) {
          if (upload) global_metrics().webchat_uploads.inc("busy");
          early_refusal = reject(503, "busy", "too many large bodies are being sent; try again in a moment");
          early_refusal->headers.emplace_back("Retry-After", "5");
        } else if (upload && gate) {
          early_refusal = co_await gate(head);
        }
        // A photo from a phone on a slow line (or a 25 MB mail) takes longer
        // than a request may: the deadline moves on with every piece that
        // arrives, up to long_body_read_limit for the whole body.
        const auto give_up_at = std::chrono::steady_clock::now() + long_body_read_limit;
        while (!early_refusal && !ec && !parser.is_done()) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at - std::chrono::steady_clock::now());
          if (left.count() <= 0) {
            if (upload) global_metrics().webchat_uploads.inc("too_slow");
            early_refusal = reject(408, "too_slow", "the body took too long to arrive");
            break;
          }
          socket_layer.expires_after(std::min<std::chrono::milliseconds>(cfg.limits.read_timeout, left));
          std::tie(ec, n) = co_await http::async_read_some(stream, buffer, parser, use_tuple);
        }
      } else {
        socket_layer.expires_after(cfg.limits.read_timeout);
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_tuple);
      }
    } else if (!ec && websocket::is_upgrade(parser.get())) {
      set_closer(id, [] {});
      co_return co_await upgrade(stream, parser.release(), id, remote);
    }
    if (ec || early_refusal) {
      // Answered before (all of) its body was read, or the read failed: the connection closes after.
      auto refusal = early_refusal ? std::move(early_refusal) : read_refusal(ec, upload, body_limit, remote);
      if (refusal) {
        if (decorate) decorate(to_request_head(parser.get(), remote), *refusal);
        global_metrics().http_requests.inc({"unmatched", std::to_string(refusal->status)});
        socket_layer.expires_after(cfg.limits.read_timeout);
        co_await write_response(stream, *refusal, 11, false);
        co_await drain_before_close(stream, cfg.limits.read_timeout);
      }
      break;
    }

    auto& req = parser.get();
    auto response = co_await dispatch(to_request(req, remote));
    bool keep_alive = req.keep_alive() && !draining;
    socket_layer.expires_after(cfg.limits.read_timeout);
    auto res = to_beast(response, req.version(), keep_alive);
    mark_tls_only<Stream>(res);
    if (req.method() == http::verb::head) drop_body(res);
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !keep_alive) break;
  }
  co_await graceful_close(stream);
  co_return false;
}

template <class Stream>
awaitable<bool> http_server::impl::upgrade(Stream& stream, http::request<http::string_body> req, std::uint64_t id,
                                           std::string remote) {
  auto view = to_request(req, remote);
  auto endpoint = ws_endpoints.find(view.path);
  if (endpoint == ws_endpoints.end() || draining) {
    auto refusal = draining ? error_response(503, "shutting_down", "server is shutting down")
                            : error_response(404, "not_found", "no WebSocket endpoint at " + view.path);
    global_metrics().http_requests.inc(
        {endpoint == ws_endpoints.end() ? "unmatched" : endpoint->first, std::to_string(refusal.status)});
    co_await write_response(stream, refusal, req.version(), false);
    co_return false;
  }
  beast::get_lowest_layer(stream).expires_never();
  auto transport = std::make_shared<ws_transport<Stream>>(std::move(stream), cfg.limits, endpoint->first);
  auto accepted = endpoint->second(view, transport);
  if (!accepted.handler) {
    global_metrics().http_requests.inc({endpoint->first, std::to_string(accepted.refusal.status)});
    co_await write_response(transport->stream().next_layer(), accepted.refusal, req.version(), false);
    co_return false;
  }
  auto& ws = transport->stream();
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  if (accepted.idle_timeout.count() > 0) timeouts.idle_timeout = accepted.idle_timeout;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "pasokh"); }));
  ws.read_message_max(cfg.limits.ws_max_frame_bytes);
  auto [ec] = co_await ws.async_accept(req, use_tuple);
  if (ec) {
    global_metrics().errors.inc("ws_handshake_failed");
    accepted.handler->on_closed();
    co_return false;
  }
  global_metrics().http_requests.inc({endpoint->first, "101"});
  global_metrics().ws_sessions.add(1);
  set_closer(id, [transport] { transport->close(websocket::close_code::going_away, "server shutting down"); });
  // The session's read loop runs as a coroutine of its own, so this one and the
  // HTTP coroutines under it end now: an idle WebSocket does not keep their
  // frames, the upgrade request, the HTTP parser and read buffer alive (about
  // half of its memory). The session owns the connection id from here on.
  auto ex = transport->executor();
  net::co_spawn(ex, transport->run(std::move(accepted.handler)),
                [self = shared_from_this(), transport, id, remote = std::move(remote)](std::exception_ptr e) {
                  if (e) {
                    global_metrics().errors.inc("connection_exception");
                    try {
                      std::rethrow_exception(e);
                    } catch (const std::exception& x) {
                      log()->error("websocket from {} failed: {}", remote, x.what());
                    } catch (...) {
                      log()->error("websocket from {} failed", remote);
                    }
                  }
                  global_metrics().ws_sessions.add(-1);
                  self->remove_connection(id);
                });
  co_return true;
}

awaitable<http_response> http_server::impl::dispatch(const http_request& req) {
  http_response response;
  std::string_view route_name = "unmatched";
  if (req.path.empty()) {
    global_metrics().errors.inc("bad_target");
    response = error_response(400, "bad_target", "the request target is not a valid path");
  } else {
    auto match = routes.find(req.method, req.path);
    route_name = match.pattern;
    if (match.handler) {
      try {
        response = co_await (*match.handler)(req, match.params);
      } catch (const std::exception& e) {
        global_metrics().errors.inc("handler_exception");
        log()->error("{} {} failed: {}", req.method, req.path, e.what());
        response = error_response(500, "internal_error", "the request could not be handled");
      }
    } else if (match.wrong_method) {
      global_metrics().errors.inc("method_not_allowed");
      response = error_response(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
      response.headers.emplace_back("Allow", match.allowed);
    } else {
      global_metrics().errors.inc("not_found");
      response = error_response(404, "not_found", "no route for " + req.path);
    }
  }
  if (decorate) decorate(req, response);
  global_metrics().http_requests.inc({route_name, std::to_string(response.status)});
  co_return response;
}

http_server::http_server(net::io_context& ioc, const config& cfg, const router& routes,
                         std::map<std::string, ws_endpoint, std::less<>> ws_endpoints, answer_decorator decorate)
    : impl_(std::make_shared<impl>(ioc, cfg, routes, std::move(ws_endpoints), std::move(decorate))) {}

http_server::~http_server() = default;

std::uint16_t http_server::start() {
  auto& a = impl_->acceptor;
  tcp::endpoint endpoint(net::ip::make_address(impl_->cfg.listen.address), impl_->cfg.listen.port);
  a.open(endpoint.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(net::socket_base::max_listen_connections);
  net::co_spawn(a.get_executor(), impl_->accept_loop(), net::detached);
  return a.local_endpoint().port();
}

void http_server::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  auto self = impl_;
  self->draining = true;
  net::post(self->acceptor.get_executor(), [self] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
  });
  auto once = std::make_shared<std::once_flag>();
  auto finish = [once, done = std::move(done)] { std::call_once(*once, done); };
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock(self->mutex);
    if (self->closers.empty()) {
      net::post(self->ioc, finish);
      return;
    }
    self->on_all_closed = finish;
    for (auto& [id, closer] : self->closers) closers.push_back(closer);
  }
  for (auto& closer : closers) closer();
  auto timer = std::make_shared<net::steady_timer>(self->ioc, grace);
  timer->async_wait([timer, finish](beast::error_code) { finish(); });
}

std::size_t http_server::open_connections() const { return impl_->connection_count(); }

void http_server::gate_uploads(upload_gate gate) { impl_->gate = std::move(gate); }

}  // namespace pasokh::gateway
