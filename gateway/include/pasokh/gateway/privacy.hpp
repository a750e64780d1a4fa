#pragma once
// Privacy: erasing a customer on request (an admin route).
// routing/src/lua/erase.lua does the work in bounded steps.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
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
// step for up to `time_limit` (asking again goes on where it stopped).
// Erasing an erased customer answers the same counts again.
boost::asio::awaitable<store::result<erase_result>> erase_customer(services& s, const std::string& id,
                                                                   const std::string& actor,
                                                                   std::chrono::milliseconds time_limit);

// POST /api/v1/admin/customers/{id}/erase, GET /api/v1/admin/erasures.
void add_privacy_routes(router& r, services& s);

}  // namespace pasokh::gateway
