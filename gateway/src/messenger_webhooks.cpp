// Messenger webhooks: parse with the connector, store every event, then answer.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "pasokh/connectors/meta/inbound.hpp"
#include "pasokh/connectors/telegram/inbound.hpp"
#include "pasokh/connectors/telegram/outbound.hpp"
#include "pasokh/connectors/whatsapp/inbound.hpp"
#include "pasokh/gateway/followup.hpp"
#include "pasokh/gateway/messenger.hpp"
#include "pasokh/gateway/meta_media_copies.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/repeated_warning.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {

using routing::now_ms;


namespace net = boost::asio;
namespace telegram = connectors::telegram;
namespace whatsapp = connectors::whatsapp;
namespace meta = connectors::meta;
using boost::asio::awaitable;

namespace {

template <class... F> struct overloaded : F... { using F::operator()...; };
template <class... F> overloaded(F...) -> overloaded<F...>;

std::shared_ptr<spdlog::logger> log() { return spdlog::get("connectors"); }

bool belongs_to(webhook_family family, proto::channel_kind kind) {
  switch (family) {
    case webhook_family::telegram: return kind == proto::channel_kind::telegram;
    case webhook_family::whatsapp: return kind == proto::channel_kind::whatsapp;
    case webhook_family::meta: return kind == proto::channel_kind::messenger || kind == proto::channel_kind::instagram;
  }
  return false;
}

std::string_view family_name(webhook_family family) {
  switch (family) {
    case webhook_family::telegram: return "telegram";
    case webhook_family::whatsapp: return "whatsapp";
    case webhook_family::meta: return "meta";
  }
  return "?";
}

// A view over the gateway's request for the parser (it borrows `req`).
connectors::webhook_request view_of(const http_request& req) {
  connectors::webhook_request view;
  view.method = req.method;
  view.target = req.target;
  view.body = req.body;
  view.received_at = now_ms();
  view.headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) view.headers.push_back({name, value});
  return view;
}

http_response answer_of(const connectors::webhook_result& result) {
  return http_response{static_cast<unsigned>(result.status), result.content_type, result.body, {}};
}

// An echo of our own send, a delivery status or a reaction: its order
// against the customer's messages does not matter.
bool is_side_event(const proto::inbound_event& event) {
  return event.echo || event.kind == proto::inbound_kind::status || event.kind == proto::inbound_kind::reaction;
}

void count(const std::string& channel, std::string_view what, std::uint64_t n = 1) {
  global_metrics().webhook_items.inc({channel, what}, n);
}

// Items a parser left out that someone should look into: an item we could not
// read (the provider's shape changed), or an object no channel here takes (a
// subscription pointed at the wrong URL). Once per spell for each.
void warn_skipped(const std::string& channel, const std::vector<connectors::webhook_result::skipped_item>& skipped) {
  static routing::repeated_warning malformed;
  static routing::repeated_warning misdirected;
  for (const auto& item : skipped)
    (item.what == "ignored_malformed" ? malformed : misdirected)
        .warn(*log(), "channel={} webhook item left out ({}): {}", channel, item.what, item.note);
}

// Messenger and Instagram share the webhook shape; an app may send both to one URL.
proto::channel_kind other_meta_kind(proto::channel_kind kind) {
  return kind == proto::channel_kind::instagram ? proto::channel_kind::messenger : proto::channel_kind::instagram;
}

}  // namespace

messenger_gateway::messenger_gateway(services& s, net::any_io_executor executor, connectors::http::client_config http,
                                     std::chrono::seconds provider_id_ttl)
    : s_(s),
      executor_(executor),
      http_(executor, std::move(http)),
      marks_(s.redis, s.cfg.redis.prefix, provider_id_ttl),
      store_(s.redis, s.cfg.redis.prefix, provider_id_ttl) {}

void messenger_gateway::add_routes(router& r) {
  auto route = [this](webhook_family family) {
    return [this, family](const http_request& req, const route_params& p) { return webhook(family, req, p); };
  };
  r.add("POST", "/webhooks/telegram/{channel}", route(webhook_family::telegram));
  for (const char* method : {"GET", "POST"}) {
    r.add(method, "/webhooks/whatsapp/{channel}", route(webhook_family::whatsapp));
    r.add(method, "/webhooks/meta/{channel}", route(webhook_family::meta));
  }
  r.add("GET", "/api/v1/media/{channel}/{ref}",
        [this](const http_request& req, const route_params& p) { return media(req, p); });
}

// Meta sends every number / page of one app to the same URL: entries for
// another configured channel of the same kind are stored on that channel.
connectors::account_router messenger_gateway::account_router_for(proto::channel_kind kind) const {
  return [this, kind](std::string_view account) -> std::optional<std::string> {
    for (const auto& ch : s_.cfg.channels) {
      if (ch.kind != kind || !ch.messenger) continue;
      bool owns = std::visit(overloaded{
                                 [&](const whatsapp::whatsapp_channel& wa) { return wa.phone_number_id == account; },
                                 [&](const meta::meta_channel& m) { return m.account_id == account; },
                                 [](const telegram::telegram_channel&) { return false; },
                             },
                             ch.messenger->api);
      if (owns) return ch.id;
    }
    return std::nullopt;
  };
}

awaitable<http_response> messenger_gateway::webhook(webhook_family family, const http_request& req,
                                                    const route_params& params) {
  const auto& id = params.at("channel");
  const auto* channel = s_.cfg.find_channel(id);
  if (!channel || !channel->messenger || !belongs_to(family, channel->kind)) {
    global_metrics().errors.inc("unknown_channel");
    co_return error_response(404, "unknown_channel",
                             "no " + std::string(family_name(family)) + " channel named " + id);
  }

  auto view = view_of(req);
  auto result = std::visit(overloaded{
                               [&](const telegram::telegram_channel& tg) { return telegram::parse_webhook(view, tg); },
                               [&](const whatsapp::whatsapp_channel& wa) {
                                 return whatsapp::parse_webhook(view, wa, account_router_for(channel->kind));
                               },
                               [&](const meta::meta_channel& m) {
                                 return meta::parse_webhook(view, m, account_router_for(channel->kind),
                                                            account_router_for(other_meta_kind(channel->kind)));
                               },
                           },
                           channel->messenger->api);
  if (!result.ok()) {
    global_metrics().errors.inc("webhook_" + std::string(connectors::to_string(result.error)));
    if (result.error == connectors::webhook_error::internal)
      log()->error("channel={} webhook parser failed: {}", channel->id, result.error_message);
    else
      log()->info("channel={} webhook refused: {}", channel->id, result.error_message);
    co_return answer_of(result);
  }
  if (result.by_previous_secret) global_metrics().auth_previous_key.inc(channel->id);

  // In order, and all of them before answering; the provider redelivers the
  // whole batch after a 503, and what was stored is deduplicated then.
  bool all_stored = true;
  for (const auto& event : result.events) {
    if (co_await store_event(*channel, event)) continue;
    all_stored = false;
    // A customer's message or edit stored after a failed one would be out
    // of order; an echo or a status is not, so it holds back nothing.
    if (!is_side_event(event)) break;
  }
  if (!all_stored) co_return unavailable();
  for (const auto& [what, n] : result.counters) count(channel->id, what, n);
  warn_skipped(channel->id, result.skipped);
  if (!result.callback_query_ids.empty())
    if (const auto* bot = std::get_if<telegram::telegram_channel>(&channel->messenger->api))
      answer_callbacks(*bot, std::move(result.callback_query_ids));
  co_return answer_of(result);
}

awaitable<bool> messenger_gateway::store_event(const channel_config& url_channel, const proto::inbound_event& event) {
  // The parser may have routed the event to another channel of the same app.
  const auto* owner = s_.cfg.find_channel(event.from.channel);
  const auto& channel = owner ? *owner : url_channel;
  switch (event.kind) {
    case proto::inbound_kind::message:
    case proto::inbound_kind::button:
      if (event.echo) co_return co_await store_echo(channel, event);
      co_return co_await store_message(channel, event);
    case proto::inbound_kind::edit: co_return co_await store_edit(channel, event);
    case proto::inbound_kind::unsend: co_return co_await store_unsend(channel, event);
    case proto::inbound_kind::status: co_return co_await store_status(channel, event);
    case proto::inbound_kind::reaction: co_return co_await store_reaction(channel, event);
  }
  co_return true;
}

awaitable<bool> messenger_gateway::store_message(const channel_config& channel, const proto::inbound_event& event) {
  routing::channel_route route{channel.team, channel.bot};
  route.copy_attachments = copies_files(channel, event);
  auto stored = co_await s_.conversations.ingest(event, route);
  if (!stored) {
    static routing::repeated_warning ingest_failures;
    ingest_failures.warn(*log(), "channel={} ingest failed: {}", channel.id, stored.error().message());
    co_return false;
  }
  // Unsent before it came (its unsend was handled first): nothing of what
  // the customer took back is recorded, copied or answered.
  if (stored->unsent) {
    global_metrics().inbound_messages.inc(channel.id);
    count(channel.id, "unsent");
    log()->info("channel={} conv={} the customer unsent a message before it was stored", channel.id,
                stored->conversation_id);
    auto taken_back = event;
    taken_back.text.clear();
    taken_back.original_text.clear();
    taken_back.attachments.clear();
    taken_back.button_payload.clear();
    co_await follow_up(s_, *stored, taken_back);
    co_return true;
  }
  // A duplicate too: a retry after a failure here.
  bool recorded = co_await remember_media(stored->conversation_id, event);
  if (!recorded) co_return false;
  if (stored->duplicate) {
    global_metrics().dedup_hits.inc(channel.id);
    co_await follow_up_duplicate(s_, *stored);
    co_return true;
  }
  global_metrics().inbound_messages.inc(channel.id);
  if (route.copy_attachments) copies_->nudge();
  co_await follow_up(s_, *stored, event);
  co_return true;
}

// Messenger and Instagram hand files by URLs that expire: Pasokh copies them
// once the webhook is answered (meta_media_copies.hpp). The ingest script
// queues them with the message, so a gateway dying after storing it cannot
// leave them uncopied; a redelivery, a duplicate, queues nothing new.
bool messenger_gateway::copies_files(const channel_config& channel, const proto::inbound_event& event) const {
  bool meta = channel.kind == proto::channel_kind::messenger || channel.kind == proto::channel_kind::instagram;
  return meta && copies_ && std::any_of(event.attachments.begin(), event.attachments.end(), copyable);
}

awaitable<bool> messenger_gateway::store_edit(const channel_config& channel, const proto::inbound_event& event) {
  auto stored = co_await s_.conversations.edit_message(event);
  if (!stored) {
    static routing::repeated_warning edit_failures;
    edit_failures.warn(*log(), "channel={} edit failed: {}", channel.id, stored.error().message());
    co_return false;
  }
  if (stored->status == "duplicate") global_metrics().dedup_hits.inc(channel.id);
  else if (!stored->stored()) count(channel.id, "edit_" + stored->status);  // edit_unknown, edit_stale
  co_return true;
}

awaitable<bool> messenger_gateway::store_unsend(const channel_config& channel, const proto::inbound_event& event) {
  auto stored = co_await s_.conversations.unsend_message(event);
  if (!stored) {
    static routing::repeated_warning unsend_failures;
    unsend_failures.warn(*log(), "channel={} unsend failed: {}", channel.id, stored.error().message());
    co_return false;
  }
  if (stored->status == "duplicate") global_metrics().dedup_hits.inc(channel.id);
  else if (stored->stored()) count(channel.id, "unsent");
  else count(channel.id, "unsent_" + stored->status);  // unsent_unknown: not ours, or unsent already
  if (stored->stored()) log()->info("channel={} conv={} the customer unsent a message", channel.id, stored->conversation_id);
  co_return true;
}

awaitable<bool> messenger_gateway::store_reaction(const channel_config& channel, const proto::inbound_event& event) {
  auto stored = co_await s_.conversations.react(event);
  if (!stored) {
    static routing::repeated_warning reaction_failures;
    reaction_failures.warn(*log(), "channel={} reaction failed: {}", channel.id, stored.error().message());
    co_return false;
  }
  if (stored->status == "duplicate") global_metrics().dedup_hits.inc(channel.id);
  else if (stored->stored()) count(channel.id, "reaction");
  else count(channel.id, "reaction_" + stored->status);  // reaction_unknown, reaction_unchanged
  co_return true;
}

awaitable<bool> messenger_gateway::store_status(const channel_config& channel, const proto::inbound_event& event) {
  if (event.read_watermark > 0) co_return co_await store_read_watermark(channel, event);
  routing::delivery_update update;
  update.channel = channel.id;
  update.status = event.status;
  update.provider_message_id = event.provider_message_id;
  if (event.status == proto::delivery_status::failed)
    update.reason = agent_failure_reason(channel.kind, event.status_error.empty() ? "failed" : event.status_error);
  // Statuses only move forwards, so a replayed or late one changes nothing.
  // (A named ack, not the default argument: GCC 12 destroys that `{}` twice.)
  routing::outbox_ack no_outbox_entry;
  auto marked = co_await marks_.mark(update, no_outbox_entry);
  if (!marked) {
    static routing::repeated_warning status_failures;
    status_failures.warn(*log(), "channel={} status failed: {}", channel.id, marked.error().message());
    co_return false;
  }
  if (*marked == routing::mark_result::unchanged) count(channel.id, "status_unchanged");
  if (*marked == routing::mark_result::unknown) count(channel.id, "status_unknown_message");
  co_return true;
}

awaitable<bool> messenger_gateway::store_read_watermark(const channel_config& channel,
                                                       const proto::inbound_event& event) {
  auto marked = co_await marks_.mark_read_up_to(channel.id, event.from.external_id, event.read_watermark);
  if (!marked) {
    static routing::repeated_warning watermark_failures;
    watermark_failures.warn(*log(), "channel={} read watermark failed: {}", channel.id, marked.error().message());
    co_return false;
  }
  if (*marked == 0) count(channel.id, "status_unchanged");
  co_return true;
}

awaitable<bool> messenger_gateway::store_echo(const channel_config& channel, const proto::inbound_event& event) {
  auto stored = co_await s_.conversations.record_echo(event, store_.provider_id_ttl());
  if (!stored) {
    static routing::repeated_warning echo_failures;
    echo_failures.warn(*log(), "channel={} echo failed: {}", channel.id, stored.error().message());
    co_return false;
  }
  if (stored->status == "duplicate") global_metrics().dedup_hits.inc(channel.id);
  else if (!stored->stored()) count(channel.id, "echo_" + stored->status);  // echo_ours, echo_no_conversation, echo_sending
  // Sending: answered 503, so that Meta delivers it again once the send's provider id is known.
  co_return stored->status != "sending";
}

void messenger_gateway::answer_callbacks(const telegram::telegram_channel& bot, std::vector<std::string> ids) {
  net::co_spawn(
      executor_,
      [this, bot, ids = std::move(ids)]() -> awaitable<void> {
        for (const auto& id : ids) {
          auto request = telegram::build_answer_callback(id, bot);
          auto outcome = telegram::classify(co_await http_.send(std::move(request)));
          if (outcome.kind != connectors::outcome_kind::delivered)
            log()->info("channel={} answerCallbackQuery: {}", bot.id, outcome.reason);
        }
      },
      net::detached);
}

}  // namespace pasokh::gateway
