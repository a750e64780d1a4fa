#pragma once
// Privacy: erasing a customer on request (an admin route), and the retention
// sweep that removes old conversations' texts and finishes erasures whose
// driver died. routing/src/lua/erase.lua does the work in bounded steps.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

struct erase_result {
  std::string status;  // erased | erasing (not done within the time limit) | not_found | merged
  std::string merged_into;                 // merged: the file to erase instead
  std::int64_t conversations = 0, messages = 0;
  std::vector<std::string> files;          // wiped by this call: the customer and the files merged into it
};

// Erases the customer: its file at once, then its conversations' logs step by
// step for up to `time_limit` (asking again, or the sweep, finishes what is
// left). Erasing an erased customer answers the same counts again.
boost::asio::awaitable<store::result<erase_result>> erase_customer(services& s, const std::string& id,
                                                                   const std::string& actor,
                                                                   std::chrono::milliseconds time_limit);

// erase.lua's arguments for `op` (prefix, op, now; the op's own follow) and a
// call of it, a script error logged and answered as server_error.
std::vector<std::string> erase_args(services& s, const char* op);
boost::asio::awaitable<store::result<store::reply>> call_erase(services& s, std::vector<std::string> args);

// POST /api/v1/admin/customers/{id}/erase, GET /api/v1/admin/erasures.
void add_privacy_routes(router& r, services& s);

// One instance at a time (a lease in Redis), every retention.tick: erasures
// left unfinished, then retention (config `retention`).
class retention_sweep {
 public:
  retention_sweep(services& s, boost::asio::any_io_executor ex);
  ~retention_sweep();
  void start();
  // Gives the lease up, so another instance takes over at once; `done` after.
  void stop(std::function<void()> done = {});

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace pasokh::gateway
