#include "pasokh/gateway/attachment_blobs.hpp"

#include <algorithm>
#include <iterator>

#include "pasokh/gateway/retries.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway::attachment_blobs {

using boost::asio::awaitable;

namespace {

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

store::result<void> checked(const store::result<std::vector<store::reply>>& r) {
  if (!r) return r.error();
  if (std::any_of(r->begin(), r->end(), [](const store::reply& one) { return one.is_error(); }))
    return make_error_code(store::redis_errc::server_error);
  return {};
}

std::string key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + "attachment:" + std::string(id);
}

std::string content_key(std::string_view prefix, std::string_view id) { return key(prefix, id) + ":content"; }

std::string part_key(std::string_view prefix, std::string_view id) {
  return std::string(prefix) + "attachment_part:" + std::string(id);
}

awaitable<store::result<void>> put_unfiled(store::redis_client& files, std::string_view prefix,
                                           const std::vector<blob>& blobs, std::chrono::seconds ttl) {
  if (blobs.empty()) co_return store::result<void>{};
  auto keep = store::make_command(std::string(prefix), "keep", std::to_string(ttl.count()), blobs.front().channel);
  for (const auto& b : blobs) {
    auto staged = co_await stage(files, prefix, b.id, b.content, std::min(ttl, staged_ttl), chunk_bytes);
    if (!staged) co_return staged;
    keep.push_back(b.id);
    keep.push_back(b.name);
    keep.push_back(b.mime_type);
    keep.push_back(std::to_string(b.content.size()));
  }
  auto r = co_await files.fcall(routing::script(routing::lua::attachments), store::make_command(), std::move(keep));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return store::result<void>{};
}

awaitable<store::result<void>> drop(store::redis_client& redis, std::string_view prefix,
                                    const std::vector<std::string>& ids) {
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    keys.push_back(key(prefix, id));
    keys.push_back(content_key(prefix, id));
    keys.push_back(part_key(prefix, id));
  }
  co_return co_await delete_keys(redis, std::move(keys));
}

awaitable<store::result<std::optional<std::string>>> read(store::redis_client& files, std::string_view prefix,
                                                          std::string_view id, std::size_t chunk) {
  using out = store::result<std::optional<std::string>>;
  const auto k = key(prefix, id), bytes_key = content_key(prefix, id);
  std::vector<std::vector<std::string>> look;
  look.push_back(store::make_command("HEXISTS", k, "content"));
  look.push_back(store::make_command("EXISTS", bytes_key));
  look.push_back(store::make_command("STRLEN", bytes_key));
  auto where = co_await files.exec_pipeline(std::move(look));
  if (auto ok = checked(where); !ok) co_return out(boost::system::in_place_error, ok.error());
  if (where->size() != 3) co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  if ((*where)[0].integer == 1) {
    // Kept in its hash by an older version (until it expires): one command, as that version read it.
    auto whole = co_await files.exec(store::make_command("HGET", k, "content"));
    if (!whole) co_return out(boost::system::in_place_error, whole.error());
    if (whole->is_error()) co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
    if (whole->is_nil()) co_return std::optional<std::string>{};
    co_return std::optional<std::string>(std::move(whole->str));
  }
  if ((*where)[1].integer != 1) co_return std::optional<std::string>{};
  const auto size = static_cast<std::size_t>((*where)[2].integer);
  std::string bytes;
  bytes.reserve(size);
  const auto spans = ranges(size, chunk);
  for (const auto& span : spans) {
    auto get = store::make_command("GETRANGE", bytes_key, std::to_string(span.from), std::to_string(span.to));
    auto piece = co_await files.exec(std::move(get));
    if (!piece) co_return out(boost::system::in_place_error, piece.error());
    if (piece->is_error()) co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
    // Short: deleted meanwhile (an erasure, its expiry). Ids are never reused,
    // so whatever the key holds is this file's.
    if (piece->str.size() != span.to - span.from + 1) co_return std::optional<std::string>{};
    bytes += piece->str;
  }
  co_return std::optional<std::string>(std::move(bytes));
}

std::vector<byte_range> ranges(std::size_t size, std::size_t chunk_bytes) {
  std::vector<byte_range> out;
  if (chunk_bytes == 0) chunk_bytes = size;
  for (std::size_t at = 0; at < size; at += chunk_bytes) out.push_back({at, std::min(size, at + chunk_bytes) - 1});
  return out;
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

awaitable<void> clean_up_failed_store(store::redis_client& main, std::string_view prefix,
                                      const std::vector<std::string>& ids, left_by_failure what,
                                      const std::function<bool()>& stopping) {
  if (ids.empty()) co_return;
  auto attempt = [&]() -> awaitable<bool> {
    if (what == left_by_failure::everything) {
      auto r = co_await drop(main, prefix, ids);
      co_return r.has_value();
    }
    auto r = co_await drop_staged(main, prefix, ids);
    co_return r.has_value();
  };
  co_await with_retries(attempt, retry_policy{}, stopping);
}

}  // namespace pasokh::gateway::attachment_blobs
