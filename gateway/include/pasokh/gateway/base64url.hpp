#pragma once
// Base64url without padding (RFC 4648 §5), for tokens, salts and hashes.
#include <cstddef>
#include <string>
#include <string_view>

namespace pasokh::gateway {

std::string base64url_encode(const unsigned char* data, std::size_t n);
inline std::string base64url_encode(std::string_view bytes) {
  return base64url_encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}
// Strict: rejects characters outside the alphabet, impossible lengths and
// non-zero padding bits, so every payload has exactly one encoding.
bool base64url_decode(std::string_view in, std::string& out);

}  // namespace pasokh::gateway
