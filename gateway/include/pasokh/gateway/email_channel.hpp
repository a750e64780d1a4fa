#pragma once
// One configured email channel: the SMTP listener that turns received mail
// into conversation messages (threaded by reply token, In-Reply-To and
// References), and the outbox sender that answers through the relay in the
// customer's thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pasokh/connectors/email/config.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/smtp_client.hpp"
#include "pasokh/connectors/email/smtp_server.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/gateway/email_store.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/routing/delivery.hpp"
#include "pasokh/routing/outbox.hpp"
#include "pasokh/routing/thread_ingest.hpp"

namespace pasokh::gateway {

// One of our mails a bounce names: its Message-ID as the report gives it, and what the id encodes (tag verified).
struct named_mail {
  std::string id;
  connectors::email::our_message_id encoded;
};

class email_channel {
 public:
  // `channel` must be an email channel (its provider settings parsed at load).
  email_channel(services& s, boost::asio::any_io_executor executor, const channel_config& channel);
  ~email_channel();
  email_channel(const email_channel&) = delete;
  email_channel& operator=(const email_channel&) = delete;

  // Starts the SMTP listener; returns the bound port. Throws on bind errors.
  std::uint16_t start();
  void stop();

  const channel_config& channel() const { return channel_; }
  // This channel's sender for its outbox worker.
  routing::channel_sender sender();

  // One received message (the SMTP listener's store callback): stored → 250,
  // Redis trouble → 451 so the sending MTA retries.
  boost::asio::awaitable<connectors::email::store_outcome> receive(connectors::email::smtp_envelope envelope,
                                                                   std::string raw);
  // One reply through the relay, classified for the outbox.
  boost::asio::awaitable<routing::send_outcome> send(const proto::outbound_message& message);

 private:
  services& s_;
  boost::asio::any_io_executor executor_;
  const channel_config& channel_;
  const connectors::email::email_config& config_;
  // Parses mail off the I/O threads: a large one (25 MB may come) would
  // hold every connection of the thread it ran on.
  boost::asio::thread_pool parser_{1};
  // The key of our Message-IDs' tags: the channel's configured secret, else
  // the installation's from Redis (asked once). Empty when Redis could not be asked.
  boost::asio::awaitable<std::string> message_id_key();
  std::mutex message_id_key_mutex_;
  std::string message_id_key_;
  // Automatic mail: kept in the conversation it belongs to, else noted; a
  // report on our mail (its tag verified) marks it failed when it bounced. Never answered.
  boost::asio::awaitable<connectors::email::store_outcome> receive_automatic(
      connectors::email::parsed_email& mail, const connectors::email::smtp_envelope& envelope);
  // False when Redis could not be asked.
  boost::asio::awaitable<bool> mark_bounced(const connectors::email::parsed_email& mail,
                                            const std::vector<named_mail>& ours);
  // Records the conversation on the attachments; false when Redis could not be asked.
  boost::asio::awaitable<bool> file_attachments(const std::vector<std::string>& ids, const std::string& conv);
  // A retry of a mail stored before (its first attempt failed after the
  // ingest): files the attachments its message (at `seq` in `conv`; 0: in no
  // conversation) names and drops this attempt's copies, `spares`.
  boost::asio::awaitable<bool> file_first_attempt(const std::string& conv, std::uint64_t seq,
                                                  const std::vector<stored_attachment>& spares);

  // The relay refusing us (credentials, a quota): every reply waits, so it is
  // told at error level, again at most every 10 minutes while it lasts.
  void watch_relay(const connectors::email::send_result& result);
  routing::repeated_warning relay_refusals_{std::chrono::minutes(10)};
  std::atomic<bool> relay_refusing_{false};

  email_store store_;
  routing::thread_ingest ingest_;
  routing::delivery_marks marks_;
  std::unique_ptr<connectors::email::smtp_server> smtp_;
};

// POST /webhooks/email/{channel}: the Mailgun-style inbound webhook of the
// channels that configure a signing key (provider.webhook). `channels` must
// outlive the router.
void add_email_webhook_routes(router& r, services& s, const std::vector<std::unique_ptr<email_channel>>& channels);

// GET /api/v1/attachments/{id}: content of a stored attachment, for agents
// (Bearer session token).
void add_attachment_routes(router& r, services& s);
// A stored attachment's answer: a download in a sandbox, never a page of ours.
http_response attachment_download(const std::string& name, const std::string& mime_type, std::string content);

// Decides whether the caller may open a stored file from its hash's
// `owner_field` (nil when the hash lacks it): none to serve it, or the answer
// that refuses.
using attachment_access =
    std::function<boost::asio::awaitable<std::optional<http_response>>(const store::reply& owner)>;
// A stored file's download: its name, type and `owner_field` on the main
// connection, `access` on the owner, then its bytes on the files connection a
// chunk a command (attachment_blobs.hpp); 404 with `not_found` as the
// message when the file is not there (expired, or deleted in between).
boost::asio::awaitable<http_response> serve_attachment(services& s, const std::string& id,
                                                       const std::string& owner_field, const std::string& not_found,
                                                       attachment_access access);

}  // namespace pasokh::gateway
