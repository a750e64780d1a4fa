#pragma once
// What the email channel keeps in Redis beside the conversation itself:
//   conv:<id>:email                     the reply thread (JSON of email::reply_thread:
//                                       the customer's last mail and our reply token)
//   email_token:<channel>:<token>       conversation of a reply+<token>@ address
//   email_msgid:<channel>:<message-id>  conversation of a Message-ID (the customer's and ours)
//   attachment:<id>                     hash name, mime_type, size, channel, content, conversation
//                                       (expires; conversation: whose agents may fetch it, '' until
//                                       its mail is stored (nobody's), none in those stored by
//                                       older versions)
//   email_automatic:<channel>           stream of automatic mail in no conversation (from, subject,
//                                       reason, message_id, at; the newest ~1000; automatic_mail.lua)
//   email_message_id_key                the key of our Message-IDs' tags when no channel configures
//                                       one (made once, shared by every instance; never expires)
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/routing/thread_ingest.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::gateway {

template <class T> using email_result = boost::system::result<T>;

struct stored_attachment {
  std::string id;
  std::string name;
  std::string mime_type;
  std::string content;
};

class email_store {
 public:
  // `files`: the connection attachments' bytes go on (services::files), a
  // chunk a command, so that a mail's big files never hold `redis`.
  email_store(store::redis_client& redis, store::redis_client& files, std::string prefix, std::string channel,
              std::chrono::seconds thread_ttl, std::chrono::seconds attachment_ttl);

  // The conversation named by the first hint we know (tokens and Message-IDs
  // are looked up in one round trip); empty conversation_id when none.
  boost::asio::awaitable<email_result<routing::thread_ingest::thread>> resolve(
      const std::vector<connectors::email::thread_hint>& hints);

  // The conversation's reply thread, nullopt when no mail arrived in it yet.
  boost::asio::awaitable<email_result<std::optional<connectors::email::reply_thread>>> thread_of(
      const std::string& conversation_id);

  // After a customer mail was stored in the conversation: its thread data, the
  // token and its Message-ID, so that answers find their way back.
  boost::asio::awaitable<email_result<void>> remember_customer_mail(const std::string& conversation_id,
                                                                   const connectors::email::reply_thread& thread,
                                                                   const std::string& message_id);
  // Before sending our mail: its Message-ID, for answers that quote only it.
  boost::asio::awaitable<email_result<void>> remember_sent(const std::string& conversation_id,
                                                          const std::string& message_id);

  // Before the mail is stored (it never names a missing one): unfiled, nobody
  // may fetch them yet; all or none (attachment_blobs::put_unfiled).
  boost::asio::awaitable<email_result<void>> put_attachments(const std::vector<stored_attachment>& attachments);
  // Once the mail is stored: the conversation whose agents may fetch them (by id).
  boost::asio::awaitable<email_result<void>> file_attachments(const std::vector<std::string>& ids,
                                                              const std::string& conversation_id);
  // Stored for a mail that was then kept nowhere (noted as automatic mail, or it threads to an erased
  // customer's conversation): no message names them.
  boost::asio::awaitable<email_result<void>> drop_attachments(const std::vector<stored_attachment>& attachments);

  // The installation's key for our Message-IDs' tags (make_message_id): made
  // by the first instance that asks (SET NX), the same for all after it.
  boost::asio::awaitable<email_result<std::string>> installation_message_id_key();

  // A new random reply token: 32 lower-case hex digits (128 bits).
  static std::string new_token();

 private:
  std::string thread_key(const std::string& conv) const { return prefix_ + "conv:" + conv + ":email"; }
  std::string token_key(const std::string& token) const { return prefix_ + "email_token:" + channel_ + ":" + token; }
  std::string msgid_key(const std::string& id) const { return prefix_ + "email_msgid:" + channel_ + ":" + id; }

  store::redis_client& redis_;
  store::redis_client& files_;
  std::string prefix_;
  std::string channel_;
  std::chrono::seconds thread_ttl_;
  std::chrono::seconds attachment_ttl_;
};

}  // namespace pasokh::gateway
