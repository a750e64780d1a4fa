#pragma once
// Files kept in Redis for agents to open (GET /api/v1/attachments/{id}), as
// their writers put them:
//   attachment:<id>          hash name, mime_type, size, channel, content, conversation
//                            ('' until filed: nobody may open it; expires)
//   attachment:<id>:content  a Messenger or Instagram copy's bytes (its hash has
//                            no content), expiring with it
//   attachment_part:<id>     such a copy staged a chunk at a time; meta_media.lua's
//                            store makes it the two above in one step (a RENAME:
//                            no file-sized copy inside Redis)
// A mail's files are put whole before its SMTP 250 (email_store.cpp); a copy
// of a Messenger or Instagram file, up to meta_media.max_bytes, is staged in
// chunks so that no single command holds its connection for the whole file.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway::attachment_blobs {

struct blob {
  std::string id;
  std::string name;
  std::string mime_type;
  std::string channel;
  std::string_view content;
};

std::string key(std::string_view prefix, std::string_view id);
std::string content_key(std::string_view prefix, std::string_view id);
std::string part_key(std::string_view prefix, std::string_view id);

// The blobs as unfiled hashes expiring after `ttl`, in one round trip; an
// error when any write failed (some may have landed: drop them).
boost::asio::awaitable<store::result<void>> put_unfiled(store::redis_client& redis, std::string_view prefix,
                                                        const std::vector<blob>& blobs, std::chrono::seconds ttl);

// Deletes the hashes of `ids`.
boost::asio::awaitable<store::result<void>> drop(store::redis_client& redis, std::string_view prefix,
                                                 const std::vector<std::string>& ids);

// A staged write's pieces: `content` in spans of at most `chunk_bytes` (none for an empty file).
std::vector<std::string_view> chunks(std::string_view content, std::size_t chunk_bytes);

// Stages `content` as part_key(id), one APPEND a chunk, each with the key's
// `ttl` (a backstop for a writer that dies) in the same transaction: a chunk
// still on its way when its write was given up cannot leave a key that never
// expires. Stops at the first chunk that fails or does not land where the
// one before ended; the caller drops what was staged.
boost::asio::awaitable<store::result<void>> stage(store::redis_client& redis, std::string_view prefix,
                                                  std::string_view id, std::string_view content,
                                                  std::chrono::seconds ttl, std::size_t chunk_bytes);

// Deletes the staged parts of `ids` (never a stored copy: a store whose reply
// was lost may have filed it).
boost::asio::awaitable<store::result<void>> drop_staged(store::redis_client& redis, std::string_view prefix,
                                                        const std::vector<std::string>& ids);

}  // namespace pasokh::gateway::attachment_blobs
