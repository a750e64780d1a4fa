#pragma once
// GET /api/v1/search: conversations (by the words of their messages and
// notes) and customer files (by name, identities, email and phone) an agent
// may see, newest activity first (routing/search_service.hpp).
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"

namespace pasokh::gateway {

void add_search_routes(router& r, services& s);

}  // namespace pasokh::gateway
