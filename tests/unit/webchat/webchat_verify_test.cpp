// The mail that gives a web chat visitor the code that confirms their email: its text in
// Persian, Arabic and English, and the mail the email channel makes of it
// (its own subject, automatic, a Message-ID that names no conversation).
#include <gtest/gtest.h>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/gateway/webchat_verify.hpp"

namespace email = pasokh::connectors::email;
using namespace pasokh::gateway;

// Named: the test files are compiled as one unit (unity build).
namespace verify_test {

const std::string rlm = "\u200F";
const std::string code = "042917";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t start = 0, nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

// As webchat_verify.lua puts it in the email channel's outbox.
email::composed_mail composed(const verification_mail& m, const email::email_config& config) {
  pasokh::proto::outbound_message out;
  out.message_id = "verify:7";
  out.channel = "mail";
  out.kind = pasokh::proto::channel_kind::email;
  out.recipient = "Sara@Example.com";
  out.subject = m.subject;
  out.text = m.text;
  out.automatic = true;
  return email::build_reply(out, {}, config, {.now = 1'710'237'600'000});
}

email::email_config mail_config() {
  email::email_config config;
  config.channel = "mail";
  config.recipients.addresses = {"support@shop.example"};
  config.recipients.reply_domain = "shop.example";
  config.from_address = "support@shop.example";
  return config;
}

TEST(verification_mail, persian_lines_we_write_stay_right_to_left_and_the_code_stays_bare) {
  auto m = verification_mail_in("fa", code);
  EXPECT_EQ(m.subject, "تأیید نشانی ایمیل");
  auto lines = lines_of(m.text);
  ASSERT_EQ(lines.size(), 7u) << m.text;  // why, the code, never give it, ignore: paragraphs
  for (std::size_t i : {0u, 4u, 6u}) EXPECT_EQ(lines[i].rfind(rlm, 0), 0u) << i << ": " << lines[i];
  EXPECT_EQ(lines[2], code);  // copied without a mark in it
  EXPECT_NE(lines[0].find("گفتگوی وب‌سایت ما"), std::string::npos);
  EXPECT_NE(lines[4].find("هرگز آن را به کسی ندهید"), std::string::npos);
  EXPECT_NE(lines[4].find("۳۰ دقیقه"), std::string::npos);
  EXPECT_NE(lines[6].find("نادیده بگیرید"), std::string::npos);
}

TEST(verification_mail, arabic_and_english_say_where_to_type_it_and_that_nobody_may_ask_for_it) {
  auto ar = verification_mail_in("ar", code);
  EXPECT_EQ(ar.subject, "تأكيد البريد الإلكتروني");
  EXPECT_EQ(ar.text.rfind(rlm, 0), 0u);
  EXPECT_NE(ar.text.find("\n" + code + "\n"), std::string::npos);
  EXPECT_NE(ar.text.find("لن يطلبه منك موظفونا"), std::string::npos);

  auto en = verification_mail_in("", code);
  EXPECT_EQ(en.subject, "Confirm your email address");
  EXPECT_EQ(en.text.find(rlm), std::string::npos);
  EXPECT_NE(en.text.find("\n" + code + "\n"), std::string::npos);
  EXPECT_NE(en.text.find("the chat on our website"), std::string::npos);
  EXPECT_NE(en.text.find("never give it to anyone"), std::string::npos);
  EXPECT_NE(en.text.find("our staff will never ask you for it"), std::string::npos);
  EXPECT_NE(en.text.find("If you did not ask for it, ignore this email"), std::string::npos);
  // No link: nothing in it to open and confirm.
  for (const auto* m : {&en, &ar}) EXPECT_EQ(m->text.find("http"), std::string::npos) << m->text;
}

// How a mail outside any thread is built: build_reply's own test (compose_test.cpp).
TEST(verification_mail, goes_out_with_its_subject_automatic_and_outside_any_thread) {
  const auto config = mail_config();
  auto mail = composed(verification_mail_in("fa", code), config);
  EXPECT_EQ(mail.message_id.rfind("pasokh-mail.", 0), 0u) << mail.message_id;
  EXPECT_NE(mail.data.find("Auto-Submitted: auto-replied\r\n"), std::string::npos);

  auto parsed = email::parse_email(mail.data, config);
  EXPECT_TRUE(parsed.warning.empty()) << parsed.warning;
  EXPECT_EQ(parsed.subject, "تأیید نشانی ایمیل");
  EXPECT_NE(parsed.full_text.find(code), std::string::npos);
  EXPECT_EQ(parsed.to.at(0).address, "sara@example.com");
}

}  // namespace verify_test
