#include "pasokh/gateway/password.hpp"

#include "pasokh/gateway/base64url.hpp"
#include "pasokh/gateway/run_on.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace pasokh::gateway {
namespace {

constexpr std::string_view scheme = "pbkdf2-sha256";
constexpr std::size_t hash_bytes = 32;

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt, int iterations) {
  std::vector<unsigned char> out(hash_bytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(), static_cast<int>(salt.size()),
                        iterations, EVP_sha256(), static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("PBKDF2 failed");
  return out;
}

// Rounds of PBKDF2 spent for their time alone.
void spend_rounds(int rounds) { derive("pasokh-time", std::vector<unsigned char>(16), rounds); }

}  // namespace

std::string hash_password(std::string_view password, int iterations) {
  std::vector<unsigned char> salt(16);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  auto hash = derive(password, salt, iterations);
  return fmt::format("{}${}${}${}", scheme, iterations, base64url_encode(salt.data(), salt.size()),
                     base64url_encode(hash.data(), hash.size()));
}

namespace {

struct stored_hash {
  int iterations = 0;
  std::string salt, hash;
};

// Exactly four '$'-separated parts, our scheme, a sane round count, a hash of our size.
std::optional<stored_hash> parse_stored(std::string_view encoded) {
  std::string_view parts[4];
  for (int i = 0; i < 4; ++i) {
    auto pos = encoded.find('$');
    if ((pos == std::string_view::npos) != (i == 3)) return std::nullopt;
    parts[i] = encoded.substr(0, pos);
    encoded = pos == std::string_view::npos ? std::string_view{} : encoded.substr(pos + 1);
  }
  if (parts[0] != scheme) return std::nullopt;
  stored_hash out;
  auto [ptr, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), out.iterations);
  if (ec != std::errc{} || ptr != parts[1].data() + parts[1].size() || out.iterations < 1000 ||
      out.iterations > max_password_rounds)
    return std::nullopt;
  if (!base64url_decode(parts[2], out.salt) || !base64url_decode(parts[3], out.hash) || out.hash.size() != hash_bytes)
    return std::nullopt;
  return out;
}

}  // namespace

bool verify_password(std::string_view password, std::string_view encoded) {
  auto stored = parse_stored(encoded);
  if (!stored) return false;
  std::vector<unsigned char> salt(stored->salt.begin(), stored->salt.end());
  auto actual = derive(password, salt, stored->iterations);
  return CRYPTO_memcmp(actual.data(), stored->hash.data(), hash_bytes) == 0;
}

int password_rounds(std::string_view encoded) {
  auto stored = parse_stored(encoded);
  return stored ? stored->iterations : 0;
}

bool needs_rehash(std::string_view encoded, int rounds) {
  auto stored = parse_stored(encoded);
  return stored && stored->iterations < rounds;
}

int padding_rounds(std::string_view encoded, int rounds) { return std::max(0, rounds - password_rounds(encoded)); }

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64url_encode(buf.data(), buf.size());
}

namespace net = boost::asio;

password_hasher::password_hasher(std::size_t threads, int rounds) : rounds_(rounds), pool_(threads) {}

// Made on first use (on a hashing thread), at the configured count: an
// unknown login costs what a known one does.
const std::string& password_hasher::dummy_hash() {
  std::call_once(dummy_once_, [this] { dummy_ = hash_password("pasokh-no-such-agent", rounds_); });
  return dummy_;
}

password_hasher::~password_hasher() {
  pool_.stop();
  pool_.join();
}

net::awaitable<std::string> password_hasher::hash(std::string password) {
  auto work = [password = std::move(password), rounds = rounds_] { return hash_password(password, rounds); };
  co_return co_await run_on(pool_, std::move(work));
}

net::awaitable<bool> password_hasher::verify(std::string password, std::string encoded) {
  auto work = [this, password = std::move(password), encoded = std::move(encoded)] {
    if (encoded.empty()) {
      verify_password(password, dummy_hash());  // for the time it takes
      return false;
    }
    bool right = verify_password(password, encoded);
    if (int rest = padding_rounds(encoded, rounds_); !right && rest > 0) spend_rounds(rest);
    return right;
  };
  co_return co_await run_on(pool_, std::move(work));
}

}  // namespace pasokh::gateway
