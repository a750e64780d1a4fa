// Receiving mail: parse, thread, keep attachments, ingest, answer with the bot.
// The SMTP listener answers 250 only after this stored the message; any
// Redis trouble answers 451 and the sending MTA retries (the ingest dedups on
// the Message-ID, so a retry after a half-done attempt stores nothing twice).
#include <spdlog/spdlog.h>

#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/handlers.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"

namespace pasokh::gateway {

namespace email = connectors::email;
using boost::asio::awaitable;

namespace {

// Attachment contents go to their own expiring keys; the message keeps the
// metadata and the key's id as provider_ref.
std::vector<stored_attachment> take_attachments(email::parsed_email& mail) {
  std::vector<stored_attachment> out;
  for (std::size_t i = 0; i < mail.attachments.size() && i < mail.event.attachments.size(); ++i) {
    auto& a = mail.attachments[i];
    if (a.content_dropped || a.content.empty()) continue;
    stored_attachment blob{"att_" + random_token(18), a.meta.name, a.meta.mime_type, std::move(a.content)};
    mail.event.attachments[i].provider_ref = blob.id;
    out.push_back(std::move(blob));
  }
  return out;
}

}  // namespace

awaitable<email::store_outcome> email_channel::receive(email::smtp_envelope envelope, std::string raw) {
  auto log = spdlog::get("smtp");
  auto mail = email::parse_email(raw, config_);
  if (!mail.warning.empty()) log->warn("channel={} message {}: {}", channel_.id, mail.message_id, mail.warning);

  if (mail.event.echo) {
    // Our own reply came back (a Bcc, a list, a forwarding loop): never a customer message.
    log->info("channel={} our own message {} came back; not stored", channel_.id, mail.message_id);
    global_metrics().errors.inc("email_echo");
    co_return email::store_outcome::stored();
  }

  auto hints = email::thread_hints(mail, config_.recipients.reply_domain, envelope.rcpt_to);
  auto thread = co_await store_.resolve(hints);
  if (!thread) {
    log->warn("channel={} cannot resolve the thread: {}", channel_.id, thread.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }

  auto blobs = take_attachments(mail);
  if (auto kept = co_await store_.put_attachments(blobs); !kept) {
    log->warn("channel={} cannot store attachments: {}", channel_.id, kept.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }

  routing::channel_route route{channel_.team, channel_.bot};
  auto stored = co_await ingest_.ingest(mail.event, route, *thread);
  if (!stored) {
    log->warn("channel={} ingest failed: {}", channel_.id, stored.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  const auto& conv = stored->conversation_id;

  // The thread data of the conversation's latest mail from the customer; an
  // automatic mail (out of office) only starts one, never replaces a person's.
  auto known = co_await store_.thread_of(conv);
  if (!known) co_return email::store_outcome::temporary_failure("storage unavailable");
  bool update_thread = !*known || (!mail.event.automatic && !stored->duplicate);
  if (update_thread) {
    auto token = *known && !(*known)->reply_token.empty() ? (*known)->reply_token : email_store::new_token();
    auto thread_data = email::thread_from(mail, token);
    if (auto ok = co_await store_.remember_customer_mail(conv, thread_data, mail.message_id); !ok) {
      log->warn("channel={} conv={} cannot keep the thread: {}", channel_.id, conv, ok.error().message());
      co_return email::store_outcome::temporary_failure("storage unavailable");
    }
  }

  if (stored->duplicate) {
    global_metrics().dedup_hits.inc(channel_.id);
    co_return email::store_outcome::stored();
  }
  global_metrics().inbound_messages.inc(channel_.id);
  log->info("channel={} conv={} seq={} stored mail{}{}", channel_.id, conv, stored->seq,
            mail.event.automatic ? " (automatic: " + mail.automatic_reason + ")" : "",
            thread->conversation_id.empty() ? "" : " in thread");
  log->debug("channel={} conv={} text: {}", channel_.id, conv, mail.event.text);
  // Automatic mail (auto-replies, bounces, lists) is kept but never answered.
  if (!mail.event.automatic) co_await run_bot(s_, *stored, mail.event);
  co_return email::store_outcome::stored();
}

}  // namespace pasokh::gateway
