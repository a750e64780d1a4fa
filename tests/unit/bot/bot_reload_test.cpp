#include "pasokh/bot/bot.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace pasokh::bot {
namespace {

std::string kb_json(const std::string& answer) {
  return R"({"languages":["en"],"entries":[
    {"id":"returns","tags":["returns"],"questions":{"en":["Can I return a product?","What is your return policy?"]},
     "answers":{"en":")" + answer + R"("}},
    {"id":"delivery","questions":{"en":["How long does delivery take?"]},"answers":{"en":"Two days."}}]})";
}

std::unique_ptr<bot> make_bot(const std::string& answer) {
  auto created = bot::from_json(kb_json(answer));
  if (!created) throw std::runtime_error(to_string(created.errors.front()));
  return std::move(created.value);
}

std::string answer_to(const bot& b, std::string_view q) {
  return b.decide({}, {.text = q, .language = "en"}).text;
}

TEST(bot_reload, swaps_in_the_new_knowledge_base) {
  auto created = bot::from_json(kb_json("Within 7 days."));
  ASSERT_TRUE(created);
  bot& b = *created.value;
  EXPECT_EQ(b.generation(), 1u);
  EXPECT_NE(answer_to(b, "can I return it?").find("Within 7 days."), std::string::npos);

  const auto before = b.snapshot();
  const reload_result r = b.reload_json(kb_json("Within 30 days."));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.generation, 2u);
  EXPECT_EQ(r.entries, 2u);
  EXPECT_NE(answer_to(b, "can I return it?").find("Within 30 days."), std::string::npos);
  // A reader that took a snapshot before the swap keeps a consistent, live index.
  EXPECT_EQ(before->kb().find("returns")->answer(language::en), "Within 7 days.");
}

TEST(bot_reload, a_broken_file_is_rejected_and_the_old_kb_stays) {
  auto owner = make_bot("Within 7 days.");
  bot& b = *owner;
  const reload_result r = b.reload_json(R"({"entries":[{"id":"returns"}]})");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.errors.empty());
  EXPECT_EQ(r.generation, 1u);
  EXPECT_NE(answer_to(b, "can I return it?").find("Within 7 days."), std::string::npos);
}

TEST(bot_reload, reloads_from_a_file) {
  const auto path = std::filesystem::temp_directory_path() / ("pasokh-bot-reload-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << kb_json("From the file.");
  auto owner = make_bot("Within 7 days.");
  bot& b = *owner;
  const auto r = b.reload_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok()) << to_string(r.errors.front());
  EXPECT_NE(answer_to(b, "what is your return policy").find("From the file."), std::string::npos);
  EXPECT_FALSE(b.reload_file(path).ok());  // gone now: error, KB kept
  EXPECT_NE(answer_to(b, "what is your return policy").find("From the file."), std::string::npos);
}

TEST(bot_reload, readers_never_see_a_half_built_index_while_reloads_run) {
  auto owner = make_bot("Version A.");
  bot& b = *owner;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, answered{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        const auto text = answer_to(b, "can I return a product?");
        if (text.find("Version A.") == std::string::npos && text.find("Version B.") == std::string::npos) ++bad;
        ++answered;
      }
    });
  }
  // Keep reloading until the readers have really overlapped with reloads.
  int reloads = 0;
  while (reloads < 40 || answered < 200) {
    ASSERT_TRUE(b.reload_json(kb_json(reloads % 2 ? "Version A." : "Version B.")).ok());
    ++reloads;
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad, 0);
  EXPECT_GT(answered, 0);
  EXPECT_EQ(b.generation(), static_cast<std::uint64_t>(reloads) + 1);
}

TEST(bot_reload, from_file_reports_errors_instead_of_a_bot) {
  const auto created = bot::from_file("/nonexistent/kb.json");
  EXPECT_FALSE(created);
  EXPECT_FALSE(created.errors.empty());
}

}  // namespace
}  // namespace pasokh::bot
