// Web chat uploads: what a file is by its first bytes, the name kept, the
// message frame naming uploads and the customer's view of their own files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/webchat_protocol.hpp"
#include "pasokh/gateway/webchat_uploads.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {
namespace {

using nlohmann::json;
using namespace std::string_literals;

std::string sniffed(std::string_view bytes) {
  auto t = sniff_upload_type(bytes);
  return t ? std::string(t->mime_type) : "refused";
}

TEST(UploadType, TheBytesDecideNotTheName) {
  EXPECT_EQ(sniffed("\xFF\xD8\xFF\xE0rest"s), "image/jpeg");
  EXPECT_EQ(sniffed("\x89PNG\r\n\x1A\n\0\0\0\rIHDR"s), "image/png");
  EXPECT_EQ(sniffed("RIFF\x10\0\0\0WEBPVP8 "s), "image/webp");
  EXPECT_EQ(sniffed("\0\0\0\x18" "ftypheic\0\0\0\0"s), "image/heic");
  EXPECT_EQ(sniffed("\0\0\0\x18" "ftypmif1\0\0\0\0"s), "image/heic");
  EXPECT_EQ(sniffed("%PDF-1.7\n"), "application/pdf");
  EXPECT_EQ(sniffed("MZ\x90\0\3\0"s), "refused");                   // a Windows program, whatever it is called
  EXPECT_EQ(sniffed("\0\0\0\x18" "ftypisom\0\0\0\0"s), "refused");  // an MP4 video
  EXPECT_EQ(sniffed("RIFF\x10\0\0\0WAVEfmt "s), "refused");
  EXPECT_EQ(sniffed("<svg xmlns='http://www.w3.org/2000/svg'/>"), "refused");
  EXPECT_EQ(sniffed("\xFF\xD8"), "refused");
  EXPECT_EQ(sniffed(""), "refused");
  EXPECT_EQ(sniff_upload_type("%PDF-1.4")->kind, proto::attachment_kind::document);
}

TEST(UploadType, NameKeptWithoutPathOrControls) {
  auto jpeg = *sniff_upload_type("\xFF\xD8\xFF");
  EXPECT_EQ(upload_name("برچسب سریال.jpg", jpeg), "برچسب سریال.jpg");
  EXPECT_EQ(upload_name("C:\\Users\\me\\fault.jpg", jpeg), "fault.jpg");
  EXPECT_EQ(upload_name("a\r\nb.jpg", jpeg), "a__b.jpg");
  EXPECT_EQ(upload_name("", jpeg), "upload.jpg");
  EXPECT_EQ(upload_name("..", jpeg), "upload.jpg");
}

TEST(UploadType, NameOpensAsWhatTheBytesAre) {
  auto jpeg = *sniff_upload_type("\xFF\xD8\xFF");
  auto pdf = *sniff_upload_type("%PDF-1.7");
  EXPECT_EQ(upload_name("receipt.hta", pdf), "receipt.hta.pdf");
  EXPECT_EQ(upload_name("invoice.html", pdf), "invoice.html.pdf");
  EXPECT_EQ(upload_name("Scan.PDF", pdf), "Scan.PDF");
  EXPECT_EQ(upload_name("IMG_0042.JPEG", jpeg), "IMG_0042.JPEG");
  EXPECT_EQ(upload_name("photo", jpeg), "photo.jpg");
  // An override that shows "cardtab.pdf" is taken out: the agent sees what it is.
  EXPECT_EQ(upload_name("warranty-card\u202Efdp.bat", pdf), "warranty-cardfdp.bat.pdf");
  EXPECT_EQ(upload_name("\u2067a\u2069\u200Fb\u200E.pdf", pdf), "ab.pdf");
  // The zero-width non-joiner belongs to Persian words and stays.
  EXPECT_EQ(upload_name("می\u200Cخواهم.pdf", pdf), "می\u200Cخواهم.pdf");
}

TEST(UploadType, LongNamesAreShortened) {
  auto jpeg = *sniff_upload_type("\xFF\xD8\xFF");
  // A long name keeps its beginning and extension, within 100 characters.
  std::string words;
  while (proto::utf8_length(words) < 150) words += "گزارش خرابی یخچال ";
  auto shortened = upload_name(words + ".jpg", jpeg);
  EXPECT_EQ(proto::utf8_length(shortened), 100u);
  EXPECT_TRUE(shortened.starts_with("گزارش خرابی یخچال گزارش")) << shortened;
  EXPECT_TRUE(shortened.ends_with("….jpg")) << shortened;
  EXPECT_TRUE(proto::valid_utf8(shortened));
  EXPECT_EQ(upload_name("\xC3", jpeg), "upload.jpg");
  EXPECT_EQ(upload_name(std::string(101, 'x'), jpeg), std::string(95, 'x') + "….jpg");
}

TEST(UploadType, TheUploadRouteByItsTarget) {
  EXPECT_TRUE(is_webchat_upload("/api/v1/webchat/uploads"));
  EXPECT_TRUE(is_webchat_upload("/api/v1/webchat/uploads?name=a.jpg"));
  EXPECT_FALSE(is_webchat_upload("/api/v1/webchat/uploads/att_1"));
  EXPECT_FALSE(is_webchat_upload("/api/v1/webchat/uploadsX"));
}

TEST(UploadFrames, AMessageNamesUploadsWithOrWithoutText) {
  const frame_limits limits{2000, 128, 2};
  auto parse = [&](std::string_view text) { return parse_client_frame(text, limits); };
  auto ok = parse(R"({"type":"message","client_id":"c1","text":"","uploads":["att_a","att_b"]})");
  ASSERT_TRUE(std::holds_alternative<client_frame>(ok));
  EXPECT_EQ(std::get<message_frame>(std::get<client_frame>(ok)).uploads, (std::vector<std::string>{"att_a", "att_b"}));
  auto twice = parse(R"({"type":"message","client_id":"c1","text":"x","uploads":["att_a","att_a"]})");
  EXPECT_EQ(std::get<message_frame>(std::get<client_frame>(twice)).uploads, (std::vector<std::string>{"att_a"}));
  for (auto bad : {R"({"type":"message","client_id":"c1","text":"x","uploads":["att_a","att_b","att_c"]})",
                   R"({"type":"message","client_id":"c1","text":"x","uploads":["cust:1"]})",
                   R"({"type":"message","client_id":"c1","text":"x","uploads":"att_a"})",
                   R"({"type":"message","client_id":"c1","text":"x","uploads":[7]})"}) {
    auto r = parse(bad);
    ASSERT_TRUE(std::holds_alternative<frame_error>(r)) << bad;
    EXPECT_EQ(std::get<frame_error>(r).code, "bad_frame");
    EXPECT_EQ(std::get<frame_error>(r).close_code, 0);
  }
  auto empty = parse(R"({"type":"message","client_id":"c1","text":" ","uploads":[]})");
  EXPECT_EQ(std::get<frame_error>(empty).code, "empty_text");
}

TEST(UploadFrames, TheCustomerSeesTheirOwnUploadsOnly) {
  json event = {{"type", "event"}, {"conv", "cv_1"}, {"seq", 2}, {"event", "message"},
                {"conversation", {{"status", "queued"}, {"channel", "web"}}},
                {"message", {{"seq", 2}, {"author", "customer"}, {"text", ""}, {"provider_message_id", "c-9"},
                             {"attachments", json::array({{{"kind", "image"}, {"name", "e4.jpg"}, {"mime_type", "image/jpeg"},
                                                           {"size", 2048}, {"provider_ref", "att_x1"}},
                                                          {{"kind", "image"}, {"provider_ref", "tg-file-id"}}})}}}};
  auto v = json::parse(*customer_event_frame(event.dump()));
  EXPECT_EQ(v["message"]["attachments"],
            json::parse(R"([{"id":"att_x1","name":"e4.jpg","mime_type":"image/jpeg","size":2048,"kind":"image"}])"));
  event["message"]["author"] = "agent";
  EXPECT_FALSE(json::parse(*customer_event_frame(event.dump()))["message"].contains("attachments"));
}

TEST(UploadFrames, TheWidgetIsToldTheLimit) {
  EXPECT_EQ(public_settings({}, 2000, 10 << 20)["max_upload_bytes"], 10 << 20);
  EXPECT_FALSE(public_settings({}, 2000).contains("max_upload_bytes"));
}

}  // namespace
}  // namespace pasokh::gateway
