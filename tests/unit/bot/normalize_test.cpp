#include "pasokh/bot/normalize.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace pasokh::bot {
namespace {

struct fold_case {
  const char* what;
  const char* input;
  const char* expected;
};
void PrintTo(const fold_case& c, std::ostream* os) { *os << c.what << ": \"" << c.input << "\""; }


class normalize_table : public testing::TestWithParam<fold_case> {};

TEST_P(normalize_table, folds) {
  EXPECT_EQ(normalize(GetParam().input), GetParam().expected) << GetParam().what;
}

// Pairs that a customer may type either way must meet on one form.
INSTANTIATE_TEST_SUITE_P(
    variants, normalize_table,
    testing::Values(
        fold_case{"Arabic yeh and alef maksura become Persian yeh", "جهازي على", "جهازی علی"},
        fold_case{"Arabic kaf becomes Persian keheh", "كيف ألغي", "کیف الغی"},
        fold_case{"teh marbuta becomes heh", "فاتورة الضمانة", "فاتوره الضمانه"},
        fold_case{"hamza carriers fold: أ إ آ ٱ → ا, ؤ → و, ئ → ی", "أريد إرجاع آب ٱلمنتج مسؤول رئيس",
                  "ارید ارجاع اب المنتج مسوول رییس"},
        fold_case{"lone hamza is dropped", "شيء ماء", "شی ما"},
        fold_case{"Persian heh with hamza above (ezafe) folds", "خانۀ من", "خانه من"},
        fold_case{"harakat and tanween are removed", "مُنْتَجٌ شَهْرًا", "منتج شهرا"},
        fold_case{"tatweel is removed", "ضـــمان", "ضمان"},
        fold_case{"ZWNJ joins the verb prefix", "می\u200cخواهم", "میخواهم"},
        fold_case{"ZWNJ and no-space spellings meet", "نزدیک\u200cترین", "نزدیکترین"},
        fold_case{"ZWNJ after می/نمی and before a suffix joins",
                  "نمی\u200cدونم کتاب\u200cهای مرسوله\u200cام برمی\u200cگردد گارانتی\u200cای", "نمیدونم کتابهای مرسولهام برمیگردد گارانتیای"},
        fold_case{"ZWNJ between the words of a compound is a space", "پس\u200cبدم همین\u200cجا آسیب\u200cدیده",
                  "پس بدم همین جا اسیب دیده"},
        fold_case{"both in one word", "به\u200cروزرسانی\u200cها", "به روزرسانیها"},
        fold_case{"ZWNJ at the edges of a word vanishes", "\u200cسلام\u200c \u200c!", "سلام"},
        fold_case{"bidi marks and BOM vanish", "\u200fسلام\u200e\uFEFF", "سلام"},
        fold_case{"Persian digits become ASCII", "سفارش ۱۲۳۴", "سفارش 1234"},
        fold_case{"Arabic-Indic digits become ASCII", "طلب ٥٦٧٨", "طلب 5678"},
        fold_case{"Latin is case-folded", "WARRANTY Claim", "warranty claim"},
        fold_case{"Latin-1 capitals fold too", "ÉCRAN Cassé", "écran cassé"},
        fold_case{"apostrophes inside words are dropped", "don't it’s", "dont its"},
        fold_case{"Arabic and Latin punctuation separate words", "سلام،خوبی؟چطوری؛ hi!there", "سلام خوبی چطوری hi there"},
        fold_case{"guillemets, emoji and symbols are spaces", "«گارانتی»👍 ★ok", "گارانتی ok"},
        fold_case{"emoji parts are no words: variation selector, skin tone, ZWJ, keycap, tags",
                  "ممنون ❤️ 👍🏽 👨‍👩‍👧 #️⃣ 🏴󠁧󠁢󠁥󠁮󠁧󠁿", "ممنون"},
        fold_case{"a keycap digit is the digit", "2️⃣", "2"},
        fold_case{"runs of whitespace collapse and ends are trimmed", "  a \t\n  b  ", "a b"},
        fold_case{"invalid UTF-8 bytes become separators", "ab\xff\xfe" "cd", "ab cd"},
        fold_case{"empty stays empty", "", ""}));

TEST(normalize, output_is_idempotent) {
  const std::string once = normalize("هل يمكنني إرجاع المُنتَج؟ ۱۲ می‌خوام WARRANTY");
  EXPECT_EQ(normalize(once), once);
}

TEST(normalize, into_reuses_the_buffer) {
  std::string out = "leftover text";
  normalize_into("Hi", out);
  EXPECT_EQ(out, "hi");
}

}  // namespace
}  // namespace pasokh::bot
