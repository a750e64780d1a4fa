// The assignment decisions of the routing Lua scripts, as tables, against a
// real redis-server (skipped when none is installed): who gets the next
// conversation under round robin and least loaded, and who never does
// (away, offline, full).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/conversation_service.hpp"
#include "pasokh/routing/routing_service.hpp"
#include "test_support.hpp"

namespace pasokh::routing {
namespace {

using test::run;

class strategy : public test::redis_test {
 protected:
  // `rules`: the routing rules (they may send conversations to team "warranty").
  void start(const std::string& team_strategy, std::vector<routing_rule> rules = {}) {
    client_.emplace(io_.get_executor(), config());
    start_and_wait(*client_);
    routing_config cfg;
    cfg.reassign_after = std::chrono::seconds(0);
    for (const char* id : {"t", "warranty"}) {
      team_def t;
      t.id = id;
      t.strategy = team_strategy;
      cfg.teams.push_back(t);
    }
    cfg.rules = std::move(rules);
    routing_.emplace(*client_, "u:", cfg);
    convs_.emplace(io_.get_executor(), *client_, "u:", std::chrono::seconds(60));
    ASSERT_TRUE(run(io_, routing_->sync({})));
  }
  void TearDown() override {
    if (client_) client_->stop();
    test::redis_test::TearDown();
  }

  void agent(const std::string& id, int capacity, const std::string& availability = "online") {
    ASSERT_TRUE(exec(*client_, store::make_command("HSET", "u:agent:" + id, "id", id, "name", id, "team", "t", "teams", "t",
                                                  "capacity", std::to_string(capacity))));
    auto p = run(io_, routing_->presence("beat", id, "s", availability));
    ASSERT_TRUE(p);
  }

  // A new customer writes; returns who got the conversation ("" if queued).
  std::string customer_writes(std::string* conv = nullptr) {
    proto::inbound_event e;
    e.from = {"api", proto::channel_kind::api, "c" + std::to_string(++customers_), "C"};
    e.dedup_key = e.provider_message_id = "m" + std::to_string(customers_);
    e.text = "hi";
    channel_route route{"t", false};
    auto stored = run(io_, convs_->ingest(e, route));
    EXPECT_TRUE(stored);
    if (conv) *conv = stored->conversation_id;
    auto r = run(io_, routing_->route(stored->conversation_id, "en"));
    EXPECT_TRUE(r);
    return r->assignee;
  }

  // A new customer's conversation, waiting (nobody online); `vip`: the
  // customer file says VIP before routing decides.
  std::string waiting_conversation(bool vip) {
    proto::inbound_event e;
    e.from = {"api", proto::channel_kind::api, "w" + std::to_string(++customers_), "W"};
    e.dedup_key = "w" + std::to_string(customers_);
    e.text = "hi";
    auto stored = run(io_, convs_->ingest(e, channel_route{"t", false}));
    EXPECT_TRUE(stored);
    if (vip) exec(*client_, store::make_command("HSET", "u:cust:" + stored->customer_id, "vip", "1"));
    auto r = run(io_, routing_->route(stored->conversation_id, "en"));
    EXPECT_TRUE(r);
    EXPECT_EQ(r->assignee, "");
    return stored->conversation_id;
  }

  // A new customer's conversation that the team rules have not reached yet
  // (stored, not routed: it waits in routing:unrouted, in no queue).
  std::string unrouted_conversation() {
    proto::inbound_event e;
    e.from = {"api", proto::channel_kind::api, "u" + std::to_string(++customers_), "U"};
    e.dedup_key = "u" + std::to_string(customers_);
    e.text = "hi";
    auto stored = run(io_, convs_->ingest(e, channel_route{"t", false}));
    EXPECT_TRUE(stored);
    EXPECT_TRUE(waits_for_routing(stored->conversation_id));
    return stored->conversation_id;
  }

  bool in_set(const std::string& key, const std::string& conv) {
    auto r = exec(*client_, store::make_command("ZSCORE", key, conv));
    return r && !r->is_nil();
  }
  bool waits_for_routing(const std::string& conv) { return in_set("u:routing:unrouted", conv); }
  bool in_queue(const std::string& conv) { return in_set("u:queue:t", conv); }

  std::string field(const std::string& conv, const std::string& name) {
    auto r = exec(*client_, store::make_command("HGET", "u:conv:" + conv, name));
    return r && !r->is_nil() ? r->str : std::string{};
  }
  std::string assignee(const std::string& conv) { return field(conv, "assignee"); }

  std::string act(const std::string& op, const std::string& conv, const std::string& arg = "") {
    action_request q{op, conv, "test", arg, "", ""};
    auto r = run(io_, routing_->act(q));
    EXPECT_TRUE(r);
    return r->code;
  }

  // The commands redis ran while `body` ran, the scripts' ones included (as
  // redis-cli MONITOR prints them), in lower case.
  std::string commands_during(const std::function<void()>& body) {
    std::string watch = "stdbuf -oL redis-cli -p " + std::to_string(server_->port()) + " MONITOR";
    FILE* monitor = popen(watch.c_str(), "r");
    char line[4096];
    std::string out;
    if (!monitor) return out;
    if (fgets(line, sizeof line, monitor)) {  // "OK": watching
      body();
      exec(*client_, store::make_command("ECHO", "end-of-watch"));
      while (fgets(line, sizeof line, monitor) && !std::strstr(line, "end-of-watch")) out += line;
    }
    // The watching connection is closed (flag O), and redis-cli with it.
    auto clients = exec(*client_, store::make_command("CLIENT", "LIST"));
    std::istringstream list(clients ? clients->str : std::string{});
    for (std::string c; std::getline(list, c);)
      if (c.find(" flags=O ") != std::string::npos)
        exec(*client_, store::make_command("CLIENT", "KILL", "ID", c.substr(3, c.find(' ') - 3)));
    pclose(monitor);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
  }

  std::optional<store::redis_client> client_;
  std::optional<routing_service> routing_;
  std::optional<conversation_service> convs_;
  int customers_ = 0;
};

TEST_F(strategy, RoundRobinTakesTurns) {
  start("round_robin");
  for (auto id : {"a", "b", "c"}) agent(id, 10);
  std::vector<std::string> got;
  for (int i = 0; i < 7; ++i) got.push_back(customer_writes());
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a"}));
}

TEST_F(strategy, LeastLoadedFillsTheEmptiestFirst) {
  start("least_loaded");
  for (auto id : {"a", "b", "c"}) agent(id, 10);
  std::string first;
  EXPECT_EQ(customer_writes(&first), "a");
  EXPECT_EQ(customer_writes(), "b");
  EXPECT_EQ(customer_writes(), "c");
  EXPECT_EQ(customer_writes(), "a");  // all at 1: whoever waited longest since an assignment
  EXPECT_EQ(act("resolve", first), "ok");  // a drops to 1
  struct step {
    const char* expected;
    const char* why;
  };
  // Loads now a1 b1 c1 (a's last assignment is the newest): b, c, then a.
  const step steps[] = {{"b", "oldest last assignment among the least loaded"}, {"c", "next"}, {"a", "all at 2"}};
  for (const auto& s : steps) EXPECT_EQ(customer_writes(), s.expected) << s.why;
}

TEST_F(strategy, NeverAwayOfflineOrFullAgents) {
  start("least_loaded");
  agent("away", 10, "away");
  agent("full", 1);
  agent("ok", 2);
  struct step {
    const char* expected;
  };
  // "full" (capacity 1) and "ok" (2) take three; then everyone is full or away.
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) got.push_back(customer_writes());
  EXPECT_EQ(got, (std::vector<std::string>{"full", "ok", "ok", "", ""}));
  auto queued = exec(*client_, store::make_command("ZCARD", "u:queue:t"));
  EXPECT_EQ(queued->integer, 2);
  // The away agent comes online: the queue drains to it at once, oldest first.
  auto p = run(io_, routing_->presence("beat", "away", "s", "online"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->assigned, 2);
  EXPECT_EQ(exec(*client_, store::make_command("ZCARD", "u:queue:t"))->integer, 0);
  // An agent whose heartbeats stopped is offline: found and skipped.
  ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:presence:away", "1", "s")));
  ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:presence", "1", "away")));
  ASSERT_TRUE(exec(*client_, store::make_command("HSET", "u:agent:away", "capacity", "100")));
  EXPECT_EQ(customer_writes(), "");
  EXPECT_EQ(exec(*client_, store::make_command("ZSCORE", "u:team:t:avail", "away"))->is_nil(), true);
}

// When an agent frees up the queue serves, best first: an SLA breach lifts a
// conversation two ranks, VIP one, and among equals the oldest goes first.
TEST_F(strategy, TheQueueServesBreachedThenVipThenOldest) {
  start("least_loaded");
  auto oldest = waiting_conversation(false);
  auto vip = waiting_conversation(true);
  auto newer = waiting_conversation(false);
  auto breached = waiting_conversation(false);
  // The newest one's first-response deadline has passed: the next tick marks it.
  ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:timers:sla", "1", "first_breach|" + breached)));
  ASSERT_TRUE(run(io_, routing_->tick()));
  EXPECT_EQ(exec(*client_, store::make_command("HGET", "u:conv:" + breached, "sla_breached"))->str, "1");

  agent("a", 1);  // room for one at a time: each resolve hands over the next best
  for (const auto& expected : {breached, vip, oldest, newer}) {
    ASSERT_EQ(assignee(expected), "a") << expected;
    EXPECT_EQ(act("resolve", expected), "ok");
  }
}

TEST_F(strategy, ManualAssignmentChecksTheTarget) {
  start("least_loaded");
  agent("a", 1);
  agent("b", 1, "away");
  std::string conv;
  EXPECT_EQ(customer_writes(&conv), "a");
  std::string second;
  EXPECT_EQ(customer_writes(&second), "");
  struct case_ {
    const char* target;
    const char* force;
    const char* code;
  };
  const case_ cases[] = {
      {"nobody", "0", "agent_not_found"}, {"b", "0", "agent_away"}, {"a", "0", "agent_full"}, {"b", "1", "ok"}};
  for (const auto& c : cases) {
    action_request q{"assign", second, "boss", c.target, c.force, ""};
    auto r = run(io_, routing_->act(q));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, c.code) << c.target;
  }
  EXPECT_EQ(act("snooze", conv, "1"), "invalid_until");
  EXPECT_EQ(act("escalate", conv), "ok");
  EXPECT_EQ(exec(*client_, store::make_command("HGET", "u:conv:" + conv, "priority"))->str, "high");
}

// An agent took a conversation before the team rules reached it; every way
// back into the queue (reopen, snooze end, the agent removed, the customer
// writing while the agent is offline) puts it in its team's queue only, not
// also in routing:unrouted, whose sweep would route (assign or move) it again
// (not even for a moment: nothing there is written and taken back).
TEST_F(strategy, BackInTheQueueAConversationNeverRoutedWaitsThereOnly) {
  start("least_loaded");
  agent("a", 10);
  struct case_ {
    const char* path;
    std::function<void(const std::string& conv)> back_to_queue;
  };
  auto away = [&] { ASSERT_TRUE(run(io_, routing_->presence("beat", "a", "s", "away"))); };
  const case_ cases[] = {
      {"reopened by an agent", [&](const std::string& conv) {
         EXPECT_EQ(act("resolve", conv), "ok");
         away();
         EXPECT_EQ(act("reopen", conv), "ok");
       }},
      {"snooze ended", [&](const std::string& conv) {
         EXPECT_EQ(act("snooze", conv, std::to_string(now_ms() + 20)), "ok");
         away();
         std::this_thread::sleep_for(std::chrono::milliseconds(30));
         auto t = run(io_, routing_->tick());
         ASSERT_TRUE(t);
         EXPECT_EQ(t->woken, 1);
       }},
      {"agent removed", [&](const std::string&) { ASSERT_TRUE(run(io_, routing_->delete_agent("a", ""))); }},
      {"customer writes, agent offline", [&](const std::string& conv) {
         ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:presence:a", "1", "s")));
         ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:presence", "1", "a")));
         auto r = run(io_, routing_->route(conv, "en"));
         ASSERT_TRUE(r);
         EXPECT_EQ(r->status, "queued");
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    agent("a", 10);
    auto conv = unrouted_conversation();
    EXPECT_EQ(act("assign", conv, "a"), "ok");
    auto commands = commands_during([&] { c.back_to_queue(conv); });
    EXPECT_NE(commands.find("\"u:queue:t\""), std::string::npos) << "watched the requeue";
    EXPECT_EQ(commands.find("\"zadd\" \"u:routing:unrouted\""), std::string::npos) << commands;
    EXPECT_EQ(exec(*client_, store::make_command("HGET", "u:conv:" + conv, "status"))->str, "queued");
    EXPECT_TRUE(in_queue(conv));
    EXPECT_FALSE(waits_for_routing(conv));
  }
}

// A new conversation escalated, or past its SLA, within the grace before its
// gateway routes it: it lands where the team rules put it (their team, their
// priority raised one step), never in the channel's team's queue unrouted.
TEST_F(strategy, EscalatedOrBreachedBeforeRoutingTheTeamRulesStillApply) {
  routing_rule to_warranty;
  to_warranty.channels = {"api"};
  to_warranty.team = "warranty";
  to_warranty.priority = "high";
  start("least_loaded", {to_warranty});
  auto in_warranty_queue = [&](const std::string& conv) { return in_set("u:queue:warranty", conv); };

  auto escalated = unrouted_conversation();
  EXPECT_EQ(act("escalate", escalated), "ok");
  EXPECT_EQ(field(escalated, "team"), "warranty");
  EXPECT_EQ(field(escalated, "priority"), "urgent") << "the rules' high, one step up";
  EXPECT_TRUE(in_warranty_queue(escalated));
  EXPECT_FALSE(in_queue(escalated));
  EXPECT_FALSE(waits_for_routing(escalated));
  // The ingesting gateway's route, a moment later, changes nothing.
  ASSERT_TRUE(run(io_, routing_->route(escalated, "en")));
  EXPECT_EQ(field(escalated, "team"), "warranty");
  EXPECT_EQ(field(escalated, "priority"), "urgent");

  auto breached = unrouted_conversation();
  ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:timers:sla", "1", "first_breach|" + breached)));
  auto t = run(io_, routing_->tick());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->sla_breaches, 1);
  EXPECT_EQ(field(breached, "sla_breached"), "1");
  EXPECT_FALSE(in_queue(breached)) << "not queued in the channel's team, unrouted";
  ASSERT_TRUE(waits_for_routing(breached)) << "the sweep still routes it after the grace";
  ASSERT_TRUE(exec(*client_, store::make_command("ZADD", "u:routing:unrouted", "1", breached)));
  t = run(io_, routing_->tick());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unrouted, std::vector<std::string>{breached});
  ASSERT_TRUE(run(io_, routing_->route(breached, "", true)));  // as the sweep does
  EXPECT_EQ(field(breached, "team"), "warranty");
  EXPECT_TRUE(in_warranty_queue(breached));
  EXPECT_FALSE(waits_for_routing(breached));
}

}  // namespace
}  // namespace pasokh::routing
