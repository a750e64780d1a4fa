// The search backfill against a real redis-server: every conversation of the
// reports' index goes into the backlog a slice per call (a million in one
// script would hold Redis for seconds), once, and again after the text
// folding changed; then the customer files no conversation brings along.
#include "pasokh/routing/search_service.hpp"
#include "pasokh/routing/search_text.hpp"
#include "test_support.hpp"

using namespace pasokh;
using namespace pasokh::test;

namespace {

class search_backfill : public connected_redis_test {
 protected:
  std::int64_t backfill(std::int64_t slice) {
    routing::search_service search(*client_, "unit:");
    auto r = run(io_, search.backfill(slice));
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : -2;
  }
  std::int64_t backlog() { return exec(*client_, store::make_command("ZCARD", "unit:search:backlog"))->integer; }
  std::vector<std::string> dirty_customers() {
    std::vector<std::string> out;
    const auto members = exec(*client_, store::make_command("ZRANGE", "unit:search:dirty:cust", "0", "-1"));
    for (const auto& e : members->elements) out.push_back(e.str);
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(search_backfill, QueuesEveryConversationASliceAtATimeOnceAndAgainForNewerFolding) {
  for (int i = 1; i <= 5; ++i)
    exec(*client_, store::make_command("ZADD", "unit:rpt:created", std::to_string(1000 + i), "cv_" + std::to_string(i)));
  EXPECT_EQ(backfill(2), 2);
  EXPECT_EQ(backlog(), 2);
  EXPECT_EQ(backfill(2), 2);
  EXPECT_EQ(backfill(2), 1) << "the last slice is short: all are queued";
  EXPECT_EQ(backlog(), 5);
  EXPECT_EQ(backfill(2), -1) << "done once";

  // Indexed meanwhile; then a gateway with newer folding finds the old marker.
  exec(*client_, store::make_command("DEL", "unit:search:backlog"));
  exec(*client_, store::make_command("HSET", "unit:search:seq", "cv_1", "7"));
  exec(*client_, store::make_command("SET", "unit:search:fold", std::to_string(routing::search_fold_version - 1)));
  EXPECT_EQ(backfill(3), 3);
  EXPECT_EQ(exec(*client_, store::make_command("EXISTS", "unit:search:seq"))->integer, 0) << "every log read from the start";
  EXPECT_EQ(backfill(3), 2);
  EXPECT_EQ(backlog(), 5);
  EXPECT_EQ(backfill(3), -1);
}

TEST_F(search_backfill, QueuesTheCustomerFilesNoConversationBringsAlong) {
  // cu_1 and cu_4 were imported (no conversation); cu_2 wrote; cu_3 is gone.
  exec(*client_, store::make_command("SET", "unit:next:customer", "4"));
  for (const char* id : {"cu_1", "cu_2", "cu_4"})
    exec(*client_, store::make_command("HSET", std::string("unit:cust:") + id, "name", "x"));
  exec(*client_, store::make_command("RPUSH", "unit:cust:cu_2:conversations", "cv_1"));
  exec(*client_, store::make_command("ZADD", "unit:rpt:created", "1000", "cv_1"));
  EXPECT_EQ(backfill(3), 3) << "one conversation, then two customer numbers";
  EXPECT_EQ(dirty_customers(), (std::vector<std::string>{"cu_1"}));
  EXPECT_EQ(backfill(3), 2) << "the last two customer numbers: done";
  EXPECT_EQ(dirty_customers(), (std::vector<std::string>{"cu_1", "cu_4"}));
  EXPECT_EQ(backfill(3), -1);

  // An index made at this folding before customer files were looked at: that part alone, once.
  exec(*client_, store::make_command("DEL", "unit:search:dirty:cust", "unit:search:backfilled_cust", "unit:search:backlog"));
  EXPECT_EQ(backfill(5), 4) << "the four customer numbers, no conversation";
  EXPECT_EQ(dirty_customers(), (std::vector<std::string>{"cu_1", "cu_4"}));
  EXPECT_EQ(backlog(), 0);
  EXPECT_EQ(backfill(5), -1);
}

}  // namespace
