#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "pasokh/routing/routing_config.hpp"

namespace pasokh::routing {
namespace {

using nlohmann::json;

routing_config sample() {
  return parse_routing_config(json::parse(R"({
    "teams": [
      {"id": "support"},
      {"id": "warranty", "skills": ["warranty", "repair"], "languages": ["fa", "en"], "strategy": "round_robin"},
      {"id": "returns_ar", "skills": ["returns"], "languages": ["ar"]},
      {"id": "returns_en", "skills": ["returns"], "languages": ["en"]},
      {"id": "vip"},
      {"id": "arabic", "languages": ["ar"]}
    ],
    "rules": [
      {"vip": true, "team": "vip", "priority": "high"},
      {"channels": ["whatsapp"], "languages": ["ar"], "team": "arabic"},
      {"tags": ["complaint"], "priority": "urgent"}
    ]})"));
}

TEST(RouteDecision, RulesThenSkillsThenTheChannelsTeam) {
  auto cfg = sample();
  struct route_case {
    route_facts facts;
    const char* team;
    const char* priority;
    const char* why;
  };
  const route_case cases[] = {
      {{"api", "fa", {}, false, "support"}, "support", "", "channel default"},
      {{"api", "fa", {}, true, "support"}, "vip", "high", "rule 1"},
      {{"whatsapp", "ar", {"returns"}, false, "support"}, "arabic", "", "rule 2"},
      {{"whatsapp", "fa", {}, false, "support"}, "support", "", "channel default"},
      {{"api", "fa", {"warranty"}, false, "support"}, "warranty", "", "skill"},
      {{"api", "en", {"repair"}, false, "support"}, "warranty", "", "skill"},
      {{"api", "en", {"returns"}, false, "support"}, "returns_en", "", "skill"},
      {{"api", "ar", {"returns"}, false, "support"}, "returns_ar", "", "skill"},
      {{"api", "fa", {"returns"}, false, "support"}, "returns_ar", "", "skill"},  // nobody speaks fa: first skill match
      {{"api", "fa", {"complaint"}, false, "support"}, "support", "urgent", "rule 3"},
      {{"telegram", "en", {"delivery"}, false, "sales"}, "support", "", "channel default, team sales does not exist"},
  };
  for (const auto& c : cases) {
    auto d = decide_route(cfg, cfg.teams, c.facts);
    EXPECT_EQ(d.team, c.team) << c.facts.channel << "/" << c.facts.language;
    EXPECT_EQ(d.priority, c.priority) << c.facts.channel << "/" << c.facts.language;
    EXPECT_EQ(d.why, c.why) << c.facts.channel << "/" << c.facts.language;
  }
  // A rule whose team an admin deleted since is skipped.
  std::vector<team_def> without_vip;
  std::copy_if(cfg.teams.begin(), cfg.teams.end(), std::back_inserter(without_vip), [](const team_def& t) { return t.id != "vip"; });
  route_facts vip{"api", "fa", {}, true, "support"};
  auto d = decide_route(cfg, without_vip, vip);
  EXPECT_EQ(d.team, "support");
  EXPECT_EQ(d.priority, "high");  // VIP still lifts priority
}

TEST(RouteDecision, AChannelsTeamThatNoLongerExistsGoesToTheFirstConfiguredTeamThere) {
  auto cfg = sample();
  const route_facts to_sales{"telegram", "fa", {}, false, "sales"};
  auto d = decide_route(cfg, cfg.teams, to_sales);
  EXPECT_EQ(d.team, "support");
  EXPECT_EQ(d.unknown_team, "sales");
  EXPECT_EQ(d.why, "channel default, team sales does not exist");
  EXPECT_EQ(decide_route(cfg, cfg.teams, {"api", "fa", {}, false, "support"}).unknown_team, "");
  // support deleted too: the next configured team; none of them left: the first there is.
  std::vector<team_def> later(cfg.teams.begin() + 1, cfg.teams.end());
  EXPECT_EQ(decide_route(cfg, later, to_sales).team, "warranty");
  team_def made_in_console;
  made_in_console.id = "kiosk";
  EXPECT_EQ(decide_route(cfg, {made_in_console}, to_sales).team, "kiosk");
  EXPECT_EQ(decide_route(cfg, {}, to_sales).team, "sales");  // no team at all: nothing to stand in
}

TEST(Escalation, OneStepUpToUrgent) {
  const std::pair<const char*, const char*> cases[] = {
      {"low", "normal"}, {"normal", "high"}, {"high", "urgent"}, {"urgent", "urgent"}, {"", "high"}};
  for (auto [from, to] : cases) EXPECT_EQ(escalated(from), to) << from;
}

TEST(TeamConfig, RejectsMistakesWithThePath) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"id":"Bad Id"})", "\"id\" is required"},
      {R"({"id":"a","strategy":"random"})", "strategy"},
      {R"({"id":"a","color":"red"})", "unknown key \"color\""},
      {R"({"id":"a","languages":["de"]})", "languages are fa, ar, en"},
      {R"({"id":"a","hours":{"timezone":"Mars/Olympus","weekly":{}}})", "unknown time zone"},
      {R"({"id":"a","hours":{"timezone":"UTC","weekly":{"sunday":["09:00-17:00"]}}})", "days are sun"},
      {R"({"id":"a","hours":{"timezone":"UTC","weekly":{"sun":["09:00-25:00"]}}})", "no such time"},
      {R"({"id":"a","hours":{"timezone":"UTC","weekly":{"sun":["17:00-09:00"]}}})", "must end after it starts"},
      {R"({"id":"a","hours":{"timezone":"UTC","weekly":{"sun":["09:00-13:00","12:00-17:00"]}}})", "overlap"},
      {R"({"id":"a","hours":{"timezone":"UTC","weekly":{},"holidays":["2026-02-30"]}})", "no such date"},
      {R"({"id":"a","hours":{"timezone":"UTC"}})", "\"weekly\" is required"},
      {R"({"id":"a","sla":{"first_response_s":-1}})", "non-negative"},
      {R"({"id":"a","sla":{"first_response_s":900,"resolution_s":1800,"warn_before_s":1800}})", "shorter than a target"},
      {R"({"id":"a","closed_message":{"de":"x"}})", "unknown key \"de\""},
  };
  for (auto [text, expected] : cases) {
    try {
      parse_team(json::parse(text), "/usr/share/zoneinfo", "team");
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << text << " -> " << e.what();
    }
  }
  EXPECT_THROW(parse_routing_config(json::parse(R"({"rules":[{"team":"nope"}]})")), std::runtime_error);
  EXPECT_THROW(parse_routing_config(json::parse(R"({"default_capacity":0})")), std::runtime_error);
  EXPECT_THROW(parse_routing_config(json::parse(R"({"teams":[{"id":"a"},{"id":"a"}]})")), std::runtime_error);
}

TEST(TeamConfig, AWarningShorterThanOneTargetIsEnough) {
  // No first-response warning (15 min), one 30 min before the resolution deadline.
  auto team = parse_team(json::parse(R"({"id":"a","sla":{"first_response_s":900,"resolution_s":28800,"warn_before_s":1800}})"),
                         "/usr/share/zoneinfo", "team");
  EXPECT_EQ(team.sla.warn_before.count(), 1800);
}

TEST(TeamConfig, RoundTripsThroughItsStoredForm) {
  auto t = parse_team(json::parse(R"({"id":"w","name":"Warranty","strategy":"round_robin","skills":["warranty"],
    "hours":{"timezone":"UTC+03:30","weekly":{"sat":["09:00-17:00"],"thu":["09:00-13:00"]},"holidays":["2026-03-21"]},
    "sla":{"first_response_s":60,"resolution_s":600,"warn_before_s":10},"closed_message":{"fa":"بسته‌ایم"}})"),
                      "/usr/share/zoneinfo");
  auto again = parse_team(to_json(t), "/usr/share/zoneinfo");
  EXPECT_EQ(to_json(again), to_json(t));
  EXPECT_EQ(to_json(t)["hours"]["weekly"]["thu"][0], "09:00-13:00");
}

TEST(ClosedMessage, InTheCustomersLanguage) {
  team_def t;
  EXPECT_NE(closed_message_for(t, "fa").find("ساعت کاری"), std::string::npos);
  EXPECT_NE(closed_message_for(t, "ar").find("ساعات العمل"), std::string::npos);
  EXPECT_NE(closed_message_for(t, "en").find("working hours"), std::string::npos);
  EXPECT_NE(closed_message_for(t, "de").find("working hours"), std::string::npos);
  t.closed_message["fa"] = "تعطیلیم";
  EXPECT_EQ(closed_message_for(t, "fa"), "تعطیلیم");
}

}  // namespace
}  // namespace pasokh::routing
