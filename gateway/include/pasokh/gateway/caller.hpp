#pragma once
// Who is asking: the agent behind a request's Bearer session token.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "pasokh/gateway/agent_directory.hpp"
#include "pasokh/gateway/http.hpp"

namespace pasokh::gateway {

struct services;

// The agent when it has `role` ("admin"), or any role when `role` is empty;
// otherwise the 401, 403 or 503 (storage down) to answer, counted in metrics.
boost::asio::awaitable<std::variant<agent, http_response>> require_agent(services& s, const http_request& req,
                                                                         std::string_view role);

// Every team id: routing's and those a start seeds (agent_checks.hpp, known_team_ids).
std::vector<std::string> all_team_ids(services& s);
// The teams whose conversations the agent may see: all for an admin.
std::vector<std::string> visible_teams(services& s, const agent& a);
// The teams the agent works in (older records name only `team`).
std::vector<std::string> own_teams(const agent& a);
// Admins see every team; agents the teams they work in.
bool may_see_team(const agent& a, const std::string& team);

// Whether the agent may read and act on a conversation: admins on any, agents
// on their teams' and on the ones assigned to them. Every route and socket
// frame that names a conversation asks this first.
enum class conversation_access { allowed, forbidden, not_found, unavailable };
boost::asio::awaitable<conversation_access> access_to(services& s, const agent& a, const std::string& conv);

// A file (an attachment, a messenger's media) that came in `convs`: the agent
// may fetch it when they may see one of them (one round trip: keep `convs`
// short). Files stored by a version that did not record their conversation
// (no convs) stay as they were, open to every signed-in agent: their ids are
// unguessable, only ever shown with their message, and those of mail expire
// (attachment_ttl_s).
boost::asio::awaitable<conversation_access> file_access(services& s, const agent& a, const std::vector<std::string>& convs);
// The provider_refs of the attachments of the message logged at `seq` in
// `conv` (none when that entry is no message, or there is none): the files
// the message came with, for as long as the log keeps them (an erasure or
// retention scrub removes them).
boost::asio::awaitable<boost::system::result<std::vector<std::string>>> logged_attachments(services& s,
                                                                                          const std::string& conv,
                                                                                          std::uint64_t seq);
// The 403 or 503 to answer for a file the agent may not fetch, nullopt when they may.
std::optional<http_response> file_refusal(conversation_access access);

}  // namespace pasokh::gateway
