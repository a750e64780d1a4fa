#pragma once
// Password hashing (PBKDF2-HMAC-SHA256 via OpenSSL) and random tokens: pure
// functions, no I/O, and password_hasher to run them off the I/O threads.
// Secrets are compared in constant time (CRYPTO_memcmp,
// connectors::constant_time_equal).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <string>
#include <string_view>

namespace pasokh::gateway {

// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>"
std::string hash_password(std::string_view password, int iterations = 120'000);
bool verify_password(std::string_view password, std::string_view encoded);

// `bytes` random bytes from the OpenSSL CSPRNG, base64url without padding.
std::string random_token(std::size_t bytes = 32);

// A hash costs tens of milliseconds of CPU: done on threads of its own, so a
// burst of logins does not stall every other request on the I/O threads.
// Awaited from a coroutine, which resumes on its own executor.
class password_hasher {
 public:
  explicit password_hasher(std::size_t threads);
  ~password_hasher();
  password_hasher(const password_hasher&) = delete;
  password_hasher& operator=(const password_hasher&) = delete;

  boost::asio::awaitable<std::string> hash(std::string password);
  // An empty `encoded` (no such agent) is false, after checking against a
  // dummy hash all the same: the answer takes as long, so logins cannot be
  // probed by timing.
  boost::asio::awaitable<bool> verify(std::string password, std::string encoded);

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace pasokh::gateway
