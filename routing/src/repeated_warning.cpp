#include "pasokh/routing/repeated_warning.hpp"

namespace pasokh::routing {

std::optional<repeated_warning::logged_turn> repeated_warning::admit(clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (last_logged_ && now - *last_logged_ < interval_) {
    ++left_out_;
    return std::nullopt;
  }
  logged_turn turn{left_out_, last_logged_ ? now - *last_logged_ : clock::duration::zero()};
  last_logged_ = now;
  left_out_ = 0;
  return turn;
}

}  // namespace pasokh::routing
