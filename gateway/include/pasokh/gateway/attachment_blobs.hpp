#pragma once
// Files kept in Redis for agents to open (GET /api/v1/attachments/{id}):
//   attachment:<id>          hash name, mime_type, size, channel, conversation
//                            ('' until filed: nobody may open it; expires)
//   attachment:<id>:content  its bytes, expiring with it (a file stored by a
//                            version before these has them in the hash's
//                            `content` field instead)
//   attachment_part:<id>     the bytes staged a chunk at a time; a script
//                            (attachments.lua for mail, webchat_uploads.lua,
//                            meta_media.lua) checks the part is whole and
//                            makes it the two above in one step (a RENAME: no
//                            file-sized copy inside Redis)
// Bytes go both ways a chunk (chunk_bytes) a command, on the gateway's files
// connection (main.cpp): a file of many MB never holds the connection that
// ingest and replies use, nor any connection longer than a chunk takes.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway::attachment_blobs {

// What one command carries of a file at most, either way.
constexpr std::size_t chunk_bytes = 1 << 20;
// How long staged chunks outlive a writer that died: a backstop.
constexpr std::chrono::seconds staged_ttl{3600};

struct blob {
  std::string id;
  std::string name;
  std::string mime_type;
  std::string channel;
  std::string_view content;
};

// A pipeline's outcome: its failure, or server_error when any reply is an error.
store::result<void> checked(const store::result<std::vector<store::reply>>& r);

std::string key(std::string_view prefix, std::string_view id);
std::string content_key(std::string_view prefix, std::string_view id);
std::string part_key(std::string_view prefix, std::string_view id);

// Stages each blob on `files`, then keeps them all unfiled, expiring after
// `ttl` (attachments.lua); an error when any write failed or a part was not
// whole (nothing is kept then, but parts may be left: drop them).
boost::asio::awaitable<store::result<void>> put_unfiled(store::redis_client& files, std::string_view prefix,
                                                        const std::vector<blob>& blobs, std::chrono::seconds ttl);

// Deletes the files of `ids`: hash, bytes and any staged part.
boost::asio::awaitable<store::result<void>> drop(store::redis_client& redis, std::string_view prefix,
                                                 const std::vector<std::string>& ids);

// The bytes of a stored file, read on `files` `chunk_bytes` a command
// (GETRANGE); one HGET for a file an older version kept in its hash. None
// when they are not there (expired, or deleted while being read).
boost::asio::awaitable<store::result<std::optional<std::string>>> read(store::redis_client& files,
                                                                       std::string_view prefix, std::string_view id,
                                                                       std::size_t chunk_bytes = attachment_blobs::chunk_bytes);

// A read's pieces: GETRANGE's inclusive [from, to] spans of at most
// `chunk_bytes` of a file of `size` bytes (none for an empty file).
struct byte_range {
  std::size_t from, to;
  bool operator==(const byte_range&) const = default;
};
std::vector<byte_range> ranges(std::size_t size, std::size_t chunk_bytes);

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

// What a failed store leaves to clean up: the staged parts only (a store
// whose reply was lost may have filed a copy someone now names), or the
// stored copies too (nobody can have learnt their ids).
enum class left_by_failure { staged_parts, everything };

// Cleans up after a failed store of `ids`, on `main`: the store ran on the
// files connection, whose trouble (a chunk that timed out, a reset that is
// still reconnecting) is what most often failed it, while a DEL is a tiny
// command that holds the main connection no longer than any other. Tried a
// few times (retries.hpp) unless `stopping()`; after that the parts' TTL
// (staged_ttl) takes them.
boost::asio::awaitable<void> clean_up_failed_store(store::redis_client& main, std::string_view prefix,
                                                   const std::vector<std::string>& ids, left_by_failure what,
                                                   const std::function<bool()>& stopping = [] { return false; });

}  // namespace pasokh::gateway::attachment_blobs
