#include "pasokh/connectors/email/smtp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <optional>

#include "conn_io.hpp"
#include "log.hpp"

namespace pasokh::connectors::email {

namespace asio = boost::asio;
using asio::as_tuple;
using asio::awaitable;
using asio::use_awaitable;
using detail::conn_io;
using detail::tcp;
using boost::system::error_code;
using clock = std::chrono::steady_clock;

struct smtp_server::state : std::enable_shared_from_this<smtp_server::state> {
  state(asio::any_io_executor ex, smtp_config c, store_callback s)
      : executor(ex), config(std::move(c)), store(std::move(s)), acceptor(asio::make_strand(ex)) {}

  asio::any_io_executor executor;
  const smtp_config config;
  store_callback store;
  tcp::acceptor acceptor;
  std::optional<asio::ssl::context> tls;
  std::atomic<std::size_t> active{0};
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections and per_peer
  std::list<std::weak_ptr<conn_io>> connections;
  std::map<std::string, std::size_t> per_peer;  // open connections by client address

  awaitable<void> accept_loop();
  awaitable<void> serve(std::shared_ptr<conn_io> io, std::list<std::weak_ptr<conn_io>>::iterator slot,
                        std::string peer);
  awaitable<void> refuse(std::shared_ptr<conn_io> io, std::string_view reply);
  awaitable<smtp_action> pump(conn_io& io, smtp_session& session, clock::time_point end_of_life);
};

namespace {

// Keeps the connection count right however a session ends.
struct active_guard {
  std::atomic<std::size_t>& n;
  ~active_guard() { --n; }
};

}  // namespace

awaitable<void> smtp_server::state::accept_loop() {
  auto self = shared_from_this();
  asio::steady_timer backoff(acceptor.get_executor());
  while (!stopping) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(executor), as_tuple(use_awaitable));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      detail::log().warn("smtp: accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));  // e.g. out of file descriptors
      co_await backoff.async_wait(as_tuple(use_awaitable));
      continue;
    }
    error_code peer_ec;
    auto peer_endpoint = socket.remote_endpoint(peer_ec);
    std::string peer = peer_ec ? std::string("unknown") : peer_endpoint.address().to_string();
    auto io = std::make_shared<conn_io>(std::move(socket));
    auto ex = io->socket().get_executor();
    if (active.load() >= config.max_connections) {
      asio::co_spawn(ex, refuse(io, "421 4.3.2 Too many connections; try again later\r\n"), asio::detached);
      continue;
    }
    std::list<std::weak_ptr<conn_io>>::iterator slot;
    {
      std::lock_guard lock(mutex);
      auto& from_peer = per_peer[peer];
      if (from_peer >= config.max_connections_per_peer) {
        asio::co_spawn(ex, refuse(io, "421 4.7.0 Too many connections from your address; try again later\r\n"),
                       asio::detached);
        continue;
      }
      ++from_peer;
      slot = connections.insert(connections.end(), io);
    }
    ++active;
    asio::co_spawn(ex, serve(io, slot, std::move(peer)), asio::detached);
  }
}

awaitable<void> smtp_server::state::refuse(std::shared_ptr<conn_io> io, std::string_view reply) {
  io->start_watchdog();
  io->arm(std::chrono::seconds(5));
  co_await io->write(reply);
  io->close();
}

awaitable<void> smtp_server::state::serve(std::shared_ptr<conn_io> io,
                                          std::list<std::weak_ptr<conn_io>>::iterator slot, std::string peer_name) {
  auto self = shared_from_this();
  active_guard guard{active};
  const auto end_of_life = clock::now() + config.max_session;
  detail::log().debug("smtp: connection from {}", peer_name);
  io->start_watchdog();

  smtp_session session(config, {tls.has_value(), peer_name, {}});
  io->arm(config.idle_timeout);
  smtp_action end = smtp_action::close;
  if (!stopping && !co_await io->write(session.greeting())) {
    end = co_await pump(*io, session, end_of_life);
    if (end == smtp_action::start_tls) {
      io->arm(config.idle_timeout);
      if (auto hs = co_await io->handshake(*tls, asio::ssl::stream_base::server); hs) {
        detail::log().debug("smtp: TLS handshake with {} failed: {}", peer_name, hs.message());
      } else {
        session.tls_started();
        end = co_await pump(*io, session, end_of_life);
      }
    }
  }
  io->close();
  {
    std::lock_guard lock(mutex);
    connections.erase(slot);
    if (auto it = per_peer.find(peer_name); it != per_peer.end() && --it->second == 0) per_peer.erase(it);
  }
  detail::log().debug("smtp: connection from {} closed", peer_name);
}

// Reads, feeds the session, writes its replies (one write per batch, which is
// what PIPELINING needs) and performs the actions it asks for.
// The idle timeout runs from the last input that moved mail on (smtp_session::
// progress), and no wait outside a message goes past the connection's end of life.
awaitable<smtp_action> smtp_server::state::pump(conn_io& io, smtp_session& session, clock::time_point end_of_life) {
  std::array<char, 16384> buffer;
  auto idle_until = clock::now() + config.idle_timeout;
  for (;;) {
    if (stopping) {
      co_await io.write(session.shutdown_reply());
      co_return smtp_action::close;
    }
    auto now = clock::now();
    // A message being sent finishes (its own data_timeout bounds each gap):
    // cut at the end of life, a large mail on a slow line would come again
    // and be cut again, for ever.
    auto until = session.in_data() ? now + config.data_timeout : std::min(idle_until, end_of_life);
    io.arm(std::max(clock::duration::zero(), until - now));
    auto [ec, n] = co_await io.read_some(asio::buffer(buffer));
    if (ec) {
      if (io.timed_out() && !io.tls_active()) co_await io.write(session.timeout_reply());
      co_return smtp_action::close;
    }
    const auto progress = session.progress();
    auto step = session.feed(std::string_view(buffer.data(), n));
    if (session.progress() != progress) idle_until = clock::now() + config.idle_timeout;
    for (;;) {
      if (!step.out.empty()) {
        io.arm(config.idle_timeout);
        if (co_await io.write(step.out)) co_return smtp_action::close;
      }
      if (step.next == smtp_action::read) break;
      if (step.next != smtp_action::deliver) co_return step.next;
      io.disarm();  // storage has its own timeouts; the MTA waits up to 10 minutes
      store_outcome outcome;
      try {
        outcome = co_await store(session.envelope(), session.take_message());
      } catch (const std::exception& e) {
        detail::log().error("smtp: store callback failed: {}", e.what());
        outcome = store_outcome::temporary_failure(e.what());
      }
      if (outcome.result != store_outcome::kind::stored)
        detail::log().info("smtp: message from <{}> not stored ({})", session.envelope().mail_from,
                           outcome.result == store_outcome::kind::rejected ? "rejected" : "temporary failure");
      step = session.delivered(outcome);
      idle_until = clock::now() + config.idle_timeout;  // storing took its time
    }
  }
}

smtp_server::smtp_server(asio::any_io_executor executor, smtp_config config, store_callback store)
    : state_(std::make_shared<state>(executor, std::move(config), std::move(store))) {}

smtp_server::~smtp_server() { stop(); }

std::uint16_t smtp_server::start() {
  auto& s = *state_;
  if (s.config.tls_configured()) {
    s.tls.emplace(asio::ssl::context::tls_server);
    s.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
    s.tls->use_certificate_chain_file(s.config.tls_cert_file);
    s.tls->use_private_key_file(s.config.tls_key_file, asio::ssl::context::pem);
  }
  tcp::endpoint endpoint(asio::ip::make_address(s.config.address), s.config.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(tcp::acceptor::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  auto port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.acceptor.get_executor(), s.accept_loop(), asio::detached);
  detail::log().info("smtp: listening on {}:{}{}", s.config.address, port, s.tls ? " (STARTTLS)" : "");
  return port;
}

void smtp_server::stop() {
  auto s = state_;
  if (s->stopping.exchange(true)) return;
  asio::post(s->acceptor.get_executor(), [s] {
    error_code ignored;
    s->acceptor.close(ignored);
  });
  std::lock_guard lock(s->mutex);
  for (auto& weak : s->connections)
    if (auto io = weak.lock()) asio::post(io->socket().get_executor(), [io] { io->close(); });
}

std::size_t smtp_server::active_connections() const { return state_->active.load(); }

}  // namespace pasokh::connectors::email
