#include "pasokh/store/redis_client.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace pasokh::store {

std::string sha1_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("sha1_hex: SHA1 failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0x0f]);
  }
  return out;
}

lua_script::lua_script(const lua_library& lib, std::string fn) : library(&lib), function(std::move(fn)) {}

lua_library::lua_library(std::string library_name, std::string_view code)
    : name(std::move(library_name)), source("#!lua name=" + name + "\n" + std::string(code)) {}

}  // namespace pasokh::store
