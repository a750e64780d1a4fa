#include "pasokh/bot/knowledge_base.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pasokh::bot {
namespace {

// A valid two-language knowledge base to break one piece at a time.
std::string kb_with(const std::string& entries, const std::string& languages = R"(["en","fa"])") {
  return R"({"version":1,"languages":)" + languages + R"(,"entries":[)" + entries + "]}";
}
const std::string good_entry = R"({"id":"returns","tags":["returns"],
  "questions":{"en":["Can I return it?"],"fa":["می‌توانم پس بدهم؟"]},
  "answers":{"en":"Within 10 days.","fa":"تا ۱۰ روز."}})";
const std::string other_entry = R"({"id":"refund","questions":{"en":["When is my refund?"],"fa":["پولم کی برمی‌گردد؟"]},
  "answers":{"en":"In 2 days.","fa":"ظرف ۲ روز."}})";

// The error a user would see: entry, JSON pointer and message.
testing::AssertionResult has_error(const kb_load_result& r, const std::string& entry, const std::string& path,
                                   const std::string& message_part) {
  for (const auto& e : r.errors) {
    if (e.entry_id == entry && e.path == path && e.message.find(message_part) != std::string::npos) {
      return testing::AssertionSuccess();
    }
  }
  auto failure = testing::AssertionFailure() << "no error {" << entry << ", " << path << ", ~" << message_part
                                             << "}; got:";
  for (const auto& e : r.errors) failure << "\n  " << to_string(e);
  return failure;
}

TEST(knowledge_base, accepts_a_valid_file_and_keeps_everything) {
  const auto r = parse_knowledge_base(kb_with(good_entry + "," + other_entry));
  ASSERT_TRUE(r.ok()) << to_string(r.errors.front());
  ASSERT_EQ(r.kb.entries.size(), 2u);
  const kb_entry* e = r.kb.find("returns");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->answer(language::fa), "تا ۱۰ روز.");
  EXPECT_EQ(e->tags, std::vector<std::string>{"returns"});
  EXPECT_EQ(e->label(language::en), "Can I return it?");  // no title: first question
  EXPECT_TRUE(r.kb.has_language(language::fa));
  EXPECT_FALSE(r.kb.has_language(language::ar));
}

TEST(knowledge_base, ships_a_valid_demo_kb_in_three_languages) {
  const auto r = load_knowledge_base(PASOKH_BOT_DEMO_KB);
  ASSERT_TRUE(r.ok()) << to_string(r.errors.front());
  EXPECT_GE(r.kb.entries.size(), 20u);
  for (language l : all_languages) EXPECT_TRUE(r.kb.has_language(l));
  for (const auto& e : r.kb.entries) {
    for (language l : all_languages) {
      EXPECT_FALSE(e.answer(l).empty()) << e.id;
      EXPECT_GE(e.questions[static_cast<std::size_t>(l)].size(), 3u) << e.id;
    }
  }
}

TEST(knowledge_base, reports_a_missing_answer_language_with_entry_and_path) {
  const auto r = parse_knowledge_base(kb_with(R"({"id":"returns","questions":{"en":["Can I return it?"],
    "fa":["پس بدهم؟"]},"answers":{"en":"Within 10 days."}})"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/answers/fa", "no answer in 'fa'"));
  EXPECT_EQ(to_string(r.errors.front()), "entry 'returns' at /entries/0/answers/fa: no answer in 'fa'");
}

TEST(knowledge_base, reports_missing_questions_for_a_declared_language) {
  const auto r = parse_knowledge_base(kb_with(R"({"id":"returns","questions":{"en":["Can I return it?"]},
    "answers":{"en":"a","fa":"b"}})"));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/questions/fa", "no questions"));
}

TEST(knowledge_base, rejects_duplicate_ids) {
  const auto r = parse_knowledge_base(kb_with(good_entry + "," + good_entry));
  EXPECT_TRUE(has_error(r, "returns", "/entries/1/id", "duplicate id"));
}

TEST(knowledge_base, rejects_bad_and_reserved_ids) {
  auto bad = good_entry;
  bad.replace(bad.find("\"returns\""), 9, "\"Returns Policy\"");
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(bad)), "Returns Policy", "/entries/0/id", "a-z 0-9"));
  auto reserved = good_entry;
  reserved.replace(reserved.find("\"returns\""), 9, "\"__none__\"");
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(reserved)), "__none__", "/entries/0/id", "reserved"));
  auto too_long = good_entry;  // would not fit a Telegram button payload
  too_long.replace(too_long.find("\"returns\""), 9, "\"" + std::string(60, 'a') + "\"");
  EXPECT_FALSE(parse_knowledge_base(kb_with(too_long)).ok());
}

TEST(knowledge_base, rejects_unknown_keys_so_typos_do_not_pass_silently) {
  auto typo = good_entry;
  typo.replace(typo.find("\"questions\""), 11, "\"quesitons\"");
  const auto r = parse_knowledge_base(kb_with(typo));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/quesitons", "unknown key"));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/questions", "missing object 'questions'"));
  EXPECT_TRUE(has_error(parse_knowledge_base(R"({"entries":[)" + good_entry + R"(],"entires":[]})"), "", "/entires",
                        "unknown key"));
}

TEST(knowledge_base, rejects_languages_it_does_not_know_or_declare) {
  auto german = good_entry;
  german.replace(german.find("\"en\":\"Within"), 5, "\"de\":");
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(german)), "returns", "/entries/0/answers/de", "unknown language"));
  auto arabic = good_entry;  // ar is valid but this KB only declares en and fa
  arabic.replace(arabic.find("\"en\":\"Within"), 5, "\"ar\":");
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(arabic)), "returns", "/entries/0/answers/ar", "not in the knowledge base's languages"));
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(good_entry, R"(["en","xx"])")), "", "/languages/1", "unknown language"));
}

TEST(knowledge_base, rejects_empty_questions_and_answers) {
  const auto r = parse_knowledge_base(kb_with(R"({"id":"returns","questions":{"en":["?!"],"fa":["پس بدهم؟"]},
    "answers":{"en":"  ","fa":"b"}})"));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/questions/en/0", "no words"));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/answers/en", "answer is empty"));
}

TEST(knowledge_base, rejects_answers_a_channel_would_refuse) {
  auto long_answer = good_entry;
  long_answer.replace(long_answer.find("Within 10 days."), 15, std::string(5000, 'x'));
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(long_answer)), "returns", "/entries/0/answers/en", "longer than 4096"));
}

TEST(knowledge_base, checks_follow_up_targets) {
  auto with_follow_ups = good_entry;
  with_follow_ups.insert(with_follow_ups.size() - 1,
                         R"(,"follow_ups":[{"entry":"refund","title":{"en":"Refund timing"}},{"entry":"nope"},{"entry":"returns"}])");
  const auto r = parse_knowledge_base(kb_with(with_follow_ups + "," + other_entry));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/follow_ups/1/entry", "unknown entry 'nope'"));
  EXPECT_TRUE(has_error(r, "returns", "/entries/0/follow_ups/2/entry", "its own entry"));
  EXPECT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.kb.entries[0].follow_ups[0].title[static_cast<std::size_t>(language::en)], "Refund timing");
}

TEST(knowledge_base, rejects_the_same_question_in_two_entries) {
  auto clash = other_entry;
  clash.replace(clash.find("When is my refund?"), 18, "can i RETURN it");  // same after normalization
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(good_entry + "," + clash)), "refund", "/entries/1/questions/en/0",
                        "same question as entry 'returns'"));
}

TEST(knowledge_base, reports_broken_json_and_wrong_shapes) {
  EXPECT_TRUE(has_error(parse_knowledge_base("{\"entries\": [}"), "", "", "not valid JSON"));
  EXPECT_TRUE(has_error(parse_knowledge_base("[]"), "", "", "must be a JSON object"));
  EXPECT_TRUE(has_error(parse_knowledge_base(R"({"version":1})"), "", "/entries", "missing array 'entries'"));
  EXPECT_TRUE(has_error(parse_knowledge_base(R"({"entries":[]})"), "", "/entries", "no entries"));
  EXPECT_TRUE(has_error(parse_knowledge_base(R"({"version":0,"entries":[)" + good_entry + "]}"), "", "/version", "positive"));
  EXPECT_TRUE(has_error(parse_knowledge_base(kb_with(R"("just a string")")), "", "/entries/0", "must be an object"));
}

TEST(knowledge_base, collects_every_problem_not_just_the_first) {
  const auto r = parse_knowledge_base(kb_with(R"({"id":"a","questions":{"en":[1]},"answers":{}},
                                                 {"questions":{},"answers":{"en":"x","fa":"y"}})"));
  EXPECT_GE(r.errors.size(), 4u);
  EXPECT_TRUE(has_error(r, "a", "/entries/0/questions/en/0", "must be a string"));
  EXPECT_TRUE(has_error(r, "", "/entries/1/id", "missing string 'id'"));
}

TEST(knowledge_base, reports_an_unreadable_file) {
  const auto r = load_knowledge_base("/nonexistent/kb.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors.front().message.find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace pasokh::bot
