// What the search box finds: the words a message is indexed under and how a
// query is read, with the letter forms and digits customers really type.
#include <gtest/gtest.h>

#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/search_text.hpp"

namespace {

using pasokh::routing::parse_search_query;
using pasokh::routing::search_snippet;
using pasokh::routing::search_terms;
using pasokh::routing::text_matches;
using terms = std::vector<std::string>;

TEST(SearchTerms, ArabicLetterFormsAndDigitsMeetTheirPersianAndAsciiForms) {
  // ي ك and Persian digits: an Arabic keyboard and a Persian one type the same word differently.
  EXPECT_EQ(search_terms("گارانتي يخچال كار نمي‌كند ۱۲۳۴"), search_terms("گارانتی یخچال کار نمی‌کند 1234"));
  EXPECT_EQ(search_terms("سفارش ٤٥٦"), (terms{"سفارش", "456"}));
}

TEST(SearchTerms, PunctuationSplitsWordsAndRepeatsAndSingleLettersAreDropped) {
  EXPECT_EQ(search_terms("Order INV-2231: refund, refund! a و"), (terms{"order", "inv", "2231", "refund"}));
  EXPECT_TRUE(search_terms("").empty());
  EXPECT_TRUE(search_terms("?! - .").empty());
}

TEST(SearchTerms, DigitsGluedToLettersAreAlsoTheirOwnTerm) {
  EXPECT_EQ(search_terms("ORD12345 سفارش۱۲۳۴۵"), (terms{"ord12345", "ord", "12345", "سفارش12345", "سفارش"}));
  EXPECT_EQ(search_terms("4K"), (terms{"4k"}));  // "4" and "k" are too short to be terms
}

TEST(SearchMatch, AnOrderNumberGluedToAWordIsFoundByItsDigitsInAnyScript) {
  for (const char* text : {"سفارش۱۲۳۴۵ هنوز نرسیده", "order#12345 late", "ORD12345", "طلب١٢٣٤٥"}) {
    for (const char* query : {"12345", "۱۲۳۴۵", "١٢٣٤٥", "12345 "}) {
      EXPECT_TRUE(text_matches(text, parse_search_query(query))) << text << " / " << query;
    }
  }
  // The glued form as a query asks for its runs, also while being typed.
  EXPECT_EQ(parse_search_query("ORD12345").words, (terms{"ord", "12345"}));
  EXPECT_TRUE(text_matches("ORD-12345", parse_search_query("ord12345")));
  EXPECT_TRUE(text_matches("ORD12345", parse_search_query("ord123")));
  EXPECT_FALSE(text_matches("ORD12345", parse_search_query("ord124")));
  // Too short to split: whole, as indexed.
  EXPECT_EQ(parse_search_query("4k ").words, (terms{"4k"}));
  EXPECT_TRUE(text_matches("Samsung 4K TV", parse_search_query("4k ")));
}

TEST(SearchTerms, OverlongRunsAreNotIndexed) {
  // 40 characters is a word (a long serial number); 41 is a blob.
  const std::string longest(40, 'x'), blob(41, 'y');
  EXPECT_EQ(search_terms(longest + " " + blob + " lamp"), (terms{longest, "lamp"}));
  // Characters, not bytes: 40 Persian letters are 80 bytes.
  std::string persian;
  for (int i = 0; i < 40; ++i) persian += "ب";
  EXPECT_EQ(search_terms(persian), (terms{persian}));
}

TEST(SearchQuery, TheLastWordIsAPrefixWhileItIsBeingTyped) {
  auto typing = parse_search_query("warranty refr");
  EXPECT_EQ(typing.words, (terms{"warranty", "refr"}));
  EXPECT_TRUE(typing.last_is_prefix);
  EXPECT_FALSE(parse_search_query("warranty refr ").last_is_prefix);
  EXPECT_TRUE(parse_search_query("x").words.empty());
}

TEST(SearchQuery, AnEmailOrPhoneNumberAlsoNamesTheCustomerFile) {
  EXPECT_EQ(parse_search_query(" Ali@Example.COM ").key, "email:ali@example.com");
  EXPECT_EQ(parse_search_query("۰۹۱۲ ۳۴۵ ۶۷۸۹").key, "phone:989123456789");
  EXPECT_EQ(parse_search_query("refund").key, "");
}

TEST(SearchMatch, EveryWordMustAppearTheLastAsTheStartOfAWord) {
  auto q = parse_search_query("يخچال گارا");
  EXPECT_TRUE(text_matches("سلام، گارانتی یخچال من تمام شده", q));
  EXPECT_FALSE(text_matches("گارانتی ماشین لباسشویی", q));
  auto whole = parse_search_query("refund ");
  EXPECT_TRUE(text_matches("I want a REFUND.", whole));
  EXPECT_FALSE(text_matches("refunded already", whole));
}

TEST(SearchMatch, AZwnjCompoundIsFoundByItsWordsAndAZwnjSuffixByTheJoinedWord) {
  // «پس‌بدم» (give back) is two words; «سفارش‌ها» one word with its plural.
  EXPECT_TRUE(text_matches("میخوام گوشی رو پس\u200cبدم", parse_search_query("پس بدم ")));
  EXPECT_TRUE(text_matches("سفارش\u200cهای من", parse_search_query("سفارشهای ")));
  EXPECT_TRUE(text_matches("سفارشهای من", parse_search_query("سفارش\u200cهای ")));
}

TEST(SearchSnippet, ShortTextIsKept) {
  EXPECT_EQ(search_snippet("short one", parse_search_query("one"), 160), "short one");
}

TEST(SearchSnippet, ALongMessageShowsTheTextAroundTheWordFound) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "سلام ";
  text += "شماره سريال يخچال ۹۸۷۶ است. ";
  for (int i = 0; i < 60; ++i) text += "ممنون ";
  // Typed with Persian letters and ASCII digits; the text has Arabic ones.
  auto s = search_snippet(text, parse_search_query("سریال 9876"), 50);
  EXPECT_NE(s.find("سريال يخچال ۹۸۷۶"), std::string::npos) << s;
  EXPECT_TRUE(s.starts_with("…")) << s;
  EXPECT_TRUE(s.ends_with("…")) << s;
  EXPECT_LE(pasokh::proto::utf8_length(s), 52u) << s;
  // Nothing matches: the start of the text.
  auto none = search_snippet(text, parse_search_query("lamp"), 50);
  EXPECT_TRUE(none.starts_with("سلام")) << none;
  EXPECT_TRUE(none.ends_with("…"));
}

// A long message of clusters with no space to cut at, the hit in the middle.
std::string around_hit(std::string_view cluster, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += cluster;
  text += " یخچال ";
  for (int i = 0; i < times; ++i) text += cluster;
  return text;
}

// What the snippet shows between its "…"s.
std::string body(std::string snippet) {
  constexpr std::string_view ellipsis = "…";
  if (snippet.starts_with(ellipsis)) snippet.erase(0, ellipsis.size());
  if (snippet.ends_with(ellipsis)) snippet.erase(snippet.size() - ellipsis.size());
  return snippet;
}

TEST(SearchSnippet, CutsKeepEmojiSequencesAndSkinTonesWhole) {
  const auto q = parse_search_query("یخچال");
  for (int max : {48, 49, 50, 51, 52}) {
    // Family: man ZWJ woman ZWJ girl.
    auto family = body(search_snippet(around_hit("👨\u200d👩\u200d👧", 40), q, max));
    EXPECT_TRUE(family.starts_with("👨")) << max << ": " << family;
    EXPECT_TRUE(family.ends_with("👧")) << max << ": " << family;
    // Thumbs up with a skin tone; a red heart with its variation selector.
    auto thumbs = body(search_snippet(around_hit("👍🏽", 60), q, max));
    EXPECT_TRUE(thumbs.starts_with("👍")) << max << ": " << thumbs;
    EXPECT_TRUE(thumbs.ends_with("🏽")) << max << ": " << thumbs;
    auto hearts = body(search_snippet(around_hit("❤\ufe0f", 60), q, max));
    EXPECT_TRUE(hearts.starts_with("❤")) << max << ": " << hearts;
    EXPECT_TRUE(hearts.ends_with("\ufe0f")) << max << ": " << hearts;
    // Flags are pairs of regional indicators: 🇮🇷.
    auto flags = body(search_snippet(around_hit("🇮🇷", 60), q, max));
    EXPECT_TRUE(flags.starts_with("🇮🇷")) << max << ": " << flags;
    EXPECT_TRUE(flags.ends_with("🇮🇷")) << max << ": " << flags;
  }
}

TEST(SearchSnippet, CutsKeepALetterWithItsHarakatAndLeaveNoLoneZwnj) {
  const auto q = parse_search_query("یخچال");
  const std::string harakat = around_hit("سَلَامٌ", 30);
  const std::string zwnj = around_hit("کتاب\u200cها", 30);
  for (int max : {48, 49, 50, 51, 52}) {
    const auto s = search_snippet(harakat, q, max);
    const auto b = body(s);
    // Starts with a letter, and what follows the snippet in the text is a letter too.
    EXPECT_TRUE(b.starts_with("س") || b.starts_with("ل") || b.starts_with("ا") || b.starts_with("م")) << max << ": " << s;
    const auto end = harakat.find(b) + b.size();
    EXPECT_TRUE(harakat.substr(end).starts_with("س") || harakat.substr(end).starts_with("ل") ||
                harakat.substr(end).starts_with("ا") || harakat.substr(end).starts_with("م"))
        << max << ": " << s;
    auto z = body(search_snippet(zwnj, q, max));
    EXPECT_FALSE(z.starts_with("\u200c") || z.ends_with("\u200c")) << max << ": " << z;
  }
}

}  // namespace
