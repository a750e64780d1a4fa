#include "pasokh/routing/rate_limit.hpp"

#include <algorithm>
#include <utility>

namespace pasokh::routing {

pacing_clock::duration interval_of(rate r) {
  if (r.per_second <= 0) return pacing_clock::duration::zero();
  return std::chrono::duration_cast<pacing_clock::duration>(std::chrono::duration<double>(1.0 / r.per_second));
}

pacing_clock::duration tolerance_of(rate r) {
  return std::chrono::duration_cast<pacing_clock::duration>(interval_of(r) * (std::max(1.0, r.burst) - 1));
}

token_bucket::token_bucket(rate r) : interval_(interval_of(r)), tolerance_(tolerance_of(r)) {}

pacing_clock::duration token_bucket::wait(pacing_clock::time_point now) const {
  // An unlimited bucket has no tolerance and never moves tat_ on: only a pause sets it.
  if (!tat_) return pacing_clock::duration::zero();
  return std::max(pacing_clock::duration::zero(), *tat_ - tolerance_ - now);
}

void token_bucket::take(pacing_clock::time_point now) {
  if (unlimited()) return;
  tat_ = (tat_ ? std::max(*tat_, now) : now) + interval_;
}

void token_bucket::pause_until(pacing_clock::time_point until) {
  // Nothing conforms before `until`; the full burst is available from then.
  auto tat = until + tolerance_;
  if (!tat_ || *tat_ < tat) tat_ = tat;
}

bool token_bucket::idle(pacing_clock::time_point now) const { return !tat_ || *tat_ <= now; }

rate_limiter::rate_limiter(rate_limits limits, std::size_t max_tracked_chats)
    : limits_(limits), max_tracked_chats_(std::max<std::size_t>(1, max_tracked_chats)), account_(limits.per_account) {}

rate_limiter::chat_pacing& rate_limiter::chat(std::string_view id, pacing_clock::time_point now) {
  auto it = chats_.find(std::string(id));
  if (it == chats_.end()) {
    if (chats_.size() >= max_tracked_chats_) forget_idle(now);
    it = chats_.emplace(std::string(id), chat_pacing{token_bucket(limits_.per_chat)}).first;
  }
  return it->second;
}

pacing_clock::duration rate_limiter::acquire(std::string_view chat_id, pacing_clock::time_point now) {
  // Without a per-chat limit a chat is tracked only while a pause holds it
  // (pause makes its entry): WhatsApp and the API channel fill no map.
  chat_pacing* c = nullptr;
  if (limits_.per_chat.per_second > 0) {
    c = &chat(chat_id, now);
  } else if (auto it = chats_.find(std::string(chat_id)); it != chats_.end()) {
    c = &it->second;
  }
  auto wait = std::max(account_.wait(now), c ? c->bucket.wait(now) : pacing_clock::duration::zero());
  if (wait > pacing_clock::duration::zero()) return wait;
  account_.take(now);
  if (c) {
    c->bucket.take(now);
    c->send_before = std::exchange(c->last_send, now);
  }
  return wait;
}

// Telegram answers its per-chat limit (about 1 message/s) and its overall one
// (about 30/s) with the same 429. A chat whose latest two sends were at most
// `in_a_row_within` apart may be over its own limit: only it waits, and the other
// customers' replies keep flowing. A chat that had been quiet longer cannot be
// over 1/s, so the 429 is the channel's: every chat waits. A wrong "chat"
// guess costs little: the sends to other chats that follow get 429s of their
// own, and the first one to a quiet chat pauses the channel.
limit_scope rate_limiter::pause(std::string_view chat_id, limit_scope scope, pacing_clock::time_point now,
                                pacing_clock::time_point until) {
  if (scope == limit_scope::unknown) {
    auto it = chats_.find(std::string(chat_id));
    scope = it != chats_.end() && it->second.sent_in_a_row() ? limit_scope::chat : limit_scope::account;
  }
  if (scope == limit_scope::chat) chat(chat_id, now).bucket.pause_until(until);
  else account_.pause_until(until);
  return scope;
}

void rate_limiter::forget_idle(pacing_clock::time_point now) {
  // A full bucket behaves like a new one, so forgetting it changes nothing
  // (a chat sent to within its interval is not idle: its history stays).
  std::erase_if(chats_, [now](const auto& entry) { return entry.second.bucket.idle(now); });
}

}  // namespace pasokh::routing
