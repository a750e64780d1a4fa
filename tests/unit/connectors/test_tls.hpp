#pragma once
// A throwaway self-signed certificate for the HTTPS tests.
#include <string>

namespace pasokh::connectors::testing {

struct test_certificate {
  std::string cert_pem;
  std::string key_pem;
};

// EC P-256, valid for a day, subjectAltName DNS:<dns_name> only.
test_certificate make_self_signed(const std::string& dns_name);

}  // namespace pasokh::connectors::testing
