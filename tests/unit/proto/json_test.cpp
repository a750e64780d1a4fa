#include "pasokh/proto/json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace pasokh::proto;
using nlohmann::json;

template <class T>
T round_trip(const T& v) {
  return json::parse(json(v).dump()).get<T>();
}

TEST(ProtoJson, MessageRoundTripsWithPersianTextAndAttachments) {
  message m;
  m.id = "cv_1:3";
  m.conversation_id = "cv_1";
  m.seq = 3;
  m.dir = direction::outbound;
  m.author = author_kind::agent;
  m.author_id = "ag_sara";
  m.text = "گارانتی شما تا ۱۴۰۴/۰۶/۳۱ معتبر است";
  m.attachments.push_back({attachment_kind::location, "", "", 0, "", "", 35.6892, 51.389});
  m.channel = "tg-main";
  m.created_at = 1'763'800'000'123;
  m.status = delivery_status::read;
  EXPECT_EQ(round_trip(m), m);
  auto j = json(m);
  EXPECT_EQ(j["direction"], "out");
  EXPECT_EQ(j["status"], "read");
  EXPECT_FALSE(j.contains("failure_reason"));  // empty optional fields are omitted
}

TEST(ProtoJson, ASharedLinkSaysSo) {
  attachment a;
  a.provider_ref = "https://example.ir/p/123";
  a.name = "fallback";
  a.link = true;
  EXPECT_EQ(json(a)["link"], true);
  EXPECT_EQ(json(a).get<attachment>(), a);
  EXPECT_FALSE(json(attachment{}).contains("link")) << "a file has none";
}

TEST(ProtoJson, ConversationInboundAndOutboundRoundTrip) {
  conversation c{"cv_9", "wa-1", channel_kind::whatsapp, "cu_2", conversation_status::assigned, priority::high,
                 "ag_reza", "returns", 12, 1, 2, 3};
  EXPECT_EQ(round_trip(c), c);

  inbound_event e;
  e.kind = inbound_kind::status;
  e.from = {"wa-1", channel_kind::whatsapp, "989121234567", "رضا"};
  e.provider_message_id = "wamid.X";
  e.status = delivery_status::failed;
  e.status_error = "131047 Re-engagement message";
  e.dedup_key = "wamid.X:failed";
  EXPECT_EQ(round_trip(e), e);

  outbound_message o;
  o.message_id = "cv_9:13";
  o.conversation_id = "cv_9";
  o.channel = "wa-1";
  o.kind = channel_kind::whatsapp;
  o.recipient = "989121234567";
  o.text = "آیا پاسخ مفید بود؟";
  o.buttons = {{"yes", "بله"}, {"no", "خیر"}};
  o.automatic = true;
  EXPECT_EQ(round_trip(o), o);
  o.campaign = "cp_3";
  o.unsubscribe_token = "u-token";
  EXPECT_EQ(round_trip(o), o);
  o.subject = "تأیید نشانی ایمیل";
  EXPECT_EQ(round_trip(o), o);
}

TEST(ProtoJson, RejectsUnknownEnumNamesAndMissingFields) {
  EXPECT_THROW(json::parse(R"({"id":"cv_1","channel":"x","status":"sleeping"})").get<conversation>(), std::invalid_argument);
  EXPECT_THROW(json::parse(R"({"channel":"x"})").get<conversation>(), json::exception);
  EXPECT_THROW(json::parse(R"({"from":{"channel":"x","kind":"fax","external_id":"1"}})").get<inbound_event>(),
               std::invalid_argument);
}

TEST(ProtoJson, DeliveryStatusNeverMovesBackwards) {
  EXPECT_TRUE(status_advances(delivery_status::sent, delivery_status::delivered));
  EXPECT_TRUE(status_advances(delivery_status::delivered, delivery_status::read));
  EXPECT_FALSE(status_advances(delivery_status::read, delivery_status::delivered));
  EXPECT_FALSE(status_advances(delivery_status::read, delivery_status::sent));
  EXPECT_TRUE(status_advances(delivery_status::read, delivery_status::failed));
  EXPECT_FALSE(status_advances(delivery_status::failed, delivery_status::read));
}
