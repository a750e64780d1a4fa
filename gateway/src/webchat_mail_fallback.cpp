#include "pasokh/gateway/webchat_mail_fallback.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/webchat_protocol.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

namespace net = boost::asio;
using net::awaitable;
using nlohmann::json;

namespace {

constexpr std::size_t max_replies = 200;   // one mail; older unread replies than these are in the widget
constexpr std::size_t sweep_batch = 100;   // conversations per sweep
// The longest a reply waits while more follow: this many delays after the
// oldest unread one, however long the agent keeps writing.
constexpr int max_wait_delays = 3;
const std::string rlm = "\u200F";

struct mail_words {
  const char* intro;
  const char* outro;
};

mail_words words_for(std::string_view language) {
  if (language == "fa")
    return {"پاسخ ما در گفتگوی وب‌سایت را ندیدید؛ آن را اینجا برایتان فرستادیم.",
            "برای ادامه، به همین ایمیل پاسخ دهید یا به گفتگوی وب‌سایت برگردید."};
  if (language == "ar")
    return {"لم تطّلع على ردّنا في محادثة الموقع، لذا أرسلناه إليك هنا.",
            "للمتابعة، ردّ على هذه الرسالة أو عُد إلى المحادثة على الموقع."};
  return {"You did not see our answer in the chat on our website, so here it is by email.",
          "To continue, reply to this email or go back to the chat."};
}

}  // namespace

const webchat_settings* webchat_mail_fallback::fallback_of(std::string_view channel) const {
  auto it = fallbacks_.find(channel);
  return it == fallbacks_.end() ? nullptr : &it->second;
}

std::vector<unread_reply> unread_agent_replies(const std::vector<std::string>& frames, std::uint64_t after) {
  std::vector<unread_reply> out;
  for (const auto& text : frames) {
    auto frame = json::parse(text, nullptr, false);
    if (!frame.is_object() || frame.value("event", "") != "message") continue;
    const auto seq = frame.value("seq", std::uint64_t{0});
    const auto& m = frame["message"];
    if (seq <= after || !m.is_object() || m.value("direction", "") != "out" || m.value("author", "") != "agent") continue;
    auto text_of = m.value("text", "");
    if (text_of.empty()) continue;
    out.push_back({seq, m.value("author_name", ""), std::move(text_of), m.value("created_at", std::int64_t{0})});
  }
  if (out.size() > max_replies) out.erase(out.begin(), out.end() - max_replies);
  return out;
}

std::string fallback_mail_text(std::string_view language, const std::vector<unread_reply>& replies) {
  const bool rtl = language == "fa" || language == "ar";
  const auto words = words_for(language);
  auto ours = [&](std::string_view line) { return (rtl ? rlm : std::string()) + std::string(line) + "\n"; };
  std::string text = ours(words.intro);
  for (const auto& r : replies) {
    text += "\n";
    if (!r.author_name.empty()) text += ours(r.author_name + ":");
    text += r.text + "\n";
  }
  text += "\n" + ours(words.outro);
  return text;
}

webchat_mail_fallback::webchat_mail_fallback(services& s, net::any_io_executor ex)
    : s_(s), ex_(std::move(ex)), running_(std::make_shared<bool>(false)) {
  for (const auto& c : s_.cfg.channels)
    if (c.webchat && !c.webchat->email_fallback_channel.empty()) fallbacks_.emplace(c.id, *c.webchat);
}

webchat_mail_fallback::~webchat_mail_fallback() { stop(); }

routing::channel_sender webchat_mail_fallback::sender(const channel_config& channel) {
  // Web chat replies reach the widget through the live hub and the replay
  // after reconnect: stored is delivered, as for the API channel.
  const auto* settings = fallback_of(channel.id);
  if (!settings) return routing::api_channel_sender();
  // Not a coroutine lambda: its captures would not outlive a suspended send.
  return [this, settings](const proto::outbound_message& m, const routing::pace_next&) { return deliver(m, *settings); };
}

// after_ms and max_wait_ms of the schedule and claim scripts.
static std::pair<std::string, std::string> fallback_delays(const webchat_settings& settings) {
  const std::int64_t after = settings.email_fallback_after_s * 1000LL;
  return {std::to_string(after), std::to_string(after * max_wait_delays)};
}

awaitable<bool> webchat_mail_fallback::schedule(const std::string& conv, std::int64_t reply_at,
                                                const webchat_settings& settings) {
  auto [after, max_wait] = fallback_delays(settings);
  // Named, not a temporary inside co_await (GCC 12 mishandles those).
  auto args = store::make_command(s_.cfg.redis.prefix, conv, std::to_string(reply_at), after, max_wait);
  auto r = co_await s_.redis.fcall(routing::script(routing::lua::webchat_mail_schedule), store::make_command(),
                                   std::move(args));
  co_return r && !r->is_error();
}

awaitable<routing::send_outcome> webchat_mail_fallback::deliver(proto::outbound_message m, const webchat_settings& settings) {
  // Delivered once stored (see sender); a person's reply is also scheduled.
  const bool by_person = !m.automatic && m.campaign.empty();
  if (!by_person) co_return routing::send_outcome::delivered();
  if (!co_await schedule(m.conversation_id, routing::now_ms(), settings))
    co_return routing::send_outcome::retry("storage unavailable");
  co_return routing::send_outcome::delivered();
}

void webchat_mail_fallback::start() {
  if (fallbacks_.empty() || *running_) return;
  *running_ = true;
  net::co_spawn(ex_, sweep_loop(), net::detached);
}

void webchat_mail_fallback::stop() { *running_ = false; }

awaitable<void> webchat_mail_fallback::sweep_loop() {
  auto running = running_;
  // A quarter of the shortest delay (at most 5 s, at least 200 ms): a mail
  // goes out at most that late.
  std::chrono::milliseconds period{5'000};
  for (const auto& [id, settings] : fallbacks_)
    period = std::min<std::chrono::milliseconds>(period, std::chrono::seconds(settings.email_fallback_after_s) / 4);
  period = std::max(period, std::chrono::milliseconds(200));
  net::steady_timer timer(ex_);
  while (*running) {
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    if (ec || !*running) co_return;
    try {
      co_await sweep_once();
    } catch (const std::exception& e) {
      spdlog::get("gateway")->warn("web chat mail fallback: {}", e.what());
    }
  }
}

awaitable<void> webchat_mail_fallback::sweep_once() {
  auto due = co_await s_.redis.exec(store::make_command("ZRANGEBYSCORE", s_.cfg.redis.prefix + "webchat:mail_due", "-inf",
                                                        std::to_string(routing::now_ms()), "LIMIT", "0",
                                                        std::to_string(sweep_batch)));
  if (!due || due->is_error()) co_return;
  for (const auto& conv : due->elements) co_await mail_conversation(conv.str);
}

// Reads what is unread, composes, and lets the script claim and queue it; a
// read mark that moves in between makes the script answer "stale": again.
awaitable<void> webchat_mail_fallback::mail_conversation(const std::string& conv) {
  const auto& prefix = s_.cfg.redis.prefix;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto h = co_await s_.redis.exec(store::make_command("HMGET", prefix + "conv:" + conv, "channel", "customer_id",
                                                        "customer_read_seq", "mail_fallback_seq"));
    if (!h || h->is_error() || h->elements.size() < 4) co_return;
    const auto& f = h->elements;
    const auto* settings = fallback_of(f[0].str);
    std::vector<unread_reply> replies;
    std::string language;
    // Without a fallback or an email (an anonymous visitor, the usual case)
    // there is nothing to read or compose; the script takes it off the due set
    // (and when the email is not proved theirs, whatever was composed).
    if (settings) {
      auto customer = co_await s_.redis.exec(store::make_command("HMGET", prefix + "cust:" + f[1].str, "language", "email"));
      if (!customer || customer->is_error() || customer->elements.size() < 2) co_return;
      if (!customer->elements[1].str.empty()) {
        auto number = [](const store::reply& r) { return r.is_nil() ? 0ULL : std::strtoull(r.str.c_str(), nullptr, 10); };
        const auto handled = std::max(number(f[2]), number(f[3]));  // read in the widget or mailed already
        auto frames = co_await s_.conversations.events_after(conv, handled, 1000);
        if (!frames) co_return;
        replies = unread_agent_replies(*frames, handled);
        language = customer->elements[0].str;
      }
    }
    // The claim re-times the due entry by the unread replies' own times (the
    // customer may have read the older ones since they were scheduled).
    auto args = store::make_command(prefix, conv, std::to_string(routing::now_ms()),
                                    settings ? settings->email_fallback_channel : std::string(),
                                    replies.empty() ? std::string() : fallback_mail_text(language, replies));
    if (replies.empty()) {
      args.insert(args.end(), 4, std::string());
    } else {
      auto [after, max_wait] = fallback_delays(*settings);
      for (auto s : {std::to_string(replies.back().at), std::to_string(replies.front().at), after, max_wait})
        args.push_back(std::move(s));
    }
    for (const auto& r : replies) args.push_back(std::to_string(r.seq));
    auto claimed = co_await s_.redis.fcall(routing::script(routing::lua::webchat_mail_fallback), store::make_command(),
                                           std::move(args));
    if (!claimed || claimed->is_error() || claimed->elements.empty()) co_return;
    const auto& answer = claimed->elements[0].str;
    if (answer == "stale") continue;
    if (answer == "queued") {
      global_metrics().webchat_replies_mailed.inc(f[0].str, replies.size());
      spdlog::get("gateway")->info("channel={} conv={} {} unread replies mailed through {}", f[0].str, conv,
                                   replies.size(), settings->email_fallback_channel);
    }
    co_return;
  }
}

}  // namespace pasokh::gateway
