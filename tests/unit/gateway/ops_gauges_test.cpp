// The outbox backlog from XINFO GROUPS and XPENDING as Redis 7 answers them.
#include "pasokh/gateway/ops_gauges.hpp"

#include <gtest/gtest.h>

using namespace pasokh;
using namespace pasokh::gateway;
using store::reply;

namespace {

reply str(std::string s) { return reply{reply::kind::string, 0, std::move(s), {}}; }
reply num(long long n) { return reply{reply::kind::integer, n, {}, {}}; }
reply nil() { return reply{}; }
reply array(std::vector<reply> items) { return reply{reply::kind::array, 0, {}, std::move(items)}; }
reply error(std::string s) { return reply{reply::kind::error, 0, std::move(s), {}}; }

reply group(const char* name, long long pending, const char* last, reply lag) {
  return array({str("name"), str(name), str("consumers"), num(1), str("pending"), num(pending), str("last-delivered-id"),
                str(last), str("entries-read"), num(7), str("lag"), std::move(lag)});
}
const reply nothing_pending = array({num(0), nil(), nil(), nil()});

}  // namespace

TEST(OutboxBacklog, PendingEntriesAndTheOldestOfThem) {
  auto pending = array({num(2), str("1700000000000-0"), str("1700000005000-1"), array({array({str("gw-1"), str("2")})})});
  auto o = parse_outbox_group(array({group("senders", 2, "1700000005000-1", num(0))}), pending);
  EXPECT_EQ(o.pending, 2);
  EXPECT_EQ(o.unread, 0);
  EXPECT_EQ(o.oldest_pending_id, "1700000000000-0");
  EXPECT_FALSE(o.needs_unread_entries());
}

TEST(OutboxBacklog, UnreadEntriesAloneAskForTheirAge) {
  auto o = parse_outbox_group(array({group("other", 9, "9-9", num(9)), group("senders", 0, "5-0", num(3))}),
                              nothing_pending);
  EXPECT_EQ(o.pending, 0);
  EXPECT_EQ(o.unread, 3);
  EXPECT_EQ(o.last_read_id, "5-0");
  EXPECT_TRUE(o.needs_unread_entries());
}

// Redis answers a nil lag when entries were deleted after the group's last
// read: how many are unread is counted from the entries themselves.
TEST(OutboxBacklog, AnUnknownLagIsCountedFromTheEntries) {
  auto o = parse_outbox_group(array({group("senders", 0, "5-0", nil())}), nothing_pending);
  EXPECT_TRUE(o.unread_unknown);
  EXPECT_TRUE(o.needs_unread_entries());
}

TEST(OutboxBacklog, NoStreamIsAnEmptyOutboxAndAStreamWithoutTheGroupIsAllUnread) {
  auto none = parse_outbox_group(error("ERR no such key"), error("NOGROUP"));
  EXPECT_EQ(none.pending + none.unread, 0);
  EXPECT_FALSE(none.needs_unread_entries());
  auto no_group = parse_outbox_group(array({}), error("NOGROUP"));
  EXPECT_TRUE(no_group.needs_unread_entries());
  EXPECT_EQ(no_group.last_read_id, "");
  EXPECT_EQ(no_group.unread_range_start(), "-") << "\"(\" alone is refused by Redis";
}

TEST(OutboxBacklog, UnreadEntriesAreReadAfterTheLastRead) {
  auto o = parse_outbox_group(array({group("senders", 0, "5-0", num(3))}), nothing_pending);
  EXPECT_EQ(o.unread_range_start(), "(5-0");
}

// The oldest pending entry gives the age, but how many are unread still has to
// be counted: the backlog is pending + unread.
TEST(OutboxBacklog, AnUnknownLagIsCountedEvenWithEntriesPending) {
  auto pending = array({num(2), str("1700000000000-0"), str("1700000005000-1"), array({})});
  auto o = parse_outbox_group(array({group("senders", 2, "1700000005000-1", nil())}), pending);
  EXPECT_EQ(o.pending, 2);
  EXPECT_TRUE(o.unread_unknown);
  EXPECT_TRUE(o.needs_unread_entries());
}

TEST(GaugeCache, AReadingIsAnsweredAgainForFiveSecondsThenReadAfresh) {
  using namespace std::chrono_literals;
  gauge_cache cache(5s);
  const auto t0 = gauge_cache::clock::time_point{} + 100s;
  EXPECT_FALSE(cache.fresh(t0)) << "nothing read yet";
  cache.keep("pasokh_team_agents_available{team=\"support\"} 1\n", t0);
  EXPECT_EQ(cache.fresh(t0 + 4999ms), "pasokh_team_agents_available{team=\"support\"} 1\n");
  EXPECT_FALSE(cache.fresh(t0 + 5s));
  cache.keep("b", t0 + 5s);
  EXPECT_EQ(cache.fresh(t0 + 6s), "b");
}

TEST(OutboxBacklog, StreamIdMilliseconds) {
  EXPECT_EQ(stream_id_ms("1700000000123-4"), 1700000000123);
  EXPECT_FALSE(stream_id_ms(""));
  EXPECT_FALSE(stream_id_ms("-1"));
  EXPECT_FALSE(stream_id_ms("12x-1"));
}
