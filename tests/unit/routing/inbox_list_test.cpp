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
  EXPECT_EQ(select_inbox(request("unassigned"), inbox).page, (ids{"cv_4", "cv_1"}));
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

}  // namespace
}  // namespace pasokh::routing
