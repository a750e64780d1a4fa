// The SMTP listener and client over real loopback sockets: swaks as the
// customer's MTA, raw sockets for protocol abuse, and our own client for the
// reply round trip. Ports are chosen by the kernel (port 0).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/smtp_client.hpp"
#include "pasokh/connectors/email/smtp_server.hpp"

namespace asio = boost::asio;
namespace email = pasokh::connectors::email;
using asio::ip::tcp;

namespace {

struct command_result {
  int exit_code = -1;
  std::string output;
};

command_result run(const std::string& cmd) {
  command_result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (auto n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool have_swaks() { return std::filesystem::exists("/usr/bin/swaks"); }

std::string fixture(const std::string& name) { return std::string(PASOKH_EMAIL_DATA_DIR) + "/" + name; }

struct stored_message {
  email::smtp_envelope envelope;
  std::string raw;
};

// A throwaway self-signed certificate, made once per test run.
const std::filesystem::path& cert_dir() {
  static std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("pasokh-email-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    auto r = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
                 " -keyout " + (d / "key.pem").string() + " -out " + (d / "cert.pem").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d;
  }();
  return dir;
}

class smtp_socket : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.hostname = "mx.test";
    config_.address = "127.0.0.1";
    config_.port = 0;
    config_.max_message_bytes = 64 * 1024;
    config_.recipients = {{"support@support.example"}, {}, "support.example"};
  }

  void start(bool tls = false) {
    if (tls) {
      config_.tls_cert_file = (cert_dir() / "cert.pem").string();
      config_.tls_key_file = (cert_dir() / "key.pem").string();
    }
    server_ = std::make_unique<email::smtp_server>(
        ioc_.get_executor(), config_,
        [this](email::smtp_envelope env, std::string raw) -> asio::awaitable<email::store_outcome> {
          calls_++;
          auto outcome = outcome_;
          if (outcome.result == email::store_outcome::kind::stored) {
            std::lock_guard lock(mutex_);
            stored_.push_back({std::move(env), std::move(raw)});
          }
          co_return outcome;
        });
    port_ = server_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  std::vector<stored_message> stored() {
    std::lock_guard lock(mutex_);
    return stored_;
  }

  std::string swaks(const std::string& args) {
    return "swaks --server 127.0.0.1 --port " + std::to_string(port_) + " --timeout 10 " + args;
  }

  email::smtp_config config_;
  email::store_outcome outcome_ = email::store_outcome::stored();
  asio::io_context ioc_{1};
  std::unique_ptr<email::smtp_server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<stored_message> stored_;
  std::atomic<int> calls_{0};
};

// A blocking client for byte-exact protocol checks.
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send(const std::string& s) { asio::write(socket_, asio::buffer(s)); }
  // One reply (all lines of a multi-line reply), or "" at EOF.
  std::string reply() {
    std::string out;
    for (;;) {
      boost::system::error_code ec;
      asio::read_until(socket_, buf_, "\r\n", ec);
      if (ec) return out;
      std::istream is(&buf_);
      std::string line;
      std::getline(is, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out += line + "\n";
      if (line.size() < 4 || line[3] != '-') return out;
    }
  }
  bool closed() {
    boost::system::error_code ec;
    asio::read_until(socket_, buf_, "\r\n", ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  asio::streambuf buf_;
};

TEST_F(smtp_socket, swaks_plain_delivery_is_stored_and_parses) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  start();
  auto r = run(swaks("--from customer@example.com --to support@support.example --helo client.example "
                     "--header 'Subject: Broken heater' --body 'The heater stopped working.'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto msgs = stored();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].envelope.mail_from, "customer@example.com");
  EXPECT_EQ(msgs[0].envelope.rcpt_to, std::vector<std::string>{"support@support.example"});
  EXPECT_EQ(msgs[0].envelope.helo, "client.example");
  EXPECT_FALSE(msgs[0].envelope.tls);
  EXPECT_TRUE(msgs[0].raw.starts_with("Return-Path: <customer@example.com>\r\nReceived: from client.example (127.0.0.1)"));
  email::email_config ec;
  auto mail = email::parse_email(msgs[0].raw, ec);
  EXPECT_EQ(mail.subject, "Broken heater");
  EXPECT_EQ(mail.event.text, "The heater stopped working.");
  EXPECT_FALSE(mail.event.automatic);
}

TEST_F(smtp_socket, swaks_fixture_in_windows1256_round_trips) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  start();
  auto r = run(swaks("--from reza.ahmadi@example.ir --to support@support.example --data " +
                     fixture("fa_windows1256.eml")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto msgs = stored();
  ASSERT_EQ(msgs.size(), 1u);
  auto mail = email::parse_email(msgs[0].raw, {});
  EXPECT_EQ(mail.subject, "درخواست تعمير گوشي");
  EXPECT_NE(mail.event.text.find("گارانتي"), std::string::npos);
}

TEST_F(smtp_socket, swaks_starttls) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  start(true);
  auto r = run(swaks("--tls --from a@example.com --to reply+t0k@support.example --body 'over tls'"));
  if (r.output.find("TLS not available") != std::string::npos)
    GTEST_SKIP() << "swaks without TLS support (Debian: libnet-ssleay-perl)";
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto msgs = stored();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].envelope.tls);
  EXPECT_NE(msgs[0].raw.find("with ESMTPS"), std::string::npos);
  EXPECT_EQ(msgs[0].envelope.rcpt_to[0], "reply+t0k@support.example");
}

TEST_F(smtp_socket, swaks_oversize_gets_552) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  config_.max_message_bytes = 2000;
  start();
  auto r = run(swaks("--from a@example.com --to support@support.example --body '" + std::string(5000, 'x') + "'"));
  EXPECT_EQ(r.exit_code, 26) << r.output;
  EXPECT_NE(r.output.find("552 5.3.4"), std::string::npos) << r.output;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(smtp_socket, swaks_unknown_recipient_is_refused) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  start();
  auto r = run(swaks("--from a@example.com --to victim@elsewhere.example"));
  EXPECT_EQ(r.exit_code, 24) << r.output;
  EXPECT_NE(r.output.find("550 5.7.1"), std::string::npos) << r.output;
}

TEST_F(smtp_socket, swaks_pipelining) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  start();
  auto r = run(swaks("--pipeline --from a@example.com --to support@support.example --body 'pipelined'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("PIPELINING"), std::string::npos);
  EXPECT_EQ(stored().size(), 1u);
}

TEST_F(smtp_socket, storage_down_gives_451_and_rejection_554) {
  if (!have_swaks()) GTEST_SKIP() << "swaks not installed";
  outcome_ = email::store_outcome::temporary_failure("redis down");
  start();
  auto r = run(swaks("--from a@example.com --to support@support.example --body 'x'"));
  EXPECT_EQ(r.exit_code, 26) << r.output;
  EXPECT_NE(r.output.find("451 4.3.0"), std::string::npos) << r.output;
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_TRUE(stored().empty());
}

TEST_F(smtp_socket, raw_protocol_errors_and_pipelined_batch) {
  start();
  raw_client c(port_);
  EXPECT_EQ(c.reply(), "220 mx.test ESMTP Pasokh\n");
  c.send("MAIL FROM:<a@b.example>\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "503");
  c.send("FOO bar\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "500");
  c.send("VRFY someone\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "252");
  // One write, five commands: the replies come back in order.
  c.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<support@support.example>\r\nRCPT TO:<no@where.example>\r\nDATA\r\n");
  EXPECT_NE(c.reply().find("250 ENHANCEDSTATUSCODES"), std::string::npos);
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(c.reply().substr(0, 3), "550");
  EXPECT_EQ(c.reply().substr(0, 3), "354");
  // A bare-LF dot is not the end of data: no second message gets smuggled in.
  c.send("Subject: s\r\n\r\nbody\n.\nMAIL FROM:<evil@x>\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(c.reply().substr(0, 3), "221");
  EXPECT_TRUE(c.closed());
  auto msgs = stored();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].raw.find("MAIL FROM:<evil@x>"), std::string::npos);  // kept as text
}

TEST_F(smtp_socket, idle_timeout_says_421_and_closes) {
  config_.idle_timeout = std::chrono::milliseconds(200);
  start();
  raw_client c(port_);
  EXPECT_EQ(c.reply().substr(0, 3), "220");
  EXPECT_EQ(c.reply().substr(0, 9), "421 4.4.2");
  EXPECT_TRUE(c.closed());
}

TEST_F(smtp_socket, chatter_does_not_keep_a_connection_open) {
  config_.idle_timeout = std::chrono::milliseconds(600);
  start();
  raw_client c(port_);
  EXPECT_EQ(c.reply().substr(0, 3), "220");
  c.send("EHLO client.test\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  auto idle_since = std::chrono::steady_clock::now();
  // NOOP, RSET, HELP and VRFY are answered but move no mail: the idle clock runs on.
  std::string last;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    c.send(std::array{"NOOP\r\n", "RSET\r\n", "HELP\r\n", "VRFY x\r\n"}[i % 4]);
    last = c.reply();
    if (last.starts_with("421")) break;
  }
  EXPECT_EQ(last.substr(0, 9), "421 4.4.2") << last;
  EXPECT_LT(std::chrono::steady_clock::now() - idle_since, std::chrono::milliseconds(1500));
  EXPECT_TRUE(c.closed());
}

TEST_F(smtp_socket, a_connection_ends_at_its_maximum_lifetime_however_busy) {
  config_.max_session = std::chrono::milliseconds(700);
  start();
  raw_client c(port_);
  EXPECT_EQ(c.reply().substr(0, 3), "220");
  auto opened = std::chrono::steady_clock::now();
  std::string last;
  for (int i = 0; i < 20; ++i) {  // EHLO moves mail on, but not for ever
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    c.send("EHLO client.test\r\n");
    last = c.reply();
    if (last.starts_with("421")) break;
  }
  EXPECT_EQ(last.substr(0, 9), "421 4.4.2") << last;
  EXPECT_LT(std::chrono::steady_clock::now() - opened, std::chrono::milliseconds(1500));
  EXPECT_TRUE(c.closed());
}

TEST_F(smtp_socket, a_message_being_sent_at_the_end_of_life_is_taken_whole_then_the_connection_ends) {
  config_.max_session = std::chrono::milliseconds(700);
  start();
  raw_client c(port_);
  EXPECT_EQ(c.reply().substr(0, 3), "220");
  c.send("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<support@support.example>\r\nDATA\r\n");
  EXPECT_NE(c.reply().find("250 ENHANCEDSTATUSCODES"), std::string::npos);
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(c.reply().substr(0, 3), "354");
  // A slow line: the body takes past the connection's end of life.
  c.send("Subject: slow\r\n\r\n");
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    c.send("a line of a large mail\r\n");
  }
  c.send(".\r\n");
  EXPECT_EQ(c.reply().substr(0, 3), "250");
  EXPECT_EQ(stored().size(), 1u);
  // Past its end of life, the next command is not waited for.
  EXPECT_EQ(c.reply().substr(0, 9), "421 4.4.2");
  EXPECT_TRUE(c.closed());
}

TEST_F(smtp_socket, one_address_may_hold_only_its_share_of_connections) {
  config_.max_connections_per_peer = 2;
  start();
  raw_client first(port_), second(port_);
  EXPECT_EQ(first.reply().substr(0, 3), "220");
  EXPECT_EQ(second.reply().substr(0, 3), "220");
  raw_client third(port_);
  EXPECT_EQ(third.reply().substr(0, 9), "421 4.7.0");
  first.send("QUIT\r\n");
  EXPECT_EQ(first.reply().substr(0, 3), "221");
  EXPECT_TRUE(first.closed());
  // Its slot is given back once it closed.
  for (int i = 0; i < 50 && server_->active_connections() > 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  raw_client fourth(port_);
  EXPECT_EQ(fourth.reply().substr(0, 3), "220");
}

TEST_F(smtp_socket, connection_limit) {
  config_.max_connections = 1;
  start();
  raw_client first(port_);
  EXPECT_EQ(first.reply().substr(0, 3), "220");
  raw_client second(port_);
  EXPECT_EQ(second.reply().substr(0, 9), "421 4.3.2");
  first.send("QUIT\r\n");
  EXPECT_EQ(first.reply().substr(0, 3), "221");
}

// --- our SMTP client ---------------------------------------------------------

email::send_result send(asio::io_context& ioc, const email::relay_config& relay, const std::string& from,
                        std::vector<std::string> rcpts, const std::string& data) {
  auto fut = asio::co_spawn(ioc, email::send_mail(relay, from, std::move(rcpts), data), asio::use_future);
  return fut.get();
}

TEST_F(smtp_socket, client_round_trip_over_starttls) {
  start(true);
  email::email_config cfg;
  cfg.recipients = config_.recipients;
  cfg.from_address = "support@support.example";
  cfg.from_name = "پشتیبانی";
  pasokh::proto::outbound_message msg;
  msg.conversation_id = "cv_9";
  msg.message_id = "cv_9:12";
  msg.recipient = "support@support.example";  // delivered to our own listener
  msg.text = "سلام، دستگاه شما تعمیر شد.\n.leading dot stays";
  email::reply_thread thread{"علی", "Re: Re: گارانتی گوشی", "CAF-1@mail.gmail.example", {"first@gmail.example"}, "tok9"};
  auto mail = email::build_reply(msg, thread, cfg, {.now = 1710237600000});

  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = port_;
  relay.tls = email::relay_tls::starttls;
  auto result = send(ioc_, relay, mail.envelope_from, mail.recipients, mail.data);
  ASSERT_EQ(result.status, email::send_status::delivered) << result.detail;
  EXPECT_EQ(result.code, 250);

  auto msgs = stored();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].envelope.tls);
  auto parsed = email::parse_email(msgs[0].raw, cfg);
  EXPECT_EQ(parsed.subject, "Re: گارانتی گوشی");
  EXPECT_EQ(parsed.message_id, "pasokh.Y3ZfOQ.Y3ZfOToxMg@support.example");
  EXPECT_EQ(parsed.in_reply_to, "CAF-1@mail.gmail.example");
  EXPECT_EQ(parsed.references, (std::vector<std::string>{"first@gmail.example", "CAF-1@mail.gmail.example"}));
  ASSERT_EQ(parsed.reply_to.size(), 1u);
  EXPECT_EQ(parsed.reply_to[0].address, "reply+tok9@support.example");
  EXPECT_EQ(parsed.event.text, "سلام، دستگاه شما تعمیر شد.\n.leading dot stays");
  // The raw header is RFC 2047 encoded, not raw UTF-8.
  EXPECT_NE(msgs[0].raw.find("Subject: =?UTF-8?B?"), std::string::npos);
}

TEST_F(smtp_socket, client_classifies_failures) {
  outcome_ = email::store_outcome::temporary_failure();
  start();
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = port_;
  relay.tls = email::relay_tls::opportunistic;  // the listener has no certificate here
  auto r = send(ioc_, relay, "support@support.example", {"support@support.example"}, "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.status, email::send_status::retry) << r.detail;
  EXPECT_EQ(r.code, 451);

  outcome_ = email::store_outcome::rejected("looks like spam");
  r = send(ioc_, relay, "support@support.example", {"support@support.example"}, "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(r.status, email::send_status::permanent) << r.detail;
  EXPECT_EQ(r.code, 554);
  EXPECT_NE(r.detail.find("looks like spam"), std::string::npos);

  r = send(ioc_, relay, "support@support.example", {"nobody@elsewhere.example"}, "x\r\n");
  EXPECT_EQ(r.status, email::send_status::permanent);
  EXPECT_EQ(r.code, 550);

  relay.tls = email::relay_tls::starttls;  // required, but not offered
  r = send(ioc_, relay, "support@support.example", {"support@support.example"}, "x\r\n");
  EXPECT_EQ(r.status, email::send_status::retry);
  EXPECT_NE(r.detail.find("STARTTLS"), std::string::npos);
}

TEST(smtp_client, connection_refused_and_timeout_are_retries) {
  asio::io_context ioc;
  std::thread t;
  auto work = asio::make_work_guard(ioc);
  t = std::thread([&] { ioc.run(); });

  // A port nobody listens on.
  tcp::acceptor probe(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto closed_port = probe.local_endpoint().port();
  probe.close();
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = closed_port;
  relay.tls = email::relay_tls::none;
  auto r = send(ioc, relay, "a@b", {"c@d"}, "x\r\n");
  EXPECT_EQ(r.status, email::send_status::retry);

  // A server that accepts and never speaks.
  tcp::acceptor silent(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  relay.port = silent.local_endpoint().port();
  relay.command_timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  r = send(ioc, relay, "a@b", {"c@d"}, "x\r\n");
  EXPECT_EQ(r.status, email::send_status::retry);
  EXPECT_NE(r.detail.find("timeout"), std::string::npos) << r.detail;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  work.reset();
  ioc.stop();
  t.join();
}

// A scripted relay: each step expects a line prefix and answers.
struct script_step {
  std::string expect;  // prefix of the client's line ("" = send without reading)
  std::string reply;
};

void scripted_relay(tcp::acceptor& acceptor, std::vector<script_step> script, std::vector<std::string>& seen) {
  tcp::socket s(acceptor.get_executor());
  acceptor.accept(s);
  asio::streambuf buf;
  for (const auto& step : script) {
    if (!step.expect.empty()) {
      boost::system::error_code ec;
      asio::read_until(s, buf, "\r\n", ec);
      if (ec) return;
      std::istream is(&buf);
      std::string line;
      std::getline(is, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      seen.push_back(line);
      if (line.rfind(step.expect, 0) != 0) return;
    }
    if (step.expect == "DATA") {  // swallow the message up to the final dot
      boost::system::error_code ec;
      asio::write(s, asio::buffer(step.reply), ec);
      asio::read_until(s, buf, "\r\n.\r\n", ec);
      std::string data(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      seen.push_back(data.substr(0, data.find("\r\n.\r\n") + 5));
      buf.consume(data.find("\r\n.\r\n") + 5);
      continue;
    }
    asio::write(s, asio::buffer(step.reply));
  }
}

TEST(smtp_client, auth_login_and_dot_stuffing_against_a_scripted_relay) {
  asio::io_context server_ioc;
  tcp::acceptor acceptor(server_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::string> seen;
  std::thread server([&] {
    scripted_relay(acceptor,
                   {{"", "220 relay.test ESMTP\r\n"},
                    {"EHLO pasokh.test", "250-relay.test\r\n250-AUTH LOGIN\r\n250 8BITMIME\r\n"},
                    {"AUTH LOGIN", "334 VXNlcm5hbWU6\r\n"},
                    {"dXNlcg==", "334 UGFzc3dvcmQ6\r\n"},
                    {"cGFzcw==", "235 2.7.0 ok\r\n"},
                    {"MAIL FROM:<a@b.example> BODY=8BITMIME", "250 ok\r\n"},
                    {"RCPT TO:<c@d.example>", "250 ok\r\n"},
                    {"RCPT TO:<e@f.example>", "550 no such user\r\n"},
                    {"DATA", "354 go\r\n"},
                    {"", "250 2.0.0 queued as X1\r\n"},
                    {"QUIT", "221 bye\r\n"}},
                   seen);
  });
  asio::io_context ioc;
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = acceptor.local_endpoint().port();
  relay.tls = email::relay_tls::none;  // loopback: credentials allowed without TLS
  relay.helo_name = "pasokh.test";
  relay.username = "user";
  relay.password = "pass";
  auto fut = asio::co_spawn(ioc, email::send_mail(relay, "a@b.example", {"c@d.example", "e@f.example"},
                                                  "Subject: s\r\n\r\n.hidden\r\nسلام\r\n"),
                            asio::use_future);
  ioc.run();
  auto r = fut.get();
  server.join();
  EXPECT_EQ(r.status, email::send_status::delivered) << r.detail;
  EXPECT_EQ(r.rejected, std::vector<std::string>{"e@f.example"});
  ASSERT_GE(seen.size(), 9u);
  EXPECT_EQ(seen[8], "Subject: s\r\n\r\n..hidden\r\nسلام\r\n.\r\n");
}

TEST(smtp_client, auth_plain_failure_is_a_retry_the_relay_refused) {
  asio::io_context server_ioc;
  tcp::acceptor acceptor(server_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::string> seen;
  std::thread server([&] {
    scripted_relay(acceptor,
                   {{"", "220 relay.test ESMTP\r\n"},
                    {"EHLO", "250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n"},
                    {"AUTH PLAIN AHVzZXIAd3Jvbmc=", "535 5.7.8 bad credentials\r\n"}},
                   seen);
  });
  asio::io_context ioc;
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = acceptor.local_endpoint().port();
  relay.tls = email::relay_tls::opportunistic;
  relay.username = "user";
  relay.password = "wrong";
  auto fut = asio::co_spawn(ioc, email::send_mail(relay, "a@b", {"c@d"}, "x\r\n"), asio::use_future);
  ioc.run();
  auto r = fut.get();
  server.join();
  // Bad credentials hold back every reply until an admin mends them: none fails for good.
  EXPECT_EQ(r.status, email::send_status::retry) << r.detail;
  EXPECT_TRUE(r.relay_refused);
  EXPECT_EQ(r.code, 535);
  EXPECT_EQ(r.detail.find("wrong"), std::string::npos);
}

// send_mail against a scripted relay on loopback (no TLS, credentials allowed).
email::send_result send_to_script(std::vector<script_step> script, bool with_auth) {
  asio::io_context server_ioc;
  tcp::acceptor acceptor(server_ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::vector<std::string> seen;
  std::thread server([&] { scripted_relay(acceptor, std::move(script), seen); });
  asio::io_context ioc;
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = acceptor.local_endpoint().port();
  relay.tls = email::relay_tls::none;
  relay.command_timeout = std::chrono::seconds(5);
  if (with_auth) {
    relay.username = "user";
    relay.password = "pass";
  }
  auto fut = asio::co_spawn(ioc, email::send_mail(relay, "a@b.example", {"c@d.example"}, "Subject: s\r\n\r\nx\r\n"),
                            asio::use_future);
  ioc.run();
  auto r = fut.get();
  server.join();
  return r;
}

TEST(smtp_client, unexpected_positive_replies_are_retries_not_deliveries) {
  // DATA answered 250 instead of 354: the message was never sent.
  auto r = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                           {"EHLO", "250 relay.test\r\n"},
                           {"MAIL FROM:<a@b.example>", "250 ok\r\n"},
                           {"RCPT TO:<c@d.example>", "250 ok\r\n"},
                           {"DATA", "250 ok\r\n"}},
                          false);
  EXPECT_EQ(r.status, email::send_status::retry) << r.detail;
  EXPECT_EQ(r.code, 250);
  // AUTH LOGIN asking again (334) after the password: not logged in, nothing sent.
  r = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                      {"EHLO", "250-relay.test\r\n250 AUTH LOGIN\r\n"},
                      {"AUTH LOGIN", "334 VXNlcm5hbWU6\r\n"},
                      {"dXNlcg==", "334 UGFzc3dvcmQ6\r\n"},
                      {"cGFzcw==", "334 UGFzc3dvcmQ6\r\n"}},
                     true);
  EXPECT_EQ(r.status, email::send_status::retry) << r.detail;
  EXPECT_EQ(r.code, 334);
  // A greeting of 250 instead of 220.
  r = send_to_script({{"", "250 relay.test\r\n"}}, false);
  EXPECT_EQ(r.status, email::send_status::retry) << r.detail;
}

TEST(smtp_client, refusals_before_any_recipient_are_the_relays_trouble_not_the_messages) {
  auto greeting_554 = send_to_script({{"", "554 5.7.1 your address is blocked\r\n"}}, false);
  EXPECT_EQ(greeting_554.status, email::send_status::retry) << greeting_554.detail;
  EXPECT_TRUE(greeting_554.relay_refused);

  auto quota = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                               {"EHLO", "250 relay.test\r\n"},
                               {"MAIL FROM:<a@b.example>", "550 5.4.5 Daily sending quota exceeded\r\n"}},
                              false);
  EXPECT_EQ(quota.status, email::send_status::retry) << quota.detail;
  EXPECT_TRUE(quota.relay_refused);
  EXPECT_EQ(quota.code, 550);

  auto no_auth = send_to_script({{"", "220 relay.test ESMTP\r\n"}, {"EHLO", "250 relay.test\r\n"}}, true);
  EXPECT_EQ(no_auth.status, email::send_status::retry) << no_auth.detail;
  EXPECT_TRUE(no_auth.relay_refused);

  // This message too big for the relay: retrying it would never help.
  auto too_big = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                                 {"EHLO", "250 relay.test\r\n"},
                                 {"MAIL FROM:<a@b.example>", "552 5.3.4 Message size exceeds fixed limit\r\n"}},
                                false);
  EXPECT_EQ(too_big.status, email::send_status::permanent) << too_big.detail;
  EXPECT_FALSE(too_big.relay_refused);

  // A recipient refused, or the message refused at its end: that message fails for good.
  auto rcpt = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                              {"EHLO", "250 relay.test\r\n"},
                              {"MAIL FROM:<a@b.example>", "250 ok\r\n"},
                              {"RCPT TO:<c@d.example>", "550 5.1.1 no such user\r\n"},
                              {"RSET", "250 ok\r\n"}},
                             false);
  EXPECT_EQ(rcpt.status, email::send_status::permanent) << rcpt.detail;
  EXPECT_FALSE(rcpt.relay_refused);
  auto end_of_data = send_to_script({{"", "220 relay.test ESMTP\r\n"},
                                     {"EHLO", "250 relay.test\r\n"},
                                     {"MAIL FROM:<a@b.example>", "250 ok\r\n"},
                                     {"RCPT TO:<c@d.example>", "250 ok\r\n"},
                                     {"DATA", "354 go\r\n"},
                                     {"", "554 5.7.1 rejected as spam\r\n"}},
                                    false);
  EXPECT_EQ(end_of_data.status, email::send_status::permanent) << end_of_data.detail;
}

}  // namespace
