// Pure helpers: charset fallbacks, HTML to text, quote stripping, automatic
// mail, Message-ID encoding, configuration.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/email/automatic.hpp"
#include "pasokh/connectors/email/charset.hpp"
#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/html_text.hpp"
#include "pasokh/connectors/email/quotes.hpp"
#include "pasokh/connectors/email/threading.hpp"

namespace email = pasokh::connectors::email;

namespace {

// "سلام" in windows-1256 and in iso-8859-6: the same letters, different bytes.
const std::string salam_1256 = "\xD3\xE1\xC7\xE3";
const std::string salam_88596 = "\xD3\xE4\xC7\xE5";

TEST(charset, declared_charsets_decode) {
  EXPECT_EQ(email::decode_charset(salam_1256, "windows-1256").text, "سلام");
  EXPECT_EQ(email::decode_charset(salam_1256, "cp1256").text, "سلام");
  EXPECT_EQ(email::decode_charset(salam_88596, "ISO-8859-6").text, "سلام");
  EXPECT_EQ(email::decode_charset(salam_88596, "iso-8859-6-i").text, "سلام");
  EXPECT_EQ(email::decode_charset("caf\xE9", "iso-8859-1").text, "café");
  EXPECT_EQ(email::decode_charset("plain", "").text, "plain");
  EXPECT_TRUE(email::decode_charset("سلام", "utf-8").note.empty());
}

struct mislabel_case {
  std::string bytes, declared, expect, charset;
};

class charset_fallback : public ::testing::TestWithParam<mislabel_case> {};

TEST_P(charset_fallback, picks_the_plausible_reading) {
  const auto& c = GetParam();
  auto d = email::decode_charset(c.bytes, c.declared);
  EXPECT_EQ(d.text, c.expect);
  EXPECT_EQ(d.charset, c.charset);
  EXPECT_FALSE(d.note.empty());
}

INSTANTIATE_TEST_SUITE_P(
    email, charset_fallback,
    ::testing::Values(
        // windows-1256 labelled iso-8859-6 with kaf (0xDF, undefined in 8859-6): strict decode fails.
        mislabel_case{"\xDF\xCA\xC7\xC8", "iso-8859-6", "كتاب", "windows-1256"},
        // iso-8859-6 labelled windows-1256: decodes, but mixes Latin letters into Arabic words.
        mislabel_case{"\xE7\xD0\xC7 \xEA\xE8\xE5 \xE1\xEA", "windows-1256", "هذا يوم في", "iso-8859-6"},
        // UTF-8 labelled latin-1 (classic mojibake).
        mislabel_case{"سلام دنیا", "iso-8859-1", "سلام دنیا", "utf-8"},
        // 8-bit without a label: UTF-8 if valid, else windows-1256.
        mislabel_case{"\xD3\xE1\xC7\xE3 \xC8\xD1 \xD4\xE3\xC7", "", "سلام بر شما", "windows-1256"},
        // Unlabelled iso-8859-6 whose letters are all letters in windows-1256 too
        // ("محمد الأحمد" read there is "هحهد انأحهد"): the article «ال» decides.
        mislabel_case{"\xE5\xCD\xE5\xCF \xC7\xE4\xC3\xCD\xE5\xCF", "", "محمد الأحمد", "iso-8859-6"},
        // ... and windows-1256 with the article stays windows-1256 ("الحمد لله").
        mislabel_case{"\xC7\xE1\xCD\xE3\xCF \xE1\xE1\xE5", "", "الحمد لله", "windows-1256"},
        mislabel_case{"سلام", "us-ascii", "سلام", "utf-8"},
        // An unknown charset name falls back too.
        mislabel_case{"سلام", "x-no-such-charset", "سلام", "utf-8"}));

TEST(charset, stray_byte_in_utf8_is_replaced_not_a_reason_to_switch_charsets) {
  // A footer gateway added a lone 0xA0 (Latin-1 no-break space) to a UTF-8 body.
  auto d = email::decode_charset("سلام، سفارش من کجاست؟\xA0", "utf-8");
  EXPECT_EQ(d.text, "سلام، سفارش من کجاست؟\uFFFD");
  EXPECT_EQ(d.charset, "utf-8");
  EXPECT_NE(d.note.find("U+FFFD"), std::string::npos);
  // Unlabelled 8-bit that is almost all UTF-8 is read as UTF-8 too.
  EXPECT_EQ(email::decode_charset("\xA0سلام دنیا", "").text, "\uFFFDسلام دنیا");
  // Latin-1 mislabelled as UTF-8 has no valid multi-byte characters: the fallback still wins.
  EXPECT_EQ(email::decode_charset("caf\xE9", "utf-8").text, "café");
  EXPECT_EQ(email::decode_charset("\xD3\xE1\xC7\xE3 \xC8\xD1 \xD4\xE3\xC7", "utf-8").text, "سلام بر شما");
}

TEST(charset, persian_in_1256_is_noted) {
  // "گوشي" with Arabic yeh: gaf 0x90, waw 0xE6, sheen 0xD4, yeh 0xED.
  auto d = email::decode_charset("\x90\xE6\xD4\xED", "windows-1256");
  EXPECT_EQ(d.text, "گوشي");
  EXPECT_NE(d.note.find("U+064A"), std::string::npos);
}

TEST(charset, garble_score) {
  EXPECT_EQ(email::garble_score("سلام، حال شما چطور است؟ Hello world, café."), 0);
  EXPECT_EQ(email::garble_score("كتابًا جميلٌ"), 0);  // tanween at word ends
  EXPECT_GT(email::garble_score("كرحبا أرٍد إرجاغ"), 0);
  EXPECT_GT(email::garble_score("ÓáÇã"), 0);
  EXPECT_GT(email::garble_score("\xC2\x85x"), 0);  // C1 control
}

TEST(charset, header_words) {
  EXPECT_EQ(email::decode_header_text("=?UTF-8?B?2LPZhNin2YU=?="), "سلام");
  EXPECT_EQ(email::decode_header_text("=?utf-8?q?=D8=B3=D9=84=D8=A7=D9=85_x?="), "سلام x");
  EXPECT_EQ(email::decode_header_text("Re: =?UTF-8?B?2LPZhA==?=\r\n =?UTF-8?B?2KfZhQ==?= ok"), "Re: سلام ok");
  // A character split across two words is rejoined.
  EXPECT_EQ(email::decode_header_text("=?UTF-8?B?2A==?= =?UTF-8?B?s9mE2KfZhQ==?="), "سلام");
  EXPECT_EQ(email::decode_header_text("=?windows-1256?B?08fH4w==?="), "\u0633\u0627\u0627\u0645");
  EXPECT_EQ(email::decode_header_text("=?utf-8*fa?B?2LPZhNin2YU=?="), "سلام");
  EXPECT_EQ(email::decode_header_text("plain \xD3\xE1\xC7\xE3"), "plain سلام");  // raw 8-bit, 1256
  EXPECT_EQ(email::decode_header_text("=?bogus"), "=?bogus");
}

// ~1 MB of "=?" that never close (a crafted Subject): the old search from each
// "=?" to the end of the header took minutes here; the suite's TIMEOUT (20 s,
// tests/unit/email/CMakeLists.txt) fails a quadratic decoder.
TEST(charset, unclosed_encoded_words_decode_in_linear_time) {
  std::string header;
  while (header.size() < 1'000'000) header += "=?utf-8?b?x";
  std::string with_word = header + " =?UTF-8?B?2LPZhNin2YU=?=";
  EXPECT_EQ(email::decode_header_text(header), header);
  EXPECT_EQ(email::decode_header_text(with_word), header + " سلام");
  EXPECT_EQ(email::merge_encoded_words(with_word), with_word.substr(0, header.size()) + " =?UTF-8?B?2LPZhNin2YU=?=");
  EXPECT_EQ(email::unclosed_encoded_words(with_word), header.size() / 11);
  // Whitespace ends a word: the "=?" before it opens none, the one after it does.
  EXPECT_EQ(email::decode_header_text("=?utf-8?b?2LPZhNin =?utf-8?b?2YU=?="), "=?utf-8?b?2LPZhNin م");
}

TEST(html_text, blocks_entities_and_dropped_elements) {
  auto t = email::html_to_text(
      "<html><head><style>x{}</style><title>t</title></head><body>"
      "<p>One&nbsp;&amp;&#32;two</p><p>Three<br>four</p><script>var a = '<p>';</script>"
      "<table><tr><td>a</td><td>b</td></tr></table><!-- comment --><div>x &lt; y &#x628;</div></body></html>");
  EXPECT_EQ(t.text, "One & two\n\nThree\nfour\n\na b\n\nx < y ب");
}

TEST(html_text, pre_keeps_whitespace_and_links_show_targets) {
  auto t = email::html_to_text("<pre>a  b\n  c</pre><a href=\"https://x.example/p?a=1&amp;b=2\">here</a>"
                               "<a href=\"https://y.example\">https://y.example</a>");
  EXPECT_EQ(t.text, "a  b\n  c\n\nhere <https://x.example/p?a=1&b=2>https://y.example");
}

TEST(html_text, broken_markup_is_tolerated) {
  EXPECT_EQ(email::html_to_text("a < b <p class='x>never closed").text, "a < b");
  EXPECT_EQ(email::html_to_text("<div>unterminated <b").text, "unterminated");
  EXPECT_EQ(email::html_to_text("&unknown; &amp &#99999999;").text, "&unknown; & \xEF\xBF\xBD");
}

struct html_quote_case {
  const char* html;
  const char* shown;
};
class html_quotes : public ::testing::TestWithParam<html_quote_case> {};

TEST_P(html_quotes, stripped) {
  auto t = email::html_to_text(GetParam().html, {.strip_quotes = true});
  EXPECT_EQ(t.text, GetParam().shown);
  EXPECT_TRUE(t.quote_removed);
}

INSTANTIATE_TEST_SUITE_P(
    email, html_quotes,
    ::testing::Values(
        html_quote_case{"<div>Yes</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon wrote:</div>"
                        "<blockquote class=\"gmail_quote\"><div>old</div></blockquote></div>",
                        "Yes"},
        html_quote_case{"<p>Ok</p><hr><div id=\"divRplyFwdMsg\"><b>From:</b> x</div><div>old</div><p>older</p>", "Ok"},
        html_quote_case{"<p>Fine</p><div class=\"moz-cite-prefix\">On x wrote:</div><blockquote type=\"cite\">"
                        "<blockquote type=\"cite\">deep</blockquote>old</blockquote><p>after</p>",
                        "Fine\n\nafter"},
        html_quote_case{"New<div class=\"gmail_signature\">--<br>Sig</div>", "New"},
        html_quote_case{"Hi<div class=\"yahoo_quoted\">old</div>", "Hi"}));

struct quote_case {
  const char* name;
  const char* text;
  const char* shown;
};
class plain_quotes : public ::testing::TestWithParam<quote_case> {};

TEST_P(plain_quotes, stripped) { EXPECT_EQ(email::strip_quoted_text(GetParam().text).text, GetParam().shown); }

INSTANTIATE_TEST_SUITE_P(
    email, plain_quotes,
    ::testing::Values(
        quote_case{"gt_lines", "Thanks!\n\n> old line\n> another\n", "Thanks!"},
        quote_case{"on_wrote", "Yes please.\n\nOn Mon, Mar 11, 2024 at 10:00 AM Support <s@x> wrote:\n> q\n", "Yes please."},
        quote_case{"on_wrote_wrapped", "Yes.\n\nOn Mon, Mar 11, 2024 at 10:00 AM Support Team <\nsupport@x.example> wrote:\n\n> q\n",
                   "Yes."},
        quote_case{"original_message", "Done.\n\n-----Original Message-----\nFrom: a\nSent: b\nTo: c\nSubject: d\n\nold\n", "Done."},
        quote_case{"outlook_block", "See you.\n\nFrom: Support <s@x>\nSent: Monday, 1 PM\nTo: me\nSubject: RE: x\n\nold\n",
                   "See you."},
        quote_case{"outlook_bold", "Ok\r\n\r\n*From:* Support <s@x>\r\n*Sent:* Monday\r\n*To:* me\r\n*Subject:* x\r\nold\r\n", "Ok"},
        quote_case{"underscores", "Ok\n________________________________\nFrom: S\nSent: M\nTo: me\nSubject: x\n", "Ok"},
        quote_case{"persian_attribution", "باشه.\n\nدر تاريخ ۱۱ مارس ۲۰۲۴، پشتیبانی <s@x> نوشت:\n> قدیمی\n", "باشه."},
        quote_case{"persian_bidi_marks", "باشه\n\u202Bدر تاریخ دوشنبه پشتیبانی <s@x> نوشت:\u202C\n> قدیمی\n", "باشه"},
        quote_case{"arabic_attribution", "نعم\n\nفي الاثنين، 11 مارس 2024 كتب الدعم <s@x>:\n> قديم\n", "نعم"},
        quote_case{"arabic_gmail_new", "حسنا\n\nفي الخميس، 14 مارس 2024 في 10:30 ص تمت كتابة ما يلي بواسطة Support <s@x>:\n> q\n",
                   "حسنا"},
        quote_case{"persian_outlook",
                   "ممنون\n\nاز: پشتیبانی <support@shop.example>\nارسال شده: دوشنبه\nبه: من\nموضوع: پاسخ\n\nقدیمی\n", "ممنون"},
        quote_case{"outlook_mailto", "Ok\n\nFrom: Support [mailto:s@x.example]\nSent: Monday\nTo: me\nSubject: x\n\nold\n", "Ok"},
        // The customer's own lines that look like header words, with no sender address, stay.
        quote_case{"persian_header_words_kept", "سلام\nاز: تهران\nتاریخ: فردا\nبه: مشهد\nلطفا ارسال کنید\n",
                   "سلام\nاز: تهران\nتاریخ: فردا\nبه: مشهد\nلطفا ارسال کنید"},
        quote_case{"english_header_words_kept", "Hi\nFrom: London\nDate: Friday\nTo: Paris\nPlease ship it\n",
                   "Hi\nFrom: London\nDate: Friday\nTo: Paris\nPlease ship it"},
        quote_case{"arabic_original", "شكرا\n-----الرسالة الأصلية-----\nمن: الدعم\n", "شكرا"},
        quote_case{"signature", "Hello\n\n-- \nJane Doe\nACME\n", "Hello"},
        quote_case{"sent_from", "Fine\n\nSent from my iPhone\n", "Fine"},
        quote_case{"inline_reply", "> q1\na1\n> q2\na2\n", "a1\na2"},
        quote_case{"other_language_attribution", "Oui\n\nLe lun. 11 mars 2024, Support a écrit :\n> q\n", "Oui"},
        quote_case{"unknown_attribution_trailing", "Sure\n\nSupport Team said:\n> q\n> q2\n", "Sure"},
        quote_case{"forward_kept", "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@x>\nDate: Mon\nSubject: S\nTo: B\n\nbody\n",
                   "FYI\n\n---------- Forwarded message ---------\nFrom: A <a@x>\nDate: Mon\nSubject: S\nTo: B\n\nbody"},
        quote_case{"nothing_to_strip", "Line one\nLine two: details\n", "Line one\nLine two: details"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(quotes, only_quote_gives_empty_text) {
  auto s = email::strip_quoted_text("> all quoted\n");
  EXPECT_EQ(s.text, "");
  EXPECT_TRUE(s.quote_removed);
}

struct auto_case {
  email::header_list headers;
  const char* from;
  const char* content_type;
  bool automatic;
};
class automatic : public ::testing::TestWithParam<auto_case> {};

TEST_P(automatic, detected) {
  const auto& c = GetParam();
  EXPECT_EQ(!email::automatic_reason(c.headers, c.from, c.content_type).empty(), c.automatic);
}

INSTANTIATE_TEST_SUITE_P(
    email, automatic,
    ::testing::Values(auto_case{{{"Auto-Submitted", "auto-replied"}}, "a@x", "text/plain", true},
                      auto_case{{{"Auto-Submitted", "auto-generated; type=x"}}, "a@x", "text/plain", true},
                      auto_case{{{"Auto-Submitted", "no"}}, "a@x", "text/plain", false},
                      auto_case{{{"Auto-Submitted", " No "}}, "a@x", "text/plain", false},
                      auto_case{{{"Precedence", "bulk"}}, "a@x", "text/plain", true},
                      auto_case{{{"Precedence", "junk"}}, "a@x", "text/plain", true},
                      auto_case{{{"Precedence", "list"}}, "a@x", "text/plain", true},
                      auto_case{{{"Precedence", "first-class"}}, "a@x", "text/plain", false},
                      auto_case{{{"X-Auto-Response-Suppress", "OOF"}}, "a@x", "text/plain", true},
                      auto_case{{{"List-Id", "<l.x>"}}, "a@x", "text/plain", true},
                      auto_case{{{"Return-Path", "<>"}}, "a@x", "text/plain", true},
                      auto_case{{{"Return-Path", "< >"}}, "a@x", "text/plain", true},
                      auto_case{{{"Return-Path", "<a@x>"}}, "a@x", "text/plain", false},
                      auto_case{{}, "MAILER-DAEMON@mx.example", "text/plain", true},
                      auto_case{{}, "postmaster@mx.example", "text/plain", true},
                      auto_case{{}, "a@x", "multipart/report", true},
                      auto_case{{{"Subject", "Out of office"}}, "a@x", "multipart/mixed", false}));

TEST(threading, message_id_round_trip) {
  auto id = email::make_message_id("cv_42", "cv_42:7", "support.example");
  EXPECT_EQ(id, "pasokh.Y3ZfNDI.Y3ZfNDI6Nw@support.example");
  auto back = email::parse_message_id("<" + id + ">", "SUPPORT.example");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->conversation_id, "cv_42");
  EXPECT_EQ(back->message_id, "cv_42:7");
  auto odd = email::make_message_id("conv/with spaces+ü", "m", "d.example");
  EXPECT_EQ(email::parse_message_id(odd, "d.example")->conversation_id, "conv/with spaces+ü");
  EXPECT_FALSE(email::parse_message_id(id, "other.example"));
  EXPECT_FALSE(email::parse_message_id("CAF123@mail.gmail.com", "support.example"));
  EXPECT_FALSE(email::parse_message_id("pasokh.!!.x@support.example", "support.example"));
  // A mail outside any conversation: a valid id (no empty dot-atom part) that names no thread.
  auto alone = email::make_message_id("", "verify:7", "support.example");
  EXPECT_EQ(alone, "pasokh-mail.dmVyaWZ5Ojc@support.example");
  EXPECT_FALSE(email::parse_message_id(alone, "support.example"));
}

// Conversation and message ids are sequential: without the tag anyone could
// write one of our Message-IDs (a forged bounce).
TEST(threading, message_id_tag_proves_we_made_it) {
  const std::string key = "0123456789abcdef-secret";
  auto id = email::make_message_id("cv_42", "cv_42:7", "support.example", key);
  ASSERT_TRUE(id.starts_with("pasokh.Y3ZfNDI.Y3ZfNDI6Nw."));
  EXPECT_EQ(id.size(), std::string("pasokh.Y3ZfNDI.Y3ZfNDI6Nw.@support.example").size() + 16);
  EXPECT_EQ(id, email::make_message_id("cv_42", "cv_42:7", "support.example", key)) << "a retry sends the same id";
  auto back = email::parse_message_id("<" + id + ">", "support.example", key);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->verified);
  EXPECT_EQ(back->message_id, "cv_42:7");
  EXPECT_FALSE(email::parse_message_id(id, "support.example", "another key of 16+ bytes")->verified);
  EXPECT_FALSE(email::parse_message_id(id, "support.example")->verified) << "no key, nothing verified";
  // Guessed (the form before tags), or the tag of another message.
  EXPECT_FALSE(email::parse_message_id("pasokh.Y3ZfNDI.Y3ZfNDI6Nw@support.example", "support.example", key)->verified);
  auto other = email::make_message_id("cv_42", "cv_42:8", "support.example", key);
  auto swapped = "pasokh.Y3ZfNDI.Y3ZfNDI6Nw" + other.substr(other.rfind('.', other.find('@')));
  EXPECT_FALSE(email::parse_message_id(swapped, "support.example", key)->verified);
  EXPECT_FALSE(email::parse_message_id("pasokh.Y3ZfNDI.Y3ZfNDI6Nw.@support.example", "support.example", key));
  EXPECT_FALSE(email::parse_message_id("pasokh.Y3ZfNDI.Y3ZfNDI6Nw.a.b@support.example", "support.example", key));
}

TEST(threading, our_message_id_names_its_conversation_message) {
  EXPECT_EQ(email::message_seq({"cv_42", "cv_42:7"}), 7u);
  EXPECT_FALSE(email::message_seq({"cv_42", "cv_4:7"}));   // another conversation's
  EXPECT_FALSE(email::message_seq({"cv_42", "cv_42:"}));
  EXPECT_FALSE(email::message_seq({"cv_42", "cv_42:7x"}));
  EXPECT_FALSE(email::message_seq({"cv_42", "m"}));
}

TEST(threading, normalized_subject_survives_replies_and_forwards) {
  EXPECT_EQ(email::normalized_subject("Washing machine leaks"), "washing machine leaks");
  EXPECT_EQ(email::normalized_subject("RE:  Washing\tmachine   LEAKS "), "washing machine leaks");
  EXPECT_EQ(email::normalized_subject("Fwd: Re[2]: AW: washing machine leaks"), "washing machine leaks");
  EXPECT_EQ(email::normalized_subject("پاسخ: رد: گارانتی یخچال"), "گارانتی یخچال");
  EXPECT_EQ(email::normalized_subject("گارانتی  یخچال"), "گارانتی یخچال");
  EXPECT_EQ(email::normalized_subject("Reply needed"), "reply needed");
  EXPECT_EQ(email::normalized_subject(""), "");
  // Arabic yeh and kaf (a windows-1256 mail) meet the Persian letters of the same subject.
  EXPECT_EQ(email::normalized_subject("Re: \u0643\u0627\u0631\u062A \u06AF\u0627\u0631\u0627\u0646\u062A\u064A"),
            email::normalized_subject("\u06A9\u0627\u0631\u062A \u06AF\u0627\u0631\u0627\u0646\u062A\u06CC"));
  EXPECT_EQ(email::normalized_subject("\u0645\u0648\u0633\u0649"), "\u0645\u0648\u0633\u06CC");
  EXPECT_NE(email::normalized_subject("Invoice for order 88"), email::normalized_subject("Re: Washing machine leaks"));
}

TEST(threading, reply_tokens) {
  EXPECT_EQ(email::reply_token("reply+abc-1.2_3=@support.example", "support.example"), "abc-1.2_3=");
  EXPECT_EQ(email::reply_token("Reply+ABC@Support.Example", "support.example"), "ABC");
  EXPECT_FALSE(email::reply_token("reply+@support.example", "support.example"));
  EXPECT_FALSE(email::reply_token("reply+a b@support.example", "support.example"));
  EXPECT_FALSE(email::reply_token("reply+abc@evil.example", "support.example"));
  EXPECT_FALSE(email::reply_token("support@support.example", "support.example"));
}

TEST(threading, envelope_recipients_give_tokens_too) {
  email::parsed_email mail;
  mail.in_reply_to = "x@y";
  auto hints = email::thread_hints(mail, "support.example", {"reply+bcc1@support.example"});
  ASSERT_EQ(hints.size(), 2u);
  EXPECT_EQ(hints[0].value, "bcc1");
}

TEST(recipient_policy, accepts) {
  email::recipient_policy p{{"support@shop.example"}, {"help.example"}, "shop.example"};
  EXPECT_TRUE(p.accepts("support@shop.example"));
  EXPECT_TRUE(p.accepts("Support@Shop.Example"));
  EXPECT_TRUE(p.accepts("anyone@help.example"));
  EXPECT_TRUE(p.accepts("reply+tok@shop.example"));
  EXPECT_TRUE(p.accepts("postmaster"));
  EXPECT_TRUE(p.accepts("postmaster@shop.example"));
  EXPECT_FALSE(p.accepts("sales@shop.example"));
  EXPECT_FALSE(p.accepts("victim@elsewhere.example"));
  EXPECT_FALSE(p.accepts("reply+tok@elsewhere.example"));
}

std::optional<std::string> fake_env(const char* name) {
  if (std::string_view(name) == "RELAY_PASSWORD") return "s3cret";
  if (std::string_view(name) == "MSGID_KEY") return "a-key-of-16-bytes-or-more";
  if (std::string_view(name) == "SHORT_KEY") return "too short";
  return std::nullopt;
}

TEST(config, parses_and_rejects_unknown_keys) {
  auto j = nlohmann::json::parse(R"({
    "support_addresses": ["Support@Shop.Example"], "from_name": "Shop support",
    "max_attachment_bytes": 1000,
    "smtp": {"port": 0, "hostname": "mx.shop.example", "idle_timeout_ms": 1000, "max_recipients": 3},
    "relay": {"host": "smtp.relay.example", "port": 587, "tls": "starttls", "username": "u", "password_env": "RELAY_PASSWORD"}
  })");
  auto c = email::parse_email_config(j, "mail", fake_env);
  EXPECT_EQ(c.channel, "mail");
  EXPECT_EQ(c.recipients.addresses, std::vector<std::string>{"support@shop.example"});
  EXPECT_EQ(c.from_address, "support@shop.example");
  EXPECT_EQ(c.recipients.reply_domain, "shop.example");
  EXPECT_EQ(c.smtp.recipients.addresses, c.recipients.addresses);
  EXPECT_EQ(c.smtp.max_recipients, 3u);
  EXPECT_EQ(c.smtp.idle_timeout, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.relay.password, "s3cret");
  EXPECT_EQ(c.max_attachment_bytes, 1000u);

  EXPECT_THROW(email::parse_email_config(nlohmann::json::parse(R"({"support_addresses":["a@b"],"nope":1})"), "m", fake_env),
               std::runtime_error);
  EXPECT_THROW(email::parse_email_config(nlohmann::json::parse(R"({"support_addresses":["a@b"],"smtp":{"prot":1}})"), "m",
                                         fake_env),
               std::runtime_error);
  EXPECT_THROW(email::parse_email_config(nlohmann::json::parse(R"({})"), "m", fake_env), std::runtime_error);
  EXPECT_THROW(email::parse_email_config(
                   nlohmann::json::parse(R"({"support_addresses":["a@b"],"relay":{"username":"u","password_env":"NOPE"}})"),
                   "m", fake_env),
               std::runtime_error);
  EXPECT_THROW(email::parse_email_config(
                   nlohmann::json::parse(R"({"support_addresses":["a@b"],"smtp":{"require_tls":true}})"), "m", fake_env),
               std::runtime_error);

  // The key of our Message-IDs' tags: optional (the gateway keeps one in Redis), at least 16 bytes when named.
  EXPECT_EQ(c.message_id_secret, "");
  auto keyed = [](const char* var) {
    return email::parse_email_config(nlohmann::json{{"support_addresses", {"a@b.example"}}, {"message_id_secret_env", var}},
                                     "m", fake_env);
  };
  EXPECT_EQ(keyed("MSGID_KEY").message_id_secret, "a-key-of-16-bytes-or-more");
  EXPECT_THROW(keyed("SHORT_KEY"), std::runtime_error);
  EXPECT_THROW(keyed("UNSET_KEY"), std::runtime_error);
}

}  // namespace
