#include "pasokh/gateway/agent_checks.hpp"

#include <gtest/gtest.h>

namespace pasokh::gateway {
namespace {

config with(std::vector<std::string> teams, std::vector<std::string> channel_teams) {
  config cfg;
  for (auto& t : teams) cfg.routing.teams.push_back(routing::team_def{.id = std::move(t)});
  for (auto& t : channel_teams) cfg.channels.push_back(channel_config{.id = "ch_" + t, .team = std::move(t)});
  return cfg;
}

// The REST API and --create-agent agree on the teams there are and the
// default one, even before routing has read any team from Redis.
TEST(AgentChecks, KnownTeamsAreTheStoredAndTheSeededEachOnce) {
  EXPECT_EQ(known_team_ids({"returns", "sales"}, with({"sales", "support"}, {"support", "vip"})),
            (std::vector<std::string>{"returns", "sales", "support", "vip"}));
  EXPECT_EQ(known_team_ids({}, with({}, {})), (std::vector<std::string>{"support"}));
  EXPECT_EQ(known_team_ids({}, with({}, {"shop"})), (std::vector<std::string>{"shop"}));
}

TEST(AgentChecks, TheDefaultTeamIsAlwaysKnown) {
  for (const auto& cfg : {with({"sales", "support"}, {"vip"}), with({}, {"shop"}), with({}, {})}) {
    auto known = known_team_ids({}, cfg);
    EXPECT_EQ(teams_problem({default_team(cfg)}, known), "");
  }
  EXPECT_EQ(default_team(with({"sales", "support"}, {"vip"})), "sales");
  EXPECT_EQ(default_team(with({}, {"shop"})), "shop");
  EXPECT_EQ(default_team(with({}, {})), "support");
}

TEST(AgentChecks, TeamsProblemNamesTheUnknownOne) {
  EXPECT_EQ(teams_problem({"support", "suport"}, {"support"}), "teams: unknown team \"suport\"");
  EXPECT_EQ(teams_problem({}, {"support"}), "teams: 1 to 20 team ids");
  EXPECT_EQ(teams_problem(std::vector<std::string>(21, "support"), {"support"}), "teams: 1 to 20 team ids");
}

TEST(AgentChecks, RemovedAgentNameFromItsTombstone) {
  EXPECT_EQ(removed_agent_name(R"({"name":"Ali","login":"ali","removed_at":1})"), "Ali");
  EXPECT_EQ(removed_agent_name(R"({"login":"ali"})"), std::nullopt);
  EXPECT_EQ(removed_agent_name(R"({"name":5})"), std::nullopt);
  EXPECT_EQ(removed_agent_name("not json"), std::nullopt);
}

}  // namespace
}  // namespace pasokh::gateway
