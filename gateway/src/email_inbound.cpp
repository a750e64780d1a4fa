// Receiving mail: parse, thread, keep attachments, ingest, answer with the bot.
// Automatic mail (bounces, auto-replies) takes its own path: kept in the
// conversation it belongs to or noted per channel; a bounce naming our mail
// (its Message-ID's tag verified) only marks that mail failed. It never makes
// a customer or a conversation and is never answered. List mail is a person's
// message, stored as such, but never answered either.
// The SMTP listener answers 250 only after this stored the message; any
// Redis trouble answers 451 and the sending MTA retries (the ingest dedups on
// the Message-ID and sender, so a retry after a half-done attempt stores nothing twice;
// it files the attachments the first attempt stored, which nobody may open
// until they are filed, and keeps none of its own).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/followup.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/run_on.hpp"

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

std::vector<std::string> ids_of(const std::vector<stored_attachment>& blobs) {
  std::vector<std::string> ids;
  for (const auto& b : blobs) ids.push_back(b.id);
  return ids;
}

// Our Message-IDs a bounce names: the returned mail's, then In-Reply-To and
// References (some mail systems thread their bounces). Only ids whose tag
// verifies count: conversation and message ids are guessable, so anyone can
// write an untagged one (or one from before tags) into a report.
std::vector<named_mail> bounced_mail(const email::parsed_email& mail, std::string_view domain, std::string_view key) {
  std::vector<named_mail> ours;
  if (!mail.report.present || key.empty()) return ours;
  auto add = [&](const std::string& id) {
    auto parsed = id.empty() ? std::nullopt : email::parse_message_id(id, domain, key);
    if (!parsed || !parsed->verified) return;
    for (const auto& m : ours)
      if (m.id == id) return;
    ours.push_back({id, std::move(*parsed)});
  };
  for (const auto& id : mail.report.message_ids) add(id);
  add(mail.in_reply_to);
  for (auto it = mail.references.rbegin(); it != mail.references.rend(); ++it) add(*it);
  return ours;
}

// Our Message-ID names its message (conversation and seq) for as long as the
// conversation lasts; the provider id's lookup key expires after 30 days.
routing::delivery_update bounce_update(const std::string& channel, const named_mail& m, const std::string& reason) {
  routing::delivery_update update{channel, "", 0, proto::delivery_status::failed, m.id, reason};
  if (auto seq = email::message_seq(m.encoded)) {
    update.conversation_id = m.encoded.conversation_id;
    update.message_seq = *seq;
    update.named_by_provider_id = true;
  }
  return update;
}

}  // namespace

awaitable<email::store_outcome> email_channel::receive_automatic(email::parsed_email& mail,
                                                               const email::smtp_envelope& envelope) {
  auto log = spdlog::get("smtp");
  const auto& domain = config_.recipients.reply_domain;
  std::vector<named_mail> ours;
  if (mail.report.present) {
    auto key = co_await message_id_key();
    if (key.empty()) co_return email::store_outcome::temporary_failure("storage unavailable");
    ours = bounced_mail(mail, domain, key);
  }
  // A report on our mail is a delivery note on that mail (marked failed when
  // it bounced), never a message: its text and files are whoever wrote it.
  if (!ours.empty()) {
    if (mail.report.failed) {
      bool marked = co_await mark_bounced(mail, ours);  // idempotent: a retried report marks again
      if (!marked) co_return email::store_outcome::temporary_failure("storage unavailable");
    } else {
      log->info("channel={} conv={} delivery report {} on our mail {}: not a failure", channel_.id,
                ours.front().encoded.conversation_id, mail.message_id, ours.front().id);
    }
    co_return email::store_outcome::stored();
  }
  // Other automatic mail is threaded as a customer's would be.
  auto thread = co_await store_.resolve(email::thread_hints(mail, domain, envelope.rcpt_to));
  if (!thread) {
    log->warn("channel={} cannot resolve the thread: {}", channel_.id, thread.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  std::vector<stored_attachment> blobs;
  if (!thread->conversation_id.empty()) {
    blobs = take_attachments(mail);
    if (auto kept = co_await store_.put_attachments(blobs); !kept) {
      log->warn("channel={} cannot store attachments: {}", channel_.id, kept.error().message());
      co_return email::store_outcome::temporary_failure("storage unavailable");
    }
  }

  const routing::thread_ingest::automatic_note note{mail.subject, mail.automatic_reason};
  auto kept = co_await ingest_.keep_automatic(mail.event, *thread, note);
  if (!kept) {
    log->warn("channel={} cannot keep automatic mail: {}", channel_.id, kept.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  if (kept->status == "stored") {
    bool filed = co_await file_attachments(ids_of(blobs), kept->conversation_id);
    if (!filed) co_return email::store_outcome::temporary_failure("storage unavailable");
  } else if (kept->status == "duplicate") {
    bool filed = co_await file_first_attempt(kept->conversation_id, kept->seq, blobs);
    if (!filed) co_return email::store_outcome::temporary_failure("storage unavailable");
  } else if (auto dropped = co_await store_.drop_attachments(blobs); !dropped) {
    // Kept nowhere ("noted": no conversation names them; "erased": the customer
    // asked us to delete what we hold about them), so neither are its files.
    log->warn("channel={} cannot drop attachments: {}", channel_.id, dropped.error().message());
    // An erased customer's files must go: the retry drops its own, this attempt's expire unread.
    if (kept->status == "erased") co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  if (kept->status == "duplicate") {
    global_metrics().dedup_hits.inc(channel_.id);
  } else if (kept->status == "stored") {
    global_metrics().email_automatic.inc({channel_.id, "in_conversation"});
    log->info("channel={} conv={} seq={} stored automatic mail {} ({})", channel_.id, kept->conversation_id,
              kept->seq, mail.message_id, mail.automatic_reason);
  } else if (kept->status == "erased") {
    global_metrics().email_automatic.inc({channel_.id, "erased"});
    log->info("channel={} conv={} automatic mail {} threads to an erased customer's conversation: dropped", channel_.id,
              thread->conversation_id, mail.message_id);
  } else {
    global_metrics().email_automatic.inc({channel_.id, "unthreaded"});
    log->info("channel={} automatic mail {} from {} ({}) is in no conversation; noted in email_automatic:{}",
              channel_.id, mail.message_id, mail.from.address, mail.automatic_reason, channel_.id);
  }
  co_return email::store_outcome::stored();
}

// Who may fetch the mail's attachments: the agents of the conversation it is in.
awaitable<bool> email_channel::file_attachments(const std::vector<std::string>& ids, const std::string& conv) {
  auto filed = co_await store_.file_attachments(ids, conv);
  if (!filed)
    spdlog::get("smtp")->warn("channel={} conv={} cannot file attachments: {}", channel_.id, conv, filed.error().message());
  co_return filed.has_value();
}

// The first attempt stored the mail and may have failed to file its
// attachments (filing comes after the ingest): unfiled, nobody could open
// them. Filed again here, which changes nothing when it had not failed.
// This attempt's copies go: no message names them.
awaitable<bool> email_channel::file_first_attempt(const std::string& conv, std::uint64_t seq,
                                                  const std::vector<stored_attachment>& spares) {
  if (spares.empty()) co_return true;  // the mail has none
  auto log = spdlog::get("smtp");
  if (seq != 0) {
    auto refs = co_await logged_attachments(s_, conv, seq);
    if (!refs) {
      log->warn("channel={} conv={} cannot read the message at {}: {}", channel_.id, conv, seq, refs.error().message());
      co_return false;
    }
    std::vector<std::string> ids;
    for (auto& ref : *refs)
      if (ref.starts_with("att_")) ids.push_back(std::move(ref));  // stored copies (take_attachments)
    if (!co_await file_attachments(ids, conv)) co_return false;
  }
  // Unfiled, they are nobody's and expire: not worth a retry.
  if (auto dropped = co_await store_.drop_attachments(spares); !dropped)
    log->warn("channel={} cannot drop a retry's attachments: {}", channel_.id, dropped.error().message());
  co_return true;
}

awaitable<bool> email_channel::mark_bounced(const email::parsed_email& mail, const std::vector<named_mail>& ours) {
  auto reason = mail.report.diagnostic.empty() ? std::string("bounced") : "bounced: " + mail.report.diagnostic;
  // The mail that bounced is the one the report returns, else the one it
  // answers; the rest of a References chain arrived (they only thread it).
  auto named = [&](const std::string& id) {
    return std::find(mail.report.message_ids.begin(), mail.report.message_ids.end(), id) != mail.report.message_ids.end();
  };
  bool returned = std::any_of(ours.begin(), ours.end(), [&](const auto& m) { return named(m.id); });
  for (const auto& m : ours) {
    if (returned ? !named(m.id) : m.id != mail.in_reply_to) continue;
    auto marked = co_await marks_.mark(bounce_update(channel_.id, m, reason));
    if (!marked) {
      spdlog::get("smtp")->warn("channel={} cannot mark {} bounced: {}", channel_.id, m.id, marked.error().message());
      co_return false;
    }
    if (*marked != routing::mark_result::changed) continue;
    global_metrics().email_automatic.inc({channel_.id, "bounced"});
    spdlog::get("smtp")->info("channel={} conv={} our mail {} bounced: {}", channel_.id, m.encoded.conversation_id,
                              m.id, reason);
  }
  co_return true;
}

awaitable<email::store_outcome> email_channel::receive(email::smtp_envelope envelope, std::string raw) {
  auto log = spdlog::get("smtp");
  auto parse = [&raw, this] { return email::parse_email(raw, config_); };
  auto mail = co_await run_on(parser_, parse);
  if (!mail.warning.empty()) log->warn("channel={} message {}: {}", channel_.id, mail.message_id, mail.warning);

  if (mail.event.echo) {
    // Our own reply came back (a Bcc, a list, a forwarding loop): never a customer message.
    log->info("channel={} our own message {} came back; not stored", channel_.id, mail.message_id);
    global_metrics().errors.inc("email_echo");
    co_return email::store_outcome::stored();
  }

  // Bounces and auto-replies are never a customer writing. List mail is a
  // person (a Google Group in front of the support address forwards the
  // customer's mail): kept as their message, still automatic, so that neither
  // the bot nor CSAT or opt-out words answer it (the list would get the answer).
  if (mail.event.automatic && !mail.list_mail) co_return co_await receive_automatic(mail, envelope);
  if (mail.event.from.external_id.empty()) {
    // Neither From nor the envelope names anyone: as a customer it would be
    // everyone's (ident ""), and nobody could be answered.
    log->info("channel={} message {} has no sender address: refused", channel_.id, mail.message_id);
    global_metrics().errors.inc("email_no_sender");
    co_return email::store_outcome::rejected("no sender address (neither From nor the envelope sender)");
  }

  auto hints = email::thread_hints(mail, config_.recipients.reply_domain, envelope.rcpt_to);
  auto thread = co_await store_.resolve(hints);
  if (!thread) {
    log->warn("channel={} cannot resolve the thread: {}", channel_.id, thread.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  thread->subject = email::normalized_subject(mail.subject);
  thread->sender_unverified = mail.sender_unverified;

  auto blobs = take_attachments(mail);
  if (auto kept = co_await store_.put_attachments(blobs); !kept) {
    log->warn("channel={} cannot store attachments: {}", channel_.id, kept.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }

  routing::channel_route route{channel_.team, channel_.bot && !mail.list_mail};
  auto stored = co_await ingest_.ingest(mail.event, route, *thread);
  if (!stored) {
    static routing::repeated_warning ingest_failures;
    ingest_failures.warn(*log, "channel={} ingest failed: {}", channel_.id, stored.error().message());
    co_return email::store_outcome::temporary_failure("storage unavailable");
  }
  const auto& conv = stored->conversation_id;
  if (!stored->duplicate) {
    bool filed = co_await file_attachments(ids_of(blobs), conv);
    if (!filed) co_return email::store_outcome::temporary_failure("storage unavailable");
  } else {
    bool filed = co_await file_first_attempt(conv, stored->seq, blobs);
    if (!filed) co_return email::store_outcome::temporary_failure("storage unavailable");
  }

  // The thread data of the conversation's latest mail from the customer.
  auto known = co_await store_.thread_of(conv);
  if (!known) co_return email::store_outcome::temporary_failure("storage unavailable");
  bool update_thread = !*known || !stored->duplicate;
  if (update_thread) {
    auto token = *known && !(*known)->reply_token.empty() ? (*known)->reply_token : email_store::new_token();
    // Someone else in the thread (a colleague in Cc) leaves it the customer's:
    // the agent's next reply still goes to them, as an answer to their mail.
    auto thread_data = stored->other_sender && *known ? **known : email::thread_from(mail, token);
    if (auto ok = co_await store_.remember_customer_mail(conv, thread_data, mail.message_id); !ok) {
      log->warn("channel={} conv={} cannot keep the thread: {}", channel_.id, conv, ok.error().message());
      co_return email::store_outcome::temporary_failure("storage unavailable");
    }
  }

  if (stored->duplicate) {
    global_metrics().dedup_hits.inc(channel_.id);
    co_await follow_up_duplicate(s_, *stored);
    co_return email::store_outcome::stored();
  }
  global_metrics().inbound_messages.inc(channel_.id);
  log->info("channel={} conv={} seq={} stored mail{}", channel_.id, conv, stored->seq,
            thread->conversation_id.empty() ? "" : " in thread");
  log->debug("channel={} conv={} text: {}", channel_.id, conv, mail.event.text);
  co_await follow_up(s_, *stored, mail.event);
  co_return email::store_outcome::stored();
}

}  // namespace pasokh::gateway
