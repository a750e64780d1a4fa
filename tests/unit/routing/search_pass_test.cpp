// Which documents an indexing pass takes: the term bound, files that come
// with their conversation, and dirty files that never wait behind conversations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "search_pass.hpp"

namespace {

struct doc {
  std::string member;
  bool customer = false;
  std::string brought_by;
  std::vector<std::string> terms;
};

doc conversation(std::string id, std::size_t terms) { return {std::move(id), false, "", std::vector<std::string>(terms, "t")}; }
doc file(std::string id, std::size_t terms, std::string brought_by = "") {
  return {std::move(id), true, std::move(brought_by), std::vector<std::string>(terms, "t")};
}

std::vector<std::string> members(const std::vector<doc>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.member);
  return out;
}

}  // namespace

TEST(SearchPass, ConversationsUpToTheBoundWithTheFilesTheyBring) {
  // cv_2 and the file it brings would pass the bound: both wait; cv_3 fits.
  std::vector<doc> docs{conversation("cv_1", 100), conversation("cv_2", 190), conversation("cv_3", 50),
                        file("cu_1", 10, "cv_1"), file("cu_2", 10, "cv_2"), file("cu_3", 10, "cv_3")};
  pasokh::routing::bound_pass(docs, 300);
  EXPECT_EQ(members(docs), (std::vector<std::string>{"cv_1", "cv_3", "cu_1", "cu_3"}));
}

TEST(SearchPass, DirtyFilesGoFirstEvenWhenConversationsFillThePass) {
  // The file's terms count: without them cv_2 would fit (280 of 300).
  std::vector<doc> docs{conversation("cv_1", 140), conversation("cv_2", 140), file("cu_9", 30)};
  pasokh::routing::bound_pass(docs, 300);
  EXPECT_EQ(members(docs), (std::vector<std::string>{"cv_1", "cu_9"}));
}

TEST(SearchPass, TheFirstConversationGoesHoweverLarge) {
  std::vector<doc> docs{conversation("cv_1", 2000), file("cu_1", 5, "cv_1"), conversation("cv_2", 1)};
  pasokh::routing::bound_pass(docs, 300);
  EXPECT_EQ(members(docs), (std::vector<std::string>{"cv_1", "cu_1"}));
}
