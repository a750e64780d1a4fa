#include "pasokh/routing/thread_ingest.hpp"

#include "ingest_script.hpp"

namespace pasokh::routing {

thread_ingest::thread_ingest(store::redis_client& redis, std::string prefix, std::chrono::seconds dedup_ttl)
    : redis_(redis), prefix_(std::move(prefix)), dedup_ttl_(dedup_ttl) {}

awaitable<result<ingest_outcome>> thread_ingest::ingest(const proto::inbound_event& event, const channel_route& route,
                                                        const thread& continues) {
  ingest_thread answered{continues.conversation_id, continues.by_secret_token};
  co_return co_await run_ingest(redis_, nullptr, prefix_, dedup_ttl_, event, route, answered, nullptr);
}

}  // namespace pasokh::routing
