#pragma once
// Signature helpers over raw bytes (OpenSSL). Webhook signatures are always
// computed over the body exactly as received, never over re-serialized JSON.
#include <string>
#include <string_view>

namespace pasokh::connectors {

// Compares in time that depends only on the lengths, so a caller probing a
// secret learns nothing from the timing of a mismatch.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

}  // namespace pasokh::connectors
