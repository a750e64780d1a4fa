#include "pasokh/gateway/messenger_store.hpp"

#include <algorithm>
#include "pasokh/routing/clock.hpp"

namespace pasokh::gateway {

using routing::now_ms;


using boost::asio::awaitable;
using std::chrono::milliseconds;

namespace {

constexpr std::chrono::seconds progress_ttl{7 * 24 * 3600};
constexpr std::int64_t sending_lapse_ms = 60'000;

boost::system::error_code server_error() { return make_error_code(store::redis_errc::server_error); }

}  // namespace

messenger_store::messenger_store(store::redis_client& redis, std::string prefix, std::chrono::seconds provider_id_ttl)
    : redis_(redis), prefix_(std::move(prefix)), provider_id_ttl_(provider_id_ttl) {}

awaitable<store_result<std::optional<milliseconds>>> messenger_store::since_customer_message(
    const std::string& conversation_id) {
  auto r = co_await redis_.exec(store::make_command("HMGET", prefix_ + "conv:" + conversation_id,
                                                    "last_customer_message_at", "customer_id", "channel", "recipient"));
  if (!r) co_return r.error();
  if (r->is_error() || r->elements.size() != 4) co_return server_error();
  auto last = r->elements[0].as_int();  // nil: 0
  const auto& customer = r->elements[1].str;
  const auto& channel = r->elements[2].str;
  const auto& recipient = r->elements[3].str;
  if (!customer.empty() && !channel.empty()) {
    auto newer = co_await open_conversation_last_message(customer, channel, recipient, conversation_id);
    if (!newer) co_return newer.error();
    last = std::max(last, *newer);
  }
  if (last <= 0) co_return std::optional<milliseconds>{};
  co_return std::optional<milliseconds>{milliseconds(now_ms() - last)};
}

// When the customer last wrote in their open conversation on `channel`, if
// that is another one than `conversation_id` with the same recipient (a
// merged file may hold two numbers; each has its own window); 0: none.
awaitable<store_result<std::int64_t>> messenger_store::open_conversation_last_message(
    const std::string& customer, const std::string& channel, const std::string& recipient,
    const std::string& conversation_id) {
  auto open = co_await redis_.exec(store::make_command("GET", prefix_ + "cust:" + customer + ":open:" + channel));
  if (!open) co_return open.error();
  if (open->is_error()) co_return server_error();
  if (open->is_nil() || open->str.empty() || open->str == conversation_id) co_return std::int64_t{0};
  auto open_conv = co_await redis_.exec(
      store::make_command("HMGET", prefix_ + "conv:" + open->str, "last_customer_message_at", "recipient"));
  if (!open_conv) co_return open_conv.error();
  if (open_conv->is_error() || open_conv->elements.size() != 2) co_return server_error();
  if (open_conv->elements[1].str != recipient) co_return std::int64_t{0};
  co_return open_conv->elements[0].as_int();  // nil: 0
}

awaitable<store_result<send_progress>> messenger_store::progress_of(const std::string& channel,
                                                                   const std::string& message_id) {
  auto r = co_await redis_.exec(store::make_command("HMGET", parts_key(channel, message_id), "done", "first"));
  if (!r) co_return r.error();
  if (r->is_error() || r->elements.size() != 2) co_return server_error();
  send_progress p;
  p.done = static_cast<std::size_t>(r->elements[0].as_int());  // nil: 0
  if (!r->elements[1].is_nil()) p.first_provider_id = r->elements[1].str;
  co_return p;
}

awaitable<store_result<std::optional<early_status>>> messenger_store::part_sent(
    const std::string& channel, const proto::outbound_message& message, std::size_t index, std::size_t parts,
    const std::string& provider_id, const std::string& first_id) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back(store::make_command("MULTI"));
  if (!provider_id.empty())
    commands.push_back(store::make_command("SET", prefix_ + "provider_msg:" + channel + ":" + provider_id,
                                           message.conversation_id + ":" + std::to_string(message.seq), "EX",
                                           std::to_string(provider_id_ttl_.count())));
  if (parts > 1) {
    auto key = parts_key(channel, message.message_id);
    commands.push_back(store::make_command("HSET", key, "done", std::to_string(index + 1), "first", first_id));
    commands.push_back(store::make_command("EXPIRE", key, std::to_string(progress_ttl.count())));
  }
  commands.push_back(store::make_command("EXEC"));
  // After the id is written: a status coming later finds the message itself.
  if (!provider_id.empty())
    commands.push_back(store::make_command("HMGET", prefix_ + "early_status:" + channel + ":" + provider_id, "status",
                                           "reason"));
  auto r = co_await redis_.exec_pipeline(std::move(commands));
  if (!r) co_return r.error();
  for (const auto& reply : *r)
    if (reply.is_error()) co_return server_error();
  if (provider_id.empty()) co_return std::optional<early_status>{};
  const auto& early = r->back().elements;
  auto status = early.size() == 2 ? proto::from_string<proto::delivery_status>(early[0].str) : std::nullopt;
  if (!status) co_return std::optional<early_status>{};
  co_return std::optional<early_status>{early_status{*status, early[1].str}};
}

awaitable<store_result<void>> messenger_store::sending(const proto::outbound_message& message, bool under_way) {
  // By when each send stops counting (the score), per conversation.
  const auto key = prefix_ + "conv:" + message.conversation_id + ":sending";
  std::vector<std::vector<std::string>> commands;
  if (under_way) {
    commands.push_back(store::make_command("ZADD", key, std::to_string(now_ms() + sending_lapse_ms), message.message_id));
    commands.push_back(store::make_command("PEXPIRE", key, std::to_string(sending_lapse_ms)));
  } else {
    commands.push_back(store::make_command("ZREM", key, message.message_id));
  }
  auto r = co_await redis_.exec_pipeline(std::move(commands));
  if (!r) co_return r.error();
  for (const auto& reply : *r)
    if (reply.is_error()) co_return server_error();
  co_return store_result<void>{};
}

}  // namespace pasokh::gateway
