#include "pasokh/connectors/common/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace pasokh::connectors {
namespace {

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0F];
  }
  return out;
}

}  // namespace

bool constant_time_equal(std::string_view given, std::string_view secret) noexcept {
  if (secret.empty()) return given.empty();
  // Every byte of `given` is compared (against the secret, repeated), so the
  // time depends on what the caller sent, not on the secret or the mismatch.
  unsigned char diff = given.size() != secret.size();
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  return diff == 0;
}

secret_match match_secret(std::string_view given, const rotating_secret& s) noexcept {
  return match_secret_by(s, [given](const std::string& value) { return constant_time_equal(given, value); });
}

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  unsigned int len = 0;
  // HMAC() with a null key pointer would use a static buffer; pass a valid one.
  static const unsigned char empty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&empty) : key.data();
  const auto* data_ptr = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  if (!HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()), data_ptr, data.size(), mac.data(), &len) ||
      len != mac.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  return mac;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  const auto mac = hmac_sha256(key, data);
  return to_hex(mac.data(), mac.size());
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr))
    throw std::runtime_error("SHA-256 failed");
  return to_hex(md, len);
}

}  // namespace pasokh::connectors
