#pragma once
#include "pasokh/store/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <string_view>

namespace pasokh::store::detail {

// A deep copy: hiredis frees its reply as soon as the callback returns.
reply to_reply(const redisReply& r);

// FCALL of a function Redis does not have (a new Redis, FUNCTION FLUSH, or a
// gateway of another version deleted the library).
inline bool is_unknown_function(const reply& r) {
  return r.is_error() && std::string_view(r.str) == "ERR Function not found";
}

// FUNCTION LOAD (without REPLACE) of a library Redis has under that name.
inline bool is_library_present(const reply& r) {
  std::string_view s(r.str);
  return r.is_error() && s.starts_with("ERR Library '") && s.ends_with("' already exists");
}

}  // namespace pasokh::store::detail
