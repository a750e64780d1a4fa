#pragma once
// Who a campaign reaches, and how: the customer files it targets today and
// what routing/src/lua/campaign.lua would do with each of them. Shared by the
// campaign loop (which sends) and the preview an admin asks for before
// creating a campaign (which only counts).
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/campaigns.hpp"

namespace pasokh::gateway::campaigns {

// WhatsApp, Messenger and Instagram take free text only this long after the
// customer last wrote.
constexpr std::chrono::milliseconds messaging_window{24LL * 3600 * 1000};

// One message of a campaign, as the scan of the customer files finds it.
struct planned_message {
  std::string customer, member, name, language, text;  // member: what the once-only claim is on
  std::vector<std::string> template_params;
  std::int64_t today = 0;  // the day it was planned on (campaigns.timezone): one message a day per customer
};

// The configured channels a campaign may use (all of them, or the ones it
// names), as campaign.lua reads them ("id:kind:team,...").
std::string channels_for(const config& cfg, const definition& d);

// How many customer files there are (ids cu_1 .. cu_N); nullopt when Redis failed.
boost::asio::awaitable<std::optional<std::int64_t>> customer_count(services& s);

// A message a recurring campaign will send on a later day.
struct upcoming_message {
  std::string customer;
  std::int64_t day = 0;  // days since the epoch, in the campaigns' time zone
};

// The messages due today to the files cu_<from+1> .. cu_<to>, merged files
// left out; nullopt when Redis failed. With `upcoming`, also the ones due in
// the 30 days after today.
boost::asio::awaitable<std::optional<std::vector<planned_message>>> messages_due(
    services& s, const definition& d, std::int64_t from, std::int64_t to, std::vector<upcoming_message>* upcoming = nullptr);

// What the campaign would do now, writing nothing: how many messages it
// sends and on which channels, who it skips and why, and a few of the
// messages as the customers would read them; for a recurring campaign also
// "upcoming", the messages of the next 30 days by day. Looks at the files
// for at most `budget`; "complete" says whether it saw them all.
boost::asio::awaitable<std::optional<nlohmann::json>> preview(services& s, const definition& d,
                                                              std::chrono::milliseconds budget);

}  // namespace pasokh::gateway::campaigns
