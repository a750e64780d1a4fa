#pragma once
// The inbox list (views mine / unassigned / team / all, status and team
// filters, counts of every view), read without holding Redis: plain reads of
// the teams' lists and of each conversation's status (pipelined, so Redis
// serves other clients between them), chosen and sorted here, and the page's
// rows built by conv_views.lua a few dozen at a time. One script doing all of
// it held Redis 4-6 ms at every agent's connect and 13 ms for a list of
// 3,000 open conversations, and every customer's message waited behind it.
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

struct list_request {
  std::string agent;
  std::vector<std::string> teams;     // visible to the caller
  std::vector<std::string> my_teams;  // the agent's own: the "team" view
  std::string view = "all";        // mine | unassigned | team | all
  std::string status;              // "" = open ones
  std::string team;                // "" = every visible team
  int limit = 50, offset = 0;
  int scan_cap = 5000;             // newest conversations read per team (bounds the work of counts)
  bool with_own = false;           // also the agent's own ones that fall beyond the page
  int queue_head = 0;              // also the first N of each team's queue beyond the page (next to be assigned)
};

// A conversation the list may show: where it was found and what it is now.
struct inbox_candidate {
  std::string id;
  double score = 0;  // its newest activity (ms): the order of the list
  std::string status, assignee, team;
  bool queue_head = false;  // among the first list_request::queue_head of its team's queue
};

struct inbox_counts {
  std::uint64_t mine = 0, unassigned = 0, team = 0, all = 0;  // open conversations in each view
};

struct inbox_selection {
  std::vector<std::string> page;  // newest first; then the agent's own (with_own) and the queue heads beyond the page
  std::size_t total = 0;          // rows the view and filters match
  inbox_counts counts;
};

// Pure: the page and counts for `q` from the candidates (each once; one
// with no status is gone and left out).
inbox_selection select_inbox(const list_request& q, const std::vector<inbox_candidate>& candidates);

// A team's open conversations as the inbox list reads them, each with its
// state (status, assignee, team; none: gone): what agents of one team share
// (team_scans.hpp).
struct team_scan {
  std::vector<inbox_candidate> listed;       // the open list, newest first; score: its activity there
  std::vector<inbox_candidate> queue_heads;  // the queue's first ones; score: the hash's updated_at
};

// One team's scan: the open list's newest `scan_cap` and the first
// `queue_head` of its queue, with their states; ended ones left in the open
// list are taken out of it.
boost::asio::awaitable<boost::system::result<team_scan>> read_team_scan(store::redis_client& redis,
                                                                        const std::string& prefix,
                                                                        const std::string& team, int scan_cap,
                                                                        int queue_head);

// JSON: {"conversations":[...],"total":n,"counts":{"mine","unassigned","team","all"}}.
boost::asio::awaitable<boost::system::result<std::string>> read_inbox_list(store::redis_client& redis,
                                                                            const std::string& prefix,
                                                                            const list_request& q);

}  // namespace pasokh::routing
