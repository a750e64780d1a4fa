#pragma once
// Helpers for the table-driven connector tests: load recorded payloads and
// compare a webhook_result with the sidecar <name>.expected.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/connectors/common/webhook.hpp"
#include "pasokh/proto/json.hpp"

namespace pasokh::connectors::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::filesystem::path data_dir(std::string_view provider) {
  return std::filesystem::path(PASOKH_TEST_DATA) / std::string(provider);
}

// Payload names (without .json) of a provider, sorted, for INSTANTIATE_TEST_SUITE_P.
inline std::vector<std::string> payload_names(std::string_view provider) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(data_dir(provider))) {
    auto name = e.path().filename().string();
    constexpr std::string_view expected_suffix = ".expected.json";
    if (name.size() > expected_suffix.size() &&
        name.compare(name.size() - expected_suffix.size(), expected_suffix.size(), expected_suffix) == 0)
      names.push_back(name.substr(0, name.size() - expected_suffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A POST as the gateway would hand it over; `headers` must outlive the request.
inline webhook_request post(std::string_view target, const std::vector<header_field>& headers, std::string_view body) {
  webhook_request r;
  r.method = "POST";
  r.target = target;
  r.headers = headers;
  r.body = body;
  r.received_at = 1763800500000;
  return r;
}

inline void expect_matches(const webhook_result& got, const nlohmann::json& expected) {
  EXPECT_EQ(got.status, expected.at("status").get<int>()) << got.body;
  if (expected.contains("error"))
    EXPECT_EQ(to_string(got.error), expected.at("error").get<std::string>());
  else
    EXPECT_TRUE(got.ok()) << got.body;

  std::vector<proto::inbound_event> want = expected.value("events", nlohmann::json::array());
  ASSERT_EQ(got.events.size(), want.size()) << nlohmann::json(got.events).dump(1);
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(got.events[i], want[i]) << "event " << i << "\n got:  " << nlohmann::json(got.events[i]).dump()
                                      << "\n want: " << nlohmann::json(want[i]).dump();

  std::map<std::string, std::uint32_t> counters = expected.value("counters", nlohmann::json::object());
  std::map<std::string, std::uint32_t> got_counters(got.counters.begin(), got.counters.end());
  EXPECT_EQ(got_counters, counters);
  std::vector<std::string> callbacks = expected.value("callback_query_ids", nlohmann::json::array());
  EXPECT_EQ(got.callback_query_ids, callbacks);
}

inline std::string hub_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

}  // namespace pasokh::connectors::testing
