#include "pasokh/gateway/audit.hpp"

#include <gtest/gtest.h>

using namespace pasokh::gateway;

TEST(Audit, LineNamesAdminActionTarget) {
  EXPECT_EQ(audit_line("ag_boss", "agent.password", "ag_ali"), "admin=ag_boss action=agent.password target=ag_ali");
  EXPECT_EQ(audit_line("ag_boss", "agent.role", "ag_ali", "role=admin"),
            "admin=ag_boss action=agent.role target=ag_ali role=admin");
}

// A value cannot start a second line or pass for another key=value pair.
TEST(Audit, SpacesAndControlCharactersInValuesBecomeUnderscores) {
  EXPECT_EQ(audit_line("ag_boss", "team.update", "x target=forged\nadmin=other"),
            "admin=ag_boss action=team.update target=x_target=forged_admin=other");
  EXPECT_EQ(audit_line("a", "b", "c", "kind=x\ny"), "admin=a action=b target=c kind=x_y");
}
