#include <gtest/gtest.h>

#include "pasokh/routing/inbox_list.hpp"

namespace pasokh::routing {
namespace {

using ids = std::vector<std::string>;

inbox_candidate conv(std::string id, double at, std::string status, std::string assignee = "", std::string team = "support") {
  return {std::move(id), at, std::move(status), std::move(assignee), std::move(team)};
}

list_request request(std::string view, int limit = 50) {
  list_request q;
  q.agent = "ag_ali";
  q.my_teams = {"support"};
  q.view = std::move(view);
  q.limit = limit;
  return q;
}

const std::vector<inbox_candidate> inbox{
    conv("cv_1", 100, "queued"),
    conv("cv_2", 400, "assigned", "ag_ali"),
    conv("cv_3", 300, "assigned", "ag_sara"),
    conv("cv_4", 200, "bot", "", "sales"),
    conv("cv_5", 500, "resolved", "ag_ali"),
    conv("cv_6", 600, ""),  // gone
};

TEST(InboxList, OpenOnesNewestFirstWithTheCountsOfEveryView) {
  auto all = select_inbox(request("all"), inbox);
  EXPECT_EQ(all.page, (ids{"cv_2", "cv_3", "cv_4", "cv_1"}));
  EXPECT_EQ(all.total, 4u);
  EXPECT_EQ(all.counts.all, 4u);
  EXPECT_EQ(all.counts.mine, 1u);
  EXPECT_EQ(all.counts.unassigned, 1u) << "queued only: a bot conversation waits for no agent";
  EXPECT_EQ(all.counts.team, 3u) << "sales is not Ali's team";
}

TEST(InboxList, EachViewAndFilter) {
  EXPECT_EQ(select_inbox(request("mine"), inbox).page, (ids{"cv_2"}));
  EXPECT_EQ(select_inbox(request("unassigned"), inbox).page, (ids{"cv_1"})) << "the bot's is under status bot";
  EXPECT_EQ(select_inbox(request("team"), inbox).page, (ids{"cv_2", "cv_3", "cv_1"}));
  auto resolved = request("all");
  resolved.status = "resolved";
  EXPECT_EQ(select_inbox(resolved, inbox).page, (ids{"cv_5"}));
  auto sales = request("all");
  sales.team = "sales";
  EXPECT_EQ(select_inbox(sales, inbox).page, (ids{"cv_4"}));
  auto bots = request("all");
  bots.status = "bot";
  EXPECT_EQ(select_inbox(bots, inbox).page, (ids{"cv_4"}));
}

TEST(InboxList, APageAndTheAgentsOwnBeyondIt) {
  auto q = request("all", 1);
  q.offset = 1;
  auto page = select_inbox(q, inbox);
  EXPECT_EQ(page.page, (ids{"cv_3"}));
  EXPECT_EQ(page.total, 4u);
  q.offset = 0;
  q.with_own = true;
  auto first = select_inbox(q, {conv("cv_7", 900, "queued"), conv("cv_2", 400, "assigned", "ag_ali")});
  EXPECT_EQ(first.page, (ids{"cv_7", "cv_2"})) << "Ali's own conversation comes after the page";
}

// What a view's badge says is what the view lists: one rule for both.
TEST(InboxList, EachViewCountsWhatItLists) {
  const std::vector<inbox_candidate> desk{
      conv("cv_1", 100, "queued"),           conv("cv_2", 200, "bot"),
      conv("cv_3", 300, "bot"),              conv("cv_4", 400, "assigned", "ag_ali"),
      conv("cv_5", 500, "snoozed", "ag_ali"), conv("cv_6", 600, "snoozed", "ag_sara"),
      conv("cv_7", 700, "assigned", "ag_sara", "sales"),
  };
  const auto counts = select_inbox(request("all"), desk).counts;
  const std::pair<std::string, std::uint64_t> views[] = {
      {"mine", counts.mine}, {"unassigned", counts.unassigned}, {"team", counts.team}, {"all", counts.all}};
  for (const auto& [view, count] : views) EXPECT_EQ(select_inbox(request(view), desk).total, count) << view;
  EXPECT_EQ(select_inbox(request("mine"), desk).page, (ids{"cv_5", "cv_4"})) << "a snoozed one stays the agent's";
  EXPECT_EQ(select_inbox(request("unassigned"), desk).page, (ids{"cv_1"}));
}

TEST(InboxList, TheQueueHeadBeyondThePage) {
  auto q = request("all", 1);
  auto head = conv("cv_1", 100, "queued");
  head.queue_head = true;
  auto taken = conv("cv_2", 50, "assigned", "ag_sara");
  taken.queue_head = true;  // listed in the queue a moment ago: no longer waiting
  auto first = select_inbox(q, {conv("cv_9", 900, "queued"), conv("cv_5", 500, "queued"), head, taken});
  EXPECT_EQ(first.page, (ids{"cv_9", "cv_1"})) << "the newest, then the longest waiting";
  EXPECT_EQ(first.total, 4u);
}

}  // namespace
}  // namespace pasokh::routing
