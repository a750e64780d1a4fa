#include <gtest/gtest.h>

#include <ostream>

#include "pasokh/bot/index.hpp"
#include "test_kb.hpp"

namespace pasokh::bot {
namespace {

using testing_support::demo_index;

struct query_case {
  language lang;
  const char* text;
  const char* entry;
};
void PrintTo(const query_case& c, std::ostream* os) { *os << to_string(c.lang) << " \"" << c.text << "\" → " << c.entry; }


class retrieval_table : public testing::TestWithParam<query_case> {};

// Phrasings that are not in the demo KB: colloquial forms, inflections,
// synonyms, spelling variants and other-keyboard letters.
TEST_P(retrieval_table, finds_the_entry) {
  const auto& q = GetParam();
  const ranking r = demo_index().search(q.text, q.lang);
  ASSERT_FALSE(r.empty()) << q.text;
  EXPECT_EQ(demo_index().kb().entries[r.top[0].entry].id, q.entry) << q.text;
  EXPECT_GE(r.answerable, 0.5f) << q.text;
}

INSTANTIATE_TEST_SUITE_P(
    unseen_phrasings, retrieval_table,
    testing::Values(
        query_case{language::en, "is my washing machine still under guarantee?", "warranty_length"},
        query_case{language::en, "my new kettle stopped working, how do I claim on the guarantee", "warranty_claim"},
        query_case{language::en, "refund still hasn't reached my card", "refund_timing"},
        query_case{language::en, "parcel arrived smashed", "arrived_damaged"},
        query_case{language::en, "where's my delivery right now", "order_tracking"},
        query_case{language::en, "do you guys do installation of air conditioners", "installation_service"},
        query_case{language::fa, "گارانتيش كي تموم ميشه؟", "warranty_length"},  // Arabic ي/ك keyboard
        query_case{language::fa, "پشیمون شدم، میشه کالا رو پس بدم؟", "returns"},
        query_case{language::fa, "مرسوله‌ام کجاست؟ کد رهگیری ندارم", "order_tracking"},
        query_case{language::fa, "هزینه‌ی عیب‌یابی چقدره؟", "repair_pricing"},
        query_case{language::fa, "فاکتور رسمی به اسم شرکت میخوام", "invoice_copy"},
        query_case{language::fa, "اقساطی میشه خرید؟", "payment_options"},
        query_case{language::ar, "متى ينتهي الضمان على الثلاجة؟", "warranty_length"},
        query_case{language::ar, "وصلتني الغسالة مكسورة", "arrived_damaged"},
        query_case{language::ar, "أبغى ألغي الطلب قبل ما ينشحن", "cancel_order"},
        query_case{language::ar, "هل التلفزيون يحتاج تحديث البرنامج؟", "firmware_updates"},
        query_case{language::ar, "كم تكلفة تصليح الشاشة بعد انتهاء الكفالة", "repair_pricing"},
        query_case{language::ar, "هل عندكم مركز صيانة معتمد في جدة", "service_locations"}));

TEST(retrieval, off_topic_questions_are_not_answerable) {
  for (const auto& [lang, text] : {std::pair{language::en, "what's the weather in Paris tomorrow"},
                                   std::pair{language::fa, "نتیجه بازی دیشب چی شد"},
                                   std::pair{language::ar, "ما هي عاصمة أستراليا"}}) {
    const ranking r = demo_index().search(text, lang);
    EXPECT_LT(r.answerable, 0.5f) << text;
  }
}

TEST(retrieval, a_bare_topic_word_is_ambiguous_not_confident) {
  const ranking r = demo_index().search("warranty", language::en);
  ASSERT_GE(r.size, 2u);
  EXPECT_GE(r.answerable, 0.5f);   // clearly about warranties...
  EXPECT_LT(r.confidence, 0.6f);   // ...but not which warranty entry
}

TEST(retrieval, probabilities_stay_in_range_and_empty_text_matches_nothing) {
  for (const char* text : {"", "!!!", "123", "warranty warranty warranty warranty", "a b c d e f g"}) {
    const ranking r = demo_index().search(text, language::en);
    EXPECT_GE(r.confidence, 0.f);
    EXPECT_LE(r.confidence, 1.f);
    EXPECT_LE(r.confidence, r.answerable + 1e-6f);
  }
  EXPECT_TRUE(demo_index().search("", language::fa).empty());
}

TEST(retrieval, reads_only_the_start_of_a_very_long_message) {
  std::string text = "how long does delivery take? ";
  while (text.size() < 200000) text += "بلا بلا blah ";
  const ranking r = demo_index().search(text, language::en);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(demo_index().kb().entries[r.top[0].entry].id, "shipping_time");
  // Cut inside a two-byte letter: still valid input, no crash.
  EXPECT_NO_THROW(demo_index().search(std::string(1023, 'a') + "گگگ", language::fa));
}

TEST(retrieval, explains_which_words_matched) {
  const auto& kb = demo_index().kb();
  std::uint32_t returns = 0;
  while (kb.entries[returns].id != "returns") ++returns;
  const auto why = demo_index().explain("can I give the kettle back from Paris", language::en, returns);
  ASSERT_EQ(why.size(), 4u);  // give, kettle, back, paris: stop words carry nothing
  EXPECT_EQ(why[1].word, "kettle");
  EXPECT_EQ(why[1].via, "concept:device");  // a product the entry only knows as "product"
  EXPECT_EQ(why[2].word, "back");
  EXPECT_GT(why[2].credit, 0.9f);
  EXPECT_EQ(why[3].word, "paris");
  EXPECT_LT(why[3].credit, 0.3f);  // what makes "...from Paris" less answerable
}

}  // namespace
}  // namespace pasokh::bot
