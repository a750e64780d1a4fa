// The HTTP client against a local Beast server on 127.0.0.1, port 0: plain and
// TLS with a throwaway certificate.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pasokh/connectors/http/client.hpp"
#include "pasokh/connectors/http/url.hpp"
#include "test_tls.hpp"

namespace pasokh::connectors::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A tiny server: /echo, /slow?ms=N, /big, /close (Connection: close),
// /drop (answers keep-alive, then closes the socket anyway).
class test_server {
 public:
  explicit test_server(asio::io_context& io, ssl::context* tls = nullptr)
      : io_(io), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), tls_(tls) {
    asio::co_spawn(io_, accept_loop(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string base(std::string_view host = "127.0.0.1") const {
    return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port());
  }
  void stop() { acceptor_.close(); }

  int accepted = 0;
  int active = 0;
  int max_active = 0;
  std::string last_sni;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(io_, session(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket sock) {
    int id = ++accepted;
    max_active = std::max(max_active, ++active);
    if (tls_) {
      beast::ssl_stream<beast::tcp_stream> s(std::move(sock), *tls_);
      auto [ec] = co_await s.async_handshake(ssl::stream_base::server, use_tuple);
      if (!ec) {
        const char* sni = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
        last_sni = sni ? sni : "";
        co_await serve(s, id);
      }
    } else {
      beast::tcp_stream s(std::move(sock));
      co_await serve(s, id);
    }
    --active;
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& s, int id) {
    beast::flat_buffer buf;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      auto [ec, n] = co_await bhttp::async_read(s, buf, req, use_tuple);
      if (ec) co_return;
      std::string target(req.target());
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      res.keep_alive(req.keep_alive());
      if (target.rfind("/slow", 0) == 0) {
        asio::steady_timer t(io_, std::chrono::milliseconds(std::stoi(target.substr(target.find('=') + 1))));
        co_await t.async_wait(use_tuple);
        res.body() = "slow";
      } else if (target == "/big") {
        res.body() = std::string(64 * 1024, 'x');
      } else if (target == "/close") {
        res.keep_alive(false);
        res.body() = "bye";
      } else {
        res.set(bhttp::field::content_type, "application/json");
        res.body() = nlohmann::json{{"method", std::string(req.method_string())},
                                    {"target", target},
                                    {"host", std::string(req[bhttp::field::host])},
                                    {"authorization", std::string(req[bhttp::field::authorization])},
                                    {"body", req.body()},
                                    {"conn", id}}
                         .dump();
      }
      res.prepare_payload();
      auto [wec, w] = co_await bhttp::async_write(s, res, use_tuple);
      if (wec || !res.keep_alive() || target == "/drop") co_return;
    }
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ssl::context* tls_;
};

// Runs `body` as a coroutine on `io` until it finishes; exceptions fail the test.
template <class F>
void run(asio::io_context& io, F body) {
  bool done = false;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { co_await body(); done = true; io.stop(); },
      [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  io.run_for(20s);
  EXPECT_TRUE(done) << "test coroutine did not finish";
}

provider_request post(std::string url, std::string body = "{}") {
  provider_request r;
  r.url = std::move(url);
  r.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer T0KEN"}};
  r.body = std::move(body);
  return r;
}

TEST(HttpUrl, ParseTable) {
  struct row {
    std::string text;
    std::optional<url> want;
  };
  const row rows[] = {
      {"https://graph.facebook.com/v23.0/me/messages", url{"https", "graph.facebook.com", 443, "/v23.0/me/messages"}},
      {"http://127.0.0.1:8081/bot1:x/sendMessage", url{"http", "127.0.0.1", 8081, "/bot1:x/sendMessage"}},
      {"https://API.Telegram.org", url{"https", "api.telegram.org", 443, "/"}},
      {"http://[::1]:9000/a?b=c#frag", url{"http", "::1", 9000, "/a?b=c"}},
      {"https://host?x=1", url{"https", "host", 443, "/?x=1"}},
      {"ftp://host/", std::nullopt},
      {"https://user:pw@host/", std::nullopt},
      {"https://host:0/", std::nullopt},
      {"https://host:70000/", std::nullopt},
      {"https:///path", std::nullopt},
      {"//host/path", std::nullopt},
  };
  for (const auto& r : rows) EXPECT_EQ(parse_url(r.text), r.want) << r.text;
  for (auto h : {"localhost", "127.0.0.1", "127.8.9.10", "::1"}) EXPECT_TRUE(is_loopback_host(h)) << h;
  for (auto h : {"example.com", "10.0.0.1", "128.0.0.1", "::2", "localhost.example.com"}) EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(HttpClient, PostRoundTripWithPersianBody) {
  asio::io_context io;
  test_server server(io);
  client c(io.get_executor());
  run(io, [&]() -> asio::awaitable<void> {
    auto resp = co_await c.send(post(server.base() + "/echo?x=1", R"({"text":"سلام"})"));
    EXPECT_EQ(resp.status, 200) << resp.transport_error;
    EXPECT_EQ(resp.header("content-type"), "application/json");
    auto echo = nlohmann::json::parse(resp.body);
    EXPECT_EQ(echo["method"], "POST");
    EXPECT_EQ(echo["target"], "/echo?x=1");
    EXPECT_EQ(echo["host"], "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(echo["authorization"], "Bearer T0KEN");
    EXPECT_EQ(echo["body"], R"({"text":"سلام"})");
  });
}

TEST(HttpClient, KeepAliveReusesOneConnection) {
  asio::io_context io;
  test_server server(io);
  client c(io.get_executor());
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto resp = co_await c.send(post(server.base() + "/echo"));
      EXPECT_EQ(resp.status, 200);
      EXPECT_EQ(nlohmann::json::parse(resp.body)["conn"], 1);
    }
    EXPECT_EQ(c.open_connections("http://127.0.0.1:" + std::to_string(server.port())), 1u);
    auto closing = co_await c.send(post(server.base() + "/close"));
    EXPECT_EQ(closing.status, 200);
    EXPECT_EQ(c.open_connections("http://127.0.0.1:" + std::to_string(server.port())), 0u);
  });
  EXPECT_EQ(server.accepted, 1);
}

TEST(HttpClient, AConnectionTheServerClosedWhileIdleIsNotReused) {
  asio::io_context io;
  test_server server(io);
  client c(io.get_executor());
  run(io, [&]() -> asio::awaitable<void> {
    auto first = co_await c.send(post(server.base() + "/drop"));
    EXPECT_EQ(first.status, 200);
    asio::steady_timer t(io, 50ms);  // let the FIN arrive
    co_await t.async_wait(use_tuple);
    auto resp = co_await c.send(post(server.base() + "/echo"));
    EXPECT_EQ(resp.status, 200) << resp.transport_error;
  });
  EXPECT_EQ(server.accepted, 2);
}

TEST(HttpClient, ConnectionsPerHostAreBounded) {
  asio::io_context io;
  test_server server(io);
  client_config cfg;
  cfg.max_connections_per_host = 2;
  client c(io.get_executor(), cfg);
  int finished = 0;
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 6; ++i)
      asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto resp = co_await c.send(post(server.base() + "/slow?ms=100"));
        EXPECT_EQ(resp.status, 200) << resp.transport_error;
        ++finished;
      }, asio::detached);
    while (finished < 6) {
      asio::steady_timer t(io, 20ms);
      co_await t.async_wait(use_tuple);
    }
  });
  EXPECT_EQ(finished, 6);
  EXPECT_LE(server.max_active, 2);
  EXPECT_LE(server.accepted, 2);
}

TEST(HttpClient, TimeoutsAndLimitsComeBackAsTransportErrors) {
  asio::io_context io;
  test_server server(io);
  client_config cfg;
  cfg.request_timeout = 200ms;
  cfg.max_response_bytes = 1000;
  client c(io.get_executor(), cfg);
  // A port nothing listens on.
  tcp::acceptor closed(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto dead_port = closed.local_endpoint().port();
  closed.close();
  run(io, [&]() -> asio::awaitable<void> {
    auto slow = co_await c.send(post(server.base() + "/slow?ms=2000"));
    EXPECT_EQ(slow.status, 0);
    EXPECT_EQ(slow.transport_error, "read: timeout");
    auto big = co_await c.send(post(server.base() + "/big"));
    EXPECT_EQ(big.status, 0);
    EXPECT_EQ(big.transport_error, "read: response body over the limit");
    auto refused = co_await c.send(post("http://127.0.0.1:" + std::to_string(dead_port) + "/"));
    EXPECT_EQ(refused.status, 0);
    EXPECT_EQ(refused.transport_error.rfind("connect: ", 0), 0u) << refused.transport_error;
  });
}

TEST(HttpClient, PlainHttpOnlyToLoopback) {
  asio::io_context io;
  client c(io.get_executor());
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.send(post("http://api.telegram.org/bot1/sendMessage"));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.transport_error, "refused: plain http to a non-loopback host");
    r = co_await c.send(post("http://10.0.0.1:80/"));
    EXPECT_EQ(r.transport_error, "refused: plain http to a non-loopback host");
    r = co_await c.send(post("file:///etc/passwd"));
    EXPECT_EQ(r.transport_error, "refused: not an absolute http(s) URL");
  });
  asio::io_context io2;
  client_config strict;
  strict.allow_plain_loopback = false;
  client c2(io2.get_executor(), strict);
  run(io2, [&]() -> asio::awaitable<void> {
    auto r = co_await c2.send(post("http://127.0.0.1:1/"));
    EXPECT_EQ(r.transport_error, "refused: plain http to a non-loopback host");
  });
}

class HttpsClient : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = testing::make_self_signed("localhost");
    server_ctx.use_certificate_chain(asio::buffer(cert.cert_pem));
    server_ctx.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
    ca_file = std::filesystem::temp_directory_path() / ("pasokh-test-ca-" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca_file) << cert.cert_pem;
  }
  void TearDown() override { std::filesystem::remove(ca_file); }

  ssl::context server_ctx{ssl::context::tls_server};
  std::filesystem::path ca_file;
};

TEST_F(HttpsClient, VerifiesTheCertificateAndSendsSni) {
  asio::io_context io;
  test_server server(io, &server_ctx);
  client_config cfg;
  cfg.ca_file = ca_file.string();
  client c(io.get_executor(), cfg);
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      auto resp = co_await c.send(post(server.base("localhost") + "/echo", "{\"n\":1}"));
      EXPECT_EQ(resp.status, 200) << resp.transport_error;
      EXPECT_EQ(nlohmann::json::parse(resp.body)["conn"], 1);  // kept alive over TLS too
    }
  });
  EXPECT_EQ(server.last_sni, "localhost");
  EXPECT_EQ(server.accepted, 1);
}

TEST_F(HttpsClient, RejectsAnUntrustedCertificate) {
  asio::io_context io;
  test_server server(io, &server_ctx);
  client c(io.get_executor());  // system store only: the test CA is unknown
  run(io, [&]() -> asio::awaitable<void> {
    auto resp = co_await c.send(post(server.base("localhost") + "/echo"));
    EXPECT_EQ(resp.status, 0);
    EXPECT_EQ(resp.transport_error, "tls: certificate verify failed");
  });
}

TEST_F(HttpsClient, RejectsACertificateForAnotherName) {
  asio::io_context io;
  test_server server(io, &server_ctx);
  client_config cfg;
  cfg.ca_file = ca_file.string();
  client c(io.get_executor(), cfg);
  run(io, [&]() -> asio::awaitable<void> {
    auto resp = co_await c.send(post(server.base("127.0.0.1") + "/echo"));  // the certificate names only localhost
    EXPECT_EQ(resp.status, 0);
    EXPECT_EQ(resp.transport_error, "tls: certificate verify failed");
  });
}

}  // namespace
}  // namespace pasokh::connectors::http
