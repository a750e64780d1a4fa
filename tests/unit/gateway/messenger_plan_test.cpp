// What a WhatsApp message becomes after the 24-hour window.
#include <gtest/gtest.h>

#include "pasokh/gateway/messenger_plan.hpp"

namespace {

using namespace pasokh;
using namespace std::chrono_literals;

gateway::messenger_provider whatsapp_with_follow_up_template() {
  connectors::whatsapp::whatsapp_channel ch;
  ch.id = "wa";
  ch.phone_number_id = "106540352242922";
  ch.access_token = connectors::secret("token");
  gateway::messenger_provider p{ch, {}};
  p.after_window = {"support_followup", "fa", true};
  return p;
}

proto::outbound_message message(std::string text) {
  proto::outbound_message m;
  m.channel = "wa";
  m.kind = proto::channel_kind::whatsapp;
  m.recipient = "989121234567";
  m.text = std::move(text);
  return m;
}

TEST(WhatsAppAfterWindow, AnAgentsFollowUpGoesInTheFollowUpTemplate) {
  auto plan = gateway::plan_for(whatsapp_with_follow_up_template(), message("تعمیر تمام شد"), 30h);
  ASSERT_FALSE(plan.refused);
  ASSERT_EQ(plan.requests.size(), 1u);
  EXPECT_NE(plan.requests[0].body.find("support_followup"), std::string::npos);
}

TEST(WhatsAppAfterWindow, ACampaignOrBotTextNeverGoesInTheFollowUpTemplate) {
  auto campaign = message("یلدا مبارک! ۲۰٪ تخفیف");
  campaign.automatic = true;
  campaign.campaign = "cp_1";
  auto bot = message("ساعت کاری ما ۹ تا ۱۷ است");
  bot.automatic = true;
  for (const auto& m : {campaign, bot}) {
    auto plan = gateway::plan_for(whatsapp_with_follow_up_template(), m, 30h);
    ASSERT_TRUE(plan.refused) << m.text;
    EXPECT_TRUE(plan.requests.empty());
    EXPECT_EQ(plan.refused->reason, "outside the 24-hour window: send a template");
  }
  // Inside the window it goes as text.
  auto inside = gateway::plan_for(whatsapp_with_follow_up_template(), campaign, 2h);
  ASSERT_FALSE(inside.refused);
  ASSERT_EQ(inside.requests.size(), 1u);
  EXPECT_NE(inside.requests[0].body.find("\"type\":\"text\""), std::string::npos) << inside.requests[0].body;
  EXPECT_EQ(inside.requests[0].body.find("support_followup"), std::string::npos);
}

}  // namespace
