#pragma once
// Files a web chat customer sends (a photo of the fault, of the serial-number
// label, the invoice as a PDF). POST /api/v1/webchat/uploads stores one (the
// visitor's Bearer token, the file as the raw body, ?name=), answering its
// id; a message frame names ids (webchat_protocol.hpp), and the message
// carries them as attachments, stored and opened as a mail's are
// (GET /api/v1/attachments/{id}, for the agents who may see the
// conversation). The visitor alone gets theirs back: GET
// /api/v1/webchat/uploads/{id}. Never a public URL. Storage and the rules of
// who may name an upload: routing/src/lua/webchat_uploads.lua.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/gateway/http.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/proto/types.hpp"

namespace pasokh::gateway {

class router;
class webchat_service;

constexpr std::string_view webchat_uploads_path = "/api/v1/webchat/uploads";
// The upload route's target, path and query (its body limit is webchat.max_upload_bytes).
bool is_webchat_upload(std::string_view target);

// What the first bytes say a file is (the Content-Type sent is not trusted):
// JPEG, PNG, WebP, HEIC/HEIF or PDF; nullopt for anything else.
struct sniffed_type {
  std::string_view mime_type;
  proto::attachment_kind kind = proto::attachment_kind::file;
  std::string_view extension;  // with the dot
};
std::optional<sniffed_type> sniff_upload_type(std::string_view bytes);

// The name the visitor gave, fit for a header and a bubble: no path, no
// control characters, at most 100 characters (a longer one keeps its
// beginning and extension around "…"); "upload" and the type's extension
// when it gives none.
std::string upload_name(std::string_view given, const sniffed_type& type);

// The upload's sender checked from its headers alone (token, origin), before
// the server reads its body: the refusal, or nothing (http_server's upload_gate).
boost::asio::awaitable<std::optional<http_response>> check_upload_sender(webchat_service& w, const http_request& head);

// An upload no message has named yet is kept this long.
inline constexpr std::chrono::seconds unsent_upload_ttl{3600};
// What one client address may upload in an hour, whatever its visitors:
// this many files of the largest size.
inline constexpr long long upload_files_per_address_per_hour = 30;
long long upload_bytes_per_address_per_hour(const webchat_config& c);

// What the widget is told a file may weigh; 0 when uploads are off (uploads_per_hour 0).
std::size_t upload_limit(const webchat_config& c);

// OPTIONS, POST /api/v1/webchat/uploads and OPTIONS, GET /api/v1/webchat/uploads/{id}.
void add_webchat_upload_routes(router& r, webchat_service& w);

// The uploads a message (its dedup key) names, as its attachments, claimed
// for it: they are the visitor's ("<channel>:<visitor>"), and no other
// message named them (its resend may). `refused`: the first id that is not.
struct claimed_uploads {
  std::vector<proto::attachment> attachments;
  std::string refused;
};
boost::asio::awaitable<store::result<claimed_uploads>> claim_uploads(services& s, const std::string& visitor,
                                                                     const std::string& dedup_key,
                                                                     const std::vector<std::string>& ids);
// Once the message is stored: the agents of its conversation may open them.
boost::asio::awaitable<store::result<void>> file_uploads(services& s, const std::string& conv,
                                                         const std::vector<std::string>& ids);

}  // namespace pasokh::gateway
