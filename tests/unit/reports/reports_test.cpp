#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/reports.hpp"
#include "pasokh/routing/routing_config.hpp"
#include "pasokh/routing/time_zone.hpp"

namespace rp = pasokh::gateway::reports;
using nlohmann::json;
using pasokh::routing::days_from_civil;

namespace {

constexpr std::int64_t minute = 60'000;

// Tehran local time (+03:30 in February 2020) as UTC ms.
std::int64_t tehran(unsigned m, unsigned d, int hh, int mm) {
  return (days_from_civil(2020, m, d) * 86400 + hh * 3600 + mm * 60 - 12600) * 1000;
}

bool have_zones() { return std::filesystem::exists("/usr/share/zoneinfo/Asia/Tehran"); }

// Saturday to Wednesday 09:00-17:00, Thursday 09:00-13:00, Friday closed;
// 22 Bahman (2020-02-11) a holiday.
pasokh::routing::business_hours desk() {
  return pasokh::routing::parse_team(json::parse(R"({"id":"support","hours":{"timezone":"Asia/Tehran",
    "weekly":{"sat":["09:00-17:00"],"sun":["09:00-17:00"],"mon":["09:00-17:00"],"tue":["09:00-17:00"],
              "wed":["09:00-17:00"],"thu":["09:00-13:00"]},
    "holidays":["2020-02-11"]}})"), "/usr/share/zoneinfo").hours;
}
rp::hours_of desk_hours() { return {{"support", {{0, desk()}}}}; }

// Log frames as the conversation scripts write them.
struct log_builder {
  std::string id = "cv_1", channel = "api", team = "support", customer = "cu_1", status, assignee;
  std::int64_t created = 0;
  int seq = 0;
  bool sla = false;
  std::vector<json> frames;

  void push(json f) {
    ++seq;
    json c = {{"id", id}, {"channel", channel}, {"team", team}, {"customer_id", customer}, {"status", status},
              {"assignee", assignee}, {"created_at", created}, {"seq", seq}};
    if (sla) c["sla_first_due"] = created + 3'600'000;
    f["type"] = "event";
    f["conv"] = id;
    f["seq"] = seq;
    f["conversation"] = c;
    frames.push_back(f);
  }
  void open(std::int64_t at, bool bot) {
    created = at;
    status = bot ? "bot" : "queued";
    customer_writes(at);
  }
  void customer_writes(std::int64_t at) {
    push({{"event", "message"}, {"message", {{"direction", "in"}, {"author", "customer"}, {"created_at", at}}}});
  }
  void bot_writes(std::int64_t at) {
    push({{"event", "message"}, {"message", {{"direction", "out"}, {"author", "bot"}, {"created_at", at}}}});
  }
  void campaign_writes(std::int64_t at) {
    push({{"event", "message"},
          {"message", {{"direction", "out"}, {"author", "bot"}, {"campaign", "cp_1"}, {"created_at", at}}}});
  }
  void agent_writes(std::int64_t at, const std::string& who) {
    status = "assigned";  // silently, as append_reply.lua does
    assignee = who;
    agent_follows_up(at, who);
  }
  // A reply to a resolved conversation: it stays resolved, as append_reply.lua keeps it.
  void agent_follows_up(std::int64_t at, const std::string& who) {
    push({{"event", "message"},
          {"message", {{"direction", "out"}, {"author", "agent"}, {"author_id", who}, {"created_at", at}}}});
  }
  // Given to an agent (a queue drain); `who` "" with `to_team`: transferred, unassigned.
  void assign(const std::string& who, std::int64_t at) {
    assignee = who;
    set("assigned", at, "queue");
  }
  void transfer(const std::string& to_team, std::int64_t at) {
    team = to_team;
    assignee = "";
    set("queued", at, "transfer");
  }
  void set(const std::string& to, std::int64_t at, const std::string& reason = "") {
    auto from = status;
    status = to;
    json f = {{"event", "status"}, {"status", to}, {"from", from}, {"actor", "x"}, {"at", at}};
    if (!reason.empty()) f["reason"] = reason;
    push(f);
  }
  void ask(std::int64_t at) {
    json buttons = json::array();
    for (int i = 1; i <= 5; ++i) buttons.push_back({{"id", "csat:" + std::to_string(i)}, {"title", std::to_string(i)}});
    push({{"event", "message"},
          {"message", {{"direction", "out"}, {"author", "system"}, {"created_at", at}, {"buttons", buttons}}}});
  }
  void rate(int rating, const std::string& agent, std::int64_t at) {
    push({{"event", "csat"}, {"rating", rating}, {"agent", agent}, {"at", at}});
  }
  void breach(const std::string& which, std::int64_t at) {
    push({{"event", "sla"}, {"sla", which}, {"state", "breached"}, {"due", at}, {"at", at}});
  }
  rp::timeline fold() const {
    rp::timeline t;
    for (const auto& f : frames) rp::fold(t, f);
    return t;
  }
};

// The conversation of the integration test's history: the bot first, a
// handoff on Monday afternoon, a holiday, an answer on Wednesday, resolved,
// reopened by the customer, resolved again.
log_builder bot_handoff_reopen() {
  log_builder b;
  b.open(tehran(2, 10, 16, 0), true);
  b.bot_writes(tehran(2, 10, 16, 0) + 5000);
  b.customer_writes(tehran(2, 10, 16, 5));
  b.set("queued", tehran(2, 10, 16, 10));
  b.agent_writes(tehran(2, 12, 9, 20), "ag_maryam");
  b.set("resolved", tehran(2, 12, 10, 0));
  b.ask(tehran(2, 12, 10, 0));
  b.rate(4, "ag_maryam", tehran(2, 12, 10, 5));
  b.customer_writes(tehran(2, 12, 14, 0));
  b.set("queued", tehran(2, 12, 14, 0), "reopened_by_customer");
  b.agent_writes(tehran(2, 12, 14, 30), "ag_maryam");
  b.set("resolved", tehran(2, 12, 15, 0));
  return b;
}

rp::query february(bool tehran_days = true) {
  rp::query q;
  if (tehran_days && have_zones()) q.cal.tz = pasokh::routing::time_zone::load("Asia/Tehran");
  q.from = q.cal.day_start(days_from_civil(2020, 2, 1));
  q.to = q.cal.day_start(days_from_civil(2020, 3, 1));
  return q;
}

}  // namespace

TEST(ReportTimeline, BotTimeIsNotCountedAndReopensMakeSegments) {
  auto t = bot_handoff_reopen().fold();
  EXPECT_TRUE(t.bot);
  EXPECT_EQ(t.clock_start, tehran(2, 10, 16, 10)) << "the clock starts at the handoff, not when the bot talked";
  EXPECT_EQ(t.first_response_at, tehran(2, 12, 9, 20));
  EXPECT_EQ(t.first_responder, "ag_maryam");
  ASSERT_EQ(t.replies.size(), 2u);
  EXPECT_EQ(t.replies[0].waiting_since, tehran(2, 10, 16, 10));
  EXPECT_EQ(t.replies[1].waiting_since, tehran(2, 12, 14, 0));
  ASSERT_EQ(t.resolutions.size(), 2u);
  EXPECT_EQ(t.resolutions[0].start, tehran(2, 10, 16, 10));
  EXPECT_EQ(t.resolutions[0].end, tehran(2, 12, 10, 0));
  EXPECT_EQ(t.resolutions[1].start, tehran(2, 12, 14, 0));
  EXPECT_EQ(t.resolutions[1].agent, "ag_maryam");
  EXPECT_EQ(t.reopens, 1);
  EXPECT_EQ(t.csat_asked_at, tehran(2, 12, 10, 0));
  EXPECT_EQ(t.csat_rating, 4);
  EXPECT_EQ(t.csat_agent, "ag_maryam");
  EXPECT_EQ(t.agents, std::vector<std::string>{"ag_maryam"});
  EXPECT_FALSE(t.side);
}

TEST(ReportTimeline, ACachedTimelineContinuesWithTheNextEvents) {
  auto b = bot_handoff_reopen();
  rp::timeline half;
  for (std::size_t i = 0; i < 6; ++i) rp::fold(half, b.frames[i]);
  auto cached = rp::decode(rp::encode(half));
  ASSERT_TRUE(cached);
  for (const auto& f : b.frames) rp::fold(*cached, f);  // the first six are skipped by seq
  EXPECT_EQ(rp::encode(*cached), rp::encode(b.fold()));
  EXPECT_FALSE(rp::decode("{\"v\":0}"));
  EXPECT_FALSE(rp::decode("not json"));
  // A separator inside a value cannot shift the fields; a cut entry is refolded.
  auto odd = b.fold();
  ASSERT_FALSE(odd.teams.empty());
  odd.teams[0].team = "sup\x1fport\x1e";
  auto back = rp::decode(rp::encode(odd));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->teams[0].team, "sup?port?");
  EXPECT_EQ(back->teams.size(), odd.teams.size());
  EXPECT_EQ(back->resolutions.size(), 2u);
  auto text = rp::encode(odd);
  EXPECT_FALSE(rp::decode(text.substr(0, text.size() / 2)));
}

TEST(ReportTimeline, TheCacheKeepsNothingTheRestGives) {
  // The team now is the last of the team history, the SLA flag its targets:
  // the team's name is stored once, and a v3 entry (with both) is refolded.
  log_builder b;
  b.sla = true;
  b.open(1000, false);
  b.agent_writes(2000, "ag_ali");
  auto t = b.fold();
  auto text = rp::encode(t);
  EXPECT_EQ(text.find("support"), text.rfind("support")) << "the team is stored once";
  auto back = rp::decode(text);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->sla_first);
  EXPECT_EQ(rp::team_at(*back, b.created), "support");
  EXPECT_EQ(rp::encode(*back), text);
  const std::string v3 = "v3\x1f" "cv_1\x1f" "api\x1f" "support\x1f" "cu_1\x1f" "1\x1f" "1000\x1f" "0\x1f" "0\x1f" "0\x1f"
                         "0\x1f" "0\x1f" "0\x1f" "0\x1f" "0\x1f" "0\x1f" "\x1f" "\x1f" "queued\x1f" "\x1f" "\x1f" "\x1f" "support\x1d" "1000\x1e";
  EXPECT_FALSE(rp::decode(v3)) << "an entry of the old form is folded again";
}

TEST(ReportTimeline, AnErasedCustomersConversationCountsAsItWas) {
  // erase.lua closes the conversations of an erased customer (reason
  // "erased"): an open one is no resolution, a resolved one keeps its figures.
  auto open = bot_handoff_reopen();
  open.frames.pop_back();  // answered after the reopen, not resolved yet
  --open.seq;
  open.status = "assigned";
  auto before = open.fold();
  open.set("closed", tehran(2, 13, 9, 0), "erased");
  auto after = open.fold();
  EXPECT_EQ(after.seq, before.seq + 1);
  EXPECT_EQ(after.status, "assigned");
  EXPECT_EQ(after.resolutions.size(), 1u);
  after.seq = before.seq;
  EXPECT_EQ(rp::encode(after), rp::encode(before)) << "only the seq moves";

  auto resolved = bot_handoff_reopen();
  resolved.set("closed", tehran(2, 13, 9, 0), "erased");
  EXPECT_EQ(resolved.fold().status, "resolved");
  EXPECT_EQ(resolved.fold().resolutions.size(), 2u);
}

TEST(ReportTimeline, AVisitorLeavingTheWebChatCountsForNothing) {
  // webchat_end.lua logs `visitor_left` in a conversation waiting for an
  // answer: no reply, no resolution, the customer still waits.
  log_builder b;
  b.sla = true;
  b.open(1000, false);
  auto before = b.fold();
  b.push({{"event", "visitor_left"}, {"channel", "web"}, {"by_email", true}, {"actor", "customer"}, {"at", 5000}});
  auto after = b.fold();
  EXPECT_EQ(after.seq, before.seq + 1);
  EXPECT_EQ(after.waiting_since, 1000);
  after.seq = before.seq;
  EXPECT_EQ(rp::encode(after), rp::encode(before)) << "only the seq moves";
}

// A comment after the rating that is only feedback closes the conversation
// it opened (aftersales.lua, reason csat_comment): no case. A complaint is
// flagged among the period's ratings, and kept through the cache.
TEST(ReportFigures, FeedbackSideConversationsAreNoCaseAndComplaintsAreFlagged) {
  log_builder rated;
  rated.open(1000, false);
  rated.agent_writes(1100, "ag_ali");
  rated.set("resolved", 1200);
  rated.ask(1200);
  rated.rate(2, "ag_ali", 1300);
  log_builder thanks;
  thanks.id = "cv_2";
  thanks.open(1400, false);
  thanks.set("closed", 1400, "csat_comment");
  EXPECT_TRUE(thanks.fold().side);
  rated.push({{"event", "csat_comment"}, {"comment", "the agent was rude"}, {"kind", "complaint"}, {"at", 1400}});
  auto flagged = rated.fold();
  EXPECT_TRUE(flagged.csat_complaint);
  EXPECT_TRUE(rp::decode(rp::encode(flagged))->csat_complaint);
  rp::query q;
  q.from = 0;
  q.to = 2000;
  auto r = rp::build({flagged, thanks.fold()}, q, {}, {}, {});
  EXPECT_EQ(r["conversations"]["total"], 1) << "the thanked comment's own conversation is no case";
  EXPECT_EQ(r["csat"]["responses"], 1);
  EXPECT_EQ(r["csat"]["complaints"], 1);
  // Praise is no complaint.
  log_builder praised;
  praised.open(1000, false);
  praised.rate(5, "ag_ali", 1300);
  praised.push({{"event", "csat_comment"}, {"comment", "great"}, {"kind", "praise"}, {"at", 1400}});
  EXPECT_EQ(rp::build({praised.fold()}, q, {}, {}, {})["csat"]["complaints"], 0);
}

TEST(ReportTimeline, AnAgentTakingOverFromTheBotAndSideConversations) {
  log_builder b;
  b.open(1000, true);
  b.agent_writes(5000, "ag_ali");
  auto t = b.fold();
  EXPECT_EQ(t.clock_start, 5000);
  EXPECT_EQ(t.replies.at(0).waiting_since, 5000);

  log_builder side;
  side.open(1000, false);
  side.set("closed", 1000, "csat");
  EXPECT_TRUE(side.fold().side);

  // A campaign message opens a conversation already resolved: no contact
  // until the customer answers, and the answer is no reopen.
  log_builder campaign;
  campaign.created = 1000;
  campaign.status = "resolved";
  campaign.bot_writes(1000);
  EXPECT_TRUE(campaign.fold().side);
  campaign.customer_writes(9000);
  campaign.set("queued", 9000, "reopened_by_customer");
  auto answered = campaign.fold();
  EXPECT_FALSE(answered.side);
  EXPECT_EQ(answered.reopens, 0);
  EXPECT_EQ(answered.waiting_since, 9000);
  EXPECT_EQ(answered.created_at, 9000) << "a contact from the customer's answer, not from the campaign";
  // Counted in the period of the answer, not in the period the campaign went out.
  rp::query q;
  q.from = 5000;
  q.to = 10000;
  EXPECT_EQ(rp::build({answered}, q, {}, {}, {})["conversations"]["total"], 1);
  q.from = 0;
  q.to = 5000;
  EXPECT_EQ(rp::build({answered}, q, {}, {}, {})["conversations"]["total"], 0);

  // A rating on a resolved conversation waits for no answer.
  log_builder r;
  r.open(1000, false);
  r.agent_writes(2000, "ag_ali");
  r.set("resolved", 3000);
  r.customer_writes(4000);
  EXPECT_EQ(r.fold().waiting_since, 0);

  // An out-of-office reply or a bounce (automatic mail, from the customer's
  // address or someone else's) starts no wait: the follow-up answers nobody.
  log_builder oof;
  oof.open(1000, false);
  oof.agent_writes(2000, "ag_ali");
  oof.push({{"event", "message"},
            {"message", {{"direction", "in"}, {"author", "customer"}, {"automatic", true}, {"created_at", 3000}}}});
  oof.push({{"event", "message"}, {"message", {{"direction", "in"}, {"author", "system"}, {"created_at", 3500}}}});
  oof.agent_writes(9000, "ag_ali");
  auto followed = oof.fold();
  ASSERT_EQ(followed.replies.size(), 2u);
  EXPECT_EQ(followed.replies[1].waiting_since, 0) << "a follow-up, not a response";
}

TEST(ReportTimeline, ACampaignAnsweredInAnEarlierConversationStartsAContact) {
  constexpr std::int64_t day = 86'400'000;
  // A contact in January: opened with an SLA target, answered, resolved. Our
  // greeting goes into it in February; the customer answers it there, Ali
  // answers and resolves it again.
  log_builder b;
  b.sla = true;
  b.open(2 * day, false);
  b.agent_writes(2 * day + 100, "ag_ali");
  b.set("resolved", 2 * day + 200);
  b.campaign_writes(40 * day);
  b.customer_writes(41 * day);
  b.set("assigned", 41 * day, "reopened_by_customer");
  b.agent_writes(41 * day + 300, "ag_ali");
  b.set("resolved", 41 * day + 500);
  auto t = b.fold();
  EXPECT_EQ(t.created_at, 41 * day) << "a contact from the answer, as in a conversation the campaign opened";
  EXPECT_EQ(t.reopens, 0);
  EXPECT_FALSE(t.sla_first) << "the target was the earlier contact's";
  ASSERT_EQ(t.earlier.size(), 1u);
  EXPECT_EQ(t.earlier[0].created_at, 2 * day);
  EXPECT_EQ(t.earlier[0].resolutions.size(), 1u);

  // Cached between the greeting and the answer, continued: the same.
  rp::timeline half;
  for (std::size_t i = 0; i < 5; ++i) rp::fold(half, b.frames[i]);
  auto cached = rp::decode(rp::encode(half));
  ASSERT_TRUE(cached);
  for (const auto& f : b.frames) rp::fold(*cached, f);
  EXPECT_EQ(rp::encode(*cached), rp::encode(t));
  auto back = rp::decode(rp::encode(t));
  ASSERT_TRUE(back);
  EXPECT_EQ(rp::encode(*back), rp::encode(t));

  std::vector<rp::timeline> convs;
  rp::add_contacts(convs, *back);
  ASSERT_EQ(convs.size(), 2u);
  rp::query q;
  q.from = 32 * day;  // February and a bit: the answer's contact, with its first response; no reopen
  q.to = 62 * day;    // (S, the 30 days before, holds January's contact)
  auto feb = rp::build(convs, q, {}, {}, {});
  EXPECT_EQ(feb["conversations"]["total"], 1);
  EXPECT_EQ(feb["first_response"]["median_ms"], 300);
  EXPECT_EQ(feb["resolution"]["count"], 1);
  EXPECT_EQ(feb["resolution"]["reopened"], 0);
  EXPECT_EQ(feb["sla"]["conversations"], 0);
  EXPECT_EQ(feb["retention"]["retained_customers"], 1) << "January's customer came back";
  EXPECT_EQ(feb["agents"]["ag_ali"]["conversations"], 1);
  q.from = 0;  // January: the earlier contact as it was
  q.to = 32 * day;
  auto jan = rp::build(convs, q, {}, {}, {});
  EXPECT_EQ(jan["conversations"]["total"], 1);
  EXPECT_EQ(jan["first_response"]["median_ms"], 100);
  EXPECT_EQ(jan["sla"]["met"], 1);

  // Reopened by an agent after the greeting, or by the customer without one: reopens.
  for (bool greeted : {true, false}) {
    log_builder r;
    r.open(2 * day, false);
    r.agent_writes(2 * day + 100, "ag_ali");
    r.set("resolved", 2 * day + 200);
    if (greeted) r.campaign_writes(40 * day);
    r.customer_writes(41 * day);
    r.set("queued", 41 * day, greeted ? "reopened" : "reopened_by_customer");
    auto reopened = r.fold();
    EXPECT_EQ(reopened.reopens, 1) << greeted;
    EXPECT_TRUE(reopened.earlier.empty());
    EXPECT_EQ(reopened.created_at, 2 * day);
  }
}

TEST(ReportFigures, TheWeekStartsWhereTheZoneIsWhateverItWasCalled) {
  using pasokh::routing::time_zone;
  const std::int64_t now_s = 1'795'000'000;  // November 2026
  auto start = [&](const char* name) {
    return rp::week_start_of(*time_zone::load(name, "/usr/share/zoneinfo"), "/usr/share/zoneinfo", now_s);
  };
  EXPECT_EQ(start("UTC+03:30"), 6) << "Iran's offset";
  EXPECT_EQ(start("UTC+04:30"), 6) << "Afghanistan's offset";
  EXPECT_EQ(start("UTC+03:00"), 1);
  EXPECT_EQ(start("UTC"), 1);
  if (!have_zones()) GTEST_SKIP() << "no /usr/share/zoneinfo";
  EXPECT_EQ(start("Asia/Tehran"), 6);
  EXPECT_EQ(start("Iran"), 6) << "an alias of Asia/Tehran";
  EXPECT_EQ(start("Egypt"), 6) << "an alias of Africa/Cairo, by its link";
  EXPECT_EQ(start("Asia/Riyadh"), 0);
  EXPECT_EQ(start("Europe/Berlin"), 1);
}

TEST(ReportFigures, Percentiles) {
  EXPECT_EQ(rp::percentile({}, 50), 0);
  EXPECT_EQ(rp::percentile({5, 1, 3, 2, 4}, 50), 3);
  EXPECT_EQ(rp::percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90), 9);
  EXPECT_EQ(rp::percentile({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(rp::percentile({7}, 90), 7);
}

TEST(ReportFigures, BusinessHoursAcrossNightWeekendAndHoliday) {
  if (!have_zones()) GTEST_SKIP();
  // Night: Wednesday 16:30 -> Thursday 09:10 is 30 + 10 open minutes.
  log_builder night;
  night.id = "cv_1";
  night.open(tehran(2, 5, 16, 30), false);
  night.agent_writes(tehran(2, 6, 9, 10), "ag_ali");
  night.set("resolved", tehran(2, 6, 9, 30));
  // Weekend: Thursday 12:00 -> Saturday 10:00 is 60 (Thu) + 0 (Fri) + 60 (Sat).
  log_builder weekend;
  weekend.id = "cv_2";
  weekend.customer = "cu_2";
  weekend.open(tehran(2, 6, 12, 0), false);
  weekend.agent_writes(tehran(2, 8, 10, 0), "ag_maryam");
  // Holiday and bot: handoff Monday 16:10 -> Wednesday 09:20 is 50 + 0 + 20.
  auto holiday = bot_handoff_reopen();
  holiday.id = "cv_3";
  holiday.customer = "cu_3";
  std::vector<rp::timeline> convs = {night.fold(), weekend.fold(), holiday.fold()};
  auto r = rp::build(convs, february(), desk_hours(), {}, {});
  EXPECT_EQ(r["first_response"]["count"], 3);
  EXPECT_EQ(r["first_response"]["median_ms"], 70 * minute);
  EXPECT_EQ(r["first_response"]["p90_ms"], 120 * minute);
  EXPECT_EQ(r["first_response"]["average_ms"], (40 + 120 + 70) * minute / 3);
  // Segments: 60 (night), 110 (Mon 16:10 -> Wed 10:00), 60 (reopen 14:00 -> 15:00).
  EXPECT_EQ(r["resolution"]["count"], 3);
  EXPECT_EQ(r["resolution"]["median_ms"], 60 * minute);
  EXPECT_EQ(r["resolution"]["p90_ms"], 110 * minute);
  EXPECT_EQ(r["resolution"]["reopened"], 1);
  EXPECT_EQ(r["agents"]["ag_maryam"]["replies"], 3);
  EXPECT_EQ(r["agents"]["ag_maryam"]["resolved"], 2);
  EXPECT_EQ(r["agents"]["ag_maryam"]["response_median_ms"], 70 * minute);  // 120, 70, 30
  EXPECT_EQ(r["agents"]["ag_maryam"]["first_response_median_ms"], 70 * minute);
  EXPECT_EQ(r["agents"]["ag_ali"]["conversations"], 1);
  // Without hours the same history counts calendar time.
  auto calendar = rp::build(convs, february(), {}, {}, {});
  EXPECT_EQ(calendar["first_response"]["median_ms"], tehran(2, 12, 9, 20) - tehran(2, 10, 16, 10));
}

// Ramadan: from Sunday 2020-02-09 09:00 the desk opens 10:00-15:00 every day.
// Time before the change keeps the old hours, time after it the new ones,
// and an interval across the change is split there.
TEST(ReportFigures, BusinessTimeUsesTheHoursInForceAtEachInstant) {
  if (!have_zones()) GTEST_SKIP();
  auto ramadan = pasokh::routing::parse_team(json::parse(R"({"id":"support","hours":{"timezone":"Asia/Tehran",
    "weekly":{"sat":["10:00-15:00"],"sun":["10:00-15:00"],"mon":["10:00-15:00"],"tue":["10:00-15:00"],
              "wed":["10:00-15:00"],"thu":["10:00-15:00"],"fri":["10:00-15:00"]}}})"), "/usr/share/zoneinfo").hours;
  const auto changed = tehran(2, 9, 9, 0);
  rp::hours_history history = {{0, desk()}, {changed, ramadan}};
  // Wednesday 16:30 -> Thursday 09:10: the old hours, 40 min, as before the change.
  EXPECT_EQ(rp::business_time(history, tehran(2, 5, 16, 30), tehran(2, 6, 9, 10)), 40 * minute);
  EXPECT_EQ(rp::business_time({{0, desk()}}, tehran(2, 5, 16, 30), tehran(2, 6, 9, 10)), 40 * minute);
  // Monday 09:00 -> 11:00 after it: only 10:00-11:00 is open now (the old hours gave 120).
  EXPECT_EQ(rp::business_time(history, tehran(2, 10, 9, 0), tehran(2, 10, 11, 0)), 60 * minute);
  // Saturday 16:00 -> Sunday 11:00 across it: 60 (Sat, old) + 0 (Sun 09:00-10:00, new) + 60 (Sun 10-11, new).
  EXPECT_EQ(rp::business_time(history, tehran(2, 8, 16, 0), tehran(2, 9, 11, 0)), 120 * minute);
  // Always open after the team's hours were taken away; no history: calendar time.
  rp::hours_history opened = {{0, desk()}, {changed, {}}};
  EXPECT_EQ(rp::business_time(opened, tehran(2, 8, 16, 0), tehran(2, 9, 11, 0)), 60 * minute + 2 * 3600'000);
  EXPECT_EQ(rp::business_time({}, 0, 5 * minute), 5 * minute);
}

TEST(ReportFigures, DeflectionSlaRepeatAndRetention) {
  // Period [1000, 2000), the one before [0, 1000).
  auto conv = [](std::string id, std::string customer, std::int64_t at, bool bot) {
    log_builder b;
    b.id = std::move(id);
    b.customer = std::move(customer);
    b.open(at, bot);
    return b;
  };
  auto a0 = conv("cv_1", "a", 100, false), b0 = conv("cv_2", "b", 200, false), z0 = conv("cv_3", "z", 300, false);
  auto a1 = conv("cv_4", "a", 1100, false);
  a1.sla = true;
  a1.agent_writes(1150, "ag_1");
  a1.breach("first_response", 1140);
  auto n1 = conv("cv_5", "n", 1200, true);  // the bot answered, and resolved it when the customer left: deflected
  n1.set("resolved", 1250, "bot_idle");
  auto n2 = conv("cv_6", "n", 1300, true);
  n2.sla = true;  // routed with SLA targets
  n2.set("queued", 1310);
  auto o1 = conv("cv_7", "old", 1400, false);
  auto side = conv("cv_8", "q", 1500, false);
  side.set("closed", 1500, "opt_out");
  std::vector<rp::timeline> convs;
  for (auto* b : {&a0, &b0, &z0, &a1, &n1, &n2, &o1, &side}) convs.push_back(b->fold());
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto r = rp::build(convs, q, {}, {"old"}, {{"ag_1", "علی"}});
  EXPECT_EQ(r["conversations"]["total"], 4);
  EXPECT_EQ(r["bot"]["conversations"], 2);
  EXPECT_EQ(r["bot"]["deflected"], 1);
  EXPECT_EQ(r["bot"]["deflection_rate"], 50.0);
  EXPECT_EQ(r["sla"]["conversations"], 2);
  EXPECT_EQ(r["sla"]["breached"], 1);
  EXPECT_EQ(r["sla"]["first_response_breached"], 1);
  // n2 is queued, unanswered and not breached yet: pending, neither met nor breached.
  EXPECT_EQ(r["sla"]["pending"], 1);
  EXPECT_EQ(r["sla"]["met"], 0);
  EXPECT_EQ(r["sla"]["met_rate"], 0.0);
  EXPECT_EQ(r["repeat_contacts"]["customers"], 1);  // n
  EXPECT_EQ(r["repeat_contacts"]["rate"], 33.33);
  EXPECT_EQ(r["retention"]["customers_at_start"], 3);  // a b z
  EXPECT_EQ(r["retention"]["customers_at_end"], 3);    // a n old
  EXPECT_EQ(r["retention"]["retained_customers"], 1);  // a
  EXPECT_EQ(r["retention"]["new_customers"], 1);       // n
  EXPECT_EQ(r["retention"]["reactivated_customers"], 1);  // "old" wrote long before, not in [0, 1000)
  EXPECT_EQ(r["retention"]["crr"], 33.33);  // a of a b z came back
  EXPECT_EQ(r["agents"]["ag_1"]["name"], "علی");

  q.agent = "ag_1";
  auto mine = rp::build(convs, q, {}, {"old"}, {});
  EXPECT_EQ(mine["conversations"]["total"], 1);
  EXPECT_EQ(mine["agents"].size(), 1u);
  q.agent.clear();
  q.channel = "web";
  EXPECT_EQ(rp::build(convs, q, {}, {}, {})["conversations"]["total"], 0);
}

TEST(ReportFigures, RetentionIsTheShareOfThePeriodBeforesCustomersWhoCameBack) {
  // x and z wrote long ago, y in the period before [1000, 2000); x and z come
  // back, y does not: nobody of the period before came back (was 200%).
  auto conv = [](std::string id, std::string customer, std::int64_t at) {
    log_builder b;
    b.id = std::move(id);
    b.customer = std::move(customer);
    b.open(at, false);
    return b.fold();
  };
  std::vector<rp::timeline> convs = {conv("cv_1", "y", 500), conv("cv_2", "x", 1100), conv("cv_3", "z", 1200)};
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto r = rp::build(convs, q, {}, {"x", "z"}, {});
  EXPECT_EQ(r["retention"]["customers_at_start"], 1);
  EXPECT_EQ(r["retention"]["customers_at_end"], 2);
  EXPECT_EQ(r["retention"]["retained_customers"], 0);
  EXPECT_EQ(r["retention"]["reactivated_customers"], 2);
  EXPECT_EQ(r["retention"]["new_customers"], 0);
  EXPECT_EQ(r["retention"]["crr"], 0.0);
  // y comes back too: all of S, 100% and never more.
  convs.push_back(conv("cv_4", "y", 1300));
  EXPECT_EQ(rp::build(convs, q, {}, {"x", "z"}, {})["retention"]["crr"], 100.0);
}

TEST(ReportFigures, ATransferKeepsTheTeamsTheConversationPassedThrough) {
  if (!have_zones()) GTEST_SKIP();
  // Support (desk hours) answers after the night and once more, the customer
  // writes Thursday 12:50, the conversation goes to repair (always open) at
  // 13:30, after support closed; Bob answers at 15:00.
  log_builder b;
  b.open(tehran(2, 5, 16, 30), false);
  b.agent_writes(tehran(2, 6, 9, 10), "ag_ali");
  b.agent_writes(tehran(2, 6, 9, 11), "ag_ali");
  b.customer_writes(tehran(2, 6, 12, 50));
  b.team = "repair";
  b.set("queued", tehran(2, 6, 13, 30));
  b.agent_writes(tehran(2, 6, 15, 0), "ag_bob");
  b.set("resolved", tehran(2, 6, 15, 10));
  auto t = b.fold();
  ASSERT_EQ(t.teams.size(), 2u);
  EXPECT_EQ(rp::team_at(t, tehran(2, 6, 9, 10)), "support");
  EXPECT_EQ(rp::team_at(t, tehran(2, 6, 15, 0)), "repair");
  auto back = rp::decode(rp::encode(t));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->teams.size(), 2u);
  EXPECT_EQ(back->teams[1].since, tehran(2, 6, 13, 30));

  auto q = february();
  auto all = rp::build({t}, q, desk_hours(), {}, {});
  EXPECT_EQ(all["conversations"]["total"], 1);
  EXPECT_EQ(all["conversations"]["by_team"], json({{"support", 1}, {"repair", 1}}));
  // Each answer in the hours of the team that wrote it: Ali's first response
  // in support's (30 + 10 min across the night), Bob's in repair's (always
  // open: 12:50 -> 15:00, though support was open 10 minutes of it).
  EXPECT_EQ(all["first_response"]["median_ms"], 40 * minute);
  EXPECT_EQ(all["agents"]["ag_bob"]["response_median_ms"], 130 * minute);

  q.team = "support";
  auto support = rp::build({t}, q, desk_hours(), {}, {});
  EXPECT_EQ(support["conversations"]["total"], 1);
  EXPECT_EQ(support["first_response"]["count"], 1);
  EXPECT_EQ(support["agents"]["ag_ali"]["replies"], 2);
  EXPECT_EQ(support["agents"]["ag_ali"]["conversations"], 1);
  EXPECT_FALSE(support["agents"].contains("ag_bob")) << "Bob wrote and resolved in repair: no row of zeros";
  EXPECT_EQ(support["responses"]["count"], 1);
  q.team = "repair";
  auto repair = rp::build({t}, q, desk_hours(), {}, {});
  EXPECT_EQ(repair["conversations"]["total"], 1);
  EXPECT_EQ(repair["first_response"]["count"], 0) << "the first response was support's";
  EXPECT_EQ(repair["agents"]["ag_bob"]["replies"], 1);
  EXPECT_EQ(repair["agents"]["ag_bob"]["resolved"], 1);
  EXPECT_EQ(repair["agents"]["ag_bob"]["conversations"], 1);
  EXPECT_FALSE(repair["agents"].contains("ag_ali")) << "Ali wrote in support only";
  EXPECT_EQ(all["agents"].size(), 2u) << "without the filter both";
  EXPECT_EQ(repair["responses"]["count"], 1);
}

TEST(ReportFigures, UnderATeamFilterAnAgentAssignedInTheTeamHasARowBeforeReplying) {
  // Sara is given a support conversation and has not answered yet; Ali had
  // another in support, and it went on to repair, where Bob has it now.
  log_builder waiting;
  waiting.open(tehran(2, 5, 10, 0), false);
  waiting.assign("ag_sara", tehran(2, 5, 10, 1));
  log_builder moved;
  moved.id = "cv_2";
  moved.open(tehran(2, 5, 11, 0), false);
  moved.assign("ag_ali", tehran(2, 5, 11, 1));
  moved.transfer("repair", tehran(2, 5, 11, 5));
  moved.assign("ag_bob", tehran(2, 5, 11, 6));
  auto t = moved.fold();
  ASSERT_EQ(t.assignments.size(), 2u);
  auto back = rp::decode(rp::encode(t));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->assignments.size(), 2u);
  EXPECT_EQ(back->assignments[1].agent, "ag_bob");
  EXPECT_EQ(back->assignments[1].at, tehran(2, 5, 11, 6));

  auto q = february(false);
  q.team = "support";
  auto support = rp::build({waiting.fold(), t}, q, {}, {}, {});
  ASSERT_TRUE(support["agents"].contains("ag_sara")) << support["agents"].dump();
  EXPECT_EQ(support["agents"]["ag_sara"]["conversations"], 1);
  EXPECT_EQ(support["agents"]["ag_sara"]["replies"], 0);
  EXPECT_EQ(support["agents"]["ag_ali"]["conversations"], 1) << "assigned while it was in support";
  EXPECT_FALSE(support["agents"].contains("ag_bob")) << "Bob had it in repair only";
  q.team = "repair";
  auto repair = rp::build({waiting.fold(), t}, q, {}, {}, {});
  EXPECT_EQ(repair["agents"]["ag_bob"]["conversations"], 1);
  EXPECT_FALSE(repair["agents"].contains("ag_ali"));
  EXPECT_FALSE(repair["agents"].contains("ag_sara"));
}

TEST(ReportFigures, SlaPendingAndTheRatingsOfTheSurveysSent) {
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  // Answered in time and resolved: met. Open, unanswered: pending.
  log_builder met, open;
  met.sla = open.sla = true;
  met.id = "cv_1";
  open.id = "cv_2";
  met.open(1100, false);
  met.agent_writes(1150, "ag_1");
  met.set("resolved", 1160);
  open.open(1200, false);
  auto sla = rp::build({met.fold(), open.fold()}, q, {}, {}, {})["sla"];
  EXPECT_EQ(sla["met"], 1);
  EXPECT_EQ(sla["pending"], 1);
  EXPECT_EQ(sla["breached"], 0);
  EXPECT_EQ(sla["met_rate"], 100.0);

  // Asked in the period and rated after it; asked before it and rated in it.
  log_builder late, early;
  late.id = "cv_3";
  early.id = "cv_4";
  late.open(1100, false);
  late.agent_writes(1110, "ag_1");
  late.set("resolved", 1120);
  late.ask(1120);
  late.rate(5, "ag_1", 2500);
  early.open(500, false);
  early.agent_writes(510, "ag_1");
  early.set("resolved", 520);
  early.ask(520);
  early.rate(2, "ag_1", 1500);
  auto csat = rp::build({late.fold(), early.fold()}, q, {}, {}, {})["csat"];
  EXPECT_EQ(csat["asked"], 1);
  EXPECT_EQ(csat["asked_rated"], 1) << "the survey sent in the period was rated";
  EXPECT_EQ(csat["responses"], 1) << "one rating received in the period";
  EXPECT_EQ(csat["average"], 2.0);
}

TEST(ReportFigures, SlaAsItStoodAtThePeriodsEnd) {
  // Opened in [1000, 2000), each with a first-response target.
  auto conv = [](std::string id, std::int64_t at) {
    log_builder b;
    b.id = std::move(id);
    b.sla = true;
    b.open(at, false);
    return b;
  };
  auto late_breach = conv("cv_1", 1100);  // breached after the period, still open
  late_breach.breach("first_response", 2500);
  auto late_answer = conv("cv_2", 1200);  // answered and resolved after the period
  late_answer.agent_writes(2200, "ag_1");
  late_answer.set("resolved", 2300);
  auto early_breach = conv("cv_3", 1300);  // breached in the period
  early_breach.breach("first_response", 1400);
  early_breach.agent_writes(1500, "ag_1");
  auto quiet = conv("cv_4", 1400);  // resolved in the period without a reply: nothing runs any more
  quiet.set("resolved", 1450);
  std::vector<rp::timeline> convs;
  for (auto* b : {&late_breach, &late_answer, &early_breach, &quiet}) convs.push_back(b->fold());
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto then = rp::build(convs, q, {}, {}, {})["sla"];
  EXPECT_EQ(then["conversations"], 4);
  EXPECT_EQ(then["breached"], 1) << "a breach after the period's end is not in it";
  EXPECT_EQ(then["first_response_breached"], 1);
  EXPECT_EQ(then["pending"], 2) << "at the period's end both were still waiting for an answer";
  EXPECT_EQ(then["met"], 1);
  // A period reaching now: as things stand.
  q.to = 10'000;
  auto now = rp::build(convs, q, {}, {}, {})["sla"];
  EXPECT_EQ(now["breached"], 2);
  EXPECT_EQ(now["pending"], 0);
  EXPECT_EQ(now["met"], 2);
}

TEST(ReportFigures, DeflectedOnlyWhenTheBotConversationEnded) {
  auto bot_conv = [](std::string id, std::int64_t at) {
    log_builder b;
    b.id = std::move(id);
    b.open(at, true);
    b.bot_writes(at + 1);
    return b;
  };
  auto chatting = bot_conv("cv_1", 1100);  // still with the bot: in progress
  auto left = bot_conv("cv_2", 1200);      // the customer left; the bot resolved it
  left.set("resolved", 1300, "bot_idle");
  auto handed = bot_conv("cv_3", 1400);    // handed off, then resolved by a person
  handed.set("queued", 1410);
  handed.set("resolved", 1500);
  auto back = bot_conv("cv_4", 1600);      // resolved by the bot, the customer came back to it
  back.set("resolved", 1700, "bot_idle");
  back.set("bot", 1800, "reopened_by_customer");
  std::vector<rp::timeline> convs;
  for (auto* b : {&chatting, &left, &handed, &back}) convs.push_back(b->fold());
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto r = rp::build(convs, q, {}, {}, {});
  EXPECT_EQ(r["bot"]["conversations"], 4);
  EXPECT_EQ(r["bot"]["deflected"], 1);
  EXPECT_EQ(r["bot"]["deflection_rate"], 25.0);
  EXPECT_EQ(r["resolution"]["count"], 1);  // the bot's resolve is no person's resolution
}

TEST(ReportFigures, AnAgentsFollowUpOnAResolvedConversationIsOnlyAReply) {
  // Deflected by the bot; resolved by an agent without a reply; answered and
  // resolved, then reopened by the customer. An agent follows up on each
  // while it is resolved.
  log_builder deflected, unanswered, reopened;
  deflected.id = "cv_1";
  deflected.open(1100, true);
  deflected.bot_writes(1101);
  deflected.set("resolved", 1200, "bot_idle");
  unanswered.id = "cv_2";
  unanswered.open(1300, false);
  unanswered.set("resolved", 1310);
  reopened.id = "cv_3";
  reopened.open(1400, false);
  reopened.agent_writes(1420, "ag_1");
  reopened.set("resolved", 1430);
  std::vector<rp::timeline> convs;
  for (auto* b : {&deflected, &unanswered, &reopened}) convs.push_back(b->fold());
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto before = rp::build(convs, q, {}, {}, {});

  deflected.agent_follows_up(1500, "ag_2");
  unanswered.agent_follows_up(1600, "ag_2");
  reopened.agent_follows_up(1700, "ag_1");
  reopened.customer_writes(1800);
  reopened.set("queued", 1800, "reopened_by_customer");
  reopened.agent_writes(1850, "ag_1");
  reopened.set("resolved", 1900);
  convs.clear();
  for (auto* b : {&deflected, &unanswered, &reopened}) convs.push_back(b->fold());
  const auto& followed = convs[1];
  EXPECT_EQ(followed.first_response_at, 0) << "a follow-up days later is no first response";
  ASSERT_EQ(followed.replies.size(), 1u);
  EXPECT_EQ(followed.replies[0].waiting_since, 0);
  auto after = rp::build(convs, q, {}, {}, {});
  EXPECT_EQ(after["bot"], before["bot"]) << "the bot's case stays deflected";
  EXPECT_EQ(after["bot"]["deflected"], 1);
  EXPECT_EQ(after["first_response"], before["first_response"]);
  EXPECT_EQ(after["first_response"]["count"], 1);
  EXPECT_EQ(after["first_response"]["median_ms"], 20);
  // The reopen is measured from the reopen (1800), not from the follow-up.
  EXPECT_EQ(after["resolution"]["count"], 3);
  EXPECT_EQ(after["resolution"]["reopened"], 1);
  ASSERT_EQ(convs[2].resolutions.size(), 2u);
  EXPECT_EQ(convs[2].resolutions[1].start, 1800);
  // The follow-ups are replies of their agents; no customer waited for them.
  EXPECT_EQ(after["agents"]["ag_2"]["replies"], 2);
  EXPECT_EQ(after["agents"]["ag_1"]["replies"], 3);
  EXPECT_EQ(after["responses"]["count"], 2);

  // Deflected, followed up, then the customer comes back and is handed to a
  // person: the resolution runs from the handoff, not from the follow-up.
  log_builder back;
  back.open(1100, true);
  back.set("resolved", 1200, "bot_idle");
  back.agent_follows_up(1300, "ag_2");
  back.customer_writes(1800);
  back.set("bot", 1800, "reopened_by_customer");
  back.set("queued", 1810);
  back.agent_writes(1850, "ag_2");
  back.set("resolved", 1900);
  auto t = back.fold();
  EXPECT_EQ(t.clock_start, 1810);
  EXPECT_EQ(t.first_response_at, 1850);
  ASSERT_EQ(t.resolutions.size(), 1u);
  EXPECT_EQ(t.resolutions[0].start, 1810);
}

TEST(ReportFigures, TheAgentFilterCountsTheSurveysAboutTheAgent) {
  // Ali answered, Sara took over and resolved it: the survey is about Sara,
  // who is rated. Another case of Ali's is asked and not rated yet.
  log_builder shared, waiting;
  shared.id = "cv_1";
  shared.open(1100, false);
  shared.agent_writes(1110, "ag_ali");
  shared.agent_writes(1120, "ag_sara");
  shared.set("resolved", 1130);
  shared.ask(1130);
  shared.rate(5, "ag_sara", 1140);
  waiting.id = "cv_2";
  waiting.open(1200, false);
  waiting.agent_writes(1210, "ag_ali");
  waiting.set("resolved", 1220);
  waiting.ask(1220);
  std::vector<rp::timeline> convs = {shared.fold(), waiting.fold()};
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto all = rp::build(convs, q, {}, {}, {})["csat"];
  EXPECT_EQ(all["asked"], 2);
  EXPECT_EQ(all["asked_rated"], 1);
  q.agent = "ag_sara";
  auto sara = rp::build(convs, q, {}, {}, {})["csat"];
  EXPECT_EQ(sara["asked"], 1);
  EXPECT_EQ(sara["asked_rated"], 1);
  EXPECT_EQ(sara["responses"], 1);
  q.agent = "ag_ali";
  auto ali = rp::build(convs, q, {}, {}, {});
  EXPECT_EQ(ali["conversations"]["total"], 2) << "Ali worked on both";
  EXPECT_EQ(ali["csat"]["asked"], 1) << "only the survey about Ali's own case";
  EXPECT_EQ(ali["csat"]["asked_rated"], 0);
  EXPECT_EQ(ali["csat"]["responses"], 0);
}

TEST(ReportFigures, WeeksStartAsWhereTheZoneIs) {
  const std::pair<const char*, int> cases[] = {{"Asia/Tehran", 6}, {"Asia/Kabul", 6}, {"Africa/Cairo", 6}, {"Asia/Riyadh", 0},
                                               {"Europe/Berlin", 1}, {"UTC", 1}, {"UTC+03:30", 1}, {"", 1}};
  for (auto [zone, day] : cases) EXPECT_EQ(rp::week_start_of(zone), day) << zone;
}

TEST(ReportFigures, DayAndWeekBucketsInTheTeamsZone) {
  if (!have_zones()) GTEST_SKIP();
  auto q = february();
  EXPECT_EQ(q.from, tehran(2, 1, 0, 0));
  auto days = rp::buckets(q.cal, rp::grouping::day, q.from, q.to);
  ASSERT_EQ(days.size(), 29u);  // 2020 is a leap year
  EXPECT_EQ(days.front().label, "2020-02-01");
  EXPECT_EQ(days.front().start, tehran(2, 1, 0, 0));
  EXPECT_EQ(days.back().label, "2020-02-29");
  EXPECT_EQ(days.back().end, q.to);
  q.cal.week_start = 6;  // Saturday, as in Iran; 1 February 2020 was a Saturday
  auto weeks = rp::buckets(q.cal, rp::grouping::week, q.from, q.to);
  ASSERT_EQ(weeks.size(), 5u);
  EXPECT_EQ(weeks[1].label, "2020-02-08");
  EXPECT_EQ(weeks[4].end - weeks[4].start, 86'400'000);
  q.cal.week_start = 1;  // Monday: the first week is clipped to the period
  weeks = rp::buckets(q.cal, rp::grouping::week, q.from, q.to);
  ASSERT_EQ(weeks.size(), 5u);
  EXPECT_EQ(weeks[0].label, "2020-02-01");
  EXPECT_EQ(weeks[1].label, "2020-02-03");
  EXPECT_TRUE(rp::buckets(q.cal, rp::grouping::none, q.from, q.to).empty());

  // The series: one point per day, the conversation on its local day.
  auto b = bot_handoff_reopen();
  q.group = rp::grouping::day;
  auto r = rp::build({b.fold()}, q, desk_hours(), {}, {});
  const auto& points = r["series"]["points"];
  ASSERT_EQ(points.size(), 29u);
  EXPECT_EQ(points[9]["date"], "2020-02-10");
  EXPECT_EQ(points[9]["conversations"], 1);
  EXPECT_EQ(points[9]["first_response_median_ms"], 70 * minute);
  EXPECT_EQ(points[11]["resolved"], 2);
  EXPECT_EQ(points[11]["csat_average"], 4.0);
  EXPECT_TRUE(points[0]["first_response_median_ms"].is_null());
}

TEST(ReportCsv, BomQuotingAndFormulas) {
  EXPECT_EQ(rp::csv_text("plain"), "\"plain\"");
  EXPECT_EQ(rp::csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(rp::csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  for (const char* bad : {"+1", "-1", "@SUM(A1)", "\tx", "\rx"}) EXPECT_EQ(rp::csv_text(bad).substr(0, 2), "\"'") << bad;
  log_builder b;
  b.open(1100, false);
  b.agent_writes(1200, "ag_1");
  rp::query q;
  q.from = 1000;
  q.to = 2000;
  auto csv = rp::to_csv(rp::build({b.fold()}, q, {}, {}, {{"ag_1", "=2+3 مریم"}}));
  EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.substr(3, 18), "metric,key,value\r\n");
  EXPECT_NE(csv.find("\r\nagent_name,\"ag_1\",\"'=2+3 مریم\"\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\r\nfirst_response,\"median_ms\",100\r\n"), std::string::npos) << csv;
}

// The period as people read it, in the query's time zone: a spreadsheet
// shows the ms as 1.79547E+12.
TEST(ReportCsv, PeriodAsLocalDates) {
  if (!have_zones()) GTEST_SKIP() << "no zoneinfo";
  rp::query q;
  q.cal.tz = pasokh::routing::time_zone::load("Asia/Tehran");
  q.tz_name = "Asia/Tehran";
  q.from = q.cal.day_start(days_from_civil(2026, 11, 24));
  q.to = (days_from_civil(2026, 11, 25) * 86400 + 3600 + 5 * 60) * 1000;  // 01:05 UTC: 04:35 in Tehran
  auto report = rp::build({}, q, {}, {}, {});
  EXPECT_EQ(report["from_date"], "2026-11-24 00:00");
  EXPECT_EQ(report["to_date"], "2026-11-25 04:35");
  auto csv = rp::to_csv(report);
  EXPECT_NE(csv.find("\r\nperiod,\"from_date\",\"2026-11-24 00:00\"\r\nperiod,\"to_date\",\"2026-11-25 04:35\"\r\n"),
            std::string::npos) << csv;
  q.cal.tz = nullptr;  // UTC
  EXPECT_EQ(rp::build({}, q, {}, {}, {})["from_date"], "2026-11-23 20:30");
}
