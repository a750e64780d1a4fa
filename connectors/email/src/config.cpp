#include "pasokh/connectors/email/config.hpp"

#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pasokh/connectors/common/object_reader.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "util.hpp"

namespace pasokh::connectors::email {
namespace {

using nlohmann::json;

using connectors::object_reader;
using namespace std::chrono_literals;

void lower_all(std::vector<std::string>& v) {
  for (auto& s : v) s = detail::to_lower(detail::trim(s));
}

smtp_config parse_smtp(const json& j, const std::string& path) {
  object_reader r(j, path);
  smtp_config c;
  r.get("address", c.address);
  int port = c.port;
  r.get("port", port);
  if (port < 0 || port > 65535) r.fail("\"port\" out of range");
  c.port = static_cast<std::uint16_t>(port);
  r.get("hostname", c.hostname);
  r.get_size("max_message_bytes", c.max_message_bytes);
  r.get_size("max_recipients", c.max_recipients);
  r.get_size("max_line_length", c.max_line_length);
  r.get_size("max_connections", c.max_connections);
  r.get_size("max_connections_per_peer", c.max_connections_per_peer);
  r.get_size("max_errors", c.max_errors);
  r.get_ms("idle_timeout_ms", c.idle_timeout, 1ms);
  r.get_ms("data_timeout_ms", c.data_timeout, 1ms);
  r.get_ms("max_session_ms", c.max_session, 1ms);
  r.get("tls_cert_file", c.tls_cert_file);
  r.get("tls_key_file", c.tls_key_file);
  r.get("require_tls", c.require_tls);
  r.done();
  if (c.max_line_length < 512) r.fail("\"max_line_length\" must be at least 512 (RFC 5321)");
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) r.fail("tls_cert_file and tls_key_file go together");
  if (c.require_tls && !c.tls_configured()) r.fail("require_tls needs tls_cert_file and tls_key_file");
  return c;
}

relay_config parse_relay(const json& j, const std::string& path, env_lookup env) {
  object_reader r(j, path);
  relay_config c;
  r.get("host", c.host);
  int port = c.port;
  r.get("port", port);
  if (port <= 0 || port > 65535) r.fail("\"port\" out of range");
  c.port = static_cast<std::uint16_t>(port);
  std::string tls = "starttls";
  r.get("tls", tls);
  if (tls == "starttls") c.tls = relay_tls::starttls;
  else if (tls == "opportunistic") c.tls = relay_tls::opportunistic;
  else if (tls == "none") c.tls = relay_tls::none;
  else r.fail(fmt::format("\"tls\" must be starttls, opportunistic or none, not \"{}\"", tls));
  r.get("ca_file", c.ca_file);
  r.get("helo_name", c.helo_name);
  r.get("username", c.username);
  std::string password_env;
  r.get("password_env", password_env);
  r.get_ms("connect_timeout_ms", c.connect_timeout, 1ms);
  r.get_ms("command_timeout_ms", c.command_timeout, 1ms);
  r.get_ms("data_timeout_ms", c.data_timeout, 1ms);
  r.done();
  if (!c.username.empty()) {
    if (password_env.empty()) r.fail("\"username\" needs \"password_env\"");
    auto value = env(password_env.c_str());
    if (!value || value->empty()) r.fail(fmt::format("environment variable {} is not set", password_env));
    c.password = *value;
  }
  return c;
}

mailgun_webhook_config parse_webhook(const json& j, const std::string& path, env_lookup env) {
  object_reader r(j, path);
  mailgun_webhook_config c;
  std::string key_env;
  r.get("signing_key_env", key_env);
  std::int64_t max_age = c.max_age.count();
  r.get("max_age_s", max_age);
  r.done();
  if (key_env.empty()) r.fail("needs \"signing_key_env\"");
  auto value = env(key_env.c_str());
  if (!value || value->empty()) r.fail(fmt::format("environment variable {} is not set", key_env));
  if (max_age < 10 || max_age > 86400) r.fail("\"max_age_s\" must be between 10 and 86400");
  c.signing_key = *value;
  c.max_age = std::chrono::seconds(max_age);
  return c;
}

}  // namespace

bool recipient_policy::accepts(std::string_view address) const {
  auto lower = detail::to_lower(detail::trim(address));
  if (lower == "postmaster") return true;
  auto at = lower.rfind('@');
  if (at == std::string::npos || at == 0) return false;
  auto local = std::string_view(lower).substr(0, at);
  auto domain = std::string_view(lower).substr(at + 1);
  for (const auto& a : addresses)
    if (a == lower) return true;
  for (const auto& d : domains)
    if (d == domain) return true;
  if (!reply_domain.empty() && reply_token(lower, reply_domain)) return true;
  if (local == "postmaster") {
    if (domain == reply_domain) return true;
    for (const auto& a : addresses)
      if (a.ends_with("@" + std::string(domain))) return true;
  }
  return false;
}

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

email_config parse_email_config(const nlohmann::json& provider, std::string channel_id, env_lookup env) {
  std::string path = "channels[" + channel_id + "].provider";
  const json empty = json::object();
  object_reader r(provider.is_null() ? empty : provider, path);
  email_config c;
  c.channel = std::move(channel_id);
  r.get("support_addresses", c.recipients.addresses);
  r.get("support_domains", c.recipients.domains);
  r.get("reply_domain", c.recipients.reply_domain);
  r.get("from_address", c.from_address);
  r.get("from_name", c.from_name);
  r.get("bounce_address", c.bounce_address);
  r.get("default_subject", c.default_subject);
  std::string secret_env;
  r.get("message_id_secret_env", secret_env);
  r.get("trusted_authserv_id", c.trusted_authserv_id);
  r.get_size("max_attachment_bytes", c.max_attachment_bytes);
  r.get_size("max_total_attachment_bytes", c.max_total_attachment_bytes);
  r.get_size("max_attachments", c.max_attachments);
  r.get_size("max_text_bytes", c.max_text_bytes);
  r.get_size("max_parts", c.max_parts);
  if (auto* s = r.sub("smtp")) c.smtp = parse_smtp(*s, r.path("smtp"));
  if (auto* s = r.sub("relay")) c.relay = parse_relay(*s, r.path("relay"), env);
  if (auto* s = r.sub("webhook")) c.webhook = parse_webhook(*s, r.path("webhook"), env);
  r.done();
  if (!secret_env.empty()) {
    auto value = env(secret_env.c_str());
    if (!value || value->size() < 16)
      r.fail(fmt::format("environment variable {} must hold a secret of at least 16 bytes", secret_env));
    c.message_id_secret = *value;
  }
  lower_all(c.recipients.addresses);
  lower_all(c.recipients.domains);
  c.recipients.reply_domain = detail::to_lower(detail::trim(c.recipients.reply_domain));
  c.trusted_authserv_id = std::string(detail::trim(c.trusted_authserv_id));
  if (c.recipients.addresses.empty() && c.recipients.domains.empty())
    r.fail("needs \"support_addresses\" or \"support_domains\"");
  if (c.from_address.empty()) c.from_address = c.recipients.addresses.empty() ? "" : c.recipients.addresses.front();
  if (c.from_address.find('@') == std::string::npos) r.fail("\"from_address\" must be an email address");
  if (c.recipients.reply_domain.empty()) c.recipients.reply_domain = c.from_address.substr(c.from_address.rfind('@') + 1);
  c.smtp.recipients = c.recipients;
  return c;
}

}  // namespace pasokh::connectors::email
