#pragma once
// The log rate limit lives in routing, whose Redis failures need it too.
#include "pasokh/routing/repeated_warning.hpp"

namespace pasokh::gateway {
using routing::repeated_warning;
}  // namespace pasokh::gateway
