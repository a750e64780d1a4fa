#pragma once
// Files passing through at once, each held whole in memory (web chat
// uploads and mail posted by a webhook being read, media being fetched for an
// agent): how many at a time is capped, in all and per client address, so
// slow or stalled ones cannot grow the process without bound. Thread-safe.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pasokh::gateway {

class file_slots {
 public:
  file_slots(std::size_t total, std::size_t per_address) : state_(std::make_shared<state>(total, per_address)) {}

  // Held while an upload is read and answered; given back when destroyed.
  class slot {
   public:
    slot(std::shared_ptr<void> release) : release_(std::move(release)) {}

   private:
    std::shared_ptr<void> release_;
  };

  // A slot, or nullptr when the caps are reached. `address` empty: counted in all only.
  std::unique_ptr<slot> try_take(const std::string& address) {
    std::lock_guard lock(state_->mutex);
    if (state_->in_use >= state_->total) return nullptr;
    if (auto it = state_->by_address.find(address); it != state_->by_address.end() && it->second >= state_->per_address)
      return nullptr;
    ++state_->in_use;
    if (!address.empty()) ++state_->by_address[address];
    auto give_back = [st = state_, address](void*) {
      std::lock_guard lock(st->mutex);
      --st->in_use;
      if (!address.empty() && --st->by_address[address] == 0) st->by_address.erase(address);
    };
    return std::make_unique<slot>(std::shared_ptr<void>(nullptr, give_back));
  }

  std::size_t in_use() const {
    std::lock_guard lock(state_->mutex);
    return state_->in_use;
  }

 private:
  struct state {
    state(std::size_t t, std::size_t p) : total(t), per_address(p) {}
    std::mutex mutex;
    std::size_t total, per_address, in_use = 0;
    std::map<std::string, std::size_t> by_address;
  };
  std::shared_ptr<state> state_;  // shared: a slot may outlive its owner at shutdown
};

}  // namespace pasokh::gateway
