#include "pasokh/gateway/live_hub.hpp"
#include "pasokh/gateway/live_resync.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace pasokh::gateway;

namespace {
struct recorder : live_listener {
  std::vector<std::pair<event_route, std::string>> got;
  int resyncs = 0;
  std::vector<std::string>* journal = nullptr;  // holds and resyncs of several listeners, in order
  std::string name;
  void deliver(const event_route& r, std::shared_ptr<const std::string> f) override { got.emplace_back(r, *f); }
  void hold_for_resync() override {
    if (journal) journal->push_back("hold " + name);
  }
  void resync(std::uint64_t need) override {
    ++resyncs;
    if (journal) journal->push_back("resync " + name + " " + std::to_string(need));
  }
  std::vector<std::pair<std::string, std::string>> ended;  // session, reason
  std::vector<bool> signed_out;
  void end_access(const std::string& session, const std::string& reason, bool out) override {
    ended.emplace_back(session, reason);
    signed_out.push_back(out);
  }
};
}  // namespace

TEST(LiveHub, DeliversToTheTeamAdminsAndTheCustomerOnly) {
  live_hub hub;
  auto support = std::make_shared<recorder>(), sales = std::make_shared<recorder>();
  auto admin = std::make_shared<recorder>(), customer = std::make_shared<recorder>();
  hub.add("team:support", support);
  hub.add("team:sales", sales);
  hub.add("all", admin);
  hub.add("customer:cu_7", customer);

  ASSERT_TRUE(hub.dispatch(R"({"team":"support","conv":"cv_1","customer":"cu_7","seq":3})" "\n" R"({"type":"event"})"));
  ASSERT_EQ(support->got.size(), 1u);
  EXPECT_EQ(support->got[0].first.conversation, "cv_1");
  EXPECT_EQ(support->got[0].first.seq, 3u);
  EXPECT_EQ(support->got[0].second, R"({"type":"event"})");
  EXPECT_EQ(admin->got.size(), 1u);
  EXPECT_EQ(customer->got.size(), 1u);
  EXPECT_TRUE(sales->got.empty());
}

// A transfer to another team (or an unassign): the header names where the
// conversation was; the team and the agent it left get the event too, once
// each, so their consoles can drop it.
TEST(LiveHub, AMovedConversationReachesTheTeamAndAssigneeItLeft) {
  live_hub hub;
  auto support = std::make_shared<recorder>(), warranty = std::make_shared<recorder>();
  auto ali = std::make_shared<recorder>(), sales = std::make_shared<recorder>();
  hub.add("team:support", support);
  hub.add("team:warranty", warranty);
  hub.add("agent:ag_ali", ali);
  hub.add("team:support", ali);  // Ali is in support too: one event, not two
  hub.add("team:sales", sales);
  ASSERT_TRUE(hub.dispatch(R"({"team":"warranty","conv":"cv_1","customer":"cu_7","seq":5,"assignee":"",)"
                           R"("from_team":"support","previous_assignee":"ag_ali"})" "\n{}"));
  EXPECT_EQ(warranty->got.size(), 1u);
  ASSERT_EQ(support->got.size(), 1u);
  EXPECT_EQ(support->got[0].first.from_team, "support");
  ASSERT_EQ(ali->got.size(), 1u);
  EXPECT_EQ(ali->got[0].first.previous_assignee, "ag_ali");
  EXPECT_TRUE(sales->got.empty());

  // Any other JSON shape of the header routes the same.
  ASSERT_TRUE(hub.dispatch(R"({"seq":6,"conv":"cv_1","team":"warranty","previous_assignee":"ag_\u0061li","x":[1]})" "\n{}"));
  EXPECT_EQ(ali->got.size(), 2u);
}

TEST(LiveHub, IgnoresMalformedPayloadsAndGoneListeners) {
  live_hub hub;
  auto l = std::make_shared<recorder>();
  hub.add("team:support", l);
  EXPECT_FALSE(hub.dispatch("no newline"));
  EXPECT_FALSE(hub.dispatch("not json\n{}"));
  EXPECT_TRUE(l->got.empty());

  hub.remove("team:support", l.get());
  EXPECT_TRUE(hub.dispatch(R"({"team":"support"})" "\n{}"));
  EXPECT_TRUE(l->got.empty());

  { auto temp = std::make_shared<recorder>(); hub.add("all", temp); }  // dies right away
  EXPECT_TRUE(hub.dispatch(R"({"team":"support"})" "\n{}"));
  hub.resync_all();
}

// An ingest batch publishes its events as one payload: every event arrives,
// in order, each at its own team; a malformed pair is dropped alone.
TEST(LiveHub, DeliversEveryEventOfABatchedPayloadInOrder) {
  live_hub hub;
  auto support = std::make_shared<recorder>(), sales = std::make_shared<recorder>();
  hub.add("team:support", support);
  hub.add("team:sales", sales);
  std::string batch = R"({"team":"support","conv":"cv_1","seq":1})" "\n" R"({"n":1})" "\n"
                      R"({"team":"sales","conv":"cv_2","seq":1})" "\n" R"({"n":2})" "\n"
                      R"({"team":"support","conv":"cv_1","seq":2})" "\n" R"({"n":3})";
  ASSERT_TRUE(hub.dispatch(batch));
  ASSERT_EQ(support->got.size(), 2u);
  EXPECT_EQ(support->got[0].second, R"({"n":1})");
  EXPECT_EQ(support->got[1].second, R"({"n":3})");
  EXPECT_EQ(support->got[1].first.seq, 2u);
  ASSERT_EQ(sales->got.size(), 1u);
  EXPECT_EQ(sales->got[0].first.conversation, "cv_2");

  EXPECT_FALSE(hub.dispatch("not json\n{\"n\":4}\n" R"({"team":"sales"})" "\n" R"({"n":5})"));
  ASSERT_EQ(sales->got.size(), 2u);
  EXPECT_EQ(sales->got[1].second, R"({"n":5})");
}

// A web chat visitor's own signal (no team) reaches that visitor's tabs, not
// the admins who see every team.
TEST(LiveHub, ASignalWithoutATeamReachesOnlyItsCustomer) {
  live_hub hub;
  auto admin = std::make_shared<recorder>(), visitor = std::make_shared<recorder>();
  hub.add("all", admin);
  hub.add("customer:v:web:42", visitor);
  ASSERT_TRUE(hub.dispatch(R"({"team":"","conv":"cv_1","customer":"v:web:42","seq":0})" "\n" R"({"type":"customer"})"));
  EXPECT_EQ(visitor->got.size(), 1u);
  EXPECT_TRUE(admin->got.empty());
}

// Headers are read without a JSON document when they are plain; any other
// valid JSON still routes the same way.
TEST(LiveHub, RoutesHeadersInAnyOrderWithEscapesAndOtherMembers) {
  live_hub hub;
  auto team = std::make_shared<recorder>(), agent = std::make_shared<recorder>();
  hub.add("team:after sales/fa", team);
  hub.add("agent:ag_1", agent);
  ASSERT_TRUE(hub.dispatch(R"({ "seq": 12, "assignee":"ag_1", "team":"after sales\/fa","conv":"cv_\"9\"","customer":"cu_1"})"
                           "\n{}"));
  ASSERT_TRUE(hub.dispatch(R"({"team":"after sales/fa","conv":"cv_2","extra":{"nested":[1,2]},"seq":3})" "\n{}"));
  ASSERT_EQ(team->got.size(), 2u);
  EXPECT_EQ(team->got[0].first.conversation, "cv_\"9\"");
  EXPECT_EQ(team->got[0].first.seq, 12u);
  EXPECT_EQ(team->got[1].first.conversation, "cv_2");
  EXPECT_EQ(team->got[1].first.seq, 3u);
  ASSERT_EQ(agent->got.size(), 1u);
  EXPECT_EQ(agent->got[0].first.customer, "cu_1");

  EXPECT_FALSE(hub.dispatch(R"({"team":"after sales/fa","conv":"cv_3")" "\n{}"));  // cut short
  EXPECT_FALSE(hub.dispatch(R"({"team":"after sales/fa","seq":"x"})" "\n{}"));     // seq not a number
  EXPECT_EQ(team->got.size(), 2u);
}

// After a pub/sub drop every session reads the open conversations again: one
// read serves them all only if every session holds its live events before
// the moment the read must start after is taken (team_scans.hpp). Each
// session resyncs once, however many keys it is registered under.
TEST(LiveHub, ResyncHoldsEveryListenerBeforeTakingOneMomentForAll) {
  live_hub hub;
  std::vector<std::string> journal;
  auto a = std::make_shared<recorder>(), b = std::make_shared<recorder>();
  a->journal = b->journal = &journal;
  a->name = "a";
  b->name = "b";
  hub.add("agent:ag_a", a);
  hub.add("team:support", a);
  hub.add("team:support", b);
  std::uint64_t clock = 41;
  hub.resync_moment = [&] {
    journal.push_back("moment");
    return ++clock;
  };
  hub.resync_all();
  ASSERT_EQ(journal.size(), 5u);
  std::sort(journal.begin(), journal.begin() + 2);
  std::sort(journal.begin() + 3, journal.end());
  EXPECT_EQ(journal, (std::vector<std::string>{"hold a", "hold b", "moment", "resync a 42", "resync b 42"}));
}

// Pub/sub came back before the command connection: the sessions' catch-up
// would fail and not be retried, so the resync waits for the command
// connection, and runs once however often pub/sub came back meanwhile.
TEST(LiveResync, WaitsForTheCommandConnectionAndRunsOnce) {
  live_hub hub;
  auto l = std::make_shared<recorder>();
  hub.add("team:support", l);
  bool connected = false;
  live_resync resync(hub, [&] { return connected; });
  resync.pubsub_back();
  resync.pubsub_back();  // pub/sub flapped
  EXPECT_EQ(l->resyncs, 0);
  connected = true;
  resync.commands_back();
  EXPECT_EQ(l->resyncs, 1);
  resync.commands_back();  // a later command reconnection alone loses no events
  EXPECT_EQ(l->resyncs, 1);
}

TEST(LiveResync, ResyncsAtOnceWhenTheCommandConnectionIsUp) {
  live_hub hub;
  auto l = std::make_shared<recorder>();
  hub.add("all", l);
  live_resync resync(hub, [] { return true; });
  resync.pubsub_back();
  EXPECT_EQ(l->resyncs, 1);
  resync.commands_back();
  EXPECT_EQ(l->resyncs, 1);
}

TEST(LiveHub, EndsAccessOfTheNamedAgentOnly) {
  live_hub hub;
  auto mine = std::make_shared<recorder>(), other = std::make_shared<recorder>(), team = std::make_shared<recorder>();
  hub.add("agent:ag_1", mine);
  hub.add("team:support", mine);
  hub.add("agent:ag_2", other);
  hub.add("team:support", team);

  ASSERT_TRUE(hub.end_access(R"({"agent":"ag_1","session":"ab12","reason":"logged out","signed_out":true})"));
  ASSERT_EQ(mine->ended.size(), 1u);  // once, though listed under two keys
  EXPECT_EQ(mine->ended[0], std::make_pair(std::string("ab12"), std::string("logged out")));
  EXPECT_TRUE(mine->signed_out[0]);
  // New rights: the sockets reconnect, the session goes on.
  ASSERT_TRUE(hub.end_access(R"({"agent":"ag_1","session":"","reason":"your role or teams changed"})"));
  ASSERT_EQ(mine->signed_out.size(), 2u);
  EXPECT_FALSE(mine->signed_out[1]);
  EXPECT_TRUE(other->ended.empty());
  EXPECT_TRUE(team->ended.empty());

  EXPECT_FALSE(hub.end_access("not json"));
  EXPECT_FALSE(hub.end_access(R"({"session":"ab12"})"));
  EXPECT_FALSE(hub.end_access(R"({"agent":""})"));
  EXPECT_EQ(mine->ended.size(), 2u);
}
