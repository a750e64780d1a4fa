#include "pasokh/connectors/common/hub.hpp"

#include "pasokh/connectors/common/crypto.hpp"

namespace pasokh::connectors {

webhook_result hub_verify(const webhook_request& req, const secret& verify_token) {
  auto mode = req.query("hub.mode");
  auto token = req.query("hub.verify_token");
  auto challenge = req.query("hub.challenge");
  if (!mode || *mode != "subscribe" || !token || !challenge)
    return webhook_result::failure(webhook_error::verify_failed, "expected hub.mode=subscribe, hub.verify_token and hub.challenge");
  // An empty configured token would accept an empty hub.verify_token: fail closed.
  if (verify_token.empty() || !constant_time_equal(*token, verify_token.reveal()))
    return webhook_result::failure(webhook_error::verify_failed, "hub.verify_token does not match");
  // Meta's challenge is a short token; reflect nothing else.
  bool plain = !challenge->empty() && challenge->size() <= 256;
  for (char c : *challenge) plain = plain && c > ' ' && c < 0x7F;
  if (!plain) return webhook_result::failure(webhook_error::verify_failed, "hub.challenge must be 1-256 visible ASCII characters");
  return webhook_result::plain_text(std::move(*challenge));
}

signature_check hub_check_signature(const webhook_request& req, const rotating_secret& app_secret) {
  auto refuse = [](webhook_error e, std::string why) { return signature_check{webhook_result::failure(e, std::move(why))}; };
  if (app_secret.current.empty())  // fail closed: an HMAC with an empty key proves nothing
    return refuse(webhook_error::bad_signature, "no app secret configured for this channel");
  auto header = req.header("X-Hub-Signature-256");
  if (!header || header->empty()) return refuse(webhook_error::missing_signature, "X-Hub-Signature-256 header is missing");
  constexpr std::string_view prefix = "sha256=";
  if (header->substr(0, prefix.size()) != prefix)
    return refuse(webhook_error::bad_signature, "X-Hub-Signature-256 must start with sha256=");
  std::string given(header->substr(prefix.size()));
  for (auto& c : given)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');  // hex case is not part of the secret
  auto match = match_secret_by(
      app_secret, [&](const std::string& key) { return constant_time_equal(given, hmac_sha256_hex(key, req.body)); });
  if (match == secret_match::none) return refuse(webhook_error::bad_signature, "X-Hub-Signature-256 does not match the body");
  return {std::nullopt, match == secret_match::previous};
}

}  // namespace pasokh::connectors
