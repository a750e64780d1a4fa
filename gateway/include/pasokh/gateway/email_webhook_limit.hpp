#pragma once
// How large a body POST /webhooks/email/{channel} may send. A mail the
// channel's SMTP listener takes (smtp.max_message_bytes, 25 MB by default)
// must fit in the provider's post of it too, or the provider gives up on it
// and the customer's mail is lost: the generic webhook limit (4 MB) is for
// chat providers' batches.
#include <cstddef>
#include <optional>
#include <string_view>

#include "pasokh/gateway/config.hpp"

namespace pasokh::gateway {

// Twice the largest mail plus 1 MiB: Mailgun posts the raw mail (body-mime)
// or its parts decoded with every text twice (body-plain and stripped-text,
// body-html and stripped-html), as multipart or urlencoded form fields.
std::size_t email_webhook_body_limit(const connectors::email::email_config& email);

// The limit for a request to `target` when it is an email channel's webhook
// (with its webhook turned on); nullopt for any other target.
std::optional<std::size_t> email_webhook_body_limit(const config& cfg, std::string_view target);

// The largest of them (0 when no email channel has a webhook): a request's
// Content-Length is checked against it before its target is known.
std::size_t largest_email_webhook_body_limit(const config& cfg);

}  // namespace pasokh::gateway
