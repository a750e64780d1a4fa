#pragma once
// Password hashing (PBKDF2-HMAC-SHA256 via OpenSSL) and random tokens. Pure
// functions, no I/O. Secrets are compared with connectors::constant_time_equal.
#include <string>
#include <string_view>

namespace pasokh::gateway {

// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>"
std::string hash_password(std::string_view password, int iterations = 120'000);
bool verify_password(std::string_view password, std::string_view encoded);

// `bytes` random bytes from the OpenSSL CSPRNG, base64url without padding.
std::string random_token(std::size_t bytes = 32);

}  // namespace pasokh::gateway
