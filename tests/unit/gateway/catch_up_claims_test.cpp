#include <gtest/gtest.h>

#include "pasokh/gateway/catch_up_claims.hpp"

namespace pasokh::gateway {
namespace {

TEST(CatchUpClaims, OneRunsAndWhatComesMeanwhileMakesItReadAgain) {
  catch_up_claims claims;
  EXPECT_FALSE(claims.defer("cv_1")) << "no catch-up: a live event goes out as it is";
  ASSERT_TRUE(claims.claim("cv_1"));
  claims.reading("cv_1");
  EXPECT_FALSE(claims.asked_again("cv_1"));
  EXPECT_TRUE(claims.defer("cv_1")) << "held for the catch-up";
  EXPECT_TRUE(claims.asked_again("cv_1"));
  claims.reading("cv_1");
  EXPECT_FALSE(claims.claim("cv_1")) << "a second catch-up only asks the running one";
  EXPECT_TRUE(claims.asked_again("cv_1"));
  EXPECT_TRUE(claims.claim("cv_2")) << "each conversation its own";
  claims.release("cv_1");
  EXPECT_FALSE(claims.defer("cv_1"));
  EXPECT_TRUE(claims.claim("cv_1"));
}

}  // namespace
}  // namespace pasokh::gateway
