#include "pasokh/connectors/http/client.hpp"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>

#include <cerrno>
#include <deque>
#include <list>
#include <map>
#include <mutex>

#include "pasokh/connectors/http/url.hpp"

namespace pasokh::connectors::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

provider_response failed(std::string why) {
  provider_response r;
  r.transport_error = std::move(why);
  return r;
}

std::string describe(std::string_view stage, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return std::string(stage) + ": timeout";
  if (ec == bhttp::error::body_limit) return std::string(stage) + ": response body over the limit";
  std::string what = ec.message();
  // OpenSSL's own reason ("certificate verify failed") says more than the category.
  if (ec.category() == asio::error::get_ssl_category()) {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) what = reason;
  }
  return std::string(stage) + ": " + what;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string host_header(const url& u) {
  std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool default_port = (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
  return default_port ? host : host + ":" + std::to_string(u.port);
}

// One kept-alive connection, plain or TLS.
struct connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  steady::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }

  // A pooled connection the server closed (or wrote to) while idle must not
  // carry a request: peek without blocking.
  bool unusable() {
    if (buffer.size() != 0) return true;
    auto& sock = lowest().socket();
    if (!sock.is_open()) return true;
    char c;
    auto n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) return true;  // 0: orderly close; >0: unexpected bytes (e.g. TLS close_notify)
    return !(errno == EAGAIN || errno == EWOULDBLOCK);
  }
};

struct host_pool {
  std::deque<std::unique_ptr<connection>> idle;
  std::size_t open = 0;  // idle + in use
  std::list<std::shared_ptr<asio::steady_timer>> waiters;
};

struct exchange_result {
  provider_response response;
  bool keep_alive = false;
  bool write_failed = false;  // nothing reached the server: safe to retry elsewhere
};

}  // namespace

struct client::impl {
  using executor = asio::strand<asio::any_io_executor>;

  impl(asio::any_io_executor ex, client_config c)
      : strand(asio::make_strand(std::move(ex))), cfg(std::move(c)), tls_ctx(ssl::context::tls_client) {
    tls_ctx.set_default_verify_paths();
    if (!cfg.ca_file.empty()) tls_ctx.load_verify_file(cfg.ca_file);
    tls_ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(tls_ctx.native_handle(), TLS1_2_VERSION);
  }

  executor strand;
  client_config cfg;
  ssl::context tls_ctx;
  // Pools are only changed on the strand; the mutex lets open_connections()
  // read from elsewhere.
  mutable std::mutex mu;
  std::map<std::string, host_pool> pools;

  static std::string origin(const url& u) { return u.scheme + "://" + u.host + ":" + std::to_string(u.port); }

  struct acquired {
    std::unique_ptr<connection> conn;  // a pooled connection, or null: open a new one
    bool ok = true;                    // false: no slot before the deadline
  };

  // A pooled connection, or a slot to open a new one; waits while the host is at
  // max_connections_per_host.
  asio::awaitable<acquired> acquire(const std::string& key, steady::time_point deadline) {
    for (;;) {
      std::shared_ptr<asio::steady_timer> timer;
      {
        std::lock_guard lock(mu);
        auto& p = pools[key];
        while (!p.idle.empty()) {
          auto c = std::move(p.idle.back());  // most recently used first
          p.idle.pop_back();
          if (steady::now() - c->idle_since < cfg.idle_timeout && !c->unusable()) co_return acquired{std::move(c), true};
          --p.open;
        }
        if (p.open < cfg.max_connections_per_host) {
          ++p.open;
          co_return acquired{nullptr, true};
        }
        if (steady::now() >= deadline) co_return acquired{nullptr, false};
        timer = std::make_shared<asio::steady_timer>(strand, deadline);
        p.waiters.push_back(timer);
      }
      // Everything runs on the strand, so no release can slip in between the
      // registration above and this wait.
      co_await timer->async_wait(use_tuple);
      std::lock_guard lock(mu);
      pools[key].waiters.remove(timer);
    }
  }

  // Gives the connection back (or drops it) and wakes one waiter.
  void release(const std::string& key, std::unique_ptr<connection> conn) {
    std::lock_guard lock(mu);
    auto& p = pools[key];
    if (conn && p.idle.size() < cfg.max_idle_per_host) {
      conn->idle_since = steady::now();
      p.idle.push_back(std::move(conn));
    } else {
      --p.open;  // closed as `conn` goes out of scope
    }
    if (!p.waiters.empty()) {
      auto t = p.waiters.front();
      p.waiters.pop_front();
      t->cancel();
    }
  }

  struct connected {
    std::unique_ptr<connection> conn;
    std::string error;
  };

  asio::awaitable<connected> connect(const url& u) {
    // The resolver has no timeout of its own; a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(strand);
    asio::steady_timer resolve_timer(strand, cfg.connect_timeout);
    resolve_timer.async_wait([resolver](boost::system::error_code ec) {
      if (!ec) resolver->cancel();
    });
    auto [rec, results] = co_await resolver->async_resolve(u.host, std::to_string(u.port), use_tuple);
    resolve_timer.cancel();
    if (rec == asio::error::operation_aborted) co_return connected{nullptr, "resolve: timeout"};
    if (rec) co_return connected{nullptr, describe("resolve", rec)};

    std::vector<tcp::endpoint> endpoints;
    for (const auto& r : results)
      if (u.scheme == "https" || r.endpoint().address().is_loopback()) endpoints.push_back(r.endpoint());
    if (endpoints.empty()) co_return connected{nullptr, "refused: " + u.host + " does not resolve to a loopback address"};

    auto c = std::make_unique<connection>();
    if (u.scheme == "https") {
      c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(strand, tls_ctx);
      // SNI, and the name the certificate must carry.
      if (!is_ip_literal(u.host) && !SSL_set_tlsext_host_name(c->tls->native_handle(), u.host.c_str()))
        co_return connected{nullptr, "tls: cannot set SNI"};
      c->tls->set_verify_callback(ssl::host_name_verification(u.host));
    } else {
      c->plain = std::make_unique<beast::tcp_stream>(strand);
    }
    auto& stream = c->lowest();
    stream.expires_after(cfg.connect_timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    if (cec) co_return connected{nullptr, describe("connect", cec)};
    stream.socket().set_option(tcp::no_delay(true));
    if (c->tls) {
      auto [hec] = co_await c->tls->async_handshake(ssl::stream_base::client, use_tuple);
      if (hec) co_return connected{nullptr, describe("tls", hec)};
    }
    stream.expires_never();
    co_return connected{std::move(c), {}};
  }

  template <class Stream>
  asio::awaitable<exchange_result> exchange(Stream& stream, connection& c, const bhttp::request<bhttp::string_body>& msg,
                                            std::size_t body_limit) {
    exchange_result out;
    c.lowest().expires_after(cfg.request_timeout);
    auto [wec, written] = co_await bhttp::async_write(stream, msg, use_tuple);
    if (wec) {
      out.response = failed(describe("write", wec));
      out.write_failed = true;
      co_return out;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(64 * 1024);
    auto [rec, read] = co_await bhttp::async_read(stream, c.buffer, parser, use_tuple);
    if (rec) {
      out.response = failed(describe("read", rec));
      co_return out;
    }
    c.lowest().expires_never();
    auto& res = parser.get();
    out.response.status = static_cast<int>(res.result_int());
    for (const auto& field : res) out.response.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    out.response.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    co_return out;
  }

  asio::awaitable<provider_response> run(provider_request req) {
    try {
      auto response = co_await run_unguarded(std::move(req));
      co_return response;
    } catch (const std::exception& e) {
      co_return failed(std::string("internal: ") + e.what());
    }
  }

  asio::awaitable<provider_response> run_unguarded(provider_request req) {
    auto u = parse_url(req.url);
    if (!u) co_return failed("refused: not an absolute http(s) URL");
    if (u->scheme == "http" && !(cfg.allow_plain_loopback && is_loopback_host(u->host)))
      co_return failed("refused: plain http to a non-loopback host");
    auto verb = bhttp::string_to_verb(req.method);
    if (verb == bhttp::verb::unknown) co_return failed("refused: unknown method " + req.method);

    bhttp::request<bhttp::string_body> msg{verb, u->target, 11};
    msg.set(bhttp::field::host, host_header(*u));
    msg.set(bhttp::field::user_agent, cfg.user_agent);
    for (const auto& h : req.headers) {
      // Header injection guard: builders never do this, but the check is cheap.
      if (h.name.find_first_of("\r\n:") != std::string::npos || h.value.find_first_of("\r\n") != std::string::npos)
        co_return failed("refused: invalid header " + h.name);
      msg.set(h.name, h.value);
    }
    msg.body() = std::move(req.body);
    msg.keep_alive(true);
    msg.prepare_payload();

    const auto body_limit = req.max_response_bytes ? req.max_response_bytes : cfg.max_response_bytes;
    const auto key = origin(*u);
    const auto deadline = steady::now() + cfg.request_timeout;
    for (int attempt = 0;; ++attempt) {
      auto slot = co_await acquire(key, deadline);
      if (!slot.ok) co_return failed("timeout: no free connection to " + key);
      bool reused = slot.conn != nullptr;
      auto conn = std::move(slot.conn);
      if (!conn) {
        auto made = co_await connect(*u);
        if (!made.conn) {
          release(key, nullptr);
          co_return failed(std::move(made.error));
        }
        conn = std::move(made.conn);
      }
      // Plain if/else, not ?:, around co_await: GCC 12 mishandles temporaries there.
      exchange_result result;
      if (conn->tls) result = co_await exchange(*conn->tls, *conn, msg, body_limit);
      else result = co_await exchange(*conn->plain, *conn, msg, body_limit);
      if (result.response.status != 0) {
        release(key, result.keep_alive ? std::move(conn) : nullptr);
        co_return std::move(result.response);
      }
      release(key, nullptr);
      // A reused connection the server had just closed: the request never got
      // out, so one more try on a fresh connection cannot duplicate it.
      if (reused && result.write_failed && attempt == 0) continue;
      co_return std::move(result.response);
    }
  }
};

client::client(asio::any_io_executor executor, client_config config)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(config))) {}

client::~client() = default;

asio::awaitable<provider_response> client::send(provider_request request) {
  auto self = impl_;  // in-flight requests keep the pool alive
  auto response = co_await asio::co_spawn(self->strand, self->run(std::move(request)), asio::use_awaitable);
  co_return response;
}

std::size_t client::open_connections(const std::string& origin) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->pools.find(origin);
  return it == impl_->pools.end() ? 0 : it->second.open;
}

}  // namespace pasokh::connectors::http
