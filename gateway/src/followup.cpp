#include "pasokh/gateway/followup.hpp"

#include <algorithm>
#include <chrono>


#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/handlers.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/proto/json.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

namespace {

using boost::asio::awaitable;
using nlohmann::json;

// Runs of one follow-up (followup.lua counts them) before it is given up:
// moved to followup:dead, logged and counted.
constexpr int max_tries = 8;

std::string member_of(const std::string& conv, std::uint64_t seq) { return conv + "|" + std::to_string(seq); }

// Done: no longer due. A member already gone was finished by another run.
// `claimed`: run through followup.lua, which counted its tries.
awaitable<void> finish(services& s, const std::string& conv, std::uint64_t seq, bool claimed) {
  const auto& pre = s.cfg.redis.prefix;
  // Pushed, not braced: GCC 12 cannot keep an initializer list in a coroutine.
  std::vector<std::vector<std::string>> done;
  done.push_back(store::make_command("ZREM", pre + "followup:due", member_of(conv, seq)));
  if (claimed) done.push_back(store::make_command("HDEL", pre + "followup:tries", member_of(conv, seq)));
  auto r = co_await s.redis.exec_pipeline(std::move(done));
  if (!r || r->empty() || r->front().is_error())
    spdlog::get("gateway")->warn("conv={} seq={} follow-up done but still marked due: the sweep runs it again", conv, seq);
}

// The message and what ingest answered for it, rebuilt from the store.
struct rebuilt {
  routing::ingest_outcome stored;
  proto::inbound_event event;
  bool runs = false;  // false: nothing to do (erased or unsent, not a customer message, handled since)
};

rebuilt rebuild(const std::string& conv, std::uint64_t seq, const std::vector<store::reply>& a) {
  rebuilt out;
  if (a.size() < 9) return out;
  auto frame = json::parse(a[6].str, nullptr, false);
  if (!frame.is_object() || frame.value("event", "") != "message" || !frame["message"].is_object()) return out;
  const auto& m = frame["message"];
  // Erased, or unsent by the customer before its turn came: nothing to answer.
  if (m.value("direction", "") != "in" || m.contains("erased") || m.contains("deleted_at")) return out;
  // The conversation moved on since this message (snoozed, taken by an
  // agent, handed off, reopened, resolved): someone saw it, or its follow-up
  // ran already; running it again would undo that (reopen a conversation
  // the customer just rated, end a snooze). The frame holds the
  // conversation as the message found it.
  const auto then = frame.value("conversation", json::object());
  if (!then.is_object() || then.value("status", "") != a[0].str || then.value("assignee", "") != a[8].str) return out;
  // Resolved after this message, and reopened and resolved again since.
  const auto created_at = m.value("created_at", std::int64_t{0});
  if (a[0].str == "resolved" && proto::parse_int(a[7].str) > created_at) return out;

  auto& st = out.stored;
  st.conversation_id = conv;
  st.seq = seq;
  st.status = a[0].str;
  st.customer_id = a[1].str;
  st.routed = a[4].str == "1";
  st.new_conversation = seq == 1;
  // As ingest.lua decides it: a new conversation, or one still resolved.
  st.csat_open = a[5].str == "1" && (st.new_conversation || st.status == "resolved");
  st.other_sender = m.contains("author_name");  // a guest in the customer's thread

  auto& e = out.event;
  e.kind = proto::inbound_kind::message;
  e.from.channel = a[2].str;
  if (auto kind = proto::from_string<proto::channel_kind>(a[3].str)) e.from.kind = *kind;
  e.text = m.value("text", "");
  e.button_payload = m.value("button_payload", "");
  e.language = m.value("language", "");
  e.automatic = m.value("automatic", false);
  e.provider_message_id = m.value("provider_message_id", "");
  e.sent_at = m.value("sent_at", std::int64_t{0});
  if (auto at = m.find("attachments"); at != m.end() && at->is_array()) {
    for (const auto& one : *at) {
      proto::attachment x;
      try {
        x = one.get<proto::attachment>();
      } catch (const json::exception&) {
        // The bot only asks whether there is one.
      }
      e.attachments.push_back(std::move(x));
    }
  }
  out.runs = true;
  return out;
}

// Claims the follow-up (followup.lua) and runs it. False when a step failed
// (Redis trouble): it stays due, and the claim put its next try later.
awaitable<bool> claim_and_run(services& s, const std::string& conv, std::uint64_t seq, bool from_retry) {
  const auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(s.cfg.routing.followup_grace).count();
  // A retry sooner than this is most likely the sender's while the first run
  // goes on (a few seconds; at most half the grace).
  const auto retry_after = std::min<std::int64_t>(3000, grace / 2);
  auto r = co_await s.redis.fcall(routing::script(routing::lua::followup), store::make_command(),
                                 store::make_command(s.cfg.redis.prefix, member_of(conv, seq),
                                                     std::to_string(routing::now_ms()), std::to_string(grace),
                                                     from_retry ? "1" : "0", std::to_string(retry_after),
                                                     std::to_string(max_tries)));
  if (!r || r->is_error()) co_return false;
  auto log = spdlog::get("gateway");
  if (r->elements.size() == 2 && r->elements[0].str == "dead") {
    log->error("conv={} seq={} follow-up given up after {} runs that failed (kept in followup:dead): the message may "
               "be unanswered, unrouted or not reopened", conv, seq, r->elements[1].str);
    global_metrics().followup_abandoned.inc(from_retry ? "retry" : "sweep");
    co_return true;
  }
  if (r->elements.size() < 2) co_return true;  // done already, someone else's, or gone
  auto job = rebuild(conv, seq, r->elements);
  if (job.runs) {
    log->info("conv={} seq={} follow-up run {}", conv, seq, from_retry ? "on the retry" : "by the sweep");
    global_metrics().routing_events.inc(from_retry ? "followup_on_retry" : "followup_swept");
    const bool done = co_await run_bot(s, job.stored, job.event);
    if (!done) co_return false;
  }
  co_await finish(s, conv, seq, true);
  co_return true;
}

}  // namespace

awaitable<void> follow_up(services& s, const routing::ingest_outcome& stored, const proto::inbound_event& event) {
  // Not claimed in Redis (a command for every message): a retry of the
  // message takes it over only once retry_after old, and the steps are
  // idempotent per message should a slow run still be going then.
  // Left due when a step failed: the sweep runs it again. (Not `if (co_await
  // ...) co_await ...;`: GCC 12 crashes there, a co_await in both.)
  const bool done = co_await run_bot(s, stored, event);
  if (done) co_await finish(s, stored.conversation_id, stored.seq, false);
}

awaitable<void> follow_up_duplicate(services& s, const routing::ingest_outcome& stored) {
  if (!stored.followup_due) co_return;
  co_await claim_and_run(s, stored.conversation_id, stored.seq, true);
}

awaitable<bool> follow_up_due(services& s, std::string conv, std::uint64_t seq) {
  co_return co_await claim_and_run(s, conv, seq, false);
}

}  // namespace pasokh::gateway
