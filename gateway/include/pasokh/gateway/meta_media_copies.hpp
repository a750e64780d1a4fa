#pragma once
// Pasokh's own copies of Messenger and Instagram attachments. Meta hands a
// signed CDN URL (payload.url) that expires within hours or days; an agent
// opening the case next week would see a broken image. After the message is
// stored (and the webhook answered), its attachments are downloaded and kept
// as a mail's are (attachment:<id>, opened by GET /api/v1/attachments/{id}
// for those who may see the conversation, expiring after attachment_ttl_s).
// The message is then logged again ("edit": true, "copies": true) naming the
// copies instead of the URLs; until then, or for a file that could not be
// copied, the console has the URL.
//
// The work survives a restart and a second gateway: the message is queued in
// Redis (meta_media:due, "<conv>|<seq>") by the ingest script that stores it
// (routing::channel_route::copy_attachments), every instance claims due entries
// for a lease, and routing/src/lua/meta_media.lua stores the copies of one
// message once (conv:<id>:copies), never for a conversation erased or being
// scrubbed meanwhile. A file is staged a chunk at a time (attachment_blobs.hpp)
// and becomes a copy only in that one step: a failed write leaves nothing an
// agent could open. A claim is held by its attempt number: a late holder
// whose lease ran out cannot move or end the next holder's claim.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/gateway/config.hpp"
#include "pasokh/gateway/redis_memory.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::gateway {

// What became of one attachment's download.
enum class copy_outcome {
  copied,
  not_found,     // 404, 410, 403: gone, or its URL expired
  too_big,       // over meta_media.max_bytes
  timeout,       // over meta_media.timeout_ms (tried again)
  failed,        // no answer, 5xx, 429 (tried again)
  store_failed,  // Redis refused the copy (tried again)
  no_room,       // Redis near its maxmemory (meta_media.max_redis_memory_share): not fetched
  refused_host,  // not https from a host in meta_media.hosts: not fetched
  over_budget,   // the customer's files this hour passed meta_media.bytes_per_customer_per_hour
};
inline constexpr std::size_t copy_outcome_count = 9;
std::string_view to_string(copy_outcome o);
copy_outcome classify_copy(const connectors::provider_response& r, std::size_t max_bytes);
// Worth another attempt later (the CDN or the network had a bad moment).
bool passing(copy_outcome o);

// Whether Pasokh keeps a copy of the attachment: a file Meta hands by URL
// (image, sticker, audio, video, file); not a shared link or post (`link`),
// a location, a placeholder, or a copy already.
bool copyable(const proto::attachment& a);

// Whether the gateway may fetch `url`: https from a host in meta_media.hosts
// or a subdomain of one (plain http to loopback only when
// allow_plain_http_loopback). The URL comes from a webhook anyone who can
// message the page shapes; the copy is shown to agents.
bool allowed_source(std::string_view url, const meta_media_config& cfg);

// The URL's host for a log line: its path may carry the customer's file name
// (fbsbx.com keeps it), its query a signature.
std::string host_for_log(std::string_view url);

// Whether Redis holds more than `share` of its maxmemory (never without one).
bool over_memory_share(const redis_memory_info& info, double share);

// The copy's file name: the URL's last path segment when it reads as one
// ("receipt.pdf"), else "attachment".
std::string copy_name(std::string_view url);

// The copy's type from the CDN's Content-Type, parameters dropped.
std::string copy_mime_type(std::string_view content_type);

class meta_media_copier {
 public:
  // `redis`: the gateway's files connection (services::files, main.cpp), not
  // services' shared one: writing a file of many MB, even a chunk at a time,
  // must not hold ingest and replies behind it, nor reset their connection
  // when it passes the command timeout. `memory` (may be null) says when Redis is out
  // of memory: no copy then.
  meta_media_copier(services& s, store::redis_client& redis, boost::asio::any_io_executor executor,
                    redis_memory_watch* memory = nullptr);
  ~meta_media_copier();
  void start();
  // A message was queued: look now rather than at the next poll.
  void nudge();
  // No new claim after this; a message being copied is put back for the next
  // instance at once. `done` once that is done or the loop has ended.
  void stop(std::function<void()> done = {});

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace pasokh::gateway
