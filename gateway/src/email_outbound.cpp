// Sending replies: the customer's thread from Redis, build_reply (the same
// outbound message always gets the same Message-ID, so a retried send is
// recognisable), the relay, and the relay's answer classified for the outbox.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/connectors/email/smtp_client.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {

using routing::now_ms;


namespace email = connectors::email;
using boost::asio::awaitable;
using routing::send_outcome;

void email_channel::watch_relay(const email::send_result& result) {
  auto log = spdlog::get("smtp");
  if (result.relay_refused) {
    global_metrics().errors.inc("email_relay_refused");
    auto text = fmt::format("channel={} the relay {}:{} refuses our mail: replies wait and are retried until it "
                            "takes them (check the relay's credentials, quota and account): {}",
                            channel_.id, config_.relay.host, config_.relay.port, result.detail);
    if (!relay_refusing_.exchange(true)) {  // a new spell: told at once
      relay_refusals_.admit(routing::repeated_warning::clock::now());
      log->error("{}", text);
    } else {
      relay_refusals_.error(*log, "{}", text);
    }
  } else if (result.status == email::send_status::delivered && relay_refusing_.exchange(false)) {
    log->info("channel={} the relay takes our mail again", channel_.id);
  }
}

awaitable<send_outcome> email_channel::send(const proto::outbound_message& message) {
  // A mail outside any conversation (a web chat email verification) has no thread to answer or to start.
  const bool in_conversation = !message.conversation_id.empty();
  email::reply_thread thread;
  if (in_conversation) {
    auto known = co_await store_.thread_of(message.conversation_id);
    if (!known) co_return send_outcome::retry("storage unavailable: " + known.error().message());
    // Without a thread (no mail from the customer yet) the reply starts one.
    thread = known->value_or(email::reply_thread{});
  }

  email::compose_input input;
  input.now = now_ms();
  if (in_conversation) {
    // The tag that lets a bounce of this mail be told from a forged one.
    input.message_id_key = co_await message_id_key();
    if (input.message_id_key.empty()) co_return send_outcome::retry("storage unavailable: no Message-ID key");
  }
  email::composed_mail mail;
  try {
    mail = email::build_reply(message, thread, config_, input);
  } catch (const std::invalid_argument& e) {
    co_return send_outcome::permanent(std::string("cannot address the mail: ") + e.what());
  }
  // Before sending: a customer who answers at once must find the conversation.
  if (in_conversation)
    if (auto ok = co_await store_.remember_sent(message.conversation_id, mail.message_id); !ok)
      co_return send_outcome::retry("storage unavailable: " + ok.error().message());

  auto result = co_await email::send_mail(config_.relay, mail);
  watch_relay(result);
  auto what = result.code ? fmt::format("SMTP {} {}", result.code, result.detail) : result.detail;
  switch (result.status) {
    case email::send_status::delivered:
      spdlog::get("smtp")->info("channel={} conv={} sent {} ({})", channel_.id, message.conversation_id,
                                mail.message_id, message.message_id);
      co_return send_outcome::delivered(mail.message_id);
    case email::send_status::permanent:
      co_return send_outcome::permanent(what);
    case email::send_status::retry:
      break;
  }
  co_return send_outcome::retry(what);
}

}  // namespace pasokh::gateway
