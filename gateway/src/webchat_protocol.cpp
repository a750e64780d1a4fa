#include "pasokh/gateway/webchat_protocol.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "pasokh/gateway/webchat_token.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/proto/utf8.hpp"

namespace pasokh::gateway {
namespace {

using nlohmann::json;

constexpr std::size_t max_token_bytes = 512;
constexpr std::size_t max_name_chars = 100;

std::string trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

bool valid_conv_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == ':' || c == '.';
  });
}

frame_error bad(std::string code, std::string message, std::string client_id = {}) {
  return frame_error{0, std::move(code), std::move(message), std::move(client_id)};
}

// Optional string field: absent is empty; present must be a string.
bool string_at(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool seq_at(const json& j, const char* key, std::uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_unsigned()) return false;
  out = it->get<std::uint64_t>();
  return true;
}

bool bool_at(const json& j, const char* key, bool& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

// Optional list of upload ids ("att_…", as webchat_uploads.cpp makes them).
bool uploads_at(const json& j, const frame_limits& limits, std::vector<std::string>& out) {
  auto it = j.find("uploads");
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array() || it->size() > limits.max_uploads) return false;
  for (const auto& id : *it) {
    if (!id.is_string()) return false;
    const auto& s = id.get_ref<const std::string&>();
    if (!s.starts_with("att_") || !valid_client_id(s, limits.max_id_bytes)) return false;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return true;
}

// The customer's own uploads in their message: what the widget shows and fetches back.
json customer_uploads(const json& message) {
  json out = json::array();
  auto files = message.find("attachments");
  if (files == message.end() || !files->is_array()) return out;
  for (const auto& a : *files) {
    auto ref = a.is_object() ? a.value("provider_ref", std::string{}) : std::string{};
    if (!ref.starts_with("att_")) continue;
    out.push_back({{"id", ref},
                   {"name", a.value("name", "")},
                   {"mime_type", a.value("mime_type", "")},
                   {"size", a.value("size", std::uint64_t{0})},
                   {"kind", a.value("kind", "file")}});
  }
  return out;
}

bool truthy(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) return !it->get_ref<const std::string&>().empty() && *it != "0" && *it != "false";
  if (it->is_number()) return *it != 0;
  return false;
}

// The UTF-8 digit at `at` (ASCII, Persian ۰-۹ U+06F0.., Arabic-Indic ٠-٩ U+0660..) and its length; -1 if none.
std::pair<int, std::size_t> digit_at(std::string_view s, std::size_t at) {
  auto c = static_cast<unsigned char>(s[at]);
  if (c >= '0' && c <= '9') return {c - '0', 1};
  if (at + 1 < s.size()) {
    auto d = static_cast<unsigned char>(s[at + 1]);
    if (c == 0xDB && d >= 0xB0 && d <= 0xB9) return {d - 0xB0, 2};  // U+06F0..U+06F9
    if (c == 0xD9 && d >= 0xA0 && d <= 0xA9) return {d - 0xA0, 2};  // U+0660..U+0669
  }
  return {-1, 0};
}

}  // namespace

webchat_settings parse_webchat_settings(const json& provider) {
  webchat_settings s;
  if (provider.is_null()) return s;
  if (!provider.is_object()) throw std::runtime_error("must be an object");
  static const std::set<std::string, std::less<>> known{"allowed_origins", "allow_missing_origin", "pre_chat_form",
                                                         "require_email", "offline_email", "title",
                                                         "email_fallback_channel", "email_fallback_after_s"};
  for (const auto& [key, value] : provider.items())
    if (!known.count(key)) throw std::runtime_error(fmt::format("unknown key \"{}\"", key));
  auto get_bool = [&](const char* key, bool& out) {
    if (!bool_at(provider, key, out)) throw std::runtime_error(fmt::format("\"{}\" must be true or false", key));
  };
  get_bool("allow_missing_origin", s.allow_missing_origin);
  get_bool("pre_chat_form", s.pre_chat_form);
  get_bool("require_email", s.require_email);
  get_bool("offline_email", s.offline_email);
  if (!string_at(provider, "title", s.title) || s.title.size() > 200)
    throw std::runtime_error("\"title\" must be a string of at most 200 bytes");
  if (!string_at(provider, "email_fallback_channel", s.email_fallback_channel))
    throw std::runtime_error("\"email_fallback_channel\" must be the id of an email channel");
  if (auto it = provider.find("email_fallback_after_s"); it != provider.end()) {
    if (!it->is_number_integer() || *it < 1 || *it > 7 * 24 * 3600)
      throw std::runtime_error("\"email_fallback_after_s\" must be a whole number of seconds from 1 to 604800");
    s.email_fallback_after_s = it->get<int>();
  }
  if (auto it = provider.find("allowed_origins"); it != provider.end()) {
    if (!it->is_array()) throw std::runtime_error("\"allowed_origins\" must be an array of origins");
    for (const auto& o : *it) {
      auto normalized = o.is_string() ? normalize_origin_pattern(o.get<std::string>()) : std::string{};
      if (normalized.empty())
        throw std::runtime_error(fmt::format("allowed_origins: {} is not an origin like \"https://shop.example.com\", "
                                             "\"https://*.example.com\" or \"*\"",
                                             o.dump()));
      s.allowed_origins.push_back(std::move(normalized));
    }
  }
  return s;
}

json public_settings(const webchat_settings& s, std::size_t max_message_chars, std::size_t max_upload_bytes) {
  json j = {{"pre_chat_form", s.pre_chat_form}, {"require_email", s.require_email}, {"offline_email", s.offline_email},
            {"max_message_chars", max_message_chars},
            // End chat offers a copy by email only where one can be mailed.
            {"transcript", !s.email_fallback_channel.empty()}};
  if (max_upload_bytes) j["max_upload_bytes"] = max_upload_bytes;
  if (!s.title.empty()) j["title"] = s.title;
  return j;
}

std::variant<client_frame, frame_error> parse_client_frame(std::string_view text, const frame_limits& limits) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error&) {
    return frame_error{1007, "not_json", "frames must be JSON objects"};
  }
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    return frame_error{1007, "not_json", "frames must be JSON objects with a type"};
  const auto& type = j["type"].get_ref<const std::string&>();

  if (type == "hello") {
    hello_frame f;
    if (auto v = j.find("v"); v != j.end() && *v != 1) return frame_error{1008, "bad_version", "protocol version 1 only"};
    if (!string_at(j, "token", f.token) || f.token.empty() || f.token.size() > max_token_bytes)
      return frame_error{1008, "token_invalid", "hello needs a visitor token"};
    if (!string_at(j, "conv", f.conv) || (!f.conv.empty() && !valid_conv_id(f.conv)))
      return frame_error{1008, "bad_frame", "conv must be a conversation id"};
    if (!seq_at(j, "after", f.after)) return frame_error{1008, "bad_frame", "after must be a sequence number"};
    std::string lang;
    if (!string_at(j, "lang", lang)) return frame_error{1008, "bad_frame", "lang must be a string"};
    f.lang = normalize_language(lang);
    return client_frame{std::move(f)};
  }
  if (type == "message") {
    message_frame f;
    if (!string_at(j, "client_id", f.client_id) || !valid_client_id(f.client_id, limits.max_id_bytes))
      return bad("bad_frame", fmt::format("client_id is required: 1 to {} letters, digits, - _ : .", limits.max_id_bytes));
    std::string raw;
    if (!string_at(j, "text", raw)) return bad("bad_text", "text must be a string", f.client_id);
    if (!proto::valid_utf8(raw)) return bad("bad_text", "text must be valid UTF-8", f.client_id);
    f.text = trim(raw);
    if (!uploads_at(j, limits, f.uploads))
      return bad("bad_frame", fmt::format("uploads must be at most {} upload ids", limits.max_uploads), f.client_id);
    if (f.text.empty() && f.uploads.empty()) return bad("empty_text", "the message is empty", f.client_id);
    if (proto::utf8_length(f.text) > limits.max_text_chars)
      return bad("too_long", fmt::format("a message may have at most {} characters", limits.max_text_chars),
                 f.client_id);
    std::string lang;
    if (!string_at(j, "lang", lang)) return bad("bad_frame", "lang must be a string", f.client_id);
    f.lang = normalize_language(lang);
    if (!string_at(j, "button", f.button) || f.button.size() > limits.max_id_bytes || !proto::valid_utf8(f.button))
      return bad("bad_frame", "button must be a choice id", f.client_id);
    return client_frame{std::move(f)};
  }
  if (type == "typing") {
    typing_frame f;
    if (!bool_at(j, "state", f.state)) return bad("bad_frame", "state must be true or false");
    return client_frame{f};
  }
  if (type == "seen") {
    seen_frame f;
    if (!string_at(j, "conv", f.conv) || !valid_conv_id(f.conv)) return bad("bad_frame", "conv is required");
    if (!seq_at(j, "seq", f.seq) || f.seq == 0) return bad("bad_frame", "seq must be a sequence number");
    if (!bool_at(j, "read", f.read)) return bad("bad_frame", "read must be true or false");
    return client_frame{std::move(f)};
  }
  if (type == "contact") {
    contact_frame f;
    std::string email, name;
    if (!string_at(j, "email", email) || !string_at(j, "name", name) || !proto::valid_utf8(name))
      return bad("bad_frame", "email and name must be strings");
    f.email = trim(email);
    f.name = trim(name);
    if (f.email.empty() && f.name.empty()) return bad("bad_contact", "give an email address or a name");
    if (!f.email.empty() && !valid_email(f.email)) return bad("bad_email", "that does not look like an email address");
    if (proto::utf8_length(f.name) > max_name_chars) return bad("bad_contact", "the name is too long");
    return client_frame{std::move(f)};
  }
  if (type == "verify_email") {
    verify_email_frame f;
    std::string typed;
    if (!string_at(j, "code", typed) || typed.size() > 64) return bad("bad_code", "code must be the 6 digits we mailed");
    f.code = normalize_verification_code(typed);
    if (f.code.empty()) return bad("bad_code", "the code is the 6 digits we mailed");
    return client_frame{std::move(f)};
  }
  if (type == "ping") return client_frame{ping_frame{}};
  return bad("unknown_type", "unknown frame type: " + type.substr(0, 32));
}

std::optional<std::string> customer_event_frame(std::string_view event_frame, event_meta* meta) try {
  json in = json::parse(event_frame);
  if (!in.is_object() || in.value("type", "") != "event") return std::nullopt;
  auto event = in.value("event", "");
  json out = {{"type", "event"}, {"conv", in.value("conv", "")}, {"seq", in.value("seq", std::uint64_t{0})}};
  if (auto c = in.find("conversation"); c != in.end() && c->is_object()) {
    out["status"] = c->value("status", "");
    if (meta) {
      meta->channel = c->value("channel", "");
      meta->team = c->value("team", "");
      meta->status = c->value("status", "");
    }
  }
  if (meta) {
    meta->conv = out["conv"].get<std::string>();
    meta->seq = out["seq"].get<std::uint64_t>();
  }

  if (event == "message") {
    auto m = in.find("message");
    if (m == in.end() || !m->is_object()) return std::nullopt;
    auto author = m->value("author", "");
    if (author != "customer" && author != "agent" && author != "bot" && author != "system") return std::nullopt;
    // Internal notes never reach the customer, whatever they end up being called.
    if (truthy(*m, "private") || truthy(*m, "internal") || truthy(*m, "note") ||
        m->value("visibility", "public") != "public")
      return std::nullopt;
    json msg = {{"seq", m->value("seq", out["seq"].get<std::uint64_t>())},
                {"author", author},
                {"text", m->value("text", "")},
                {"at", m->value("created_at", std::int64_t{0})}};
    // Its text went (an erasure, retention): the widget says so instead of an empty bubble.
    if (auto erased = m->find("erased"); erased != m->end() && erased->is_string()) msg["erased"] = *erased;
    if (author == "customer") {
      // The widget's client id travels as the provider message id.
      auto cid = m->value("provider_message_id", std::string{});
      if (cid.empty()) cid = m->value("client_id", std::string{});
      if (!cid.empty()) msg["client_id"] = cid;
      if (auto files = customer_uploads(*m); !files.empty()) msg["attachments"] = std::move(files);
    } else if (auto name = m->value("author_name", std::string{}); !name.empty() && author != "system") {
      msg["name"] = name;
    }
    if (auto b = m->find("buttons"); b != m->end() && b->is_array()) {
      json buttons = json::array();
      for (const auto& button : *b)
        if (button.is_object() && button.contains("id") && button.contains("title"))
          buttons.push_back({{"id", button.value("id", "")}, {"title", button.value("title", "")}});
      if (!buttons.empty()) msg["buttons"] = std::move(buttons);
    }
    out["event"] = "message";
    out["message"] = std::move(msg);
  } else if (event == "status") {
    out["event"] = "status";
    out["status"] = in.value("status", out.value("status", ""));
    if (meta) meta->side_of = in.value("side_of", "");
  } else if (event == "csat") {
    // The customer's own rating (aftersales.lua), shown in the rated
    // conversation; `via`: the side conversation the rating message opened.
    out["event"] = "csat";
    out["rating"] = in.at("rating").get<int>();
    out["at"] = in.value("at", std::int64_t{0});
    if (auto via = in.value("via", std::string{}); !via.empty() && via != out["conv"]) out["via"] = via;
  } else if (event == "csat_comment" && in.value("side", false)) {
    // Feedback after the rating whose own conversation was closed as a side
    // one: shown after the rating, that conversation left out. A comment in
    // the rated conversation's own log, or a request going on in its new
    // one, is already where it belongs: nothing to send.
    auto via = in.value("via", std::string{});
    if (via.empty() || via == out["conv"]) return std::nullopt;
    out["event"] = "csat_comment";
    out["comment"] = in.value("comment", "");
    out["at"] = in.value("at", std::int64_t{0});
    out["via"] = via;
    if (auto erased = in.find("erased"); erased != in.end() && erased->is_string()) out["erased"] = *erased;
  } else {
    return std::nullopt;
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
} catch (const json::exception&) {
  return std::nullopt;
}

bool valid_email(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) return false;
  auto at = e.find('@');
  if (at == 0 || at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) return false;
  auto local = e.substr(0, at), domain = e.substr(at + 1);
  if (local.size() > 64 || domain.size() < 3) return false;
  for (unsigned char c : e)
    if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '(' || c == ')' ||
        c == '\\' || c == '[' || c == ']')
      return false;
  auto dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

bool valid_client_id(std::string_view id, std::size_t max_bytes) {
  return !id.empty() && id.size() <= max_bytes && valid_conv_id(id);
}

std::string normalize_verification_code(std::string_view typed) {
  std::string out;
  for (std::size_t i = 0; i < typed.size();) {
    if (typed[i] == ' ' || typed[i] == '-') {
      ++i;
      continue;
    }
    auto [digit, len] = digit_at(typed, i);
    if (digit < 0 || out.size() == 6) return {};
    out += static_cast<char>('0' + digit);
    i += len;
  }
  return out.size() == 6 ? out : std::string();
}

std::string normalize_language(std::string_view tag) {
  auto primary = tag.substr(0, tag.find_first_of("-_"));
  std::string l;
  for (char c : primary) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (proto::known_language(l)) return l;
  if (l == "per" || l == "fas") return "fa";
  return {};
}

}  // namespace pasokh::gateway
