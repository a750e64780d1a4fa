// The campaign loop. Every tick each instance publishes campaign progress
// that changed (campaign.lua "progress" pops the changes, so one instance
// publishes each); the instance holding the lease walks the customer files of
// each running campaign, outside quiet hours and at the campaign's rate, and
// hands every match to campaign.lua "send". The claim there makes a message
// once-only whatever happens to the lease; the cursor in Redis (advanced only
// after a batch is done) lets the next holder carry on where this one stopped.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <deque>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/campaign_audience.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/leased_loop.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/instance_name.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;
namespace {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;
namespace cp = campaigns;

constexpr std::int64_t batch_customers = 100;
constexpr int max_batches_per_tick = 20;

std::shared_ptr<spdlog::logger> log() { return spdlog::get("gateway"); }

}  // namespace

struct campaign_runner::state : std::enable_shared_from_this<state> {
  state(services& sv, net::any_io_executor ex) : s(sv), strand(net::make_strand(ex)), timer(strand), me(routing::instance_name()) {}

  // A running campaign as this instance works on it while it holds the lease.
  struct live {
    std::string definition_json;
    cp::definition def;
    std::string channels;  // "id:kind:team,..." for campaign.lua
    std::deque<cp::planned_message> buffer;
    std::int64_t cursor = 0;  // last customer number read into the buffer
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled = std::chrono::steady_clock::now();
  };

  services& s;
  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::string me;
  bool stopping = false;
  bool leader = false;
  bool ended = false;
  std::function<void()> on_ended;
  std::map<std::string, live> running;

  const std::string& pre() const { return s.cfg.redis.prefix; }

  awaitable<store::result<store::reply>> call(std::vector<std::string> args) {
    co_return co_await s.redis.fcall(routing::script(routing::lua::campaign), store::make_command(), std::move(args));
  }
  std::vector<std::string> args(std::string op) const {
    return store::make_command(pre(), std::move(op), std::to_string(now_ms()));
  }

  awaitable<void> note(const std::string& id, std::string field, std::string value) {
    auto a = args("note");
    a.push_back(id);
    a.push_back(std::move(field));
    a.push_back(std::move(value));
    co_await call(std::move(a));
  }

  awaitable<void> release_lease() {
    auto a = args("release");
    a.push_back(me);
    co_await call(std::move(a));
  }

  awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto a = args("progress");
      co_await call(std::move(a));
      if (stopping) break;
      if (s.cfg.campaigns.enabled) {
        auto l = args("lease");
        l.push_back(me);
        l.push_back(std::to_string(s.cfg.campaigns.lease.count()));
        auto r = co_await call(std::move(l));
        bool holds = r && !r->is_error() && r->integer == 1;
        // Whatever we had read may be stale after a gap: start again from the cursors in Redis.
        if (holds != leader) running.clear();
        if (holds && !leader) log()->info("campaigns: this instance runs the campaigns ({})", me);
        leader = holds;
        if (leader && !stopping) {
          try {
            co_await work();
          } catch (const std::exception& e) {
            log()->error("campaigns: {}", e.what());
          }
        }
      }
      if (stopping) break;  // asked during the tick: no tick's wait before the lease goes
      timer.expires_after(s.cfg.campaigns.tick);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    co_await end_leased_loop(*this);
  }

  awaitable<void> work() {
    auto ids = co_await s.redis.exec(store::make_command("SMEMBERS", pre() + "campaigns:active"));
    if (!ids || ids->is_error()) co_return;
    std::set<std::string> active;
    for (const auto& id : ids->elements) active.insert(id.str);
    std::erase_if(running, [&](const auto& kv) { return !active.count(kv.first); });
    for (const auto& id : active) {
      if (stopping) break;
      co_await work_on(id);
    }
  }

  awaitable<void> work_on(const std::string& id) {
    auto h = co_await s.redis.exec(store::make_command("HMGET", pre() + "campaign:" + id, "status", "definition", "cursor",
                                                       "next_scan_at", "quiet_until", "pass"));
    if (!h || h->is_error() || h->elements.size() != 6) co_return;
    const auto& f = h->elements;
    if (f[0].str != "running") {
      running.erase(id);
      co_return;
    }
    auto it = running.find(id);
    if (it == running.end() || it->second.definition_json != f[1].str) {
      live c;
      c.definition_json = f[1].str;
      auto parsed = cp::parse_definition(json::parse(f[1].str, nullptr, false), *s.cfg.shop_tz, now_ms());
      if (auto* err = std::get_if<std::string>(&parsed)) {
        log()->error("campaign {}: stored definition unreadable: {}", id, *err);
        co_return;
      }
      c.def = std::get<cp::definition>(std::move(parsed));
      // The stored start wins over the re-derived one (an occasion resolved at creation).
      auto stored = json::parse(f[1].str, nullptr, false);
      if (stored.is_object()) {
        c.def.start_at = stored.value("start_at", c.def.start_at);
        if (stored.contains("date")) c.def.date = stored.value("date", c.def.date);
      }
      c.channels = cp::channels_for(s.cfg, c.def);
      c.cursor = f[2].as_int();
      it = running.insert_or_assign(id, std::move(c)).first;
    }
    auto& c = it->second;
    const auto now = now_ms();
    if (now < c.def.start_at) co_return;
    if (c.def.end_at && now >= c.def.end_at) {
      co_await finish(id, "its end time passed");
      co_return;
    }
    const auto& cfg = s.cfg.campaigns;
    cp::quiet_hours quiet{cfg.quiet_from_s, cfg.quiet_to_s};
    if (c.def.quiet) quiet = *c.def.quiet;
    // Quiet hours: nothing is sent, nothing is dropped; the admin sees until when.
    if (auto until = cp::quiet_until(quiet, *s.cfg.shop_tz, now); until >= 0) {
      if (f[4].as_int() != until) co_await note(id, "quiet_until", std::to_string(until));
      c.tokens = 0;
      c.refilled = std::chrono::steady_clock::now();
      co_return;
    }
    if (!f[4].is_nil()) co_await note(id, "quiet_until", "");
    if (!f[3].is_nil()) {
      if (now < f[3].as_int()) co_return;
      co_await note(id, "next_scan_at", "");  // a recurring campaign's next look at the files
    }

    const double rate = c.def.rate > 0 ? c.def.rate : cfg.rate_per_second;
    auto t = std::chrono::steady_clock::now();
    // At most two ticks of messages at once: the pace stays even.
    const double burst = std::max(1.0, rate * 2 * std::chrono::duration<double>(cfg.tick).count());
    c.tokens = std::min(burst, c.tokens + rate * std::chrono::duration<double>(t - c.refilled).count());
    c.refilled = t;
    // Few matches in many files (a follow-up campaign) must not hold the loop
    // past the lease: a bounded number of batches per tick.
    int batches = 0;
    while (c.tokens >= 1 && !stopping) {
      if (c.buffer.empty()) {
        if (++batches > max_batches_per_tick) co_return;
        // The batch before is done: the next holder of the lease starts after it.
        co_await note(id, "cursor", std::to_string(c.cursor));
        auto more = co_await load_batch(c);
        if (!more) co_return;  // Redis trouble: try again next tick
        if (!*more) {
          co_await end_pass(id, c, f[5].as_int());
          co_return;
        }
        continue;
      }
      auto next = std::move(c.buffer.front());
      c.buffer.pop_front();
      auto outcome = co_await send(id, c, next);
      if (outcome.empty()) {  // Redis trouble: keep it for the next tick
        c.buffer.push_front(std::move(next));
        co_return;
      }
      if (outcome == "not_running") {
        running.erase(id);
        co_return;
      }
      if (outcome == "queued") c.tokens -= 1;
      if (outcome != "already" && outcome != "later" && outcome != "not_audience")
        global_metrics().campaign_messages.inc(outcome);
    }
  }

  awaitable<void> finish(const std::string& id, std::string_view why) {
    auto a = args("control");
    a.push_back(id);
    a.push_back("finish");
    co_await call(std::move(a));
    running.erase(id);
    log()->info("campaign {} done: {}", id, why);
  }

  awaitable<void> end_pass(const std::string& id, live& c, std::int64_t pass) {
    if (!cp::recurring(c.def)) {
      co_await finish(id, "every customer was looked at");
      co_return;
    }
    co_await note(id, "cursor", "0");
    co_await note(id, "pass", std::to_string(pass + 1));
    co_await note(id, "next_scan_at", std::to_string(now_ms() + s.cfg.campaigns.rescan.count()));
    running.erase(id);
  }

  // Reads the next customer files after the cursor into the buffer; false at
  // the end of the files, nullopt when Redis failed.
  awaitable<std::optional<bool>> load_batch(live& c) {
    auto total = co_await cp::customer_count(s);
    if (!total) co_return std::nullopt;
    if (c.cursor >= *total) co_return false;
    const auto to = std::min(*total, c.cursor + batch_customers);
    auto due = co_await cp::messages_due(s, c.def, c.cursor, to);
    if (!due) co_return std::nullopt;
    for (auto& m : *due) c.buffer.push_back(std::move(m));
    c.cursor = to;
    co_return true;
  }

  // campaign.lua "send": the outcome, or "" when Redis failed.
  awaitable<std::string> send(const std::string& id, const live& c, const cp::planned_message& p) {
    auto a = args("send");
    const auto* tpl = c.def.whatsapp_template ? &*c.def.whatsapp_template : nullptr;
    for (std::string v : {id, p.member, p.customer, c.channels, std::string(c.def.who.channels.empty() ? "0" : "1"), p.text,
                          tpl ? tpl->name : std::string(), tpl ? tpl->language : std::string(),
                          json(p.template_params).dump(), std::to_string(s.cfg.campaigns.reply_window.count()),
                          s.cfg.bot.name.in(p.language), std::to_string(cp::messaging_window.count()), random_token(18),
                          cp::stop_hint(p.language), std::to_string(p.today)})
      a.push_back(std::move(v));
    auto r = co_await call(std::move(a));
    if (!r || r->is_error() || r->elements.empty()) {
      if (r && r->is_error()) log()->warn("campaign {}: send: {}", id, r->str);
      co_return std::string();
    }
    const auto& e = r->elements;
    if (e[0].str == "queued")
      log()->debug("campaign={} customer={} conv={} channel={} queued", id, p.customer, e.size() > 2 ? e[2].str : "",
                   e.size() > 1 ? e[1].str : "");
    co_return e[0].str;
  }
};

campaign_runner::campaign_runner(services& s, net::any_io_executor ex)
    : state_(std::make_shared<state>(s, std::move(ex))) {}

campaign_runner::~campaign_runner() = default;

void campaign_runner::start() { net::co_spawn(state_->strand, state_->loop(), net::detached); }

void campaign_runner::stop(std::function<void()> done) { stop_leased_loop(state_, std::move(done)); }

}  // namespace pasokh::gateway
