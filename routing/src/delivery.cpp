#include "pasokh/routing/delivery.hpp"

#include <atomic>

#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {
std::atomic<void (*)(std::string_view)> campaign_observer{nullptr};
}

void set_campaign_status_observer(void (*observer)(std::string_view)) { campaign_observer = observer; }

delivery_marks::delivery_marks(store::redis_client& redis, std::string prefix, std::chrono::seconds provider_id_ttl)
    : redis_(redis), prefix_(std::move(prefix)), provider_id_ttl_(provider_id_ttl) {}

boost::asio::awaitable<boost::system::result<mark_result>> delivery_marks::mark(const delivery_update& u) {
  const outbox_ack none;
  co_return co_await mark(u, none);
}

boost::asio::awaitable<boost::system::result<mark_result>> delivery_marks::mark(const delivery_update& u,
                                                                               const outbox_ack& ack) {
  using out = boost::system::result<mark_result>;
  auto keys = store::make_command();
  auto args = store::make_command(
      prefix_, u.channel, u.conversation_id, u.conversation_id.empty() ? std::string() : std::to_string(u.message_seq),
      std::string(proto::to_string(u.status)), u.provider_message_id, u.reason, std::to_string(now_ms()),
      std::to_string(provider_id_ttl_.count()), ack.stream_key, ack.group, ack.entry_id,
      u.named_by_provider_id ? "1" : "0", ack.chat_order, ack.chat_pace, std::to_string(ack.pace_interval.count()),
      u.retry_attempt > 0 ? std::to_string(u.retry_attempt) : std::string(),
      u.retry_attempt > 0 ? std::to_string(u.retry_next_at_ms) : std::string(),
      u.sent_at_ms > 0 ? std::to_string(u.sent_at_ms) : std::string(), u.failure_code);
  auto r = co_await redis_.fcall(script(lua::delivery), std::move(keys), std::move(args));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  if (r->is_error() || r->elements.empty())
    co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  const auto& answer = r->elements[0].str;
  if (answer == "changed") {
    if (r->elements.size() > 3 && !r->elements[3].str.empty())
      if (auto observer = campaign_observer.load()) observer(proto::to_string(u.status));
    co_return mark_result::changed;
  }
  if (answer == "unchanged") co_return mark_result::unchanged;
  co_return mark_result::unknown;
}

boost::asio::awaitable<boost::system::result<std::size_t>> delivery_marks::mark_read_up_to(
    const std::string& channel, const std::string& customer_external_id, std::int64_t watermark_ms) {
  using out = boost::system::result<std::size_t>;
  auto args = store::make_command(prefix_, channel, customer_external_id, std::to_string(watermark_ms));
  auto r = co_await redis_.fcall(script(lua::read_watermark), store::make_command(), std::move(args));
  if (!r) co_return out(boost::system::in_place_error, r.error());
  if (r->is_error()) co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  std::size_t changed = 0;
  if (r->elements.empty()) co_return changed;  // no conversation on the channel
  delivery_update read;
  read.channel = channel;
  read.conversation_id = r->elements[0].str;
  read.status = proto::delivery_status::read;
  for (std::size_t i = 1; i < r->elements.size(); ++i) {
    read.message_seq = std::stoull(r->elements[i].str);
    auto marked = co_await mark(read);
    if (!marked) co_return out(boost::system::in_place_error, marked.error());
    if (*marked == mark_result::changed) ++changed;
  }
  co_return changed;
}

}  // namespace pasokh::routing
