#include "pasokh/routing/conversation_service.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

#include "pasokh/proto/json.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/routing/routing_service.hpp"
#include "ingest_batcher.hpp"
#include "ingest_script.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::routing {

namespace {

using store::reply;

class routing_category_impl : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "pasokh.routing"; }
  std::string message(int ev) const override {
    switch (static_cast<routing_errc>(ev)) {
      case routing_errc::not_found: return "conversation not found";
      case routing_errc::closed: return "conversation is closed";
      case routing_errc::author_gone: return "the replying agent was removed";
    }
    return "unknown routing error";
  }
};

// Lua scripts answer { status, ... } arrays; a Redis error reply is a bug or an
// outage, surfaced as server_error.
result<const std::vector<reply>*> script_answer(const result<reply>& r) {
  if (!r) return r.error();
  if (r->is_error() || r->type != reply::kind::array || r->elements.empty())
    return make_error_code(store::redis_errc::server_error);
  return &r->elements;
}

result<append_outcome> append_answer(const result<reply>& r) {
  auto answer = script_answer(r);
  if (!answer) return answer.error();
  const auto& a = **answer;
  const auto& status = a[0].str;
  if (status == "not_found") return make_error_code(routing_errc::not_found);
  if (status == "closed") return make_error_code(routing_errc::closed);
  if (status == "author_gone") return make_error_code(routing_errc::author_gone);
  append_outcome out;
  if (status == "channel_unavailable") {
    out.unserved_channel = a.size() > 1 ? a[1].str : std::string();
    return out;
  }
  out.duplicate = status == "duplicate";
  if (a.size() > 1) out.seq = static_cast<std::uint64_t>(a[1].as_int());
  return out;
}

}  // namespace

const boost::system::error_category& routing_category() noexcept {
  static routing_category_impl instance;
  return instance;
}
boost::system::error_code make_error_code(routing_errc e) noexcept {
  return {static_cast<int>(e), routing_category()};
}

conversation_service::conversation_service(boost::asio::any_io_executor ex, store::redis_client& redis,
                                           std::string prefix, std::chrono::seconds dedup_ttl)
    : redis_(redis), prefix_(std::move(prefix)), dedup_ttl_(dedup_ttl),
      batcher_(std::make_unique<ingest_batcher>(std::move(ex), redis, prefix_)) {}

conversation_service::~conversation_service() = default;

void conversation_service::serve_channels(const std::vector<std::string>& channels) {
  served_here_ = proto::join(channels, ',');
}

awaitable<result<ingest_outcome>> conversation_service::ingest(const proto::inbound_event& event,
                                                                const channel_route& route) {
  ingest_thread none;
  if (!router_ || route.bot_enabled) co_return co_await run_ingest(redis_, batcher_.get(), prefix_, dedup_ttl_, event, route, none, nullptr);
  // Decided for a new conversation of a customer who is not VIP; the script
  // uses it only then (otherwise the caller routes as usual).
  route_facts facts;
  facts.channel = event.from.channel;
  facts.language = event.language;
  facts.current_team = route.team;
  auto plan = router_->plan(facts, now_ms());
  auto out = co_await run_ingest(redis_, batcher_.get(), prefix_, dedup_ttl_, event, route, none, &plan);
  if (out && out->new_conversation && out->routed) router_->count_routed(out->status, plan);
  co_return out;
}

namespace {
result<side_event_outcome> side_answer(const result<reply>& r) {
  auto answer = script_answer(r);
  if (!answer) return answer.error();
  const auto& a = **answer;
  side_event_outcome out;
  out.status = a[0].str;
  if (a.size() > 1) out.conversation_id = a[1].str;
  if (a.size() > 2) out.seq = static_cast<std::uint64_t>(a[2].as_int());
  return out;
}
}  // namespace

awaitable<result<side_event_outcome>> conversation_service::edit_message(const proto::inbound_event& edit) {
  auto r = co_await redis_.fcall(script(lua::edit_message), store::make_command(),
                                store::make_command(prefix_, edit.from.channel, edit.provider_message_id, edit.text,
                                                    std::to_string(edit.sent_at ? edit.sent_at : now_ms()),
                                                    std::to_string(now_ms()), edit.dedup_key,
                                                    std::to_string(dedup_ttl_.count())));
  co_return side_answer(r);
}

awaitable<result<side_event_outcome>> conversation_service::unsend_message(const proto::inbound_event& unsend) {
  // The script rewrites the conversation's log this many entries a call,
  // as an erasure's scrub does (gateway/src/privacy.cpp), answering 'more'
  // until it is through.
  constexpr std::size_t entries_per_call = 500;
  constexpr int most_calls = 10000;  // ten million entries: a log this long is a bug
  const auto deleted_at = std::to_string(unsend.sent_at ? unsend.sent_at : now_ms());
  std::string going_on;  // "<conv>:<seq>" after 'more'
  for (int call = 0; call < most_calls; ++call) {
    auto r = co_await redis_.fcall(script(lua::unsend_message), store::make_command(),
                                  store::make_command(prefix_, unsend.from.channel, unsend.provider_message_id,
                                                      deleted_at, std::to_string(now_ms()), unsend.dedup_key,
                                                      std::to_string(dedup_ttl_.count()),
                                                      std::to_string(entries_per_call), going_on));
    auto out = side_answer(r);
    if (!out || out->status != "more") co_return out;
    going_on = out->conversation_id + ":" + std::to_string(out->seq);
  }
  co_return make_error_code(store::redis_errc::server_error);
}

awaitable<result<side_event_outcome>> conversation_service::react(const proto::inbound_event& reaction) {
  auto r = co_await redis_.fcall(script(lua::reaction), store::make_command(),
                                store::make_command(prefix_, reaction.from.channel, reaction.provider_message_id,
                                                    reaction.text,
                                                    std::to_string(reaction.sent_at ? reaction.sent_at : now_ms()),
                                                    reaction.dedup_key, std::to_string(dedup_ttl_.count())));
  co_return side_answer(r);
}

awaitable<result<side_event_outcome>> conversation_service::record_echo(const proto::inbound_event& echo,
                                                                         std::chrono::seconds provider_id_ttl) {
  std::string attachments;
  if (!echo.attachments.empty()) attachments = nlohmann::json(echo.attachments).dump();
  auto r = co_await redis_.fcall(
      script(lua::record_echo), store::make_command(),
      store::make_command(prefix_, echo.from.channel, echo.from.external_id, echo.provider_message_id, echo.text,
                          std::move(attachments), std::to_string(echo.sent_at), std::to_string(now_ms()),
                          echo.dedup_key, std::to_string(dedup_ttl_.count()),
                          std::to_string(provider_id_ttl.count())));
  co_return side_answer(r);
}

awaitable<result<append_outcome>> conversation_service::append_reply(const std::string& conversation_id,
                                                                      const author& by, const std::string& client_id,
                                                                      const std::string& text, bool automatic) {
  auto r = co_await redis_.fcall(script(lua::append_reply), store::make_command(),
                                store::make_command(prefix_, conversation_id, std::string(proto::to_string(by.kind)), by.id, by.name,
                                 client_id, text, std::to_string(now_ms()), automatic ? "1" : "0", served_here_));
  co_return append_answer(r);
}

awaitable<result<std::optional<std::uint64_t>>> conversation_service::stored_reply(const std::string& conversation_id,
                                                                                    const std::string& client_id,
                                                                                    const std::string& author_id) {
  auto r = co_await redis_.exec(store::make_command("HGET", prefix_ + "conv:" + conversation_id + ":clients", client_id));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  if (r->is_nil()) co_return std::nullopt;
  std::uint64_t seq = 0;
  auto [end, ec] = std::from_chars(r->str.data(), r->str.data() + r->str.size(), seq);
  if (ec != std::errc{} || seq == 0) co_return std::nullopt;
  // Notes and label changes share the client ids; only the author's own
  // reply counts (a client id names no one else's message to them).
  auto frames = co_await events_after(conversation_id, seq - 1, 1);
  if (!frames) co_return frames.error();
  if (frames->empty()) co_return std::nullopt;
  auto frame = nlohmann::json::parse(frames->front(), nullptr, false);
  if (!frame.is_object() || frame.value("seq", std::uint64_t{0}) != seq || !frame.contains("message"))
    co_return std::nullopt;
  const auto& m = frame["message"];
  if (!m.is_object() || m.value("author_id", std::string{}) != author_id || m.value("client_id", std::string{}) != client_id)
    co_return std::nullopt;
  co_return seq;
}

awaitable<result<std::vector<std::string>>> conversation_service::events_after(const std::string& conversation_id,
                                                                                std::uint64_t after,
                                                                                std::size_t limit) {
  auto r = co_await redis_.exec(store::make_command("XRANGE", prefix_ + "conv:" + conversation_id + ":log",
                                 "(" + std::to_string(after) + "-1", "+", "COUNT", std::to_string(limit)));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  std::vector<std::string> frames;
  frames.reserve(r->elements.size());
  // Each entry is [id, [field, value]]; the only field is "f", the frame.
  for (auto& entry : r->elements)
    if (entry.elements.size() == 2 && entry.elements[1].elements.size() >= 2)
      frames.push_back(std::move(entry.elements[1].elements[1].str));
  co_return frames;
}

awaitable<result<std::string>> conversation_service::delivery_marks(const std::string& conversation_id) {
  auto r = co_await redis_.exec(store::make_command("HGETALL", prefix_ + "conv:" + conversation_id + ":delivery"));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  // Field: the message's seq (digits); value: the JSON record delivery.lua wrote.
  std::string out = "{";
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    if (out.size() > 1) out += ',';
    out += '"' + r->elements[i].str + "\":" + r->elements[i + 1].str;
  }
  out += '}';
  co_return out;
}

awaitable<result<std::string>> conversation_service::team_snapshot(const std::string& team, std::size_t limit) {
  auto r = co_await redis_.fcall(script(lua::team_snapshot), store::make_command(), store::make_command(prefix_, team, std::to_string(limit)));
  if (!r) co_return r.error();
  if (r->is_error()) co_return make_error_code(store::redis_errc::server_error);
  co_return std::move(r->str);
}

awaitable<result<std::string>> conversation_service::channel_of(const std::string& conversation_id) {
  auto r = co_await redis_.exec(store::make_command("HGET", prefix_ + "conv:" + conversation_id, "channel"));
  if (!r) co_return r.error();
  if (r->is_nil()) co_return make_error_code(routing_errc::not_found);
  co_return std::move(r->str);
}

}  // namespace pasokh::routing
