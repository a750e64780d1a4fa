#include "pasokh/bot/decide.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <tuple>
#include <nlohmann/json.hpp>

#include "test_kb.hpp"

namespace pasokh::bot {
namespace {

using testing_support::demo_index;

decision ask(std::string_view text, std::string_view lang = "", const bot_state& state = {}) {
  return decide(demo_index(), state, {.text = text, .language = lang});
}

decision press(std::string_view payload, const bot_state& state, std::string_view lang = "en") {
  return decide(demo_index(), state, {.button_payload = payload, .language = lang});
}

bool has_button(const decision& d, std::string_view id) {
  for (const auto& b : d.buttons) {
    if (b.id == id) return true;
  }
  return false;
}

TEST(decide, answers_a_clear_question_in_the_customers_language_and_asks_if_it_helped) {
  const decision d = ask("گارانتی یخچال چند ماهه؟", "fa");
  ASSERT_EQ(d.kind, action::answer);
  EXPECT_EQ(d.entry_id, "warranty_length");
  EXPECT_EQ(d.label(), "warranty_length");
  EXPECT_EQ(d.lang, language::fa);
  EXPECT_NE(d.text.find("۲۴ ماه"), std::string::npos) << d.text;      // the Persian answer
  EXPECT_NE(d.text.find("آیا این پاسخ کمکتان کرد؟"), std::string::npos);  // "did this help?"
  EXPECT_TRUE(has_button(d, "bot:y:warranty_length"));
  EXPECT_TRUE(has_button(d, "bot:n:warranty_length"));
  EXPECT_TRUE(has_button(d, "bot:e:warranty_claim"));  // a follow-up from the KB
  EXPECT_GE(d.confidence, 0.6f);
  EXPECT_EQ(d.state.last_entry, "warranty_length");
  EXPECT_EQ(d.state.language, "fa");
  EXPECT_EQ(d.state.answers, 1u);
}

TEST(decide, detects_the_language_when_the_channel_does_not_say) {
  EXPECT_EQ(ask("متى يصل طلبي؟").lang, language::ar);
  EXPECT_EQ(ask("when will my order arrive?").lang, language::en);
  EXPECT_EQ(ask("سفارشم کی می‌رسه؟").lang, language::fa);
  const decision d = ask("when will my order arrive?");
  EXPECT_EQ(d.entry_id, "shipping_time");
  EXPECT_NE(d.text.find("Did this answer help?"), std::string::npos);
}

TEST(decide, a_channel_hint_does_not_override_the_script_the_customer_typed) {
  // Telegram reports the app's UI language; this customer writes Persian.
  EXPECT_EQ(ask("سفارشم کی می‌رسه؟", "en").lang, language::fa);
  EXPECT_EQ(ask("where is my order", "fa").lang, language::en);
  // Persian or Arabic is the hint's call: same script, few words.
  EXPECT_EQ(ask("الضمان", "ar").lang, language::ar);
  EXPECT_EQ(ask("الضمان", "fa").lang, language::fa);
  // Unless the text clearly is the other: an Arabic sentence on a Persian page.
  EXPECT_EQ(ask("مرحبا، أريد إرجاع المنتج من فضلك", "fa").lang, language::ar);
  EXPECT_EQ(ask("سلام، گارانتی گوشی من کی تموم میشه؟", "ar").lang, language::fa);
  // Persian typed on an Arabic keyboard stays the page's Persian.
  EXPECT_EQ(ask("ميخوام سفارشم رو لغو كنم", "fa").lang, language::fa);
}

TEST(decide, persian_in_latin_letters_is_answered_in_persian_from_the_persian_phrasings) {
  // The widget sent "en": its panel had switched on the Latin letters.
  for (const auto& [text, entry] : {std::pair{"salam, garanti yakhchal chand mahe?", "warranty_length"},
                                    std::pair{"sefareshamo chetori peygiri konam?", "order_tracking"},
                                    std::pair{"pashimoon shodam, mitoonam kala ro pas bedam?", "returns"},
                                    std::pair{"hazine tamir bad az garanti cheghadre", "repair_pricing"}}) {
    for (const char* hint : {"", "en", "fa"}) {
      const decision d = ask(text, hint);
      EXPECT_EQ(d.lang, language::fa) << text << " hint " << hint;
      EXPECT_EQ(d.kind, action::answer) << text << " hint " << hint;
      EXPECT_EQ(d.entry_id, entry) << text << " hint " << hint;
      EXPECT_EQ(d.state.language, "fa");
    }
  }
  EXPECT_NE(ask("salam, garanti yakhchal chand mahe?", "en").text.find("۲۴ ماه"), std::string::npos);
  // English with a Persian greeting stays English.
  const decision english = ask("salam, how do I track my order?", "fa");
  EXPECT_EQ(english.lang, language::en);
  EXPECT_EQ(english.entry_id, "order_tracking");
}

TEST(decide, finglish_greetings_and_thanks_are_understood) {
  EXPECT_EQ(ask("salam", "fa").kind, action::greeting);
  EXPECT_EQ(ask("salam", "fa").lang, language::fa);
  EXPECT_EQ(ask("salam khaste nabashid").lang, language::fa);
  EXPECT_EQ(ask("salam khaste nabashid").kind, action::greeting);
  const decision answered = ask("garanti yakhchal chand mahe?");
  ASSERT_EQ(answered.kind, action::answer);
  const decision thanks = ask("mersi", "", answered.state);
  EXPECT_EQ(thanks.kind, action::thanks);
  EXPECT_EQ(thanks.lang, language::fa);
  EXPECT_EQ(thanks.helpful, true);
}

TEST(decide, a_short_reply_keeps_the_conversations_language) {
  const decision answered = ask("گارانتی یخچال چند ماهه؟", "fa");
  ASSERT_EQ(answered.lang, language::fa);
  EXPECT_EQ(ask("ok thanks", "", answered.state).lang, language::fa);
  EXPECT_EQ(ask("and how long does delivery take to Shiraz?", "", answered.state).lang, language::en);
}

TEST(decide, a_compound_verb_written_with_zwnj_is_understood) {
  // «پس‌بدم» (give back) with a ZWNJ, as a Persian keyboard writes it.
  for (const char* text : {"میخوام گوشی رو پس\u200cبدم", "میخوام گوشی رو پس بدم"}) {
    const decision d = ask(text, "fa");
    EXPECT_EQ(d.label(), "returns") << text;
  }
}

TEST(decide, offers_choices_when_entries_are_close) {
  const decision d = ask("warranty", "en");
  ASSERT_EQ(d.kind, action::choices);
  ASSERT_GE(d.choices.size(), 2u);
  ASSERT_LE(d.choices.size(), 3u);
  for (const auto& id : d.choices) {
    EXPECT_NE(id.find("warranty"), std::string::npos) << id;
    EXPECT_TRUE(has_button(d, "bot:e:" + id));
  }
  EXPECT_TRUE(has_button(d, payload::human));  // always a way out
  EXPECT_EQ(d.label(), d.choices.front());
  EXPECT_EQ(d.state.offered, d.choices);

  // Picking one answers it.
  const decision picked = press("bot:e:" + d.choices[1], d.state);
  EXPECT_EQ(picked.kind, action::answer);
  EXPECT_EQ(picked.entry_id, d.choices[1]);
  EXPECT_TRUE(picked.state.offered.empty());
}

TEST(decide, choices_can_be_picked_by_number_where_there_are_no_buttons) {
  const decision d = ask("گارانتی", "fa");
  ASSERT_EQ(d.kind, action::choices);
  EXPECT_NE(d.text.find("\n1. "), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("\n2. "), std::string::npos) << d.text;
  const decision picked = ask("۲", "fa", d.state);  // Persian digit two
  EXPECT_EQ(picked.kind, action::answer);
  EXPECT_EQ(picked.entry_id, d.choices[1]);
  EXPECT_NE(ask("9", "fa", d.state).kind, action::answer);  // not an offered number
}

struct human_case {
  const char* lang;
  const char* text;
};
void PrintTo(const human_case& c, std::ostream* os) { *os << "[" << c.lang << "] \"" << c.text << "\""; }

class asks_for_human : public testing::TestWithParam<human_case> {};

TEST_P(asks_for_human, hands_off) {
  const decision d = ask(GetParam().text, GetParam().lang);
  EXPECT_EQ(d.kind, action::handoff) << GetParam().text;
  EXPECT_EQ(d.reason, handoff_reason::asked_for_human) << GetParam().text;
  EXPECT_EQ(d.label(), "__human__");
}

INSTANTIATE_TEST_SUITE_P(
    three_languages, asks_for_human,
    testing::Values(human_case{"fa", "اپراتور"}, human_case{"fa", "لطفا وصلم کنید به پشتیبان"},
                    human_case{"fa", "می‌خوام با یه کارشناس صحبت کنم"}, human_case{"fa", "این ربات نمیفهمه، یه آدم بیاد"},
                    human_case{"fa", "سلام، با یک کارشناس کار دارم. شماره من ۰۹۱۲۳۴۵۶۷۸۹ است"},
                    human_case{"fa", "یک نفر جواب بده"}, human_case{"fa", "یکی جواب بدید لطفا"},
                    human_case{"ar", "أريد التحدث مع شخص"}, human_case{"ar", "حولني إلى موظف خدمة العملاء"},
                    human_case{"ar", "ممكن أكلم موظف؟"}, human_case{"en", "human please"},
                    human_case{"en", "can I talk to an agent"}, human_case{"en", "connect me to a real person"},
                    human_case{"en", "operator!"}, human_case{"", "I want to speak to someone"},
                    // The word the greeting tells them to type, alone.
                    human_case{"en", "agent"}, human_case{"fa", "کارشناس"}, human_case{"", "کارشناس"},
                    human_case{"ar", "موظف"}, human_case{"en", "Agent?"}, human_case{"en", "connect me to support"}));

TEST(decide, staff_words_in_an_ordinary_question_are_not_a_handoff) {
  for (const char* text : {"what time do your agents start work?", "When is customer service open?",
                           "Can someone come and install my dishwasher?"}) {
    EXPECT_NE(ask(text, "en").reason, handoff_reason::asked_for_human) << text;
  }
  EXPECT_NE(ask("پشتیبانی تا چه ساعتی جواب میده؟", "fa").reason, handoff_reason::asked_for_human);
}

struct mood_case {
  const char* lang;
  const char* text;
};
void PrintTo(const mood_case& c, std::ostream* os) { *os << "[" << c.lang << "] \"" << c.text << "\""; }

class angry_customer : public testing::TestWithParam<mood_case> {};

TEST_P(angry_customer, is_handed_to_a_person_with_an_apology) {
  const decision d = ask(GetParam().text, GetParam().lang);
  EXPECT_EQ(d.kind, action::handoff);
  EXPECT_EQ(d.reason, handoff_reason::negative_sentiment);
  EXPECT_EQ(d.lang, *parse_language(GetParam().lang));
  EXPECT_FALSE(d.text.empty());
}

INSTANTIATE_TEST_SUITE_P(
    three_languages, angry_customer,
    testing::Values(mood_case{"en", "This is ridiculous, my order is two weeks late"},
                    mood_case{"en", "worst service ever"}, mood_case{"en", "you are scammers"},
                    mood_case{"en", "I'm fed up with waiting for the repair"},
                    mood_case{"en", "unacceptable. I paid for express delivery"},
                    mood_case{"en", "WHERE IS MY ORDER I PAID LAST WEEK"},
                    mood_case{"en", "where is my refund!!!"},
                    mood_case{"fa", "افتضاحه، سه هفته است سفارشم نرسیده"}, mood_case{"fa", "این چه وضع مسخره‌ایه"},
                    mood_case{"fa", "شما کلاهبردارید"}, mood_case{"fa", "بدترین فروشگاه ممکن"},
                    mood_case{"fa", "دیگه خسته شدم از بس زنگ زدم"}, mood_case{"fa", "اعصابمو خورد کردید با این ارسال"},
                    mood_case{"ar", "خدمة سيئة جدا"}, mood_case{"ar", "أسوأ متجر تعاملت معه"},
                    mood_case{"ar", "هذا نصب واحتيال"}, mood_case{"ar", "التأخير غير مقبول أبدا"},
                    // How bad, said of us or of nothing named: still anger.
                    mood_case{"en", "your service is terrible"}, mood_case{"en", "terrible. three weeks and nothing"},
                    mood_case{"en", "the fridge makes a noise and your support is the worst"},
                    mood_case{"fa", "پشتیبانی‌تون افتضاحه"}, mood_case{"ar", "تعامل سيء جدا"},
                    mood_case{"fa", "پشتیبانی‌تون وحشتناکه"}, mood_case{"ar", "خدمتكم فظيعة"},
                    mood_case{"en", "a terrible, really slow service"},
                    // An angry emoji with words.
                    mood_case{"en", "this is the third time 😡"}, mood_case{"fa", "😡 هنوز نرسیده"},
                    mood_case{"ar", "الطلب متأخر أسبوعين 🤬"}));

TEST(decide, a_problem_report_is_answered_not_taken_for_anger) {
  // The phone is broken, not the customer's patience: the bot still answers.
  for (const auto& [text, lang, entry] :
       {std::tuple{"my phone is broken, how do I claim the warranty?", "en", "warranty_claim"},
        std::tuple{"گوشیم خراب شده، گارانتی رو چطور درخواست بدم؟", "fa", "warranty_claim"},
        std::tuple{"الجهاز لا يعمل، كيف أطلب الضمان؟", "ar", "warranty_claim"},
        std::tuple{"لباسشویی رو نصب می‌کنید؟", "fa", "installation_service"},
        std::tuple{"THANK YOU!!!", "en", ""}}) {
    const decision d = ask(text, lang);
    EXPECT_NE(d.reason, handoff_reason::negative_sentiment) << text;
    if (*entry) {
      EXPECT_EQ(d.label(), entry) << text;
    }
  }
}

TEST(decide, how_bad_a_symptom_is_makes_a_problem_report_not_anger) {
  // "Terrible" said of what the device does describes the fault, not the
  // customer's mood: answered when the knowledge base knows it, else an
  // ordinary "I do not know" handoff without an apology for upsetting them.
  for (const auto& [text, lang] :
       {std::pair{"my fridge makes a terrible noise", "en"}, std::pair{"the noise is horrible", "en"},
        std::pair{"there is an awful smell from the dishwasher", "en"},
        std::pair{"یخچالم صدای افتضاح میده", "fa"}, std::pair{"ماشین ظرفشویی بوی فاجعه میده", "fa"},
        std::pair{"الثلاجة تصدر صوت سيء جدا", "ar"}, std::pair{"البطارية سيئة جدا", "ar"},
        std::pair{"رائحة مقرف من الغسالة", "ar"}, std::pair{"😢 گوشیم افتاد و شکست", "fa"},
        // A modifier between the two.
        std::pair{"my fridge makes a terrible loud noise", "en"}, std::pair{"یخچالم صدای بلند و وحشتناک میده", "fa"},
        std::pair{"الغسالة تصدر صوت عالي فظيع", "ar"}}) {
    EXPECT_NE(ask(text, lang).reason, handoff_reason::negative_sentiment) << text;
  }
  const decision d = ask("my phone makes a terrible noise, how do I claim the warranty?", "en");
  EXPECT_EQ(d.label(), "warranty_claim");
}

TEST(decide, a_person_request_carries_a_topic_for_routing) {
  const decision d = ask("I want to talk to an agent about my refund", "en");
  EXPECT_EQ(d.reason, handoff_reason::asked_for_human);
  EXPECT_NE(std::find(d.tags.begin(), d.tags.end(), "payment"), d.tags.end());
}

TEST(decide, not_helpful_hands_off_with_the_topic) {
  const decision answered = ask("how long does delivery take", "en");
  ASSERT_EQ(answered.kind, action::answer);

  for (const char* reply : {"no", "that didn't help", "not helpful at all"}) {
    const decision d = ask(reply, "en", answered.state);
    EXPECT_EQ(d.kind, action::handoff) << reply;
    EXPECT_EQ(d.reason, handoff_reason::not_helpful) << reply;
    EXPECT_EQ(d.helpful, false);
    EXPECT_EQ(d.entry_id, answered.entry_id);
    EXPECT_EQ(d.tags, std::vector<std::string>{"delivery"});
    EXPECT_TRUE(d.state.last_entry.empty());
  }
  EXPECT_EQ(ask("نه کمکی نکرد", "fa", answered.state).reason, handoff_reason::not_helpful);
  EXPECT_EQ(ask("لا، لم يساعدني", "ar", answered.state).reason, handoff_reason::not_helpful);
  // The "No" button does the same.
  EXPECT_EQ(press("bot:n:" + answered.entry_id, answered.state).reason, handoff_reason::not_helpful);
}

TEST(decide, yes_records_positive_feedback) {
  const decision answered = ask("can I pay in installments", "en");
  ASSERT_EQ(answered.kind, action::answer);
  for (const decision& d : {ask("yes", "en", answered.state), ask("آره ممنون", "fa", answered.state),
                            press("bot:y:" + answered.entry_id, answered.state)}) {
    EXPECT_TRUE(d.kind == action::feedback || d.kind == action::thanks);
    EXPECT_EQ(d.helpful, true);
    EXPECT_EQ(d.entry_id, answered.entry_id);
    EXPECT_TRUE(d.state.last_entry.empty());
  }
}

TEST(decide, why_after_an_answer_is_not_a_yes) {
  // «چرا» answers yes only to a negative question; "did this help?" is not one.
  const decision answered = ask("گارانتی یخچال چند ماهه؟", "fa");
  ASSERT_EQ(answered.kind, action::answer);
  const decision d = ask("چرا؟", "fa", answered.state);
  EXPECT_NE(d.helpful, std::optional<bool>(true));
  EXPECT_NE(d.kind, action::feedback);
}

TEST(decide, a_bare_no_without_a_previous_answer_is_not_feedback) {
  EXPECT_NE(ask("no", "en").kind, action::feedback);
  EXPECT_NE(ask("no", "en").reason, handoff_reason::not_helpful);
}

TEST(decide, greets_back_in_each_language) {
  for (const auto& [text, lang] : {std::pair{"سلام", language::fa}, std::pair{"سلام وقت بخیر", language::fa},
                                   std::pair{"السلام عليكم", language::ar}, std::pair{"مرحبا", language::ar},
                                   std::pair{"hi there", language::en}, std::pair{"Good morning!", language::en}}) {
    const decision d = ask(text);
    EXPECT_EQ(d.kind, action::greeting) << text;
    EXPECT_EQ(d.lang, lang) << text;
    EXPECT_FALSE(d.text.empty());
  }
}

TEST(decide, a_greeting_followed_by_a_question_answers_the_question) {
  const decision d = ask("hi, how do I track my order?", "en");
  EXPECT_EQ(d.kind, action::answer);
  EXPECT_EQ(d.entry_id, "order_tracking");
}

TEST(decide, thanks_gets_a_youre_welcome) {
  for (const char* text : {"thanks!", "thank you so much", "ممنون", "مرسی خیلی لطف کردید", "شكرا جزيلا"}) {
    const decision d = ask(text);
    EXPECT_EQ(d.kind, action::thanks) << text;
    EXPECT_FALSE(d.helpful.has_value()) << "nothing was answered yet";
  }
}

TEST(decide, an_emoji_after_an_answer_rates_it_instead_of_handing_off) {
  const decision answered = ask("how long does delivery take", "en");
  ASSERT_EQ(answered.kind, action::answer);
  for (const char* reply : {"👍", "🙏", "❤️", "😊", "👍🏽", "🙏🙏", "ممنون ❤️", "thanks 🙏"}) {
    const decision d = ask(reply, "", answered.state);
    EXPECT_EQ(d.kind, action::thanks) << reply;  // as "thanks" after an answer: a yes
    EXPECT_EQ(d.helpful, true) << reply;
    EXPECT_EQ(d.entry_id, answered.entry_id) << reply;
    EXPECT_EQ(d.lang, language::en) << reply;
    EXPECT_TRUE(d.state.last_entry.empty()) << reply;
  }
  for (const char* reply : {"👎", "😡", "😡😡"}) {
    const decision d = ask(reply, "", answered.state);
    EXPECT_EQ(d.reason, handoff_reason::not_helpful) << reply;  // as "no"
    EXPECT_EQ(d.helpful, false) << reply;
    EXPECT_EQ(d.entry_id, answered.entry_id) << reply;
  }
}

TEST(decide, a_message_without_words_is_greeted_not_handed_off) {
  for (const char* text : {"👍", "🙏", "❤️", "?", "...", "🤔", "؟!"}) {
    const decision d = ask(text, "fa");
    EXPECT_EQ(d.kind, action::greeting) << text;
    EXPECT_EQ(d.lang, language::fa) << text;
  }
  // After an answer a shrug neither rates it nor closes the question.
  const decision answered = ask("how long does delivery take", "en");
  const decision shrug = ask("🤔", "", answered.state);
  EXPECT_EQ(shrug.kind, action::greeting);
  EXPECT_FALSE(shrug.helpful.has_value());
  EXPECT_EQ(shrug.state.last_entry, answered.entry_id);
}

TEST(decide, an_attachment_without_words_still_goes_to_a_person) {
  // A photo of the broken part with a 👍 caption: a person must look at it.
  const decision d = decide(demo_index(), {}, {.text = "👍", .language = "en", .has_attachment = true});
  EXPECT_EQ(d.kind, action::handoff);
  EXPECT_EQ(d.reason, handoff_reason::attachment_only);
  EXPECT_NE(d.text.find("photos or files"), std::string::npos) << d.text;  // not "I can't help with that"
  // With words, the caption is a question like any other.
  const decision asked = decide(demo_index(), {}, {.text = "how long does delivery take", .language = "en", .has_attachment = true});
  EXPECT_EQ(asked.kind, action::answer);
}

TEST(decide, out_of_scope_gets_no_kb_answer) {
  for (const auto& [text, lang] : {std::pair{"what's the weather like in Paris", "en"},
                                   std::pair{"who won the football match yesterday", "en"},
                                   std::pair{"دستور پخت قورمه سبزی رو بگو", "fa"},
                                   std::pair{"من فاز في مباراة الأمس", "ar"}}) {
    const decision d = ask(text, lang);
    EXPECT_EQ(d.kind, action::handoff) << text;
    EXPECT_EQ(d.reason, handoff_reason::low_confidence) << text;
    EXPECT_EQ(d.label(), "__none__") << text;
    EXPECT_TRUE(d.entry_id.empty());
    EXPECT_EQ(d.state.misses, 1u);
  }
  EXPECT_EQ(ask("", "en").label(), "__none__");  // a photo or sticker with no text
}

TEST(decide, stale_or_foreign_button_payloads_fall_back_to_the_text) {
  const decision d = decide(demo_index(), {}, {.text = "how do I cancel my order", .button_payload = "bot:e:no_such_entry"});
  EXPECT_EQ(d.entry_id, "cancel_order");
  EXPECT_EQ(press(payload::human, {}).reason, handoff_reason::asked_for_human);
}

TEST(decide, replies_in_the_knowledge_base_default_when_the_hint_is_unknown) {
  bot_options options;
  options.default_language = language::ar;
  const decision d = decide(demo_index(), {}, {.text = "12345", .language = ""}, options);
  EXPECT_EQ(d.lang, language::ar);
}

TEST(decide, state_round_trips_through_json_and_tolerates_junk) {
  bot_state s;
  s.language = "ar";
  s.last_entry = "returns";
  s.offered = {"a", "b"};
  s.answers = 3;
  s.misses = 1;
  const nlohmann::json j = s;
  EXPECT_EQ(j.get<bot_state>(), s);
  EXPECT_EQ(nlohmann::json::parse(R"({"answers":"x","offered":[1,"a"],"extra":true})").get<bot_state>().offered,
            std::vector<std::string>{"a"});
  EXPECT_EQ(nlohmann::json::parse("42").get<bot_state>(), bot_state{});
}

TEST(decide, names_actions_and_reasons_for_logs) {
  EXPECT_EQ(to_string(action::choices), "choices");
  EXPECT_EQ(to_string(handoff_reason::asked_for_human), "asked_for_human");
}

}  // namespace
}  // namespace pasokh::bot
