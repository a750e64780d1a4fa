#include "pasokh/routing/thread_ingest.hpp"

#include "ingest_script.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {
// Automatic mail nobody's conversation took: the newest this many per channel.
constexpr int automatic_stream_length = 1000;
}  // namespace

thread_ingest::thread_ingest(store::redis_client& redis, std::string prefix, std::chrono::seconds dedup_ttl)
    : redis_(redis), prefix_(std::move(prefix)), dedup_ttl_(dedup_ttl) {}

awaitable<result<ingest_outcome>> thread_ingest::ingest(const proto::inbound_event& event, const channel_route& route,
                                                        const thread& continues) {
  ingest_thread answered{continues.conversation_id, continues.by_secret_token, "subject:" + continues.subject,
                         continues.sender_unverified};
  co_return co_await run_ingest(redis_, nullptr, prefix_, dedup_ttl_, event, route, answered, nullptr);
}

awaitable<result<side_event_outcome>> thread_ingest::keep_automatic(const proto::inbound_event& event,
                                                                    const thread& continues,
                                                                    const automatic_note& note) {
  auto r = co_await redis_.fcall(
      script(lua::automatic_mail), store::make_command(),
      store::make_command(prefix_, event.from.channel, continues.conversation_id, continues.by_secret_token ? "1" : "0",
                          event.from.external_id, event.dedup_key, std::to_string(dedup_ttl_.count()),
                          std::to_string(now_ms()), inbound_message_json(event), note.subject, note.reason,
                          event.provider_message_id, std::to_string(automatic_stream_length),
                          preview_source(event.text), event.attachments.empty() ? "0" : "1"));
  if (!r) co_return r.error();
  if (r->is_error() || r->type != store::reply::kind::array || r->elements.empty())
    co_return make_error_code(store::redis_errc::server_error);
  const auto& a = r->elements;
  side_event_outcome out{a[0].str, a.size() > 1 ? a[1].str : std::string(), 0};
  if (a.size() > 2) out.seq = static_cast<std::uint64_t>(a[2].as_int());
  co_return out;
}

}  // namespace pasokh::routing
