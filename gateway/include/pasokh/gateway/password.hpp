#pragma once
// Password hashing (PBKDF2-HMAC-SHA256 via OpenSSL) and random tokens: pure
// functions, no I/O, and password_hasher to run them off the I/O threads.
// Secrets are compared in constant time (CRYPTO_memcmp,
// connectors::constant_time_equal).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <mutex>
#include <string>
#include <string_view>

namespace pasokh::gateway {

// The bounds of auth.password_rounds (PBKDF2-HMAC-SHA256 rounds of new
// hashes): fewer than the minimum is a typo, not a choice. Stored hashes of
// fewer (down to 1,000) still verify.
inline constexpr int min_password_rounds = 10'000;
inline constexpr int max_password_rounds = 10'000'000;

// "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>": each hash keeps its own
// round count, so one of an older, lower count still verifies.
std::string hash_password(std::string_view password, int iterations);
bool verify_password(std::string_view password, std::string_view encoded);
// The round count a stored hash was made with; 0 when it is not one of ours.
int password_rounds(std::string_view encoded);
// A stored hash made with fewer rounds than `rounds`: to hash again at the
// next successful login (the only time the password is known).
bool needs_rehash(std::string_view encoded, int rounds);
// Rounds a failed check of `encoded` spends on top of its own, so that it
// takes what a check at `rounds` (an unknown login's dummy) does: a hash of an
// older, lower count would otherwise tell by its speed that the login exists.
int padding_rounds(std::string_view encoded, int rounds);

// `bytes` random bytes from the OpenSSL CSPRNG, base64url without padding.
std::string random_token(std::size_t bytes = 32);

// A hash costs tens of milliseconds of CPU: done on threads of its own, so a
// burst of logins does not stall every other request on the I/O threads.
// Awaited from a coroutine, which resumes on its own executor.
class password_hasher {
 public:
  // New hashes get `rounds`; so does the dummy an unknown login is checked against.
  password_hasher(std::size_t threads, int rounds);
  ~password_hasher();
  password_hasher(const password_hasher&) = delete;
  password_hasher& operator=(const password_hasher&) = delete;

  boost::asio::awaitable<std::string> hash(std::string password);
  // An empty `encoded` (no such agent) is false, after checking against a
  // dummy hash all the same: the answer takes as long, so logins cannot be
  // probed by timing.
  boost::asio::awaitable<bool> verify(std::string password, std::string encoded);
  int rounds() const { return rounds_; }

 private:
  const std::string& dummy_hash();

  int rounds_;
  std::once_flag dummy_once_;
  std::string dummy_;
  boost::asio::thread_pool pool_;
};

}  // namespace pasokh::gateway
