// Agents' lists sharing a read of their teams (team_scans.hpp), against a
// real redis-server: callers whose need came before a scan started share it,
// one whose need came after it started gets a scan of its own, and the list
// built from shared scans is the one read alone.
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/team_scans.hpp"
#include "test_support.hpp"

#include <boost/asio/use_future.hpp>

#include <regex>

using namespace pasokh;
using namespace pasokh::test;

namespace {

class team_scans_test : public connected_redis_test {
 protected:
  // t1: 40 open conversations (every third assigned to ag_0 or ag_1), two
  // ended ones left in its open list and a queue; t2: 5; ag_0 also has an
  // old one of t1 that the list no longer holds.
  void seed() {
    for (int i = 1; i <= 47; ++i) {
      const auto id = "cv_" + std::to_string(i);
      const auto team = i <= 42 ? "t1" : "t2";
      const bool ended = i == 10 || i == 20;
      const auto status = ended ? "resolved" : i % 3 == 0 ? "assigned" : "queued";
      const auto assignee = i % 3 == 0 ? "ag_" + std::to_string(i % 2) : std::string();
      const auto at = std::to_string(1000 + i);
      exec(*client_, {"HSET", "unit:conv:" + id, "id", id, "status", status, "assignee", assignee, "team", team,
                      "updated_at", at});
      exec(*client_, {"ZADD", std::string("unit:team:") + team + ":open", at, id});
      if (std::string(status) == "queued") exec(*client_, {"ZADD", std::string("unit:queue:") + team, at, id});
    }
    exec(*client_, {"HSET", "unit:conv:cv_old", "id", "cv_old", "status", "assigned", "assignee", "ag_0", "team", "t1",
                    "updated_at", "5"});
    exec(*client_, {"SADD", "unit:agent:ag_0:convs", "cv_old", "cv_3"});
  }

  std::uint64_t zrevranges() {
    auto info = exec(*client_, {"INFO", "commandstats"});
    std::smatch m;
    static const std::regex calls("cmdstat_zrevrange:calls=(\\d+)");
    return std::regex_search(info->str, m, calls) ? std::stoull(m[1]) : 0;
  }

  static routing::list_request welcome_list(const std::string& agent) {
    routing::list_request q;
    q.agent = agent;
    q.teams = {"t1", "t2"};
    q.my_teams = {"t1"};
    q.limit = 10;
    q.with_own = true;
    q.queue_head = 3;
    return q;
  }
};

TEST_F(team_scans_test, CallersWhoseNeedCameBeforeAScanStartedShareItOthersDoNot) {
  seed();
  routing::team_scans scans(*client_, "unit:");
  const auto need = scans.now();
  // Two sessions asking together: one scan, the second joins it while it runs.
  const std::string team = "t1";  // outlives the reads
  auto first = asio::co_spawn(io_, scans.read(team, 5000, 3, need), asio::use_future);
  auto second = asio::co_spawn(io_, scans.read(team, 5000, 3, need), asio::use_future);
  ASSERT_TRUE(wait_until(io_, [&] {
    return first.wait_for(0s) == std::future_status::ready && second.wait_for(0s) == std::future_status::ready;
  }));
  auto a = first.get(), b = second.get();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(scans.scans_started(), 1u);
  EXPECT_EQ((*a)->listed.size(), 42u);
  EXPECT_EQ((*a)->queue_heads.size(), 3u);
  EXPECT_EQ(exec(*client_, {"ZCARD", "unit:team:t1:open"})->integer, 40) << "the ended ones are taken out";

  // A need from before its start, asking after it ended: the kept one.
  auto late = run(io_, scans.read("t1", 5000, 3, need));
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, *a);
  // A need from after it started (its data may predate what that session
  // was told): a scan of its own.
  auto after = run(io_, scans.read("t1", 5000, 3, scans.now()));
  ASSERT_TRUE(after);
  EXPECT_NE(*after, *a);
  EXPECT_EQ(scans.scans_started(), 2u);
}

TEST_F(team_scans_test, AListBuiltFromSharedScansIsTheListReadAlone) {
  auto loaded = run(io_, routing::load_script_library(*client_));
  ASSERT_TRUE(loaded) << loaded.error().message();
  seed();
  exec(*client_, {"ZREM", "unit:team:t1:open", "cv_10", "cv_20"});  // as the first read would
  routing::team_scans scans(*client_, "unit:");
  const auto need = scans.now();
  for (const std::string agent : {"ag_0", "ag_1", "ag_9"}) {
    auto alone = run(io_, routing::read_inbox_list(*client_, "unit:", welcome_list(agent)));
    auto shared = run(io_, routing::read_inbox_list(*client_, "unit:", welcome_list(agent), scans, need));
    ASSERT_TRUE(alone && shared);
    EXPECT_EQ(*shared, *alone) << agent;
  }
  EXPECT_NE(run(io_, routing::read_inbox_list(*client_, "unit:", welcome_list("ag_0")))->find("cv_old"),
            std::string::npos) << "the agent's own beyond the page";
  exec(*client_, {"CONFIG", "RESETSTAT"});
  for (const std::string agent : {"ag_0", "ag_1", "ag_9"})
    ASSERT_TRUE(run(io_, routing::read_inbox_list(*client_, "unit:", welcome_list(agent), scans, need)));
  EXPECT_EQ(zrevranges(), 0u) << "three agents, the two teams' kept scans";
}

}  // namespace
