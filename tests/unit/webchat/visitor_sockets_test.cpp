#include "pasokh/gateway/webchat.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

namespace {
// A closer that notes which socket it closed.
visitor_sockets::closer noting(std::vector<int>& closed, int id) {
  return [&closed, id](visitor_sockets::close_why) { closed.push_back(id); };
}
}  // namespace

TEST(VisitorSockets, PastTheCapTheVisitorsOldestCloses) {
  visitor_sockets sockets(2);
  std::vector<int> closed;
  for (int id = 1; id <= 2; ++id) EXPECT_TRUE(sockets.add("web:v1", id, noting(closed, id)).empty());
  EXPECT_TRUE(sockets.add("web:v2", 9, noting(closed, 9)).empty());  // another visitor: counted apart
  auto past = sockets.add("web:v1", 3, noting(closed, 3));
  ASSERT_EQ(past.size(), 1u);
  past[0](visitor_sockets::close_why::replaced);
  EXPECT_EQ(closed, std::vector<int>{1});
  EXPECT_EQ(sockets.count("web:v1"), 2u);
  EXPECT_EQ(sockets.count("web:v2"), 1u);
}

TEST(VisitorSockets, AClosedSocketFreesItsPlace) {
  visitor_sockets sockets(2);
  std::vector<int> closed;
  sockets.add("web:v1", 1, noting(closed, 1));
  sockets.add("web:v1", 2, noting(closed, 2));
  sockets.remove("web:v1", 1);
  sockets.remove("web:v1", 1);  // twice: no harm
  EXPECT_TRUE(sockets.add("web:v1", 3, noting(closed, 3)).empty());
  sockets.remove("web:v1", 2);
  sockets.remove("web:v1", 3);
  EXPECT_EQ(sockets.count("web:v1"), 0u);
  EXPECT_TRUE(closed.empty());
}

TEST(VisitorSockets, EndChatClosesEveryOneOfTheVisitorsSockets) {
  visitor_sockets sockets(4);
  std::vector<int> closed;
  sockets.add("web:v1", 1, noting(closed, 1));
  sockets.add("web:v1", 2, noting(closed, 2));
  sockets.add("web:v2", 3, noting(closed, 3));
  for (auto& close : sockets.remove_all("web:v1")) close(visitor_sockets::close_why::ended);
  EXPECT_EQ(closed, (std::vector<int>{1, 2}));
  EXPECT_EQ(sockets.count("web:v1"), 0u);
  EXPECT_EQ(sockets.count("web:v2"), 1u);
  EXPECT_TRUE(sockets.remove_all("web:v1").empty());
  sockets.remove("web:v1", 1);  // the closed socket's own goodbye: no harm
  EXPECT_EQ(sockets.count("web:v1"), 0u);
  EXPECT_EQ(sockets.count("web:v2"), 1u);
  EXPECT_EQ(closed.size(), 2u);
}
