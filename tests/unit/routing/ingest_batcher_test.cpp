// Group commit of inbound messages against a real redis-server: messages
// submitted together share one ingest call, each gets its own answer, and a
// message whose script fails does not take the rest of its batch with it.
#include "ingest_batcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "test_support.hpp"

using namespace pasokh;
using namespace pasokh::test;

namespace {

// ingest.lua's arguments for a new API customer's first message; `first_due`
// is the routing decision's first-response deadline ("x" makes the script fail).
std::vector<std::string> message(const std::string& customer, const std::string& first_due = "0") {
  return store::make_command("api", "api", customer, "Customer " + customer, "m-" + customer, "60", "1700000000000",
                             R"({"text":"hi"})", "t", "0", "en", customer, "", "0", "", "", "", "", "1700000000000", "hi", "0", "1", "en",
                             "t", "", "0", first_due, "0", "0", "0", "", "0");
}

class batcher : public connected_redis_test {
 protected:
  long long script_calls() {
    auto info = exec(*client_, store::make_command("INFO", "commandstats"));
    auto at = info->str.find("cmdstat_fcall:calls=");
    return at == std::string::npos ? 0 : std::stoll(info->str.substr(info->str.find('=', at) + 1));
  }
};

TEST_F(batcher, MessagesWaitingTogetherShareOneCallAndAFailureStaysWithItsMessage) {
  // One batch in flight at a time: the first message goes alone, the next
  // three wait for it and go together.
  routing::ingest_batcher b(io_.get_executor(), *client_, "u:", 64, 1);
  std::vector<std::optional<store::result<store::reply>>> answers(4);
  auto submit = [&](std::size_t i, std::vector<std::string> args) {
    asio::co_spawn(io_, [&, i, args = std::move(args)]() mutable -> asio::awaitable<void> {
      answers[i] = co_await b.submit(std::move(args));
    }, asio::detached);
  };
  ASSERT_TRUE(run(io_, b.submit(message("warm-up"))));  // loads the script
  exec(*client_, store::make_command("CONFIG", "RESETSTAT"));
  submit(0, message("a"));
  submit(1, message("b"));
  submit(2, message("c", "x"));
  submit(3, message("d"));
  ASSERT_TRUE(wait_until(io_, [&] { return std::all_of(answers.begin(), answers.end(), [](auto& a) { return a.has_value(); }); }));
  EXPECT_EQ(script_calls(), 2);  // {a}, then {b, c, d}

  for (std::size_t i : {0u, 1u, 3u}) {
    ASSERT_TRUE(*answers[i]);
    const auto& r = **answers[i];
    ASSERT_EQ(r.type, store::reply::kind::array);
    EXPECT_EQ(r.elements[0].str, "stored") << i;
  }
  // Each stored customer has a conversation of their own.
  EXPECT_NE((**answers[1]).elements[1].str, (**answers[3]).elements[1].str);
  ASSERT_TRUE(*answers[2]);
  EXPECT_EQ((**answers[2]).elements[0].str, "error");
  EXPECT_EQ(exec(*client_, store::make_command("EXISTS", "u:dedup:api:m-b", "u:dedup:api:m-d"))->integer, 2);

  // The ids a batch counted for itself are taken: the next call's customer
  // and conversation come after the batch's last ("cv_4" < "cv_5").
  auto next = run(io_, b.submit(message("e")));
  ASSERT_TRUE(next);
  ASSERT_EQ(next->type, store::reply::kind::array);
  ASSERT_EQ(next->elements.at(0).str, "stored");
  auto number = [](const std::string& id) { return std::stoll(id.substr(3)); };
  EXPECT_GT(number(next->elements[1].str), number((**answers[3]).elements[1].str)) << next->elements[1].str;
  EXPECT_GT(number(next->elements[3].str), number((**answers[3]).elements[3].str)) << next->elements[3].str;
}

TEST_F(batcher, BehindASlowRedisAFullQueueRefusesAtOnceAndAWaitingMessageIsAnsweredAtItsDeadline) {
  // One message at a time, two may wait, for 300 ms each.
  routing::ingest_batcher b(io_.get_executor(), *client_, "u:", 1, 1, 2, 300ms);
  ASSERT_TRUE(run(io_, b.submit(message("warm-up"))));
  store::redis_client admin(io_.get_executor(), config());
  start_and_wait(admin);
  // Redis answers no one for 800 ms (less than the client's command timeout).
  ASSERT_EQ(exec(admin, store::make_command("CLIENT", "PAUSE", "800", "ALL"))->str, "OK");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::optional<store::result<store::reply>>> answers(4);
  std::vector<std::chrono::milliseconds> answered_after(4);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    asio::co_spawn(io_, [&, i]() -> asio::awaitable<void> {
      auto r = co_await b.submit(message(std::string(1, static_cast<char>('a' + i))));
      answered_after[i] = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      answers[i] = std::move(r);
    }, asio::detached);
  }
  ASSERT_TRUE(wait_until(io_, [&] { return std::all_of(answers.begin(), answers.end(), [](auto& a) { return a.has_value(); }); }));
  // a was sent and is stored once Redis answers; b and c waited their 300 ms;
  // d found the queue full.
  ASSERT_TRUE(*answers[0]);
  EXPECT_EQ((**answers[0]).elements.at(0).str, "stored");
  EXPECT_GE(answered_after[0], 700ms);
  for (std::size_t i : {1u, 2u}) {
    ASSERT_FALSE(*answers[i]) << i;
    EXPECT_EQ(answers[i]->error(), store::make_error_code(store::redis_errc::timed_out)) << i;
    EXPECT_GE(answered_after[i], 290ms) << i;
    EXPECT_LT(answered_after[i], 650ms) << i;
  }
  ASSERT_FALSE(*answers[3]);
  EXPECT_EQ(answers[3]->error(), boost::system::errc::resource_unavailable_try_again);
  EXPECT_LT(answered_after[3], 200ms);
  // Only what was answered as stored is stored.
  EXPECT_EQ(exec(*client_, store::make_command("EXISTS", "u:dedup:api:m-a"))->integer, 1);
  EXPECT_EQ(exec(*client_, store::make_command("EXISTS", "u:dedup:api:m-b", "u:dedup:api:m-c", "u:dedup:api:m-d"))->integer, 0);
  admin.stop();
}

TEST_F(batcher, ATransportErrorAnswersEveryMessageOfTheBatch) {
  routing::ingest_batcher b(io_.get_executor(), *client_, "u:", 64, 1);
  client_->stop();
  std::optional<store::result<store::reply>> answer;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> { answer = co_await b.submit(message("a")); }, asio::detached);
  ASSERT_TRUE(wait_until(io_, [&] { return answer.has_value(); }));
  EXPECT_FALSE(*answer);
}

}  // namespace
