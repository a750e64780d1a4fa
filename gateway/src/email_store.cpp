#include "pasokh/gateway/email_store.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/gateway/attachment_blobs.hpp"
#include "pasokh/gateway/password.hpp"

namespace pasokh::gateway {

namespace email = connectors::email;
using attachment_blobs::checked;
using boost::asio::awaitable;

namespace {

constexpr std::size_t max_hints = 20;           // a References header can be long
constexpr std::size_t max_message_id_bytes = 512;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

email_store::email_store(store::redis_client& redis, store::redis_client& files, std::string prefix,
                         std::string channel, std::chrono::seconds thread_ttl, std::chrono::seconds attachment_ttl)
    : redis_(redis),
      files_(files),
      prefix_(std::move(prefix)),
      channel_(std::move(channel)),
      thread_ttl_(thread_ttl),
      attachment_ttl_(attachment_ttl) {}

std::string email_store::new_token() {
  // Lower-case hex: addresses are compared (and lower-cased) case-insensitively
  // on the way back, so the token must not depend on letter case.
  return connectors::sha256_hex(random_token(32)).substr(0, 32);
}

awaitable<email_result<routing::thread_ingest::thread>> email_store::resolve(
    const std::vector<email::thread_hint>& hints) {
  std::vector<std::vector<std::string>> lookups;
  std::vector<const email::thread_hint*> asked;
  for (const auto& h : hints) {
    if (lookups.size() == max_hints) break;
    if (h.value.empty() || h.value.size() > max_message_id_bytes) continue;
    bool token = h.source == email::hint_source::reply_token;
    lookups.push_back(store::make_command("GET", token ? token_key(lower(h.value)) : msgid_key(h.value)));
    asked.push_back(&h);
  }
  routing::thread_ingest::thread found;
  if (lookups.empty()) co_return found;
  auto r = co_await redis_.exec_pipeline(std::move(lookups));
  if (auto ok = checked(r); !ok) co_return ok.error();
  // Hints come in the order to trust them; the first one we know wins.
  for (std::size_t i = 0; i < asked.size() && i < r->size(); ++i) {
    if ((*r)[i].is_nil()) continue;
    found.conversation_id = (*r)[i].str;
    found.by_secret_token = asked[i]->source == email::hint_source::reply_token;
    break;
  }
  co_return found;
}

awaitable<email_result<std::optional<email::reply_thread>>> email_store::thread_of(const std::string& conv) {
  auto r = co_await redis_.exec(store::make_command("GET", thread_key(conv)));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  if (r->is_nil()) co_return std::optional<email::reply_thread>{};
  try {
    co_return std::optional<email::reply_thread>(nlohmann::json::parse(r->str).get<email::reply_thread>());
  } catch (const nlohmann::json::exception&) {
    // A damaged record only costs the threading headers of the next reply.
    co_return std::optional<email::reply_thread>(email::reply_thread{});
  }
}

awaitable<email_result<void>> email_store::remember_customer_mail(const std::string& conv,
                                                                  const email::reply_thread& thread,
                                                                  const std::string& message_id) {
  auto ttl = std::to_string(thread_ttl_.count());
  std::vector<std::vector<std::string>> writes;
  writes.push_back(store::make_command("SET", thread_key(conv), nlohmann::json(thread).dump(), "EX", ttl));
  if (!thread.reply_token.empty()) writes.push_back(store::make_command("SET", token_key(thread.reply_token), conv, "EX", ttl));
  if (!message_id.empty() && message_id.size() <= max_message_id_bytes)
    writes.push_back(store::make_command("SET", msgid_key(message_id), conv, "EX", ttl));
  auto r = co_await redis_.exec_pipeline(std::move(writes));
  co_return checked(r);
}

awaitable<email_result<void>> email_store::remember_sent(const std::string& conv, const std::string& message_id) {
  std::vector<std::vector<std::string>> writes;
  writes.push_back(store::make_command("SET", msgid_key(message_id), conv, "EX", std::to_string(thread_ttl_.count())));
  auto r = co_await redis_.exec_pipeline(std::move(writes));
  co_return checked(r);
}

awaitable<email_result<std::string>> email_store::installation_message_id_key() {
  auto key = prefix_ + "email_message_id_key";
  std::vector<std::vector<std::string>> commands;
  commands.push_back(store::make_command("SET", key, random_token(32), "NX"));
  commands.push_back(store::make_command("GET", key));
  auto r = co_await redis_.exec_pipeline(std::move(commands));
  if (auto ok = checked(r); !ok) co_return ok.error();
  if (r->size() < 2 || (*r)[1].str.empty()) co_return make_error_code(store::redis_errc::server_error);
  co_return (*r)[1].str;
}

awaitable<email_result<void>> email_store::put_attachments(const std::vector<stored_attachment>& attachments) {
  // Unfiled: a failure before file_attachments leaves them closed, never open to every agent.
  std::vector<attachment_blobs::blob> blobs;
  for (const auto& a : attachments) blobs.push_back({a.id, a.name, a.mime_type, channel_, a.content});
  auto kept = co_await attachment_blobs::put_unfiled(files_, prefix_, blobs, attachment_ttl_);
  // What a failed put left goes now, kept copies too: unfiled, nobody's, and
  // the mail is stored again under new ids.
  if (!kept) {
    std::vector<std::string> ids;
    for (const auto& a : attachments) ids.push_back(a.id);
    co_await attachment_blobs::clean_up_failed_store(redis_, prefix_, ids, attachment_blobs::left_by_failure::everything);
  }
  co_return kept;
}

// Stored before the mail (a mail never names an attachment that is not
// there), so its conversation, new or not, is known only now. EXPIRE again:
// an HSET on a key that expired meanwhile must not leave one that never does
// (nor bytes that outlive it).
awaitable<email_result<void>> email_store::file_attachments(const std::vector<std::string>& ids,
                                                            const std::string& conversation_id) {
  if (ids.empty()) co_return email_result<void>{};
  std::vector<std::vector<std::string>> writes;
  auto ttl = std::to_string(attachment_ttl_.count());
  for (const auto& id : ids) {
    auto key = attachment_blobs::key(prefix_, id);
    writes.push_back(store::make_command("HSET", key, "conversation", conversation_id));
    writes.push_back(store::make_command("EXPIRE", key, ttl));
    writes.push_back(store::make_command("EXPIRE", attachment_blobs::content_key(prefix_, id), ttl));
  }
  auto r = co_await redis_.exec_pipeline(std::move(writes));
  co_return checked(r);
}

awaitable<email_result<void>> email_store::drop_attachments(const std::vector<stored_attachment>& attachments) {
  std::vector<std::string> ids;
  for (const auto& a : attachments) ids.push_back(a.id);
  co_return co_await attachment_blobs::drop(redis_, prefix_, ids);
}

}  // namespace pasokh::gateway
