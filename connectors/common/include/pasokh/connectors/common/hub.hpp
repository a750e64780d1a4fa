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

// Checks "X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>".
// nullopt when it matches; otherwise the 401 to answer.
std::optional<webhook_result> hub_check_signature(const webhook_request&, const secret& app_secret);

}  // namespace pasokh::connectors
