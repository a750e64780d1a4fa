#pragma once
// Password hashing (PBKDF2-HMAC-SHA256 via OpenSSL), random tokens and
// constant-time comparison. Pure functions, no I/O.
#include <string>
#include <string_view>

namespace pasokh::gateway {

// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>"
std::string hash_password(std::string_view password, int iterations = 120'000);
bool verify_password(std::string_view password, std::string_view encoded);

// `bytes` random bytes from the OpenSSL CSPRNG, base64url without padding.
std::string random_token(std::size_t bytes = 32);
// Lower-case hex SHA-256, used to store session tokens without the token itself.
std::string sha256_hex(std::string_view data);

bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace pasokh::gateway
