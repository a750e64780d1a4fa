// Messenger senders: window rule → provider requests → HTTPS → classified
// outcome. A split text's parts are recorded as the provider accepts them, so
// a retry after a failed part 2 does not send part 1 again, and no part goes
// before the one ahead of it is recorded.
#include <spdlog/spdlog.h>

#include "pasokh/connectors/meta/outbound.hpp"
#include "pasokh/connectors/telegram/outbound.hpp"
#include "pasokh/connectors/whatsapp/outbound.hpp"
#include "pasokh/gateway/messenger.hpp"
#include "pasokh/gateway/messenger_plan.hpp"
#include "pasokh/gateway/metrics.hpp"

namespace pasokh::gateway {

namespace telegram = connectors::telegram;
namespace whatsapp = connectors::whatsapp;
namespace meta = connectors::meta;
using boost::asio::awaitable;
using std::chrono::milliseconds;

namespace {

template <class... F> struct overloaded : F... { using F::operator()...; };
template <class... F> overloaded(F...) -> overloaded<F...>;

constexpr std::string_view whatsapp_outside_window = "outside the 24-hour window: send a template";
// The connectors' label for Graph API error 190 (an expired or revoked token).
constexpr std::string_view invalid_token = "invalid_token";

std::shared_ptr<spdlog::logger> log() { return spdlog::get("connectors"); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_token_refusal(std::string_view reason) { return starts_with(reason, invalid_token); }

// WhatsApp template parameters may not hold newlines, tabs or more than four spaces in a row.
std::string template_parameter(std::string_view text) {
  std::string out;
  int spaces = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    spaces = c == ' ' ? spaces + 1 : 0;
    if (spaces <= 1) out += c;
  }
  return out;
}

// After the 24-hour window WhatsApp takes only templates: the channel's
// configured one for an agent's follow-up, or nothing (a permanent failure
// the agent can act on). A campaign's or bot's text never goes in the
// follow-up template: marketing in a utility template gets it (or the number)
// flagged by Meta.
connectors::send_plan whatsapp_plan(const whatsapp::whatsapp_channel& wa, const window_template& after_window,
                                    const proto::outbound_message& msg, std::optional<milliseconds> since) {
  if (!msg.template_name.empty() || whatsapp::window_rule(since) == connectors::send_window::open)
    return whatsapp::build_send(msg, wa, since);
  if (after_window.name.empty() || msg.automatic || !msg.campaign.empty()) {
    connectors::send_plan refused;
    refused.refused = connectors::send_outcome::permanent(std::string(whatsapp_outside_window));
    return refused;
  }
  auto templated = msg;
  templated.buttons.clear();
  templated.template_name = after_window.name;
  templated.template_language = after_window.language;
  templated.template_params.clear();
  if (after_window.text_as_parameter) templated.template_params.push_back(template_parameter(msg.text));
  return whatsapp::build_send(templated, wa, since);
}


connectors::send_outcome classify(const messenger_provider& provider, const connectors::provider_response& response) {
  return std::visit(overloaded{
                        [&](const telegram::telegram_channel&) { return telegram::classify(response); },
                        [&](const whatsapp::whatsapp_channel&) { return whatsapp::classify(response); },
                        [&](const meta::meta_channel&) { return meta::classify(response); },
                    },
                    provider.api);
}

routing::limit_scope for_outbox(connectors::rate_scope scope) {
  switch (scope) {
    case connectors::rate_scope::account: break;
    case connectors::rate_scope::recipient: return routing::limit_scope::chat;  // the outbox's chat is the recipient
    case connectors::rate_scope::unknown: return routing::limit_scope::unknown;
  }
  return routing::limit_scope::account;
}

// The connectors' outcome in the outbox's terms.
routing::send_outcome for_outbox(proto::channel_kind kind, const connectors::send_outcome& o) {
  switch (o.kind) {
    case connectors::outcome_kind::delivered: return routing::send_outcome::delivered(o.provider_message_id);
    case connectors::outcome_kind::rate_limited:
      return routing::send_outcome::rate_limited(o.retry_after, o.reason, for_outbox(o.scope));
    case connectors::outcome_kind::retry: return routing::send_outcome::retry(agent_failure_reason(kind, o.reason));
    case connectors::outcome_kind::permanent: break;
  }
  return routing::send_outcome::permanent(agent_failure_reason(kind, o.reason));
}

// The customer has the first `delivered` parts of a split reply already: an
// agent who sent it again would repeat them. The console translates this note.
std::string parts_note(std::size_t delivered, std::size_t parts) {
  auto have = delivered == 1 ? std::string("part 1 was delivered")
                             : "parts 1–" + std::to_string(delivered) + " were delivered";
  return "part " + std::to_string(delivered + 1) + " of " + std::to_string(parts) + " failed, " + have + ": ";
}

}  // namespace

connectors::send_plan plan_for(const messenger_provider& provider, const proto::outbound_message& msg,
                               std::optional<milliseconds> since) {
  return std::visit(overloaded{
                        [&](const telegram::telegram_channel& tg) { return telegram::build_send(msg, tg); },
                        [&](const whatsapp::whatsapp_channel& wa) {
                          return whatsapp_plan(wa, provider.after_window, msg, since);
                        },
                        [&](const meta::meta_channel& m) { return meta::build_send(msg, m, since); },
                    },
                    provider.api);
}

std::string agent_failure_reason(proto::channel_kind kind, std::string_view reason) {
  if (is_token_refusal(reason))
    // Said while the reply is retried and once it gave up: true of either.
    return "the channel's access token is expired or revoked: an admin must renew it (" +
           std::string(reason) + ")";
  constexpr std::string_view window_closed = "window_closed";
  bool whatsapp_window = kind == proto::channel_kind::whatsapp && starts_with(reason, "131047");
  if (!starts_with(reason, window_closed) && !whatsapp_window) return std::string(reason);
  auto detail = whatsapp_window ? reason : reason.substr(window_closed.size());
  while (!detail.empty() && (detail.front() == ':' || detail.front() == ' ')) detail.remove_prefix(1);
  std::string out = kind == proto::channel_kind::whatsapp ? std::string(whatsapp_outside_window)
                                                          : "outside the messaging window: the customer must write first";
  if (!detail.empty()) out += " (" + std::string(detail) + ")";
  return out;
}

routing::channel_sender messenger_gateway::sender(const channel_config& channel) {
  return [this, &channel](const proto::outbound_message& message, const routing::pace_next& next) {
    return send(channel, message, next);
  };
}

awaitable<routing::send_outcome> messenger_gateway::send(const channel_config& channel,
                                                         const proto::outbound_message& message,
                                                         const routing::pace_next& next) {
  const auto& provider = *channel.messenger;
  std::optional<milliseconds> since;
  if (channel.kind != proto::channel_kind::telegram) {  // Telegram has no reply window
    auto known = co_await store_.since_customer_message(message.conversation_id);
    if (!known) co_return routing::send_outcome::retry("storage unavailable: " + known.error().message());
    since = *known;
  }
  auto plan = plan_for(provider, message, since);
  if (plan.refused) co_return routing::send_outcome::permanent(agent_failure_reason(channel.kind, plan.refused->reason));

  // Meta echoes what we send, sometimes before the send's answer.
  const bool echoed = std::holds_alternative<meta::meta_channel>(provider.api);
  if (echoed) {
    auto marked = co_await store_.sending(message, true);
    if (!marked) co_return routing::send_outcome::retry("storage unavailable: " + marked.error().message());
  }
  auto outcome = co_await send_parts(channel, message, std::move(plan), next);
  if (echoed) {
    // Not cleared (Redis down): it lapses within a minute; the echoes wait that long.
    auto cleared = co_await store_.sending(message, false);
    if (!cleared) log()->warn("channel={} {}: sending mark not cleared: {}", channel.id, message.message_id,
                              cleared.error().message());
  }
  co_return outcome;
}

awaitable<routing::send_outcome> messenger_gateway::send_parts(const channel_config& channel,
                                                               const proto::outbound_message& message,
                                                               connectors::send_plan plan,
                                                               const routing::pace_next& next) {
  const auto& provider = *channel.messenger;
  const auto parts = plan.requests.size();
  send_progress progress;
  if (parts > 1) {
    auto known = co_await store_.progress_of(channel.id, message.message_id);
    if (!known) co_return routing::send_outcome::retry("storage unavailable: " + known.error().message());
    progress = *known;
  }
  // `next` paces each part after the first (the outbox paced that one) and
  // answers false once the message is not ours to send any more.
  const auto not_ours = [] { return routing::send_outcome::retry("stopped, or another instance sends it now"); };
  for (auto i = progress.done; i < parts; ++i) {
    if (i > progress.done && !co_await next()) co_return not_ours();
    auto what = plan.requests[i].what;  // never the URL: Telegram's has the token
    auto outcome = classify(provider, co_await http_.send(std::move(plan.requests[i])));
    log()->debug("channel={} {} part {}/{} {}: {} {}", channel.id, message.message_id, i + 1, parts, what,
                 connectors::to_string(outcome.kind), outcome.reason);
    watch_token(channel, outcome);
    if (outcome.kind != connectors::outcome_kind::delivered) {
      auto failed = for_outbox(channel.kind, outcome);
      if (i > 0) failed.reason = parts_note(i, parts) + failed.reason;
      co_return failed;
    }
    if (i == 0) progress.first_provider_id = outcome.provider_message_id;
    // Whoever sends the message after us (a retry, another instance that
    // takes it over) starts after the parts recorded: nothing more goes until
    // this one is. `next` waits while Redis is unreachable, and says when the
    // message became another instance's meanwhile.
    auto saved = co_await store_.part_sent(channel.id, message, i, parts, outcome.provider_message_id,
                                           progress.first_provider_id);
    while (!saved) {
      log()->warn("channel={} {}: cannot record part {} yet: {}", channel.id, message.message_id, i + 1,
                  saved.error().message());
      if (!co_await next()) co_return not_ours();
      saved = co_await store_.part_sent(channel.id, message, i, parts, outcome.provider_message_id,
                                        progress.first_provider_id);
    }
    if (*saved) co_await apply_early_status(channel, outcome.provider_message_id, **saved);
  }
  co_return routing::send_outcome::delivered(progress.first_provider_id);
}

// A refused token fails every send of the channel until an admin renews it:
// told once at error level (and once when it works again), counted per send.
void messenger_gateway::watch_token(const channel_config& channel, const connectors::send_outcome& outcome) {
  const bool refused = outcome.kind == connectors::outcome_kind::retry && is_token_refusal(outcome.reason);
  if (refused) global_metrics().provider_token_refused.inc(channel.id);
  if (!refused && outcome.kind != connectors::outcome_kind::delivered) return;  // tells nothing about the token
  std::lock_guard lock(token_refused_mutex_);
  if (refused && token_refused_.insert(channel.id).second)
    log()->error("channel={} the provider refuses the access token (expired or revoked): replies wait and are "
                 "retried until an admin renews it: {}", channel.id, outcome.reason);
  else if (!refused && token_refused_.erase(channel.id))
    log()->info("channel={} the access token is accepted again", channel.id);
}

// A status the provider sent before its answer to the send: the message is
// found by its provider id now. Best effort: the message stays "sent" otherwise.
awaitable<void> messenger_gateway::apply_early_status(const channel_config& channel, const std::string& provider_id,
                                                      const early_status& early) {
  routing::delivery_update update;
  update.channel = channel.id;
  update.status = early.status;
  update.provider_message_id = provider_id;
  update.reason = early.reason;
  routing::outbox_ack no_outbox_entry;  // named: see store_status
  auto marked = co_await marks_.mark(update, no_outbox_entry);
  if (!marked)
    log()->warn("channel={} {}: early {} status not applied: {}", channel.id, provider_id,
                proto::to_string(early.status), marked.error().message());
}

}  // namespace pasokh::gateway
