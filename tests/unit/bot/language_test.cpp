#include "pasokh/bot/language.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace pasokh::bot {
namespace {

struct detect_case {
  const char* text;
  std::optional<language> expected;
};
void PrintTo(const detect_case& c, std::ostream* os) { *os << "\"" << c.text << "\""; }


class detect_table : public testing::TestWithParam<detect_case> {};

TEST_P(detect_table, detects) {
  EXPECT_EQ(detect_language(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    texts, detect_table,
    testing::Values(
        // Persian-only letters پ چ ژ گ
        detect_case{"گارانتی چند ماهه؟", language::fa}, detect_case{"پولم کی برمیگرده", language::fa},
        // Persian without any of them, told by its function words
        detect_case{"سفارش من کجاست", language::fa},
        // Persian typed on an Arabic keyboard (ي ك) is still Persian
        detect_case{"ميخوام سفارشم رو لغو كنم", language::fa},
        detect_case{"سفارشم كي ميرسه؟", language::fa}, detect_case{"ميخوام كالا رو مرجوع كنم", language::fa},
        // Arabic letters ة ى أ إ and words
        detect_case{"هل يمكنني إرجاع المنتج؟", language::ar}, detect_case{"متى تصل الشحنة", language::ar},
        detect_case{"أين طلبي", language::ar},
        // Arabic without ة, by its words
        detect_case{"كيف ألغي طلبي", language::ar},
        // Latin script
        detect_case{"where is my order", language::en}, detect_case{"iPhone گارانتی", language::fa},
        detect_case{"my order #۱۲۳ is late", language::en},
        detect_case{"Please deliver it to خیابان ولیعصر tomorrow morning", language::en},
        // Persian naming a product in Latin letters: words count, not letters
        detect_case{"گوشی Samsung Galaxy S23 Ultra من خراب شده", language::fa},
        detect_case{"گارانتی Samsung Galaxy Buds چقدره؟", language::fa},
        // An order number is one mark of the keyboard, however many digits it has
        detect_case{"سفارش ١٢٣٤٥٦٧٨٩ من کجاست؟", language::fa},
        detect_case{"طلبي رقم ۱۲۳۴۵۶۷۸ لم يصل", language::ar},
        // Persian typed in Latin letters ("Finglish"), with its usual spellings
        detect_case{"salam, garanti yakhchal chand mahe?", language::fa},
        detect_case{"sefaresham hanooz nareside", language::fa},
        detect_case{"sefareshם nareside", language::fa},  // a stray letter from another keyboard
        detect_case{"lotfan peygiri konid", language::fa}, detect_case{"dastgah kharab shode", language::fa},
        detect_case{"mersi", language::fa}, detect_case{"mamnoon, kheili lotf kardid", language::fa},
        detect_case{"slm mikhastam bebinam garantish key tamoom mishe", language::fa},
        detect_case{"iPhone 13 garanti dare?", language::fa},
        detect_case{"chera sefareshamo ersal nemikonid??", language::fa},
        // English with a Persian greeting, names or brands stays English
        detect_case{"salam, where is my order?", language::en},
        detect_case{"Salam Store sent me the wrong size", language::en},
        detect_case{"Hi, my Samsung Galaxy is broken", language::en},
        detect_case{"Is the Haier fridge covered by the warranty?", language::en},
        detect_case{"My name is Roshan, I want to return my Tamir 500 blender", language::en},
        detect_case{"do you have this model in my size", language::en},
        detect_case{"Samsung Galaxy S23", language::en},
        // A borrowed greeting alone says neither: the conversation's language decides
        detect_case{"salam", std::nullopt}, detect_case{"Merci!", std::nullopt},
        // Nothing to go on
        detect_case{"12345", std::nullopt}, detect_case{"👍👍", std::nullopt}, detect_case{"", std::nullopt}));

TEST(language, a_guess_is_clear_only_with_marks_of_one_language_and_none_of_the_other) {
  EXPECT_TRUE(guess_language("مرحبا، أريد إرجاع المنتج من فضلك").clear);
  EXPECT_TRUE(guess_language("گارانتی گوشی من کی تموم میشه؟").clear);
  // Persian words on an Arabic keyboard: ي ك are no mark of Arabic.
  EXPECT_TRUE(guess_language("ميخوام سفارشم رو لغو كنم").clear);
  EXPECT_EQ(detect_language("كتاب فارسي"), std::nullopt);            // ي ك alone say neither
  EXPECT_FALSE(guess_language("الضمان").clear);                     // one word, little to go on
  EXPECT_TRUE(guess_language("lotfan peygiri konid").clear);
  EXPECT_FALSE(guess_language("mersi").clear);                      // one word
  EXPECT_EQ(guess_language_code("dastgah kharab shode"), "fa");
}

// The widget leaves Latin text with one of these words (FINGLISH in
// web/widget/widget.js) to the server, which sends back what it read only for
// text it finds Finglish words in: each of them must count here.
TEST(language, the_widgets_finglish_words_are_finglish_words_here) {
  for (const char* w : {"salam", "salaam", "slm", "mersi", "merci", "mamnoon", "mamnon", "lotfan", "chera", "chetor",
                        "chetori", "chejoori", "chand", "cheghadr", "koja", "kojast", "mikham", "mikhaam", "mikhastam",
                        "mishe", "nemishe", "mitoonam", "konid", "konam", "nemikone", "kharab", "garanti",
                        "garantish", "tamir", "sefaresh", "sefaresham", "sefareshamo", "sefareshe", "dastgah",
                        "dastgaham", "yakhchal", "gooshi", "gooshim", "ersal", "marjoo", "marjooi", "bazgasht",
                        "peygiri", "hanooz", "shode", "nashode", "nareside", "dare", "darid", "hast", "nist",
                        "kheili"}) {
    EXPECT_TRUE(has_finglish_words(w)) << w;
  }
  EXPECT_FALSE(has_finglish_words("where is my order"));
  EXPECT_FALSE(has_finglish_words("گارانتی یخچال"));
}

TEST(language, parses_codes_and_locales) {
  EXPECT_EQ(parse_language("fa"), language::fa);
  EXPECT_EQ(parse_language("fa-IR"), language::fa);
  EXPECT_EQ(parse_language("ar_SA"), language::ar);
  EXPECT_EQ(parse_language("EN-us"), language::en);
  EXPECT_EQ(parse_language("de"), std::nullopt);
  EXPECT_EQ(parse_language("farsi"), std::nullopt);
  EXPECT_EQ(parse_language(""), std::nullopt);
  EXPECT_EQ(to_string(language::ar), "ar");
}

}  // namespace
}  // namespace pasokh::bot
