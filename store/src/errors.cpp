#include "pasokh/store/redis_client.hpp"

#include <boost/system/errc.hpp>

namespace pasokh::store {
namespace {

class redis_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }

  std::string message(int ev) const override {
    switch (static_cast<redis_errc>(ev)) {
      case redis_errc::not_connected: return "not connected to redis";
      case redis_errc::timed_out: return "redis command timed out";
      case redis_errc::connection_lost: return "redis connection lost";
      case redis_errc::server_error: return "redis error reply";
      case redis_errc::stopped: return "redis client stopped";
    }
    return "unknown redis error";
  }

  // Lets generic code compare with errc::timed_out and the like.
  boost::system::error_condition default_error_condition(int ev) const noexcept override {
    using boost::system::errc::make_error_condition;
    namespace errc = boost::system::errc;
    switch (static_cast<redis_errc>(ev)) {
      case redis_errc::not_connected: return make_error_condition(errc::not_connected);
      case redis_errc::timed_out: return make_error_condition(errc::timed_out);
      case redis_errc::connection_lost: return make_error_condition(errc::connection_reset);
      case redis_errc::stopped: return make_error_condition(errc::operation_canceled);
      case redis_errc::server_error: break;
    }
    return {ev, *this};
  }
};

}  // namespace

const boost::system::error_category& redis_category() noexcept {
  static const redis_category_impl category;
  return category;
}

boost::system::error_code make_error_code(redis_errc e) noexcept {
  return {static_cast<int>(e), redis_category()};
}

}  // namespace pasokh::store
