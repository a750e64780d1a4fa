#include "test_tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <functional>
#include <memory>
#include <stdexcept>

namespace pasokh::connectors::testing {
namespace {

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, decltype([](T* p) { Free(p); })>;

std::string pem_of(const std::function<int(BIO*)>& write) {
  owned<BIO, BIO_free_all> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) throw std::runtime_error("PEM write failed");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

test_certificate make_self_signed(const std::string& dns_name) {
  owned<EVP_PKEY, EVP_PKEY_free> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  owned<X509, X509_free> cert(X509_new());
  if (!key || !cert) throw std::runtime_error("key or certificate allocation failed");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string san = "DNS:" + dns_name;
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    owned<X509_EXTENSION, X509_EXTENSION_free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext || !X509_add_ext(cert.get(), ext.get(), -1)) throw std::runtime_error("extension failed");
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) throw std::runtime_error("signing failed");

  return {pem_of([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); }),
          pem_of([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr); })};
}

}  // namespace pasokh::connectors::testing
