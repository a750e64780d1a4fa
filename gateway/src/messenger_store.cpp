#include "pasokh/gateway/messenger_store.hpp"
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
  auto r = co_await redis_.exec(store::make_command("HGET", prefix_ + "conv:" + conversation_id, "last_customer_message_at"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return server_error();
  auto last = r->as_int();  // nil: 0
  if (last <= 0) co_return std::optional<milliseconds>{};
  co_return std::optional<milliseconds>{milliseconds(now_ms() - last)};
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

awaitable<store_result<void>> messenger_store::part_sent(const std::string& channel,
                                                        const proto::outbound_message& message, std::size_t index,
                                                        std::size_t parts, const std::string& provider_id,
                                                        const std::string& first_id) {
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
  auto r = co_await redis_.exec_pipeline(std::move(commands));
  if (!r) co_return r.error();
  for (const auto& reply : *r)
    if (reply.is_error()) co_return server_error();
  co_return store_result<void>{};
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
