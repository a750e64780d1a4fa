#include "pasokh/routing/rate_limit.hpp"

#include <algorithm>

namespace pasokh::routing {

namespace {
pacing_clock::duration interval_of(rate r) {
  if (r.per_second <= 0) return pacing_clock::duration::zero();
  return std::chrono::duration_cast<pacing_clock::duration>(std::chrono::duration<double>(1.0 / r.per_second));
}
}  // namespace

token_bucket::token_bucket(rate r)
    : interval_(interval_of(r)),
      tolerance_(std::chrono::duration_cast<pacing_clock::duration>(interval_ * (std::max(1.0, r.burst) - 1))) {}

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

pacing_clock::duration rate_limiter::acquire(std::string_view chat, pacing_clock::time_point now) {
  token_bucket* per_chat = nullptr;
  if (limits_.per_chat.per_second > 0) {
    auto it = chats_.find(std::string(chat));
    if (it == chats_.end()) {
      if (chats_.size() >= max_tracked_chats_) forget_idle(now);
      it = chats_.emplace(std::string(chat), token_bucket(limits_.per_chat)).first;
    }
    per_chat = &it->second;
  }
  auto wait = account_.wait(now);
  if (per_chat) wait = std::max(wait, per_chat->wait(now));
  if (wait > pacing_clock::duration::zero()) return wait;
  account_.take(now);
  if (per_chat) per_chat->take(now);
  return wait;
}

void rate_limiter::forget_idle(pacing_clock::time_point now) {
  // A full bucket behaves like a new one, so forgetting it changes nothing.
  std::erase_if(chats_, [now](const auto& entry) { return entry.second.idle(now); });
}

}  // namespace pasokh::routing
