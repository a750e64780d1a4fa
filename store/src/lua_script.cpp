#include "pasokh/store/redis_client.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace pasokh::store {
namespace {

// Redis names cached scripts by the lowercase hex SHA1 of their source.
std::string sha1_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("lua_script: SHA1 failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0x0f]);
  }
  return out;
}

}  // namespace

lua_script::lua_script(std::string src) : source(std::move(src)), sha1(sha1_hex(source)) {}

}  // namespace pasokh::store
