// The reply builder, checked by reading its output back with parse_email.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/email/charset.hpp"
#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/smtp_protocol.hpp"
#include "pasokh/connectors/email/threading.hpp"

namespace email = pasokh::connectors::email;

namespace {

email::email_config reply_config() {
  email::email_config c;
  c.channel = "mail";
  c.recipients.addresses = {"support@support.example"};
  c.recipients.reply_domain = "support.example";
  c.from_address = "support@support.example";
  c.from_name = "پشتیبانی فروشگاه";
  return c;
}

pasokh::proto::outbound_message message(std::string text) {
  pasokh::proto::outbound_message m;
  m.message_id = "cv_9:12";
  m.conversation_id = "cv_9";
  m.channel = "mail";
  m.kind = pasokh::proto::channel_kind::email;
  m.recipient = "Ali.Rezaei@Gmail.Example";
  m.text = std::move(text);
  return m;
}

email::reply_thread thread() {
  email::reply_thread t;
  t.customer_name = "علی رضایی";
  t.subject = "Re: RE: گارانتی گوشی";
  t.in_reply_to = "CAF=fa-gmail-1@mail.gmail.example";
  t.references = {"first@mail.gmail.example", "pasokh.Y3ZfOQ.Y3ZfOTox@support.example"};
  t.reply_token = "tok-fa.9";
  return t;
}

constexpr pasokh::proto::timestamp_ms march_12 = 1710237600000;  // 2024-03-12 10:00:00 UTC

TEST(reply_subject, no_stacking) {
  EXPECT_EQ(email::reply_subject("Warranty", "d"), "Re: Warranty");
  EXPECT_EQ(email::reply_subject("Re: Warranty", "d"), "Re: Warranty");
  EXPECT_EQ(email::reply_subject("RE: Re: re:Warranty", "d"), "Re: Warranty");
  EXPECT_EQ(email::reply_subject("Re[2]: AW: SV: Warranty", "d"), "Re: Warranty");
  EXPECT_EQ(email::reply_subject("رد: طلب الإرجاع", "d"), "Re: طلب الإرجاع");
  EXPECT_EQ(email::reply_subject("پاسخ: Re: گارانتی", "d"), "Re: گارانتی");
  EXPECT_EQ(email::reply_subject("Fwd: invoice", "d"), "Re: Fwd: invoice");
  EXPECT_EQ(email::reply_subject("Reply needed", "d"), "Re: Reply needed");
  EXPECT_EQ(email::reply_subject("  ", "Your request"), "Your request");
}

TEST(encode_header_text, rfc2047_words_fit_in_lines) {
  auto encoded = email::encode_header_text(std::string(40, 'x') + " گارانتی گوشی من که هفته پیش خریدم خراب شده است", 9);
  for (std::size_t start = 0, end; start < encoded.size(); start = end + 2) {
    end = encoded.find("\r\n", start);
    if (end == std::string::npos) end = encoded.size();
    EXPECT_LE(end - start + (start == 0 ? 9 : 0), 78u);
  }
  EXPECT_EQ(email::decode_header_text(encoded), std::string(40, 'x') + " گارانتی گوشی من که هفته پیش خریدم خراب شده است");
  EXPECT_EQ(email::encode_header_text("Plain\r\nBcc: evil@x", 9), "Plain  Bcc: evil@x");
}

TEST(format_address, quoting) {
  EXPECT_EQ(email::format_address("", "a@x"), "<a@x>");
  EXPECT_EQ(email::format_address("Jane Doe", "a@x"), "Jane Doe <a@x>");
  EXPECT_EQ(email::format_address("Doe, Jane", "a@x"), "\"Doe, Jane\" <a@x>");
  EXPECT_EQ(email::format_address("a \"b\"", "a@x"), "\"a \\\"b\\\"\" <a@x>");
  EXPECT_EQ(email::format_address("علی", "a@x"), "=?UTF-8?B?2LnZhNuM?= <a@x>");
}

TEST(format_date, rfc5322) { EXPECT_EQ(email::format_date(march_12), "Tue, 12 Mar 2024 10:00:00 +0000"); }

TEST(build_reply, threading_headers_and_round_trip) {
  auto mail = email::build_reply(message("سلام علی عزیز،\nدستگاه شما آماده است.\n.dot line"), thread(), reply_config(),
                                 {.now = march_12});
  EXPECT_EQ(mail.message_id, "pasokh.Y3ZfOQ.Y3ZfOToxMg@support.example");
  EXPECT_EQ(mail.recipients, std::vector<std::string>{"ali.rezaei@gmail.example"});
  EXPECT_EQ(mail.envelope_from, "support@support.example");
  const auto& d = mail.data;
  EXPECT_NE(d.find("\r\nIn-Reply-To: <CAF=fa-gmail-1@mail.gmail.example>\r\n"), std::string::npos);
  EXPECT_NE(d.find("\r\nReferences: <first@mail.gmail.example>\r\n <pasokh.Y3ZfOQ.Y3ZfOTox@support.example>\r\n "
                   "<CAF=fa-gmail-1@mail.gmail.example>\r\n"),
            std::string::npos);
  EXPECT_NE(d.find("Date: Tue, 12 Mar 2024 10:00:00 +0000\r\n"), std::string::npos);
  EXPECT_EQ(d.find("Auto-Submitted"), std::string::npos);
  EXPECT_EQ(d.find("\n\n"), std::string::npos);  // CRLF only
  for (std::size_t i = 0; i < d.size(); ++i)
    if (d[i] == '\n') {
      ASSERT_EQ(d[i - 1], '\r');
    }
  for (unsigned char c : d) ASSERT_LT(c, 0x80);  // 7-bit clean: RFC 2047 headers, base64 bodies

  auto parsed = email::parse_email(d, reply_config());
  EXPECT_TRUE(parsed.warning.empty()) << parsed.warning;
  EXPECT_EQ(parsed.subject, "Re: گارانتی گوشی");
  EXPECT_EQ(parsed.message_id, mail.message_id);
  EXPECT_EQ(parsed.in_reply_to, "CAF=fa-gmail-1@mail.gmail.example");
  EXPECT_EQ(parsed.references.size(), 3u);
  EXPECT_EQ(parsed.from.name, "پشتیبانی فروشگاه");
  ASSERT_EQ(parsed.reply_to.size(), 1u);
  EXPECT_EQ(parsed.reply_to[0].address, "reply+tok-fa.9@support.example");
  ASSERT_EQ(parsed.to.size(), 1u);
  EXPECT_EQ(parsed.to[0].name, "علی رضایی");
  EXPECT_EQ(parsed.event.text, "سلام علی عزیز،\nدستگاه شما آماده است.\n.dot line");
  EXPECT_NE(parsed.html.find("dir=\"auto\""), std::string::npos);
  EXPECT_NE(parsed.html.find("lang=\"fa\""), std::string::npos);
  EXPECT_FALSE(parsed.event.automatic);
  EXPECT_TRUE(parsed.event.echo);  // our own Message-ID: a looped copy never opens a conversation
  // A reply to our reply threads back to the conversation.
  email::parsed_email answer;
  answer.in_reply_to = parsed.message_id;
  EXPECT_EQ(email::first_thread_hint(answer, "support.example").conversation_id, "cv_9");
}

TEST(build_reply, automatic_ascii_new_thread_with_attachment) {
  auto msg = message("Thanks, we received your request.\nA technician will call you.");
  msg.automatic = true;
  email::reply_thread fresh;
  email::compose_input in{.now = march_12};
  in.attachments.push_back({"راهنما.pdf", "application/pdf", std::string("%PDF-1.4\n%%EOF\n")});
  auto mail = email::build_reply(msg, fresh, reply_config(), in);
  const auto& d = mail.data;
  EXPECT_NE(d.find("\r\nAuto-Submitted: auto-replied\r\n"), std::string::npos);
  EXPECT_NE(d.find("Subject: Your support request\r\n"), std::string::npos);
  EXPECT_EQ(d.find("In-Reply-To"), std::string::npos);
  EXPECT_EQ(d.find("Reply-To"), std::string::npos);
  EXPECT_NE(d.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  auto parsed = email::parse_email(d, reply_config());
  EXPECT_TRUE(parsed.event.automatic);
  EXPECT_EQ(parsed.event.text, "Thanks, we received your request.\nA technician will call you.");
  ASSERT_EQ(parsed.attachments.size(), 1u);
  EXPECT_EQ(parsed.attachments[0].meta.name, "راهنما.pdf");
  EXPECT_EQ(parsed.attachments[0].content, "%PDF-1.4\n%%EOF\n");
}

TEST(build_reply, a_mail_outside_any_conversation_has_its_own_subject_and_no_thread) {
  auto msg = message("Open this link to confirm your email address.");
  msg.conversation_id.clear();
  msg.message_id = "verify:3";
  msg.subject = "تأیید نشانی ایمیل";
  msg.automatic = true;
  auto mail = email::build_reply(msg, {}, reply_config(), {.now = march_12});
  // A valid id (no empty part) that our threading does not take for a conversation's.
  EXPECT_EQ(mail.message_id.rfind("pasokh-mail.", 0), 0u) << mail.message_id;
  EXPECT_EQ(mail.message_id.find(".."), std::string::npos);
  EXPECT_FALSE(email::parse_message_id(mail.message_id, "support.example"));
  auto parsed = email::parse_email(mail.data, reply_config());
  EXPECT_EQ(parsed.subject, "تأیید نشانی ایمیل");
  EXPECT_TRUE(parsed.event.automatic);
  EXPECT_EQ(mail.data.find("In-Reply-To"), std::string::npos);
}

TEST(build_reply, deterministic_and_rejects_bad_addresses) {
  auto a = email::build_reply(message("x"), thread(), reply_config(), {.now = march_12});
  auto b = email::build_reply(message("x"), thread(), reply_config(), {.now = march_12});
  EXPECT_EQ(a.data, b.data);  // a retried send is the same message
  auto bad = message("x");
  bad.recipient = "not an address";
  EXPECT_THROW(email::build_reply(bad, thread(), reply_config(), {}), std::invalid_argument);
  bad.recipient = "a@b.example>\r\nBcc: x@y";
  EXPECT_THROW(email::build_reply(bad, thread(), reply_config(), {}), std::invalid_argument);
}

TEST(reply_thread, from_the_customers_mail_and_through_json) {
  std::string raw =
      "From: =?UTF-8?B?2LnZhNuM?= <ali@example.com>\r\nTo: support@support.example\r\nSubject: RE: warranty\r\n"
      "Message-ID: <m2@example.com>\r\nReferences: <m0@example.com> <m1@example.com>\r\n\r\nhi\r\n";
  auto mail = email::parse_email(raw, reply_config());
  auto t = email::thread_from(mail, "tok1");
  EXPECT_EQ(t.customer_name, "علی");
  EXPECT_EQ(t.in_reply_to, "m2@example.com");
  EXPECT_EQ(t.references, (std::vector<std::string>{"m0@example.com", "m1@example.com"}));
  nlohmann::json j = t;
  auto back = j.get<email::reply_thread>();
  EXPECT_EQ(back.subject, "RE: warranty");
  EXPECT_EQ(back.references, t.references);
  EXPECT_EQ(back.reply_token, "tok1");
  auto reply = email::build_reply(message("ok"), back, reply_config(), {.now = march_12});
  EXPECT_NE(reply.data.find("Subject: Re: warranty\r\n"), std::string::npos);
  EXPECT_NE(reply.data.find("References: <m0@example.com>\r\n <m1@example.com>\r\n <m2@example.com>\r\n"),
            std::string::npos);
}

TEST(smtp_protocol, dot_stuffing) {
  EXPECT_EQ(email::dot_stuff("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(email::dot_stuff(".x\nend"), "..x\r\nend\r\n.\r\n");
  EXPECT_EQ(email::dot_stuff("smuggle\n.\nMAIL FROM:<x>"), "smuggle\r\n..\r\nMAIL FROM:<x>\r\n.\r\n");
}

TEST(smtp_protocol, reply_reader_and_classification) {
  email::smtp_reply_reader r;
  EXPECT_FALSE(r.line("250-mx.example Hello"));
  EXPECT_FALSE(r.line("250-STARTTLS"));
  EXPECT_FALSE(r.line("250-AUTH PLAIN LOGIN"));
  auto ehlo = r.line("250 SIZE 1000");
  ASSERT_TRUE(ehlo);
  EXPECT_EQ(ehlo->code, 250);
  EXPECT_TRUE(email::has_extension(*ehlo, "starttls"));
  EXPECT_EQ(email::extension_params(*ehlo, "AUTH"), "PLAIN LOGIN");
  EXPECT_FALSE(email::has_extension(*ehlo, "PIPELINING"));
  EXPECT_EQ(r.line("garbage")->code, 0);
  EXPECT_EQ(email::classify(250), email::send_status::delivered);
  EXPECT_EQ(email::classify(451), email::send_status::retry);
  EXPECT_EQ(email::classify(550), email::send_status::permanent);
  EXPECT_EQ(email::classify(0), email::send_status::retry);
  EXPECT_EQ(email::auth_plain("user", "pass"), "AHVzZXIAcGFzcw==");
}

}  // namespace

TEST(build_reply, campaign_mail_says_how_to_stop_it_in_its_language) {
  auto msg = message("یلدا مبارک! کد تخفیف شما: YALDA-1404");
  msg.automatic = true;
  msg.campaign = "cp_1";
  msg.unsubscribe_token = "tok_AbC-123";
  auto config = reply_config();
  config.unsubscribe_base = "https://support.example/unsubscribe/";
  // Sent into a conversation whose last mail was about a warranty.
  auto mail = email::build_reply(msg, thread(), config, email::compose_input{.now = march_12});
  const auto& d = mail.data;
  EXPECT_NE(d.find("\r\nAuto-Submitted: auto-generated\r\n"), std::string::npos) << "outreach, not an answer (RFC 3834)";
  EXPECT_EQ(d.find("In-Reply-To"), std::string::npos) << "a thread of its own";
  EXPECT_NE(d.find("\r\nList-Unsubscribe: <https://support.example/unsubscribe/tok_AbC-123>, "
                   "<mailto:support@support.example?subject=unsubscribe>\r\n"),
            std::string::npos);
  EXPECT_NE(d.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  auto parsed = email::parse_email(d, reply_config());
  EXPECT_EQ(parsed.subject, "یلدا مبارک! کد تخفیف شما: YALDA-1404") << "titled by its first line, not Re: the warranty";
  EXPECT_NE(parsed.full_text.find("یلدا مبارک"), std::string::npos);
  EXPECT_NE(parsed.full_text.find("«لغو» را پاسخ دهید یا این پیوند را باز کنید: https://support.example/unsubscribe/tok_AbC-123"),
            std::string::npos)
      << parsed.full_text;

  // Without a public address: no one-click link, only the mailto and the "stop" reply.
  auto plain = email::build_reply(msg, email::reply_thread{}, reply_config(), email::compose_input{.now = march_12});
  EXPECT_NE(plain.data.find("\r\nList-Unsubscribe: <mailto:support@support.example?subject=unsubscribe>\r\n"), std::string::npos);
  EXPECT_EQ(plain.data.find("List-Unsubscribe-Post"), std::string::npos);
  EXPECT_NE(email::parse_email(plain.data, reply_config()).full_text.find("«لغو» را پاسخ دهید."), std::string::npos);

  // A long first line is cut at a space.
  msg.text = "Dear Sara, your warranty for the Galaxy S23 Ultra ends next month: extend it today for half price\nDetails...";
  auto long_one = email::build_reply(msg, email::reply_thread{}, config, email::compose_input{.now = march_12});
  EXPECT_EQ(email::parse_email(long_one.data, reply_config()).subject, "Dear Sara, your warranty for the Galaxy S23 Ultra ends next…");
}
