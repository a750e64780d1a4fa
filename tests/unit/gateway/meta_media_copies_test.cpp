#include "pasokh/gateway/meta_media_copies.hpp"

#include <gtest/gtest.h>

namespace pasokh::gateway {
namespace {

connectors::provider_response answer(int status, std::string body = {}, std::string transport_error = {}) {
  connectors::provider_response r;
  r.status = status;
  r.body = std::move(body);
  r.transport_error = std::move(transport_error);
  return r;
}

TEST(MetaMediaCopies, ClassifiesWhatTheCdnAnswered) {
  EXPECT_EQ(classify_copy(answer(200, "12345"), 5), copy_outcome::copied);
  EXPECT_EQ(classify_copy(answer(200, "123456"), 5), copy_outcome::too_big);
  // The client stops reading at the limit (parser body_limit).
  EXPECT_EQ(classify_copy(answer(0, "", "read: response body over the limit"), 5), copy_outcome::too_big);
  // An expired signature is Meta's 403; a removed file 404 or 410.
  for (int gone : {403, 404, 410}) EXPECT_EQ(classify_copy(answer(gone), 5), copy_outcome::not_found) << gone;
  EXPECT_EQ(classify_copy(answer(0, "", "read: timeout"), 5), copy_outcome::timeout);
  EXPECT_EQ(classify_copy(answer(0, "", "connect: Connection refused"), 5), copy_outcome::failed);
  EXPECT_EQ(classify_copy(answer(503), 5), copy_outcome::failed);
}

TEST(MetaMediaCopies, OnlyPassingFailuresAreTriedAgain) {
  EXPECT_TRUE(passing(copy_outcome::timeout));
  EXPECT_TRUE(passing(copy_outcome::failed));
  EXPECT_TRUE(passing(copy_outcome::store_failed)) << "Redis refused the write: a failed attempt";
  EXPECT_FALSE(passing(copy_outcome::no_room));
  EXPECT_FALSE(passing(copy_outcome::refused_host));
  EXPECT_FALSE(passing(copy_outcome::over_budget));
  EXPECT_FALSE(passing(copy_outcome::not_found));
  EXPECT_FALSE(passing(copy_outcome::too_big));
  EXPECT_FALSE(passing(copy_outcome::copied));
}

TEST(MetaMediaCopies, CopiesFilesMetaHandsByUrlOnly) {
  using k = proto::attachment_kind;
  auto file = [](k kind, std::string ref, std::string name = {}) {
    proto::attachment a;
    a.kind = kind;
    a.provider_ref = std::move(ref);
    a.name = std::move(name);
    return a;
  };
  const std::string url = "https://scontent.xx.fbcdn.net/v/t1.15752-9/1_n.jpg?oh=00_sig&oe=6A1B";
  for (k kind : {k::image, k::sticker, k::audio, k::video, k::file}) EXPECT_TRUE(copyable(file(kind, url)));
  EXPECT_FALSE(copyable(file(k::location, url)));
  EXPECT_FALSE(copyable(file(k::unsupported, "")));
  EXPECT_FALSE(copyable(file(k::file, url, "fallback"))) << "a shared link is a page, not a file";
  EXPECT_FALSE(copyable(file(k::file, url, "ig_reel")));
  auto shared = file(k::file, url);
  shared.link = true;  // marked by the connector, whatever its name
  EXPECT_FALSE(copyable(shared)) << "a shared post";
  EXPECT_FALSE(copyable(file(k::image, "att_abc"))) << "a copy already";
  EXPECT_FALSE(copyable(file(k::image, "AgACAgQAAxkBAAIB"))) << "a Telegram file id";
}

TEST(MetaMediaCopies, LogsTheHostOnly) {
  // fbsbx.com paths carry the customer's file name; the query a signature.
  EXPECT_EQ(host_for_log("https://cdn.fbsbx.com/v/t59/receipt%20of%20Ali%20Rezaei.pdf?_nc_cat=1&oh=00_SECRET&oe=6A1B"),
            "cdn.fbsbx.com");
  EXPECT_EQ(host_for_log("http://127.0.0.1:8080/v/a.jpg#x"), "127.0.0.1");
  EXPECT_EQ(host_for_log("not a url/secret.pdf"), "(not a URL)");
}

TEST(MetaMediaCopies, FetchesHttpsFromMetasCdnHostsOnly) {
  meta_media_config cfg;  // the defaults: fbcdn.net, fbsbx.com, cdninstagram.com
  for (const char* ok : {"https://scontent.xx.fbcdn.net/v/1_n.jpg?oh=1", "https://fbcdn.net/a.jpg",
                         "https://cdn.fbsbx.com/v/t59/receipt.pdf", "https://SCONTENT.CDNINSTAGRAM.COM/v/a.jpg",
                         "https://lookaside.fbsbx.com:443/ig_messaging_cdn/?asset_id=1"})
    EXPECT_TRUE(allowed_source(ok, cfg)) << ok;
  for (const char* refused : {"http://scontent.xx.fbcdn.net/v/1_n.jpg", "http://127.0.0.1:8080/metrics",
                              "https://127.0.0.1/metrics", "https://localhost/x.jpg", "https://evilfbcdn.net/a.jpg",
                              "https://fbcdn.net.attacker.example/a.jpg", "https://user@fbcdn.net/a.jpg",
                              "ftp://fbcdn.net/a.jpg", "https://169.254.169.254/latest/meta-data/"})
    EXPECT_FALSE(allowed_source(refused, cfg)) << refused;

  // Tests: a CDN stand-in over plain http on loopback, by config only.
  cfg.hosts = {"127.0.0.1"};
  EXPECT_FALSE(allowed_source("http://127.0.0.1:8080/v/a.jpg", cfg));
  cfg.allow_plain_http_loopback = true;
  EXPECT_TRUE(allowed_source("http://127.0.0.1:8080/v/a.jpg", cfg));
  EXPECT_FALSE(allowed_source("http://localhost:8080/v/a.jpg", cfg)) << "not in hosts";
  EXPECT_FALSE(allowed_source("http://10.0.0.5/v/a.jpg", cfg)) << "plain http to loopback only";
}

TEST(MetaMediaCopies, RoomInRedisIsAShareOfMaxmemory) {
  redis_memory_info info;
  info.used = 800;
  info.limit = 1000;
  EXPECT_FALSE(over_memory_share(info, 0.8));
  info.used = 801;
  EXPECT_TRUE(over_memory_share(info, 0.8));
  info.limit = 0;  // no maxmemory: no share to pass
  EXPECT_FALSE(over_memory_share(info, 0.8));
}

TEST(MetaMediaCopies, NamesTheCopyAfterTheUrlsFileName) {
  EXPECT_EQ(copy_name("https://cdn.fbsbx.com/v/t59.2708-21/4471_n.pdf/receipt.pdf?oh=00_x"), "receipt.pdf");
  EXPECT_EQ(copy_name("https://cdn.fbsbx.com/v/t59/receipt%204471.pdf?oh=1"), "receipt 4471.pdf");
  EXPECT_EQ(copy_name("https://cdn.fbsbx.com/v/%D9%81%D8%A7%DA%A9%D8%AA%D9%88%D8%B1.pdf"), "فاکتور.pdf");
  EXPECT_EQ(copy_name("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x"), "attachment");
  EXPECT_EQ(copy_name("https://cdn.example/v/no-extension"), "attachment");
  EXPECT_EQ(copy_name("https://cdn.example/v/a%2F..%2Fb.pdf"), "attachment") << "no path inside a name";
  EXPECT_EQ(copy_name("https://cdn.example/v/bad%FF.pdf"), "attachment") << "not UTF-8";
  EXPECT_EQ(copy_name("https://cdn.example/v/line%0Abreak.pdf"), "attachment");
  EXPECT_EQ(copy_name("https://cdn.example"), "attachment");
}

TEST(MetaMediaCopies, TakesTheTypeWithoutParameters) {
  EXPECT_EQ(copy_mime_type("application/pdf; charset=binary"), "application/pdf");
  EXPECT_EQ(copy_mime_type("Image/JPEG"), "image/jpeg");
  EXPECT_EQ(copy_mime_type(""), "application/octet-stream");
}

}  // namespace
}  // namespace pasokh::gateway
