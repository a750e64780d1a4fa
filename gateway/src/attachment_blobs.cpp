#include "pasokh/gateway/attachment_blobs.hpp"

#include <algorithm>
#include <iterator>

namespace pasokh::gateway::attachment_blobs {

using boost::asio::awaitable;

namespace {

store::result<void> checked(const store::result<std::vector<store::reply>>& r) {
  if (!r) return r.error();
  if (std::any_of(r->begin(), r->end(), [](const store::reply& one) { return one.is_error(); }))
    return make_error_code(store::redis_errc::server_error);
  return {};
}

awaitable<store::result<void>> delete_keys(store::redis_client& redis, std::vector<std::string> keys) {
  if (keys.empty()) co_return store::result<void>{};
  auto del = store::make_command("DEL");
  del.insert(del.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
  auto r = co_await redis.exec(std::move(del));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return store::result<void>{};
}

}  // namespace

std::string key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + "attachment:" + std::string(id);
}

std::string content_key(std::string_view prefix, std::string_view id) { return key(prefix, id) + ":content"; }

std::string part_key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + "attachment_part:" + std::string(id);
}

awaitable<store::result<void>> put_unfiled(store::redis_client& redis, std::string_view prefix,
                                           const std::vector<blob>& blobs, std::chrono::seconds ttl) {
  if (blobs.empty()) co_return store::result<void>{};
  std::vector<std::vector<std::string>> writes;
  const auto seconds = std::to_string(ttl.count());
  for (const auto& b : blobs) {
    auto k = key(prefix, b.id);
    writes.push_back(store::make_command("HSET", k, "name", b.name, "mime_type", b.mime_type, "size",
                                         std::to_string(b.content.size()), "channel", b.channel, "content",
                                         std::string(b.content), "conversation", ""));
    writes.push_back(store::make_command("EXPIRE", std::move(k), seconds));
  }
  co_return checked(co_await redis.exec_pipeline(std::move(writes)));
}

awaitable<store::result<void>> drop(store::redis_client& redis, std::string_view prefix,
                                    const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids) keys.push_back(key(prefix, id));
  co_return co_await delete_keys(redis, std::move(keys));
}

std::vector<std::string_view> chunks(std::string_view content, std::size_t chunk_bytes) {
  std::vector<std::string_view> out;
  if (chunk_bytes == 0) chunk_bytes = content.size();
  for (std::size_t at = 0; at < content.size(); at += chunk_bytes) out.push_back(content.substr(at, chunk_bytes));
  return out;
}

awaitable<store::result<void>> stage(store::redis_client& redis, std::string_view prefix, std::string_view id,
                                     std::string_view content, std::chrono::seconds ttl, std::size_t chunk_bytes) {
  const auto k = part_key(prefix, id);
  const auto seconds = std::to_string(ttl.count());
  long long staged = 0;
  for (auto piece : chunks(content, chunk_bytes)) {
    std::vector<std::vector<std::string>> transaction;
    transaction.push_back(store::make_command("MULTI"));
    transaction.push_back(store::make_command("APPEND", k, std::string(piece)));
    transaction.push_back(store::make_command("EXPIRE", k, seconds));
    transaction.push_back(store::make_command("EXEC"));
    auto r = co_await redis.exec_pipeline(std::move(transaction));
    if (auto ok = checked(r); !ok) co_return ok;
    // EXEC's replies: APPEND's new length, EXPIRE's 1. Another length: the
    // key was not what the chunks before left (deleted, or a stray chunk).
    const auto& exec = r->back();
    staged += static_cast<long long>(piece.size());
    if (exec.elements.empty() || exec.elements.front().integer != staged)
      co_return make_error_code(store::redis_errc::server_error);
  }
  co_return store::result<void>{};
}

awaitable<store::result<void>> drop_staged(store::redis_client& redis, std::string_view prefix,
                                           const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids) keys.push_back(part_key(prefix, id));
  co_return co_await delete_keys(redis, std::move(keys));
}

}  // namespace pasokh::gateway::attachment_blobs
