#include "pasokh/routing/outbox.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/proto/json.hpp"
#include "pasokh/routing/delivery.hpp"
#include "pasokh/routing/instance_name.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using store::reply;

const std::string group_name(outbox_group);
// A consumer with nothing pending and idle this long belongs to an instance long gone.
constexpr milliseconds forget_consumers_after{60 * 60 * 1000};
// How often an entry asks again whether an earlier one of its chat, sent by
// another instance, is done: soon at first (a send takes tens of ms), then
// at most every second (a rate limit may hold it for minutes).
constexpr milliseconds first_turn_wait{50};
constexpr milliseconds longest_turn_wait{1000};

std::shared_ptr<spdlog::logger> outbox_log() {
  auto l = spdlog::get("routing");
  return l ? l : spdlog::default_logger();
}

// One outbox entry this worker holds (sending, waiting to retry or for its
// turn, or queued behind an earlier message of the same chat).
struct entry {
  std::string id;  // stream entry id
  proto::outbound_message msg;
  std::string unreadable;  // why "m" could not be decoded (then msg is empty)
  std::string chat;        // ordering and pacing key: the recipient
  int failures = 0;        // failed sends so far (persisted in <outbox>:attempts)
  bool lost = false;       // another instance owns the entry now
  bool has_slot = false;   // counts against `concurrency` (see take_slot)
};

// A delivery waiting for a send slot; woken when one is handed to it.
struct slot_waiter {
  boost::asio::steady_timer timer;
  bool handed = false;
};

// [[id, [field, value, ...]], ...] → entries (a deleted entry has no fields).
std::vector<std::shared_ptr<entry>> decode_entries(const reply& list) {
  std::vector<std::shared_ptr<entry>> out;
  for (const auto& item : list.elements) {
    if (item.elements.size() != 2 || item.elements[1].type != reply::kind::array) continue;
    auto e = std::make_shared<entry>();
    e->id = item.elements[0].str;
    const auto& fields = item.elements[1].elements;
    std::string raw;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].str == "m") raw = fields[i + 1].str;
    try {
      e->msg = nlohmann::json::parse(raw).get<proto::outbound_message>();
    } catch (const std::exception& ex) {
      e->unreadable = ex.what();
    }
    e->chat = e->msg.recipient.empty() ? e->msg.conversation_id : e->msg.recipient;
    out.push_back(std::move(e));
  }
  return out;
}

// What the chat's order says about sending an entry now (outbox_turn.lua).
struct turn {
  enum kind_t { go, wait, lost, none, first } kind = wait;
  std::shared_ptr<entry> earlier;  // for first: an earlier entry of the chat, claimed for us, to send before
  milliseconds pace{0};            // for go: the chat's send slot taken for it comes this much later

  static turn decode(const reply& r) {
    const auto& answer = r.elements.at(0).str;
    if (answer == "go") return {go, nullptr, milliseconds(r.elements.size() > 1 ? r.elements[1].as_int() : 0)};
    if (answer == "lost") return {lost};
    if (answer == "none") return {none};
    if (answer == "first" && r.elements.size() == 3) {
      auto claimed = decode_entries(r.elements[1]);
      if (claimed.empty()) return {wait};
      claimed[0]->failures = std::atoi(r.elements[2].str.c_str());  // its attempts so far ('' for none)
      return {first, claimed[0]};
    }
    return {wait};
  }
};

}  // namespace

outbox_options outbox_defaults(proto::channel_kind kind) {
  outbox_options o;
  switch (kind) {
    case proto::channel_kind::telegram: o.limits = {{1, 1}, {30, 30}}; break;
    case proto::channel_kind::whatsapp: o.limits = {{0, 1}, {80, 80}}; break;
    case proto::channel_kind::messenger:
    case proto::channel_kind::instagram: o.limits = {{1, 3}, {0, 1}}; break;
    default: break;
  }
  return o;
}

channel_sender api_channel_sender() {
  return [](const proto::outbound_message&, const pace_next&) -> net::awaitable<send_outcome> {
    co_return send_outcome::delivered();
  };
}

struct outbox_worker::state : std::enable_shared_from_this<state> {
  state(net::any_io_executor ex, store::redis_client& r, std::string p, std::string ch, channel_sender s, outbox_options o)
      : strand(net::make_strand(ex)),
        redis(r),
        prefix(std::move(p)),
        channel(std::move(ch)),
        key(outbox_key(prefix, channel)),
        send(std::move(s)),
        opts(std::move(o)),
        marks(redis, prefix, opts.provider_id_ttl),
        limiter(opts.limits),
        pace_interval(std::chrono::ceil<milliseconds>(interval_of(opts.limits.per_chat))),
        pace_tolerance(std::chrono::floor<milliseconds>(tolerance_of(opts.limits.per_chat))),
        account_interval(std::chrono::ceil<milliseconds>(interval_of(opts.limits.per_account))),
        account_tolerance(std::chrono::floor<milliseconds>(tolerance_of(opts.limits.per_account))),
        rng(std::random_device{}()),
        wake(strand) {
    if (opts.consumer.empty()) opts.consumer = instance_name();
    opts.concurrency = std::max<std::size_t>(1, opts.concurrency);
    opts.max_held = std::max(opts.max_held, opts.concurrency);
    // The blocking read must never outlast the connection's command timeout.
    auto reader_cfg = opts.reader;
    reader_cfg.command_timeout = opts.block + std::max(reader_cfg.command_timeout, milliseconds(1'000));
    reader = std::make_unique<store::redis_client>(strand, reader_cfg);
  }

  net::strand<net::any_io_executor> strand;
  store::redis_client& redis;
  std::unique_ptr<store::redis_client> reader;
  std::string prefix, channel, key;
  channel_sender send;
  outbox_options opts;
  delivery_marks marks;
  rate_limiter limiter;
  milliseconds pace_interval, pace_tolerance;  // of a chat's sends, kept in Redis across instances
  milliseconds account_interval, account_tolerance;  // of all the channel's sends, likewise
  std::mt19937_64 rng;
  net::steady_timer wake;  // the reader waits on it for a free slot
  // Its stream's Redis failures, retried every second or faster: while Redis
  // is out of memory each would log that often.
  repeated_warning group_failures, read_failures, trim_failures;

  // Strand-only state.
  bool stopping = false;
  std::map<std::string, std::shared_ptr<entry>> held;                  // by entry id
  std::map<std::string, std::deque<std::shared_ptr<entry>>> waiting;  // chat → entries behind the one in progress
  std::set<std::string> let_go;       // chats with entries pending to us that we stopped holding (see shed)
  std::set<std::string> taking_back;  // chats of let_go whose next entry we are waiting for
  std::size_t slots_taken = 0;                                        // entries sending or ready to send
  std::deque<slot_waiter*> slot_queue;                                // deliveries waiting for a slot, first come first
  std::set<net::steady_timer*> sleepers;
  std::string claim_cursor = "0-0";
  int in_flight = 0;                              // deliveries running
  std::vector<std::function<void()>> on_drained;  // stop()'s callers, once in_flight is 0

  void result(std::string_view what) {
    if (opts.on_result) opts.on_result(what);
  }

  // Waits on `t` (cancelled when the worker stops, or by whoever wakes it).
  net::awaitable<void> wait_on(net::steady_timer& t) {
    sleepers.insert(&t);
    boost::system::error_code ec;
    co_await t.async_wait(net::redirect_error(net::use_awaitable, ec));
    sleepers.erase(&t);
  }

  // Sleeps unless stopping; false when the worker stops.
  net::awaitable<bool> sleep_for(milliseconds d) {
    if (stopping) co_return false;
    net::steady_timer t(strand, d);
    co_await wait_on(t);
    co_return !stopping;
  }

  void stop_on_strand(std::function<void()> drained) {
    stopping = true;
    for (auto* t : sleepers) t->cancel();
    wake.cancel();
    if (drained) on_drained.push_back(std::move(drained));
    notify_if_drained();
  }

  void notify_if_drained() {
    if (!stopping || in_flight > 0) return;
    for (auto& f : std::exchange(on_drained, {})) f();
  }

  // --- reading ---------------------------------------------------------------

  net::awaitable<bool> ensure_group() {
    auto r = co_await redis.exec(store::make_command("XGROUP", "CREATE", key, group_name, "0", "MKSTREAM"));
    if (!r) co_return false;
    if (r->is_error() && r->str.find("BUSYGROUP") == std::string::npos) {
      group_failures.error(*outbox_log(), "outbox {}: cannot create consumer group: {}", channel, r->str);
      co_return false;
    }
    co_return true;
  }

  net::awaitable<void> read_loop() {
    auto self = shared_from_this();
    while (!stopping && !co_await ensure_group())
      if (!co_await sleep_for(1s)) co_return;
    outbox_log()->info("outbox {}: consumer {} started", channel, opts.consumer);
    while (!stopping) {
      auto room = room_to_read();
      if (room == 0) {
        // Woken (cancelled) when an entry is done or gives its slot up.
        wake.expires_after(1s);
        boost::system::error_code ec;
        co_await wake.async_wait(net::redirect_error(net::use_awaitable, ec));
        continue;
      }
      auto r = co_await reader->exec(store::make_command(
          "XREADGROUP", "GROUP", group_name, opts.consumer, "COUNT", std::to_string(room),
          "BLOCK", std::to_string(opts.block.count()), "STREAMS", key, ">"));
      if (stopping) break;
      if (!r) {
        if (!co_await sleep_for(500ms)) break;  // reconnecting
        continue;
      }
      if (r->is_error()) {
        // NOGROUP: the stream was lost (Redis restarted empty); make it again.
        if (r->str.find("NOGROUP") == std::string::npos)
          read_failures.warn(*outbox_log(), "outbox {}: XREADGROUP: {}", channel, r->str);
        co_await ensure_group();
        if (!co_await sleep_for(200ms)) break;
        continue;
      }
      if (r->is_nil() || r->elements.empty()) continue;
      for (const auto& stream : r->elements) {
        if (stream.elements.size() != 2) continue;
        auto fresh = decode_entries(stream.elements[1]);
        if (opts.on_new_entries) opts.on_new_entries(fresh.size());
        admit(std::move(fresh));
      }
    }
  }

  // How many more entries to read. Only entries sending or ready to send
  // count against `concurrency`: those queued behind their chat or waiting
  // out their chat's pause or turn do not stop the reading, or one busy
  // customer would hold up every other one. Only the chats in progress count
  // against `max_held`: entries queued behind them are let go of instead
  // (shed), so no number of them stops the reading either.
  std::size_t room_to_read() const {
    auto demand = slots_taken + slot_queue.size();
    auto chats = waiting.size();  // one entry in progress each
    if (demand >= opts.concurrency || chats >= opts.max_held) return 0;
    return std::min(opts.concurrency - demand, opts.max_held - chats);
  }

  // The list of the chat's entries in order (outbox_turn.lua); none for an
  // unreadable entry, whose chat is unknown.
  std::string order_of(const std::string& chat) const { return chat.empty() ? std::string() : key + ":chat:" + chat; }

  // The chat's pacing shared by every instance (take_pace in the Lua
  // prelude); none for a channel without a per-chat limit.
  std::string pace_of(const std::string& chat) const {
    return chat.empty() || pace_interval.count() <= 0 ? std::string() : key + ":pace:" + chat;
  }
  // The channel's account limit, shared likewise, and the pauses the
  // provider asks of the whole account (kept there without a limit too).
  std::string account_pace() const { return key + ":pace"; }

  // --- holding and ordering --------------------------------------------------

  void admit(std::vector<std::shared_ptr<entry>> entries) {
    for (auto& e : entries) {
      if (held.count(e->id)) continue;
      held[e->id] = e;
      auto it = waiting.find(e->chat);
      if (it != waiting.end()) {
        it->second.push_back(e);  // keep the chat's order
        continue;
      }
      waiting[e->chat];
      net::co_spawn(strand, deliver(e), net::detached);
    }
    shed();
  }

  // Holds at most `max_held` entries: beyond, lets go of the newest entries
  // queued in the longest chat queue. They stay pending to us in Redis but
  // are not renewed; their chat's order hands them back when their turn
  // comes (take_back, or to the chat's entry in progress), and an idle one is
  // claimed after claim_idle as any abandoned entry.
  void shed() {
    std::size_t shed_now = 0;
    while (held.size() > opts.max_held) {
      auto longest = std::max_element(waiting.begin(), waiting.end(),
                                       [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
      if (longest == waiting.end() || longest->second.empty()) break;
      held.erase(longest->second.back()->id);
      longest->second.pop_back();
      let_go.insert(longest->first);
      ++shed_now;
    }
    if (shed_now > 0) outbox_log()->debug("outbox {}: {} queued entries left in Redis for now", channel, shed_now);
  }

  // `earlier` (an entry of e's chat the chat's order claimed for us) is sent
  // before `e`, which waits behind it again, first in its chat's queue.
  void send_first(std::shared_ptr<entry> earlier, const std::shared_ptr<entry>& e) {
    auto& queue = waiting[e->chat];
    if (auto it = held.find(earlier->id); it != held.end()) {
      earlier = it->second;  // claimed after e and queued behind it
      std::erase(queue, earlier);
    } else {
      earlier->chat = e->chat;  // its order says so, whatever its message says
      held[earlier->id] = earlier;
    }
    queue.push_front(e);
    net::co_spawn(strand, deliver(earlier), net::detached);
    shed();
  }

  // After the last entry of a chat we held, when we let go of some (shed):
  // the chat's next entry is taken back once it is one of those (or nobody's),
  // rather than after claim_idle. While the next is with another instance,
  // asks again as an entry waiting for its turn does.
  net::awaitable<void> take_back(std::string chat) {
    auto self = shared_from_this();
    if (!taking_back.insert(chat).second) co_return;
    for (auto pause = first_turn_wait; !waiting.count(chat); pause = std::min(pause * 2, longest_turn_wait)) {
      auto t = co_await ask_turn(chat, {});
      // A newer entry of the chat came in meanwhile: its turn takes the next one first, and its end comes back here.
      if (waiting.count(chat)) break;
      if (t.kind == turn::first) {
        t.earlier->chat = chat;
        admit({t.earlier});
        break;
      }
      if (t.kind != turn::wait) {
        let_go.erase(chat);  // nothing of ours left to wait for
        break;
      }
      if (!co_await sleep_for(pause)) break;
    }
    taking_back.erase(chat);
  }

  void done(const std::shared_ptr<entry>& e) {
    held.erase(e->id);
    auto it = waiting.find(e->chat);
    if (it != waiting.end()) {
      if (it->second.empty() || stopping) {
        waiting.erase(it);
        if (!stopping && let_go.count(e->chat)) net::co_spawn(strand, take_back(e->chat), net::detached);
      } else {
        auto next = it->second.front();
        it->second.pop_front();
        net::co_spawn(strand, deliver(next), net::detached);
      }
    }
    wake.cancel();
  }

  // --- send slots ------------------------------------------------------------

  // Waits for one of the `concurrency` send slots (first come, first served);
  // false when the worker stops first.
  net::awaitable<bool> take_slot(entry& e) {
    if (stopping) co_return false;
    if (slots_taken < opts.concurrency && slot_queue.empty()) {
      ++slots_taken;
      e.has_slot = true;
      co_return true;
    }
    slot_waiter w{net::steady_timer(strand, net::steady_timer::time_point::max())};
    slot_queue.push_back(&w);
    co_await wait_on(w.timer);
    if (!w.handed) {  // stopping
      std::erase(slot_queue, &w);
      co_return false;
    }
    e.has_slot = true;
    co_return !stopping;
  }

  // Hands the slot to the first waiter, if any.
  void give_slot(entry& e) {
    if (!std::exchange(e.has_slot, false)) return;
    if (slot_queue.empty()) {
      --slots_taken;
    } else {
      auto* next = slot_queue.front();
      slot_queue.pop_front();
      next->handed = true;
      next->timer.cancel();
    }
    wake.cancel();  // fewer entries want to send: room to read more
  }

  // Waits out a rate limit answer. A pause of the chat alone lets its slot
  // go meanwhile: the channel's other chats are not held up by it. (No
  // `if (...) co_return co_await ...;` here: GCC 12 made that an illegal instruction.)
  net::awaitable<bool> sit_out(entry& e, limit_scope scope, milliseconds wait) {
    const bool chat_only = scope == limit_scope::chat;
    if (chat_only) give_slot(e);
    bool going_on = co_await sleep_for(wait);
    if (going_on && chat_only) going_on = co_await take_slot(e);
    co_return going_on;
  }

  // --- one entry -------------------------------------------------------------

  // Just before a send: whether the entry `id` of `chat` may go now (it is
  // its chat's next), renewing our hold on it ('': whether we may take the
  // chat's next entry). Waits while Redis is unreachable: a message we could
  // not mark afterwards would be sent twice.
  net::awaitable<turn> ask_turn(const std::string& chat, const std::string& id) {
    while (!stopping) {
      auto r = co_await redis.fcall(script(lua::outbox_turn), store::make_command(),
                                   store::make_command(prefix, key, group_name, opts.consumer, order_of(chat),
                                                       std::to_string(opts.claim_idle.count()), id, pace_of(chat),
                                                       std::to_string(pace_interval.count()),
                                                       std::to_string(pace_tolerance.count()), account_pace(),
                                                       std::to_string(account_interval.count()),
                                                       std::to_string(account_tolerance.count())));
      if (r && !r->is_error() && !r->elements.empty()) co_return turn::decode(*r);
      // Redis lost the outbox (restarted empty): nothing left to send.
      if (r && r->str.find("NOGROUP") != std::string::npos) co_return turn{turn::lost};
      if (!co_await sleep_for(1s)) break;
    }
    co_return turn{turn::lost};
  }

  // Before a sender's further request (a split text's next part): paced as
  // the first one was, and only while the entry is still ours, which the
  // turn checks (and renews) just before it goes. The turn waits while Redis
  // is unreachable: whoever took the entry over meanwhile would send again
  // what we could not record. False when we stop or the entry is lost.
  net::awaitable<bool> next_request(entry& e) {
    if (!co_await paced(e.chat)) co_return false;
    auto t = co_await ask_turn(e.chat, e.id);
    if (t.kind != turn::go) {
      e.lost = t.kind == turn::lost && !stopping;
      co_return false;
    }
    bool going_on = !stopping;
    if (t.pace > milliseconds::zero()) going_on = co_await sleep_for(t.pace);
    co_return going_on;
  }

  // Waits until the chat's and the account's buckets allow a send.
  net::awaitable<bool> paced(const std::string& chat) {
    for (;;) {
      auto wait = limiter.acquire(chat, pacing_clock::now());
      if (wait <= pacing_clock::duration::zero()) co_return !stopping;
      if (!co_await sleep_for(std::chrono::ceil<milliseconds>(wait))) co_return false;
    }
  }

  // How long ago the entry was queued: its stream id starts with Redis's clock
  // in milliseconds (the instances' clocks are assumed close to it).
  static milliseconds queued_for(const entry& e) {
    using namespace std::chrono;
    const auto queued_at = milliseconds(std::strtoll(e.id.c_str(), nullptr, 10));
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()) - queued_at;
  }

  // A rate limit of the whole account holds back the other instances' sends
  // on the channel too: their turns take the account's pace, moved on to the
  // pause's end. One try: an instance that misses it gets its own answer.
  net::awaitable<void> pause_account(milliseconds wait) {
    auto r = co_await redis.fcall(script(lua::outbox_pause), store::make_command(),
                                  store::make_command(prefix, account_pace(), std::to_string(wait.count()),
                                                      std::to_string(account_tolerance.count())));
    if (!r || r->is_error())
      outbox_log()->warn("outbox {}: the other instances are not told of the pause: {}", channel,
                         r ? r->str : r.error().message());
  }

  net::awaitable<void> persist_failures(const entry& e) {
    auto r = co_await redis.exec(store::make_command("HSET", key + ":attempts", e.id, std::to_string(e.failures)));
    if (!r || r->is_error()) outbox_log()->warn("outbox {}: cannot record the attempt count of {}", channel, e.id);
  }

  // Tells the agent why the reply is still pending and when it goes again:
  // a note on its delivery record, published, status unchanged. One try: the
  // note is a courtesy, the retry goes ahead without it.
  net::awaitable<void> note_retry(const entry& e, std::string reason, milliseconds delay) {
    if (e.msg.conversation_id.empty()) co_return;  // no delivery record (a web chat email verification)
    delivery_update update{channel, e.msg.conversation_id, e.msg.seq, proto::delivery_status::pending, {}, std::move(reason)};
    update.retry_attempt = e.msg.attempt;  // the try that was refused
    update.retry_next_at_ms = now_ms() + delay.count();
    auto r = co_await marks.mark(update);
    if (!r) outbox_log()->warn("outbox {}: cannot note the retry of {}: {}", channel, e.msg.message_id, r.error().message());
  }

  // Records the outcome and acknowledges the entry in one step. Retries while
  // Redis is down rather than send again: once sent, only marking remains.
  // `sent_at`: when the send that succeeded began (0 for other outcomes).
  net::awaitable<void> finish(const entry& e, proto::delivery_status status, std::string provider_id,
                              std::string reason, std::int64_t sent_at = 0) {
    delivery_update update{channel, e.msg.conversation_id, e.msg.seq, status, std::move(provider_id), std::move(reason)};
    update.sent_at_ms = sent_at;
    outbox_ack ack{key, group_name, e.id, order_of(e.chat), pace_of(e.chat), pace_interval};
    for (int tries = 0;; ++tries) {
      auto r = co_await marks.mark(update, ack);
      if (r) {
        // A message outside any conversation (a web chat email verification) has no delivery record.
        if (*r == mark_result::unknown && !e.msg.conversation_id.empty())
          outbox_log()->warn("outbox {}: entry {} names no known message ({})", channel, e.id, e.msg.message_id);
        co_return;
      }
      outbox_log()->warn("outbox {}: cannot record {} for {}: {}", channel, proto::to_string(status), e.msg.message_id,
                  r.error().message());
      // One more try even when stopping; then the next owner will send again.
      if (stopping && tries > 0) co_return;
      if (!co_await sleep_for(milliseconds(std::min(1000 * (tries + 1), 5000))) && tries > 0) co_return;
    }
  }

  net::awaitable<void> deliver(std::shared_ptr<entry> e) {
    auto self = shared_from_this();
    ++in_flight;
    std::shared_ptr<entry> earlier;
    if (co_await take_slot(*e)) earlier = co_await attempt_until_done(*e);
    give_slot(*e);
    --in_flight;
    if (earlier)
      send_first(std::move(earlier), e);
    else
      done(e);
    notify_if_drained();
  }

  // Sends until the entry is done, lost or we stop. Answers an earlier entry
  // of its chat that nobody worked on (now claimed for us) when there is one:
  // that one goes first.
  net::awaitable<std::shared_ptr<entry>> attempt_until_done(entry& e) {
    if (!e.unreadable.empty()) {
      outbox_log()->error("outbox {}: entry {} is unreadable: {}", channel, e.id, e.unreadable);
      result("failed");
      co_await finish(e, proto::delivery_status::failed, {}, "unreadable outbox entry");
      co_return nullptr;
    }
    auto turn_wait = first_turn_wait;
    while (!stopping) {
      auto t = co_await ask_turn(e.chat, e.id);
      if (t.kind == turn::first) co_return std::move(t.earlier);
      if (t.kind != turn::go && t.kind != turn::wait) {
        e.lost = !stopping;
        co_return nullptr;  // another instance has it now, or we stop
      }
      if (t.kind == turn::wait) {
        // An earlier entry of the chat is with another instance: wait for it
        // as for a pause of the chat alone, without a send slot.
        if (!co_await sit_out(e, limit_scope::chat, turn_wait)) co_return nullptr;
        turn_wait = std::min(turn_wait * 2, longest_turn_wait);
        continue;
      }
      // The chat's slot, taken in Redis for us (maybe after another
      // instance's send to it): nobody else sends to the chat meanwhile, as
      // the entry heads its order.
      if (t.pace > milliseconds::zero() && !co_await sit_out(e, limit_scope::chat, t.pace)) co_return nullptr;
      if (e.lost || !co_await paced(e.chat)) co_return nullptr;

      e.msg.attempt = e.failures + 1;
      const auto send_began = now_ms();
      send_outcome out;
      const pace_next next = [this, &e] { return next_request(e); };
      try {
        out = co_await send(e.msg, next);
      } catch (const std::exception& ex) {
        out = send_outcome::retry(std::string("sender error: ") + ex.what());
      }

      switch (out.kind) {
        case send_kind::delivered:
          result("sent");
          co_await finish(e, proto::delivery_status::sent, out.provider_message_id, {}, send_began);
          co_return nullptr;
        case send_kind::permanent:
          result("failed");
          outbox_log()->warn("outbox {}: {} failed for good: {}", channel, e.msg.message_id, out.reason);
          co_await finish(e, proto::delivery_status::failed, {}, out.reason);
          co_return nullptr;
        case send_kind::rate_limited: {
          // Not a failure of the message: it waits, and so does what the limit
          // holds back (the account, or only this chat), then it is sent again.
          result("rate_limited");
          auto wait = out.retry_after > 0ms ? out.retry_after : opts.backoff.initial;
          auto now = pacing_clock::now();
          auto held_back = limiter.pause(e.chat, out.scope, now, now + wait);
          outbox_log()->info("outbox {}: rate limited at {} ({}); {} waits {} ms", channel, e.msg.message_id, out.reason,
                             held_back == limit_scope::chat ? "its chat" : "the channel", wait.count());
          // Only this instance sends to a chat now (its order), but every one sends on the account.
          if (held_back == limit_scope::account) co_await pause_account(wait);
          co_await note_retry(e, "rate limited by the provider: " + out.reason, wait);
          if (!co_await sit_out(e, held_back, wait)) co_return nullptr;
          break;
        }
        case send_kind::retry: {
          // stop() cut it short, or another instance has it now (between parts): not the message's failure.
          if (stopping || e.lost) co_return nullptr;
          ++e.failures;
          if (attempts_exhausted(opts.backoff, e.failures, queued_for(e))) {
            result("failed");
            outbox_log()->warn("outbox {}: {} gave up after {} attempts: {}", channel, e.msg.message_id, e.failures, out.reason);
            co_await finish(e, proto::delivery_status::failed, {},
                            fmt::format("gave up after {} attempts: {}", e.failures, out.reason));
            co_return nullptr;
          }
          result("retry");
          co_await persist_failures(e);
          auto delay = retry_delay(opts.backoff, e.failures, std::uniform_real_distribution<double>(0, 1)(rng));
          outbox_log()->info("outbox {}: {} attempt {} failed ({}); next in {} ms", channel, e.msg.message_id, e.failures,
                      out.reason, delay.count());
          co_await note_retry(e, out.reason, delay);
          if (!co_await sleep_for(delay)) co_return nullptr;
          break;
        }
      }
    }
  }

  // --- keeping hold, reclaiming, trimming ----------------------------------------

  net::awaitable<void> maintenance_loop() {
    auto self = shared_from_this();
    auto renew_every = std::max(milliseconds(100), opts.claim_idle / 3);
    auto tick = std::min(renew_every, opts.claim_interval);
    auto last_claim = std::chrono::steady_clock::time_point{};
    auto last_trim = std::chrono::steady_clock::time_point{};  // once soon after start, then every minute
    while (co_await sleep_for(tick)) {
      co_await renew_holds();
      auto now = std::chrono::steady_clock::now();
      if (now - last_claim >= opts.claim_interval) {
        last_claim = now;
        co_await claim_abandoned();
      }
      if (now - last_trim >= 60s) {
        last_trim = now;
        co_await trim();
      }
    }
  }

  // Resets the idle time of everything we hold, so nobody reclaims it.
  net::awaitable<void> renew_holds() {
    if (held.empty()) co_return;
    auto args = store::make_command(prefix, key, group_name, opts.consumer);
    for (auto& [id, e] : held) args.push_back(id);
    auto r = co_await redis.fcall(script(lua::outbox_touch), store::make_command(), std::move(args));
    if (!r || r->is_error()) co_return;
    std::set<std::string> owned;
    for (auto& id : r->elements) owned.insert(id.str);
    for (auto& [id, e] : held)
      if (!owned.count(id) && !e->lost) {
        e->lost = true;
        outbox_log()->warn("outbox {}: entry {} was claimed by another instance", channel, id);
      }
  }

  // Entries of a crashed instance: pending longer than claim_idle. It may
  // have held up to max_held, most queued behind their chat: as many as we
  // may hold are taken in one go, not `concurrency` every claim_interval.
  net::awaitable<void> claim_abandoned() {
    if (waiting.size() >= opts.max_held) co_return;
    auto r = co_await redis.exec(store::make_command(
        "XAUTOCLAIM", key, group_name, opts.consumer, std::to_string(opts.claim_idle.count()), claim_cursor, "COUNT",
        std::to_string(opts.max_held - waiting.size())));
    if (!r || r->is_error() || r->elements.size() < 2) co_return;
    claim_cursor = r->elements[0].str.empty() ? "0-0" : r->elements[0].str;
    auto entries = decode_entries(r->elements[1]);
    if (entries.empty()) co_return;
    // Continue their attempt counts.
    auto args = store::make_command("HMGET", key + ":attempts");
    for (auto& e : entries) args.push_back(e->id);
    auto counts = co_await redis.exec(std::move(args));
    if (counts && counts->elements.size() == entries.size())
      for (std::size_t i = 0; i < entries.size(); ++i)
        if (!counts->elements[i].is_nil()) entries[i]->failures = std::atoi(counts->elements[i].str.c_str());
    outbox_log()->info("outbox {}: claimed {} abandoned entries", channel, entries.size());
    admit(std::move(entries));
  }

  net::awaitable<void> trim() {
    using namespace std::chrono;
    auto edge = duration_cast<milliseconds>(system_clock::now().time_since_epoch()) - opts.keep_acked;
    auto r = co_await redis.fcall(script(lua::outbox_trim), store::make_command(),
                                 store::make_command(prefix, key, std::to_string(edge.count()) + "-0", group_name,
                                                     std::to_string(forget_consumers_after.count())));
    if (r && r->is_error()) trim_failures.warn(*outbox_log(), "outbox {}: trim: {}", channel, r->str);
  }
};

outbox_worker::outbox_worker(net::any_io_executor executor, store::redis_client& redis, std::string prefix,
                             std::string channel_id, channel_sender sender, outbox_options options)
    : state_(std::make_shared<state>(std::move(executor), redis, std::move(prefix), std::move(channel_id),
                                     std::move(sender), std::move(options))) {}

outbox_worker::~outbox_worker() { stop(); }

void outbox_worker::start() {
  state_->reader->start();
  net::co_spawn(state_->strand, state_->read_loop(), net::detached);
  net::co_spawn(state_->strand, state_->maintenance_loop(), net::detached);
}

void outbox_worker::stop(std::function<void()> drained) {
  net::post(state_->strand, [s = state_, drained = std::move(drained)]() mutable { s->stop_on_strand(std::move(drained)); });
  state_->reader->stop();
}

const std::string& outbox_worker::consumer() const { return state_->opts.consumer; }

}  // namespace pasokh::routing
