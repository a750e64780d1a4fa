// POST /webhooks/email/{channel}: mail that arrives through a provider's
// inbound route (Mailgun's forward()) instead of our SMTP listener. Checked
// (signature, freshness, one use per token), turned back into a message and
// handed to the same receive() as SMTP mail: same parsing, threading, dedup on
// Message-ID, attachments and bot.
#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "pasokh/connectors/email/mailgun.hpp"
#include "pasokh/gateway/email_channel.hpp"
#include "pasokh/gateway/email_webhook_limit.hpp"
#include "pasokh/gateway/metrics.hpp"

namespace pasokh::gateway {

namespace email = connectors::email;
using boost::asio::awaitable;

std::size_t email_webhook_body_limit(const email::email_config& email) {
  return 2 * email.smtp.max_message_bytes + (1u << 20);
}

std::optional<std::size_t> email_webhook_body_limit(const config& cfg, std::string_view target) {
  constexpr std::string_view prefix = "/webhooks/email/";
  if (!target.starts_with(prefix)) return std::nullopt;
  auto id = target.substr(prefix.size());
  id = id.substr(0, id.find_first_of("/?"));
  for (const auto& c : cfg.channels)
    if (c.id == id && c.email && c.email->webhook.enabled()) return email_webhook_body_limit(*c.email);
  return std::nullopt;
}

std::size_t largest_email_webhook_body_limit(const config& cfg) {
  std::size_t largest = 0;
  for (const auto& c : cfg.channels)
    if (c.email && c.email->webhook.enabled()) largest = std::max(largest, email_webhook_body_limit(*c.email));
  return largest;
}

namespace {

constexpr std::size_t max_token_bytes = 256;

std::shared_ptr<spdlog::logger> log() { return spdlog::get("smtp"); }

http_response refuse(unsigned status, std::string_view code, std::string_view message) {
  global_metrics().errors.inc("email_webhook_" + std::string(code));
  return error_response(status, code, message);
}

awaitable<http_response> email_webhook(services& s, const std::vector<std::unique_ptr<email_channel>>& channels,
                                       const http_request& req, const route_params& params) {
  const auto& id = params.at("channel");
  email_channel* channel = nullptr;
  for (const auto& c : channels)
    if (c->channel().id == id) channel = c.get();
  if (!channel || !channel->channel().email->webhook.enabled())
    co_return refuse(404, "unknown_channel", "no email channel with a webhook named " + id);
  const auto& settings = *channel->channel().email;

  auto form = email::parse_form(req.header("content-type"), req.body);
  if (!form.error.empty())
    co_return refuse(form.unsupported_type ? 415 : 400, form.unsupported_type ? "unsupported_media_type" : "invalid_form",
                     form.error);

  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto check = email::check_mailgun_signature(form.fields, settings.webhook.signing_key,
                                              std::chrono::duration_cast<std::chrono::seconds>(now),
                                              settings.webhook.max_age);
  if (check != email::mailgun_check::ok) {
    log()->info("channel={} webhook refused: {}", id, email::to_string(check));
    co_return refuse(401, email::to_string(check),
                     check == email::mailgun_check::stale_timestamp
                         ? "the timestamp is too far from now"
                         : "timestamp, token and signature must match the channel's signing key");
  }
  const auto& token = email::find_field(form.fields, "token")->value;
  if (token.size() > max_token_bytes) co_return refuse(400, "invalid_form", "token too long");

  auto mail = email::mailgun_message(form.fields, std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  email::smtp_envelope envelope;
  envelope.helo = "webhook";
  envelope.mail_from = mail.sender;
  envelope.peer = req.remote_address;
  for (auto& r : mail.recipients)
    if (settings.recipients.accepts(r)) envelope.rcpt_to.push_back(std::move(r));
  // 406 tells Mailgun not to retry: the route points at the wrong channel.
  if (envelope.rcpt_to.empty())
    co_return refuse(406, "unknown_recipient", "no recipient of this mail is an address of channel " + id);

  // A signed request is good for max_age either side of its timestamp, so a
  // token is remembered for that whole window.
  auto replay_key = s.cfg.redis.prefix + "mailgun:" + id + ":" + token;
  auto ttl = std::to_string(2 * settings.webhook.max_age.count() + 60);
  auto first_use = co_await s.redis.exec(store::make_command("SET", replay_key, "1", "NX", "EX", ttl));
  if (!first_use || first_use->is_error())
    co_return refuse(503, "storage_unavailable", "the message could not be stored; retry later");
  if (first_use->is_nil()) {
    log()->info("channel={} webhook refused: token replayed", id);
    co_return refuse(409, "replayed_token", "this token was already used");
  }

  auto outcome = email::store_outcome::temporary_failure("not stored");
  try {
    outcome = co_await channel->receive(std::move(envelope), std::move(mail.raw));
  } catch (const std::exception& e) {
    log()->error("channel={} webhook mail failed: {}", id, e.what());
  }
  if (outcome.result == email::store_outcome::kind::stored) co_return json_response(200, R"({"ok":true})");

  // Not kept: forget the token so the provider's retry of this request is taken.
  auto forget = co_await s.redis.exec(store::make_command("DEL", replay_key));
  if (!forget) log()->warn("channel={} cannot forget a webhook token: {}", id, forget.error().message());
  if (outcome.result == email::store_outcome::kind::rejected)
    co_return refuse(406, "rejected", outcome.reason);
  co_return refuse(503, "storage_unavailable", "the message could not be stored; retry later");
}

}  // namespace

void add_email_webhook_routes(router& r, services& s, const std::vector<std::unique_ptr<email_channel>>& channels) {
  r.add("POST", "/webhooks/email/{channel}", [&s, &channels](const http_request& req, const route_params& p) {
    return email_webhook(s, channels, req, p);
  });
}

}  // namespace pasokh::gateway
