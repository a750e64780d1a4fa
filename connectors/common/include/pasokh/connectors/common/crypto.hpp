#pragma once
// Signature helpers over raw bytes (OpenSSL). Webhook signatures are always
// computed over the body exactly as received, never over re-serialized JSON.
#include <array>
#include <string>
#include <string_view>

#include "pasokh/connectors/common/config.hpp"

namespace pasokh::connectors {

// True when what a client sent equals the secret. The time depends only on the
// length of `given`: a caller probing a secret learns neither where a guess
// differs nor how long the secret is.
bool constant_time_equal(std::string_view given, std::string_view secret) noexcept;

// Which of a rotating secret's values `proves` accepts, the current one first.
// An empty value proves nothing: a missing secret must not open the door.
template <class Proves>
secret_match match_secret_by(const rotating_secret& s, Proves proves) {
  if (!s.current.empty() && proves(s.current.reveal())) return secret_match::current;
  if (!s.previous.empty() && proves(s.previous.reveal())) return secret_match::previous;
  return secret_match::none;
}

// Which of a rotating secret's values `given` equals, compared in constant time.
secret_match match_secret(std::string_view given, const rotating_secret&) noexcept;

// HMAC-SHA256(key, data), raw.
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);
// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

}  // namespace pasokh::connectors
