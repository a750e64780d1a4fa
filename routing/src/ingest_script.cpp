#include "ingest_script.hpp"

#include "ingest_batcher.hpp"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "pasokh/proto/json.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "pasokh/routing/customer_keys.hpp"

namespace pasokh::routing {

std::string inbound_message_json(const proto::inbound_event& event, bool sender_unverified) {
  nlohmann::json message = {{"text", event.text}};
  if (!event.original_text.empty()) message["original_text"] = event.original_text;
  if (!event.attachments.empty()) message["attachments"] = event.attachments;
  if (!event.provider_message_id.empty()) message["provider_message_id"] = event.provider_message_id;
  if (!event.reply_to.empty()) message["reply_to"] = event.reply_to;
  if (!event.button_payload.empty()) message["button_payload"] = event.button_payload;
  if (event.sent_at) message["sent_at"] = event.sent_at;
  if (event.automatic) message["automatic"] = true;
  if (sender_unverified) message["sender_unverified"] = true;
  // The language the message was read in: a follow-up run later from the
  // log (gateway/src/followup.cpp) answers in it too.
  if (!event.language.empty()) message["language"] = event.language;
  // Mail may carry invalid UTF-8 that survived every charset fallback.
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string preview_source(const std::string& text) {
  constexpr std::size_t bound = 1024;  // more than the scripts read of it (prelude.lua, message_preview)
  std::string head = text.size() > bound ? text.substr(0, proto::grapheme_floor(text, bound)) : text;
  if (proto::valid_utf8(head)) return head;
  using nlohmann::json;
  return json::parse(json(head).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

namespace {

// When the customer wrote, for the reply window (ARGV[20]): a messenger's own
// time of the message, so a webhook the provider redelivers hours later does
// not reopen the window. Telegram and WhatsApp stamp whole seconds: a message
// that arrives within a second of its stamp (nearly all) counts from arrival,
// so it still sorts after an API or web chat message of that second; so does
// a stamp ahead of our clock. Other times (a mail's Date header) are only the
// sender's word: arrival counts.
std::int64_t customer_wrote_at(const proto::inbound_event& event, std::int64_t now) {
  constexpr std::int64_t stamp_resolution_ms = 1000;
  switch (event.from.kind) {
    case proto::channel_kind::telegram:
    case proto::channel_kind::whatsapp:
    case proto::channel_kind::messenger:
    case proto::channel_kind::instagram:
      if (event.sent_at > 0 && now - event.sent_at >= stamp_resolution_ms) return event.sent_at;
      break;
    default: break;
  }
  return now;
}

// ARGV[18]: the identity's verified keys and its name key, one a line; the
// script reads them only for an identity it has not seen.
std::string identity_keys(const proto::inbound_event& event, std::string_view name) {
  std::string out;
  for (const auto& k : verified_keys(event.from)) out += k + "\n";
  if (auto n = name_key(name); !n.empty()) out += n;
  return out;
}

}  // namespace

awaitable<result<ingest_outcome>> run_ingest(store::redis_client& redis, ingest_batcher* batcher,
                                             const std::string& prefix, std::chrono::seconds dedup_ttl,
                                             const proto::inbound_event& event, const channel_route& route,
                                             const ingest_thread& thread, const route_plan* plan) {
  const std::int64_t now = now_ms();
  const auto name = shown_name(event.from.display_name);
  auto message = inbound_message_json(event, thread.sender_unverified);
  auto args = store::make_command(
      event.from.channel, std::string(proto::to_string(event.from.kind)), event.from.external_id,
      name, event.dedup_key, std::to_string(dedup_ttl.count()), std::to_string(now),
      std::move(message), route.team, route.bot_enabled ? "1" : "0", event.language,
      event.provider_chat_id.empty() ? event.from.external_id : event.provider_chat_id, thread.conversation_id,
      thread.any_sender ? "1" : "0", event.from.alt_external_id, event.provider_message_id, identity_keys(event, name),
      thread.open_subject, std::to_string(customer_wrote_at(event, now)), preview_source(event.text),
      event.attachments.empty() ? "0" : (route.copy_attachments ? "copy" : "1"), plan ? "1" : "0");
  if (plan) {
    args.push_back(plan->language);
    args.insert(args.end(), plan->decision.begin(), plan->decision.end());
  }
  result<store::reply> r = store::reply{};
  if (batcher) {
    r = co_await batcher->submit(std::move(args));
  } else {
    std::vector<std::vector<std::string>> one;
    one.push_back(std::move(args));
    r = co_await redis.fcall(script(lua::ingest), store::make_command(), ingest_batch_args(prefix, std::move(one)));
    if (r && r->type == store::reply::kind::array && r->elements.size() == 1) {
      store::reply answer = std::move(r->elements[0]);  // this message's own answer
      r = std::move(answer);
    }
  }
  if (!r) co_return r.error();
  // An error reply, or { 'error', text } when this message's script failed.
  if (r->is_error() || r->type != store::reply::kind::array || r->elements.empty() || r->elements[0].str == "error")
    co_return make_error_code(store::redis_errc::server_error);
  const auto& a = r->elements;
  ingest_outcome out;
  if (a[0].str == "duplicate" && a.size() > 1) {
    // "conv|seq|customer" as remembered by the dedup key.
    std::string_view seen = a[1].str;
    auto first = seen.find('|'), second = seen.rfind('|');
    out.duplicate = true;
    out.conversation_id = std::string(seen.substr(0, first));
    out.seq = static_cast<std::uint64_t>(proto::parse_int(seen.substr(first + 1, second - first - 1)));
    out.customer_id = std::string(seen.substr(second + 1));
    out.followup_due = a.size() > 2 && a[2].str == "1";
    co_return out;
  }
  if (a.size() < 6) co_return make_error_code(store::redis_errc::server_error);
  out.conversation_id = a[1].str;
  out.seq = static_cast<std::uint64_t>(a[2].as_int());
  out.customer_id = a[3].str;
  out.new_conversation = a[4].str == "1";
  out.status = a[5].str;
  out.routed = a.size() > 6 && a[6].str == "1";
  out.csat_open = a.size() > 7 && a[7].str == "1";
  out.other_sender = a.size() > 8 && a[8].str == "1";
  if (a.size() > 9) out.reply_counted_for = a[9].str;
  out.unsent = a.size() > 10 && a[10].str == "1";
  co_return out;
}

}  // namespace pasokh::routing
