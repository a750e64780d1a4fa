// The retention sweep. Every tick each instance asks for the lease
// (erase.lua "lease"); the holder finishes erasures nobody drives any more
// (their request ended or its gateway died: erasing customers idle in
// erase:pending for lease_ms), removes the texts of conversations resolved longer ago than
// retention.message_text_days ("retain": a cursor over rpt:events, a bounded
// number of log entries a tick), trims the email_automatic streams and, in
// one pass after an upgrade, gives conv:<id>:clients its expiry. Every step
// is one atomic script with its progress in Redis, so a holder that dies
// leaves nothing half done for the next one; one that stops gives the lease up.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>


#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/leased_loop.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/privacy.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/instance_name.hpp"

namespace pasokh::gateway {

using routing::now_ms;
namespace {

namespace net = boost::asio;
using net::awaitable;

constexpr double day_ms = 86'400'000.0;
// Log entries (and events looked at) retention scrubs per tick, about 20 ms
// of Redis, in calls of about 2 ms: a customer's message waits for at most
// one call, not the whole tick.
constexpr std::int64_t retention_entries_per_tick = 2000;
constexpr std::int64_t retention_entries_per_call = 200;
// Conversations the one-off client-id pass looks at per tick (about 1.3 ms).
constexpr std::int64_t client_ids_per_tick = 500;
constexpr std::chrono::seconds erasure_time_per_tick{2};

std::shared_ptr<spdlog::logger> log() { return spdlog::get("gateway"); }

}  // namespace

struct retention_sweep::state : std::enable_shared_from_this<state> {
  state(services& sv, net::any_io_executor ex) : s(sv), strand(net::make_strand(ex)), timer(strand), me(routing::instance_name()) {}

  services& s;
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::string me;
  bool stopping = false;
  bool leader = false;
  bool ended = false;
  std::function<void()> on_ended;

  const retention_config& cfg() const { return s.cfg.retention; }


  awaitable<void> release_lease() {
    auto a = erase_args(s, "release");
    a.push_back(me);
    co_await call_erase(s, std::move(a));
  }

  awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto l = erase_args(s, "lease");
      l.push_back(me);
      l.push_back(std::to_string(cfg().lease.count()));
      auto r = co_await call_erase(s, std::move(l));
      bool holds = r && r->integer == 1;
      if (holds && !leader) log()->info("retention: this instance runs the sweep ({})", me);
      leader = holds;
      if (leader && !stopping) {
        try {
          co_await finish_erasures();
          co_await retain_texts();
          co_await trim_automatic_mail();
          co_await expire_old_client_ids();
        } catch (const std::exception& e) {
          log()->error("retention: {}", e.what());
        }
      }
      if (stopping) break;  // asked during the tick: no tick's wait before the lease goes
      timer.expires_after(cfg().tick);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    co_await end_leased_loop(*this);
  }

  // An erasure whose driver made no step for a lease's time is the sweep's to finish.
  awaitable<void> finish_erasures() {
    auto a = erase_args(s, "pending");
    a.push_back(std::to_string(cfg().lease.count()));
    a.push_back("10");
    auto r = co_await call_erase(s, std::move(a));
    if (!r) co_return;
    for (const auto& id : r->elements) {
      if (stopping) co_return;
      auto done = co_await erase_customer(s, id.str, "", erasure_time_per_tick);
      if (done && done->status == "erased") log()->info("customer={} erasure finished by the sweep", id.str);
    }
  }

  awaitable<void> retain_texts() {
    if (cfg().message_text_days <= 0) {
      co_await forget_due();
      co_return;
    }
    const auto edge = std::to_string(now_ms() - static_cast<std::int64_t>(cfg().message_text_days * day_ms));
    for (std::int64_t left = retention_entries_per_tick; left > 0 && !stopping; left -= retention_entries_per_call) {
      auto a = erase_args(s, "retain");
      a.push_back(edge);
      a.push_back(std::to_string(retention_entries_per_call));
      auto r = co_await call_erase(s, std::move(a));
      if (!r || r->elements.size() < 3) co_return;  // a script error is logged by call_erase
      if (auto n = r->elements[0].as_int(); n > 0) {
        global_metrics().routing_events.inc("retention_scrubbed", static_cast<int>(n));
        log()->debug("retention: texts of {} conversations removed ({} log entries)", n, r->elements[1].as_int());
      }
      if (r->elements[2].as_int() == 0) co_return;  // nothing more is due now
    }
  }

  // retention:due (erase.lua 'retain') without retention: nothing is due,
  // and what emit_json notes there (words in an erased conversation) would
  // wait for ever.
  awaitable<void> forget_due() {
    co_await s.redis.exec(store::make_command("DEL", s.cfg.redis.prefix + "retention:due"));
  }

  // A one-off pass: conv:<id>:clients written by versions that set no
  // expiry on it get the week its writes set now.
  awaitable<void> expire_old_client_ids() {
    auto a = erase_args(s, "clients_ttl");
    a.push_back(std::to_string(client_ids_per_tick));
    co_await call_erase(s, std::move(a));
  }

  // Noted automatic mail (email_inbound.cpp) older than email_automatic_days.
  awaitable<void> trim_automatic_mail() {
    if (cfg().email_automatic_days <= 0) co_return;
    const auto edge = now_ms() - static_cast<std::int64_t>(cfg().email_automatic_days * day_ms);
    for (const auto& ch : s.cfg.channels) {
      if (ch.kind != proto::channel_kind::email) continue;
      co_await s.redis.exec(store::make_command("XTRIM", s.cfg.redis.prefix + "email_automatic:" + ch.id, "MINID",
                                                std::to_string(edge) + "-0"));
    }
  }
};

retention_sweep::retention_sweep(services& s, net::any_io_executor ex)
    : state_(std::make_shared<state>(s, std::move(ex))) {}

retention_sweep::~retention_sweep() = default;

void retention_sweep::start() { net::co_spawn(state_->strand, state_->loop(), net::detached); }

void retention_sweep::stop(std::function<void()> done) { stop_leased_loop(state_, std::move(done)); }

}  // namespace pasokh::gateway
