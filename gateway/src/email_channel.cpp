// The email channel's lifetime: configuration, SMTP listener, sender.
// Receiving is in email_inbound.cpp, sending in email_outbound.cpp.
#include "pasokh/gateway/email_channel.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace pasokh::gateway {

namespace email = connectors::email;

namespace {
// Thread data outlives any sensible gap between a mail and its answer.
constexpr std::chrono::seconds thread_ttl{365 * 24 * 3600};

const email::email_config& email_settings(const channel_config& channel) {
  if (channel.kind != proto::channel_kind::email || !channel.email)
    throw std::invalid_argument("channel " + channel.id + " is not a configured email channel");
  return *channel.email;
}
}  // namespace

email_channel::email_channel(services& s, boost::asio::any_io_executor executor, const channel_config& channel)
    : s_(s),
      executor_(std::move(executor)),
      channel_(channel),
      config_(email_settings(channel)),
      store_(s.redis, s.file_bytes(), s.cfg.redis.prefix, channel.id, thread_ttl, s.cfg.attachment_ttl),
      ingest_(s.redis, s.cfg.redis.prefix, s.cfg.dedup_ttl),
      marks_(s.redis, s.cfg.redis.prefix) {}

email_channel::~email_channel() { stop(); }

std::uint16_t email_channel::start() {
  smtp_ = std::make_unique<email::smtp_server>(
      executor_, config_.smtp, [this](email::smtp_envelope envelope, std::string raw) {
        return receive(std::move(envelope), std::move(raw));
      });
  auto port = smtp_->start();
  spdlog::get("smtp")->info("channel={} SMTP listener on {}:{}{}", channel_.id, config_.smtp.address, port,
                            config_.smtp.tls_configured() ? " (STARTTLS)" : "");
  return port;
}

void email_channel::stop() {
  if (smtp_) smtp_->stop();
}

boost::asio::awaitable<std::string> email_channel::message_id_key() {
  if (!config_.message_id_secret.empty()) co_return config_.message_id_secret;
  {
    std::lock_guard lock(message_id_key_mutex_);
    if (!message_id_key_.empty()) co_return message_id_key_;
  }
  // Asked again until Redis answers; every instance gets the first one made.
  auto key = co_await store_.installation_message_id_key();
  if (!key) {
    spdlog::get("smtp")->warn("channel={} cannot read the Message-ID key: {}", channel_.id, key.error().message());
    co_return std::string();
  }
  std::lock_guard lock(message_id_key_mutex_);
  message_id_key_ = *key;
  co_return message_id_key_;
}

routing::channel_sender email_channel::sender() {
  return [this](const proto::outbound_message& message, const routing::pace_next&) { return send(message); };
}

}  // namespace pasokh::gateway
