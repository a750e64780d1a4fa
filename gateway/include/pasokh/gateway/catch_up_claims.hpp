#pragma once
// One catch-up per conversation at a time on a session (agent or web chat
// socket). Another request for a conversation being caught up, or a live
// event of it, only asks the running catch-up to read the log once more: it
// sends nothing itself, so frames keep their order and none goes twice. Calls
// on the session's strand.
#include <map>
#include <string>

namespace pasokh::gateway {

class catch_up_claims {
 public:
  // True: the caller runs the catch-up now (and releases it). False: one
  // runs already, and reads once more.
  bool claim(const std::string& conv) {
    auto [running, first] = read_again_.try_emplace(conv, false);
    if (!first) running->second = true;
    return first;
  }
  // A live event: true when its conversation is being caught up (the
  // catch-up reads it from the log, once more if it read already).
  bool defer(const std::string& conv) {
    auto running = read_again_.find(conv);
    if (running == read_again_.end()) return false;
    running->second = true;
    return true;
  }
  // Before each read of the log: what comes after asks for another.
  void reading(const std::string& conv) { read_again_[conv] = false; }
  bool asked_again(const std::string& conv) const {
    auto running = read_again_.find(conv);
    return running != read_again_.end() && running->second;
  }
  void release(const std::string& conv) { read_again_.erase(conv); }

 private:
  std::map<std::string, bool> read_again_;  // conversation being caught up -> read it once more
};

}  // namespace pasokh::gateway
