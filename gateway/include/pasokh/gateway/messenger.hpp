#pragma once
// Messenger channels (Telegram, WhatsApp Cloud, Messenger, Instagram) in the
// gateway. Inbound: the webhook routes run the connector's parser over the raw
// request and store every event before answering 2xx, so the provider retries
// whatever we did not keep (Redis down → 503). Outbound: one outbox sender per
// channel builds the provider request under the channel's reply window, sends
// it with the shared HTTPS client and classifies the answer for the outbox.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "pasokh/connectors/common/provider.hpp"
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/connectors/http/client.hpp"
#include "pasokh/gateway/file_slots.hpp"
#include "pasokh/gateway/messenger_config.hpp"
#include "pasokh/gateway/messenger_store.hpp"
#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/routing/delivery.hpp"
#include "pasokh/routing/outbox.hpp"

namespace pasokh::gateway {

class meta_media_copier;

// Which URL a webhook came in on: /webhooks/<family>/{channel}.
enum class webhook_family { telegram, whatsapp, meta };

class messenger_gateway {
 public:
  messenger_gateway(services& s, boost::asio::any_io_executor executor, connectors::http::client_config http = {},
                    std::chrono::seconds provider_id_ttl = std::chrono::hours(24 * 30));
  messenger_gateway(const messenger_gateway&) = delete;
  messenger_gateway& operator=(const messenger_gateway&) = delete;

  // Messenger and Instagram messages with files are queued for `copies`
  // (which must outlive this); without one, their files keep their URLs.
  void copy_meta_media_with(meta_media_copier& copies) { copies_ = &copies; }

  // POST /webhooks/telegram/{channel}, GET+POST /webhooks/whatsapp/{channel},
  // GET+POST /webhooks/meta/{channel}, GET /api/v1/media/{channel}/{ref}.
  void add_routes(router& r);

  // The outbox sender of a messenger channel (`channel` must outlive it).
  routing::channel_sender sender(const channel_config& channel);

  // One webhook request; the answer for the provider.
  boost::asio::awaitable<http_response> webhook(webhook_family family, const http_request& req,
                                                const route_params& params);

  // GET /api/v1/media/{channel}/{ref}?conversation=<id>&seq=<n>: an inbound
  // attachment (Telegram file id, WhatsApp media id) fetched from the
  // provider, for the agents who may see the conversation of the message it
  // came with (that message, logged at seq, names it). Without a message
  // named: for those who may see one of the conversations its record
  // (media:<channel>:<ref>, the first of them) keeps.
  boost::asio::awaitable<http_response> media(const http_request& req, const route_params& params);

  // One outbound message through the provider API, classified for the outbox;
  // `next` paces each request after the first.
  boost::asio::awaitable<routing::send_outcome> send(const channel_config& channel,
                                                     const proto::outbound_message& message,
                                                     const routing::pace_next& next);

 private:
  // The plan's requests in order, resuming after the parts a crash left sent.
  boost::asio::awaitable<routing::send_outcome> send_parts(const channel_config& channel,
                                                           const proto::outbound_message& message,
                                                           connectors::send_plan plan, const routing::pace_next& next);
  // Logs and counts the provider refusing the channel's access token (Graph error 190).
  void watch_token(const channel_config& channel, const connectors::send_outcome& outcome);
  // Marks the message sent as `provider_id` with the status the provider reported before its answer.
  boost::asio::awaitable<void> apply_early_status(const channel_config& channel, const std::string& provider_id,
                                                  const early_status& early);
  // Stores one parsed event; false when Redis failed (the webhook answers 503).
  boost::asio::awaitable<bool> store_event(const channel_config& url_channel, const proto::inbound_event& event);
  boost::asio::awaitable<bool> store_message(const channel_config& channel, const proto::inbound_event& event);
  // Records the conversation in the event's provider files' records, for media(); false when Redis failed.
  boost::asio::awaitable<bool> remember_media(const std::string& conv, const proto::inbound_event& event);
  // Whether the message's files are to be copied (queued by the ingest script itself).
  bool copies_files(const channel_config& channel, const proto::inbound_event& event) const;
  boost::asio::awaitable<bool> store_edit(const channel_config& channel, const proto::inbound_event& event);
  boost::asio::awaitable<bool> store_unsend(const channel_config& channel, const proto::inbound_event& event);
  boost::asio::awaitable<bool> store_reaction(const channel_config& channel, const proto::inbound_event& event);
  boost::asio::awaitable<bool> store_status(const channel_config& channel, const proto::inbound_event& event);
  // Messenger's read receipt: our messages to the customer up to its watermark time are read.
  boost::asio::awaitable<bool> store_read_watermark(const channel_config& channel, const proto::inbound_event& event);
  boost::asio::awaitable<bool> store_echo(const channel_config& channel, const proto::inbound_event& event);
  // Telegram: stops the spinner on the button the customer pressed. Best effort, after storing.
  void answer_callbacks(const connectors::telegram::telegram_channel& bot, std::vector<std::string> ids);
  // The configured channel of `kind` that owns a provider account id (entry id, phone_number_id).
  connectors::account_router account_router_for(proto::channel_kind kind) const;

  services& s_;
  boost::asio::any_io_executor executor_;
  connectors::http::client http_;
  routing::delivery_marks marks_;
  messenger_store store_;
  std::mutex token_refused_mutex_;
  std::set<std::string> token_refused_;  // channels whose token the provider refuses now
  meta_media_copier* copies_ = nullptr;
  // media() fetches under way: a file is held whole while it passes (up to
  // 100 MB), so 8 at a time per instance; an agent asking for one more is
  // told to wait a moment (503) instead of the process growing by gigabytes.
  file_slots media_downloads_{8, 8};
};

// What an agent reads for a failed or delayed delivery: the providers'
// "window_closed" refusals (and WhatsApp's 131047 status) and refused access
// tokens become a plain instruction, e.g. "outside the 24-hour window: send a
// template (...)"; other reasons pass as they are.
std::string agent_failure_reason(proto::channel_kind kind, std::string_view provider_reason);

}  // namespace pasokh::gateway
