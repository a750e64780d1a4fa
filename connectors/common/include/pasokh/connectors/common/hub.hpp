#pragma once
// The Meta webhook handshake shared by WhatsApp Cloud, Messenger and Instagram:
// the GET subscription check and the X-Hub-Signature-256 over the raw body.
#include <optional>

#include "pasokh/connectors/common/config.hpp"
#include "pasokh/connectors/common/webhook.hpp"

namespace pasokh::connectors {

// GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C: 200 with C as
// text/plain when T matches, else 403.
webhook_result hub_verify(const webhook_request&, const secret& verify_token);

// Checks "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>"
// against the app secret and, during a rotation, the previous one.
struct signature_check {
  std::optional<webhook_result> refused;  // the 401 to answer
  bool by_previous = false;               // signed with the secret being rotated out
};
signature_check hub_check_signature(const webhook_request&, const rotating_secret& app_secret);

}  // namespace pasokh::connectors
