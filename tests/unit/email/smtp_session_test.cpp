// The SMTP server state machine as tables: input bytes → replies and action.
#include <gtest/gtest.h>

#include "pasokh/connectors/email/smtp_session.hpp"

namespace email = pasokh::connectors::email;
using email::smtp_action;

namespace {

email::smtp_config smtp_settings() {
  email::smtp_config c;
  c.hostname = "mx.test";
  c.max_message_bytes = 200;
  c.max_recipients = 2;
  c.max_line_length = 600;
  c.max_errors = 5;
  c.recipients = {{"support@support.example"}, {}, "support.example"};
  return c;
}

email::smtp_session make(const email::smtp_config& c, bool tls = false) {
  return email::smtp_session(c, {tls, "192.0.2.1", [] { return std::string("Tue, 12 Mar 2024 10:00:00 +0000"); }});
}

// Codes of the replies in `out`, in order ("250,250,354").
std::string codes(const std::string& out) {
  std::string result;
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find("\r\n", start);
    auto line = out.substr(start, end - start);
    if (line.size() >= 4 && line[3] == ' ') result += (result.empty() ? "" : ",") + line.substr(0, 3);
    start = end + 2;
  }
  return result;
}

struct exchange {
  std::string in;
  std::string codes;
  smtp_action next = smtp_action::read;
};
struct fsm_case {
  const char* name;
  std::vector<exchange> steps;
  bool tls_available = false;
};

class smtp_fsm : public ::testing::TestWithParam<fsm_case> {};

TEST_P(smtp_fsm, replies) {
  auto c = smtp_settings();
  auto s = make(c, GetParam().tls_available);
  for (const auto& e : GetParam().steps) {
    auto step = s.feed(e.in);
    EXPECT_EQ(codes(step.out), e.codes) << "input: " << e.in << "\nout: " << step.out;
    EXPECT_EQ(step.next, e.next) << "input: " << e.in;
    if (step.next == smtp_action::deliver) {
      step = s.delivered(email::store_outcome::stored());
      EXPECT_EQ(codes(step.out).substr(0, 3), "250");
    }
  }
}

const std::string hello = "EHLO client.test\r\n";
const std::string envelope = "MAIL FROM:<a@b.example>\r\nRCPT TO:<support@support.example>\r\n";

INSTANTIATE_TEST_SUITE_P(
    email, smtp_fsm,
    ::testing::Values(
        fsm_case{"happy_path",
                 {{hello, "250"},
                  {envelope, "250,250"},
                  {"DATA\r\n", "354"},
                  {"Subject: x\r\n\r\nhello\r\n.\r\n", "", smtp_action::deliver},
                  {"QUIT\r\n", "221", smtp_action::close}}},
        fsm_case{"helo_and_lowercase", {{"helo c\r\n", "250"}, {"mail from:<a@b>\r\nrcpt to:<Support@Support.Example>\r\n", "250,250"}}},
        fsm_case{"pipelined_batch",
                 {{hello + envelope + "RCPT TO:<reply+t1@support.example>\r\nDATA\r\n", "250,250,250,250,354"},
                  {"x\r\n.\r\nQUIT\r\n", "", smtp_action::deliver}}},
        fsm_case{"bad_sequence",
                 {{"MAIL FROM:<a@b>\r\n", "503"},
                  {hello, "250"},
                  {"RCPT TO:<support@support.example>\r\n", "503"},
                  {"MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", "250,503"},
                  {"DATA\r\n", "554"}}},
        fsm_case{"unknown_and_unimplemented",
                 {{"FOO\r\n", "500"}, {"\r\n", "500"}, {"AUTH PLAIN x\r\n", "502"}, {"EXPN list\r\n", "502"},
                  {"VRFY someone\r\n", "252"}, {"NOOP\r\n", "250"}, {"HELP\r\n", "214"}}},
        fsm_case{"too_many_errors",
                 {{"A\r\nB\r\nC\r\nD\r\n", "500,500,500,500"}, {"E\r\nNOOP\r\n", "500,421", smtp_action::close}}},
        fsm_case{"recipients",
                 {{hello, "250"},
                  {"MAIL FROM:<>\r\n", "250"},
                  {"RCPT TO:<sales@support.example>\r\n", "550"},
                  {"RCPT TO:<victim@elsewhere.example>\r\n", "550"},
                  {"RCPT TO:<reply+abc@support.example>\r\nRCPT TO:<support@support.example>\r\n", "250,250"},
                  {"RCPT TO:<postmaster>\r\n", "452"},
                  {"RCPT TO:<bad address>\r\n", "501"},
                  {"RCPT TO:<x@support.example> NOTIFY=NEVER\r\n", "555"}}},
        fsm_case{"size_param",
                 {{hello, "250"},
                  {"MAIL FROM:<a@b> SIZE=201\r\n", "552"},
                  {"MAIL FROM:<a@b> SIZE=abc\r\n", "501"},
                  {"MAIL FROM:<a@b> SIZE=100 BODY=8BITMIME\r\n", "250"},
                  {"RSET\r\nMAIL FROM:<a@b> SMTPUTF8\r\n", "250,555"}}},
        fsm_case{"oversize_data",
                 {{hello + envelope + "DATA\r\n", "250,250,250,354"},
                  {std::string(150, 'a') + "\r\n" + std::string(150, 'b') + "\r\n", ""},
                  {".\r\n", "552"},
                  {"MAIL FROM:<a@b>\r\n", "250"}}},
        fsm_case{"long_command_line", {{std::string(700, 'x'), "500"}, {"yyy\r\nNOOP\r\n", "250"}}},
        fsm_case{"starttls_unavailable", {{hello, "250"}, {"STARTTLS\r\n", "502"}}},
        fsm_case{"starttls", {{hello, "250"}, {"STARTTLS\r\nMAIL FROM:<injected@x>\r\n", "220", smtp_action::start_tls}}, true},
        fsm_case{"http_on_smtp_port", {{"GET / HTTP/1.1\r\n", "554", smtp_action::close}}},
        fsm_case{"split_input",
                 {{"EH", ""}, {"LO x\r", ""}, {"\nMAIL FROM:<a@b>", "250"}, {"\r\n", "250"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(smtp_session, ehlo_advertises_extensions) {
  auto c = smtp_settings();
  auto plain = make(c);
  auto out = plain.feed("EHLO x\r\n").out;
  EXPECT_NE(out.find("250-PIPELINING\r\n"), std::string::npos);
  EXPECT_NE(out.find("250-SIZE 200\r\n"), std::string::npos);
  EXPECT_NE(out.find("250-8BITMIME\r\n"), std::string::npos);
  EXPECT_EQ(out.find("STARTTLS"), std::string::npos);
  auto tls = make(c, true);
  EXPECT_NE(tls.feed("EHLO x\r\n").out.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(plain.greeting(), "220 mx.test ESMTP Pasokh\r\n");
}

TEST(smtp_session, data_is_unstuffed_and_traced) {
  auto c = smtp_settings();
  c.max_message_bytes = 10000;
  auto s = make(c);
  s.feed("EHLO client.test\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<Support@support.example>\r\nDATA\r\n");
  auto step = s.feed("Subject: t\r\n\r\n..leading dot\r\nbare lf\n.\nnot the end\r\n.\r\n");
  ASSERT_EQ(step.next, smtp_action::deliver);
  EXPECT_EQ(s.envelope().mail_from, "a@b.example");
  EXPECT_EQ(s.envelope().rcpt_to, std::vector<std::string>{"support@support.example"});
  EXPECT_EQ(s.envelope().helo, "client.test");
  EXPECT_EQ(s.take_message(),
            "Return-Path: <a@b.example>\r\n"
            "Received: from client.test (192.0.2.1)\r\n\tby mx.test with ESMTP; Tue, 12 Mar 2024 10:00:00 +0000\r\n"
            "Subject: t\r\n\r\n.leading dot\r\nbare lf\r\n\r\nnot the end\r\n");
}

TEST(smtp_session, store_outcomes_map_to_codes) {
  auto c = smtp_settings();
  for (auto [outcome, code] : {std::pair{email::store_outcome::stored(), "250"},
                               std::pair{email::store_outcome::temporary_failure("redis down"), "451"},
                               std::pair{email::store_outcome::rejected("spam\r\nscore"), "554"}}) {
    auto s = make(c);
    auto step = s.feed(hello + envelope + "DATA\r\nx\r\n.\r\nNOOP\r\n");
    ASSERT_EQ(step.next, smtp_action::deliver);
    step = s.delivered(outcome);
    EXPECT_EQ(codes(step.out), std::string(code) + ",250");  // then the pipelined NOOP
    EXPECT_EQ(step.out.find("\r\nscore"), std::string::npos);
    EXPECT_FALSE(s.in_data());
    EXPECT_EQ(codes(s.feed("MAIL FROM:<a@b>\r\n").out), "250");  // a new transaction may start
  }
}

TEST(smtp_session, starttls_resets_state) {
  auto c = smtp_settings();
  auto s = make(c, true);
  s.feed("EHLO x\r\n");
  auto step = s.feed("STARTTLS\r\nMAIL FROM:<injected@x>\r\n");
  ASSERT_EQ(step.next, smtp_action::start_tls);
  s.tls_started();
  EXPECT_EQ(codes(s.feed("MAIL FROM:<a@b>\r\n").out), "503");  // EHLO again first; the injected MAIL is gone
  auto ehlo = s.feed("EHLO x\r\n").out;
  EXPECT_EQ(ehlo.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(codes(s.feed("STARTTLS\r\n").out), "503");
  s.feed("MAIL FROM:<a@b>\r\nRCPT TO:<support@support.example>\r\nDATA\r\nx\r\n.\r\n");
  EXPECT_TRUE(s.envelope().tls);
  EXPECT_NE(s.take_message().find("with ESMTPS"), std::string::npos);
}

TEST(smtp_session, require_tls_refuses_plain_mail) {
  auto c = smtp_settings();
  c.require_tls = true;
  auto s = make(c, true);
  EXPECT_EQ(codes(s.feed("EHLO x\r\nMAIL FROM:<a@b>\r\n").out), "250,530");
}

TEST(smtp_session, long_data_lines_are_split_not_fatal) {
  auto c = smtp_settings();
  c.max_message_bytes = 100000;
  auto s = make(c);
  s.feed(hello + envelope + "DATA\r\n");
  std::string long_line(2000, 'z');
  auto step = s.feed(long_line);  // no line end yet
  EXPECT_EQ(step.next, smtp_action::read);
  step = s.feed("\r\n.\r\n");
  ASSERT_EQ(step.next, smtp_action::deliver);
  auto msg = s.take_message();
  std::size_t zs = 0;
  for (char ch : msg) zs += ch == 'z';
  EXPECT_EQ(zs, 2000u);
}

TEST(smtp_session, long_data_line_is_continued_without_an_inserted_line_break) {
  auto c = smtp_settings();
  c.max_message_bytes = 100000;
  auto s = make(c);
  s.feed(hello + envelope + "DATA\r\n");
  // 801 bytes without a line end: the 800 the session takes first end inside a two-byte letter.
  std::string persian = "x";
  for (int i = 0; i < 400; ++i) persian += "س";
  EXPECT_EQ(s.feed(persian).next, smtp_action::read);
  ASSERT_EQ(s.feed("\r\n.\r\n").next, smtp_action::deliver);
  auto msg = s.take_message();
  EXPECT_TRUE(msg.ends_with("\r\n" + persian + "\r\n")) << msg.substr(msg.size() - 20);
}

}  // namespace
