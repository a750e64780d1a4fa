#include "pasokh/proto/types.hpp"

#include <array>
#include <utility>

namespace pasokh::proto {
namespace {

template <class Enum, std::size_t N>
using name_table = std::array<std::pair<Enum, std::string_view>, N>;

constexpr name_table<channel_kind, 7> channel_kind_names{{
    {channel_kind::api, "api"},
    {channel_kind::webchat, "webchat"},
    {channel_kind::email, "email"},
    {channel_kind::telegram, "telegram"},
    {channel_kind::whatsapp, "whatsapp"},
    {channel_kind::messenger, "messenger"},
    {channel_kind::instagram, "instagram"},
}};
constexpr name_table<conversation_status, 5> conversation_status_names{{
    {conversation_status::bot, "bot"},
    {conversation_status::queued, "queued"},
    {conversation_status::assigned, "assigned"},
    {conversation_status::resolved, "resolved"},
    {conversation_status::closed, "closed"},
}};
constexpr name_table<priority, 4> priority_names{{
    {priority::low, "low"},
    {priority::normal, "normal"},
    {priority::high, "high"},
    {priority::urgent, "urgent"},
}};
constexpr name_table<direction, 2> direction_names{{
    {direction::inbound, "in"},
    {direction::outbound, "out"},
}};
constexpr name_table<author_kind, 4> author_kind_names{{
    {author_kind::customer, "customer"},
    {author_kind::agent, "agent"},
    {author_kind::bot, "bot"},
    {author_kind::system, "system"},
}};
constexpr name_table<delivery_status, 5> delivery_status_names{{
    {delivery_status::pending, "pending"},
    {delivery_status::sent, "sent"},
    {delivery_status::delivered, "delivered"},
    {delivery_status::read, "read"},
    {delivery_status::failed, "failed"},
}};
constexpr name_table<attachment_kind, 10> attachment_kind_names{{
    {attachment_kind::image, "image"},
    {attachment_kind::document, "document"},
    {attachment_kind::audio, "audio"},
    {attachment_kind::voice, "voice"},
    {attachment_kind::video, "video"},
    {attachment_kind::sticker, "sticker"},
    {attachment_kind::location, "location"},
    {attachment_kind::contact, "contact"},
    {attachment_kind::file, "file"},
    {attachment_kind::unsupported, "unsupported"},
}};
constexpr name_table<inbound_kind, 6> inbound_kind_names{{
    {inbound_kind::message, "message"},
    {inbound_kind::edit, "edit"},
    {inbound_kind::status, "status"},
    {inbound_kind::button, "button"},
    {inbound_kind::reaction, "reaction"},
    {inbound_kind::unsend, "unsend"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const name_table<Enum, N>& table, Enum value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const name_table<Enum, N>& table, std::string_view name) {
  for (const auto& [e, n] : table)
    if (n == name) return e;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(channel_kind v) { return name_of(channel_kind_names, v); }
std::string_view to_string(conversation_status v) { return name_of(conversation_status_names, v); }
std::string_view to_string(priority v) { return name_of(priority_names, v); }
std::string_view to_string(direction v) { return name_of(direction_names, v); }
std::string_view to_string(author_kind v) { return name_of(author_kind_names, v); }
std::string_view to_string(delivery_status v) { return name_of(delivery_status_names, v); }
std::string_view to_string(attachment_kind v) { return name_of(attachment_kind_names, v); }
std::string_view to_string(inbound_kind v) { return name_of(inbound_kind_names, v); }

template <> std::optional<channel_kind> from_string(std::string_view s) { return value_of(channel_kind_names, s); }
template <> std::optional<conversation_status> from_string(std::string_view s) { return value_of(conversation_status_names, s); }
template <> std::optional<priority> from_string(std::string_view s) { return value_of(priority_names, s); }
template <> std::optional<direction> from_string(std::string_view s) { return value_of(direction_names, s); }
template <> std::optional<author_kind> from_string(std::string_view s) { return value_of(author_kind_names, s); }
template <> std::optional<delivery_status> from_string(std::string_view s) { return value_of(delivery_status_names, s); }
template <> std::optional<attachment_kind> from_string(std::string_view s) { return value_of(attachment_kind_names, s); }
template <> std::optional<inbound_kind> from_string(std::string_view s) { return value_of(inbound_kind_names, s); }

bool status_advances(delivery_status current, delivery_status next) {
  if (current == delivery_status::failed) return false;
  return static_cast<int>(next) > static_cast<int>(current);
}

}  // namespace pasokh::proto
