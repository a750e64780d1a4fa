#include "pasokh/routing/channel_servers.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/routing/delivery.hpp"
#include "pasokh/routing/instance_name.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/outbox.hpp"
#include "pasokh/routing/repeated_warning.hpp"

namespace pasokh::routing {

namespace {

namespace net = boost::asio;

constexpr std::chrono::milliseconds retry_failed_beat{100};

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("routing");
  return l ? l : spdlog::default_logger();
}

// What marking a stranded entry needs of its message; whatever else it holds
// (an entry another version wrote) does not matter here.
struct stranded_entry {
  std::string conversation_id;
  std::string chat;  // as the outbox worker keys it: the recipient, else the conversation
  std::uint64_t seq = 0;
};

stranded_entry read_entry(const std::string& raw) {
  stranded_entry e;
  auto m = nlohmann::json::parse(raw, nullptr, false);
  if (!m.is_object()) return e;
  try {
    e.conversation_id = m.value("conversation_id", std::string());
    e.seq = m.value("seq", std::uint64_t{0});
    auto recipient = m.value("recipient", std::string());
    e.chat = recipient.empty() ? e.conversation_id : recipient;
  } catch (const nlohmann::json::exception&) {
  }
  return e;
}

}  // namespace

std::string unserved_reason(const std::string& channel) {
  return "no gateway sends on channel " + channel + " any more: not sent";
}

struct channel_servers::state : std::enable_shared_from_this<state> {
  state(net::any_io_executor ex, store::redis_client& r, std::string pre, std::vector<std::string> ch,
        channel_servers_options o)
      : strand(net::make_strand(ex)), timer(strand), redis(r), prefix(std::move(pre)), channels(std::move(ch)),
        opts(o), marks(r, prefix), me(instance_name()) {}

  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  store::redis_client& redis;
  std::string prefix;
  std::vector<std::string> channels;
  channel_servers_options opts;
  delivery_marks marks;
  std::string me;
  bool stopping = false;
  std::function<void(const std::string&)> on_stranded;

  net::awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto unserved = co_await beat();
      // A beat that failed goes again soon: at a start it may come before
      // the connection, and other gateways would refuse replies on our
      // channels until the next. The next beat is due on time whatever the
      // sweep costs, so our own channels never lapse behind it.
      const auto next_beat =
          std::chrono::steady_clock::now() + (unserved ? opts.ttl / 3 : std::min(opts.ttl / 3, retry_failed_beat));
      if (unserved) {
        for (const auto& channel : *unserved) {
          if (stopping || std::chrono::steady_clock::now() >= next_beat) break;  // the rest after the next beat
          co_await fail_stranded(channel);
        }
      }
      if (stopping) break;
      timer.expires_at(next_beat);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
  }

  // Advertises our channels; answers those no gateway has served for the
  // grace, or nullopt when the beat failed.
  net::awaitable<std::optional<std::vector<std::string>>> beat() {
    auto args = store::make_command(prefix, "beat", std::to_string(opts.ttl.count()), std::to_string(opts.grace.count()));
    args.insert(args.end(), channels.begin(), channels.end());
    auto r = co_await redis.fcall(script(lua::channel_servers), store::make_command(), std::move(args));
    if (!r || r->is_error()) {
      static repeated_warning failures;
      if (redis.connected()) failures.warn(*log(), "channels served: beat failed: {}", r ? r->str : r.error().message());
      co_return std::nullopt;
    }
    std::vector<std::string> unserved;
    for (const auto& c : r->elements) unserved.push_back(c.str);
    co_return unserved;
  }

  // Marks failed, with the reason, the channel's entries nobody will send;
  // each is acknowledged in the same step (delivery.lua), so it goes once.
  net::awaitable<void> fail_stranded(const std::string& channel) {
    auto r = co_await redis.fcall(script(lua::channel_servers), store::make_command(),
                                  store::make_command(prefix, "strand", channel, me, std::to_string(opts.grace.count()),
                                                      std::to_string(opts.batch)));
    if (!r || r->is_error()) {
      log()->warn("channel={} stranded outbox entries not looked at: {}", channel, r ? r->str : r.error().message());
      co_return;
    }
    const auto key = outbox_key(prefix, channel);
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      const auto& id = r->elements[i].str;
      auto e = read_entry(r->elements[i + 1].str);
      delivery_update update{channel, e.conversation_id, e.seq, proto::delivery_status::failed, {}, unserved_reason(channel)};
      update.failure_code = "channel_unserved";
      outbox_ack ack{key, std::string(outbox_group), id, e.chat.empty() ? std::string() : key + ":chat:" + e.chat, {}, {}};
      auto marked = co_await marks.mark(update, ack);
      if (!marked) {
        // Claimed by us: another gateway takes it again after the grace.
        log()->warn("channel={} stranded entry {} not marked failed: {}", channel, id, marked.error().message());
        co_return;
      }
      log()->warn("conv={} channel={} message {} marked failed: no gateway sends on the channel any more",
                  e.conversation_id, channel, e.seq);
      if (on_stranded) on_stranded(channel);
    }
  }
};

channel_servers::channel_servers(net::any_io_executor executor, store::redis_client& redis, std::string prefix,
                                 std::vector<std::string> channels, channel_servers_options options)
    : state_(std::make_shared<state>(std::move(executor), redis, std::move(prefix), std::move(channels), options)) {}

channel_servers::~channel_servers() { stop(); }

void channel_servers::start() {
  state_->on_stranded = on_stranded;
  net::co_spawn(state_->strand, state_->loop(), net::detached);
}

void channel_servers::stop() {
  net::post(state_->strand, [st = state_] {
    st->stopping = true;
    st->timer.cancel();
  });
}

}  // namespace pasokh::routing
