// The whole outbound path against tests/fake_provider/server.mjs: build the
// provider request, send it with the HTTP client, classify the answer.
// Skipped when node is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/text.hpp"
#include "pasokh/connectors/http/client.hpp"
#include "pasokh/connectors/meta/outbound.hpp"
#include "pasokh/connectors/telegram/outbound.hpp"
#include "pasokh/connectors/whatsapp/outbound.hpp"

namespace pasokh::connectors {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

// The fake provider as a child process, on the port it printed.
class fake_provider {
 public:
  fake_provider() {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execlp("node", "node", PASOKH_FAKE_PROVIDER, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[128];
    if (f && std::fgets(line, sizeof line, f) && std::sscanf(line, "LISTENING %d", &port_) == 1) base_ = "http://127.0.0.1:" + std::to_string(port_);
    stdout_ = f;
  }
  ~fake_provider() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_) std::fclose(stdout_);
  }
  const std::string& base() const { return base_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* stdout_ = nullptr;
  std::string base_;
};

class FakeProvider : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { provider_ = new fake_provider(); }
  static void TearDownTestSuite() { delete provider_; }
  void SetUp() override {
    if (provider_->base().empty()) GTEST_SKIP() << "node is not available";
  }

  // Runs one coroutine on a fresh io_context.
  template <class F>
  void run(F body) {
    asio::io_context io;
    http::client_config cfg;
    cfg.request_timeout = 2s;
    http::client c(io.get_executor(), cfg);
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await body(c); done = true; },
                   [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    io.run_for(20s);
    EXPECT_TRUE(done);
  }

  static asio::awaitable<json> control(http::client& c, std::string method, std::string path, std::string body = {}) {
    provider_request r;
    r.method = std::move(method);
    r.url = provider_->base() + path;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    auto resp = co_await c.send(r);
    EXPECT_EQ(resp.status, 200) << resp.transport_error << resp.body;
    co_return json::parse(resp.body, nullptr, false);
  }

  // Sends a plan part by part, as the outbox sender will.
  template <class Classify>
  static asio::awaitable<std::vector<send_outcome>> deliver(http::client& c, send_plan plan, Classify classify) {  // by value: coroutines outlive temporaries
    std::vector<send_outcome> outcomes;
    for (const auto& r : plan.requests) {
      auto resp = co_await c.send(r);
      outcomes.push_back(classify(resp));
      if (outcomes.back().kind != outcome_kind::delivered) break;
    }
    co_return outcomes;
  }

  static inline fake_provider* provider_ = nullptr;
};

telegram::telegram_channel tg(const std::string& base) {
  telegram::telegram_channel ch;
  ch.id = "tg-main";
  ch.api_base = base;
  ch.bot_token = secret("7000000001:AAE-test");
  ch.webhook_secret.current = secret("s");
  return ch;
}

proto::outbound_message outbound(std::string recipient, std::string text) {
  proto::outbound_message m;
  m.message_id = "cv_1:2";
  m.conversation_id = "cv_1";
  m.recipient = std::move(recipient);
  m.text = std::move(text);
  return m;
}

TEST_F(FakeProvider, TelegramTextButtonsSplitAndRateLimit) {
  run([&](http::client& c) -> asio::awaitable<void> {
    co_await control(c, "DELETE", "/_requests");
    auto m = outbound("5123456789", "موضوع؟");
    m.buttons = {{"topic:warranty", "گارانتی"}};
    auto outcomes = co_await deliver(c, telegram::build_send(m, tg(provider_->base())), telegram::classify);
    EXPECT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].kind, outcome_kind::delivered);
    EXPECT_EQ(outcomes[0].provider_message_id.rfind("5123456789:", 0), 0u) << outcomes[0].provider_message_id;

    std::string longer;
    while (text_length(longer, text_unit::utf16) < 9000) longer += "خط طولانی 😀 ";
    outcomes = co_await deliver(c, telegram::build_send(outbound("5123456789", longer), tg(provider_->base())), telegram::classify);
    EXPECT_EQ(outcomes.size(), 3u);  // the fake rejects anything over 4096 UTF-16 units
    for (const auto& o : outcomes) EXPECT_EQ(o.kind, outcome_kind::delivered) << o.reason;

    auto recorded = co_await control(c, "GET", "/_requests?path=sendMessage");
    EXPECT_EQ(recorded.size(), 4u);  // ASSERT_* cannot return from a coroutine
    if (recorded.size() != 4u) co_return;
    EXPECT_EQ(recorded[0]["json"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"], "topic:warranty");

    co_await control(c, "POST", "/_script", R"({"action":"rate_limit","retry_after":3,"path":"sendMessage"})");
    outcomes = co_await deliver(c, telegram::build_send(outbound("1", "x"), tg(provider_->base())), telegram::classify);
    EXPECT_EQ(outcomes[0].kind, outcome_kind::rate_limited);
    EXPECT_EQ(outcomes[0].retry_after, 3s);

    auto answer = co_await c.send(telegram::build_answer_callback("cb-1", tg(provider_->base())));
    EXPECT_EQ(telegram::classify(answer).kind, outcome_kind::delivered);
  });
}

TEST_F(FakeProvider, WhatsAppDeliversAndStopsWhenTheWindowClosed) {
  whatsapp::whatsapp_channel ch;
  ch.id = "wa-main";
  ch.phone_number_id = "106540352242922";
  ch.api_base = provider_->base();
  ch.access_token = secret("EAAG-test");
  run([&](http::client& c) -> asio::awaitable<void> {
    auto m = outbound("989121234567", "کدام؟");
    m.buttons = {{"a", "الف"}, {"b", "ب"}, {"c", "ج"}, {"d", "د"}};  // a list message
    auto outcomes = co_await deliver(c, whatsapp::build_send(m, ch, 1h), whatsapp::classify);
    EXPECT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes.at(0).kind, outcome_kind::delivered) << outcomes[0].reason;
    EXPECT_EQ(outcomes[0].provider_message_id.rfind("wamid.", 0), 0u);

    co_await control(c, "POST", "/_script", R"([{"action":"window_closed","path":"/messages"},{"action":"rate_limit","path":"/messages"}])");
    outcomes = co_await deliver(c, whatsapp::build_send(outbound("989121234567", "x"), ch, 1h), whatsapp::classify);
    EXPECT_EQ(outcomes[0].kind, outcome_kind::permanent);
    EXPECT_EQ(outcomes[0].reason.rfind("window_closed", 0), 0u);
    outcomes = co_await deliver(c, whatsapp::build_send(outbound("989121234567", "x"), ch, 1h), whatsapp::classify);
    EXPECT_EQ(outcomes[0].kind, outcome_kind::rate_limited);
  });
}

TEST_F(FakeProvider, MetaTagsRetriesAndTransportFailures) {
  meta::meta_channel ch;
  ch.id = "fb-main";
  ch.api_base = provider_->base();
  ch.page_token = secret("EAAPage");
  run([&](http::client& c) -> asio::awaitable<void> {
    co_await control(c, "DELETE", "/_requests");
    auto outcomes = co_await deliver(c, meta::build_send(outbound("6789012345678901", "پاسخ دیرهنگام"), ch, 30h), meta::classify);
    EXPECT_EQ(outcomes[0].kind, outcome_kind::delivered);
    EXPECT_EQ(outcomes[0].provider_message_id.rfind("m_", 0), 0u);
    auto recorded = co_await control(c, "GET", "/_requests?path=/me/messages");
    EXPECT_EQ(recorded[0]["json"]["tag"], "HUMAN_AGENT");

    co_await control(c, "POST", "/_script",
                     R"([{"action":"window_closed"},{"action":"error_500"},{"action":"hang"},{"action":"drop"}])");
    auto once = [&]() { return deliver(c, meta::build_send(outbound("1", "x"), ch, 1h), meta::classify); };
    outcomes = co_await once();
    EXPECT_EQ(outcomes[0].kind, outcome_kind::permanent);
    EXPECT_EQ(outcomes[0].reason.rfind("window_closed", 0), 0u);
    outcomes = co_await once();
    EXPECT_EQ(outcomes[0].kind, outcome_kind::retry);
    outcomes = co_await once();  // no answer within the request timeout
    EXPECT_EQ(outcomes[0].kind, outcome_kind::retry);
    EXPECT_EQ(outcomes[0].reason, "transport: read: timeout");
    outcomes = co_await once();  // connection dropped without an answer
    EXPECT_EQ(outcomes[0].kind, outcome_kind::retry);
    outcomes = co_await once();
    EXPECT_EQ(outcomes[0].kind, outcome_kind::delivered);
  });
}

}  // namespace
}  // namespace pasokh::connectors
