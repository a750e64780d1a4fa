// After-sales routes and hooks: purchase import (JSON or CSV), purchases with
// warranty status, opt-out and CSAT replies after ingest, the CSAT survey on
// resolve (reports: reports_api.cpp). State changes run in
// routing/src/lua/aftersales.lua; the pure parts are in aftersales_parse.cpp.
#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/bot/csat_comment.hpp"
#include "pasokh/gateway/aftersales.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/console_api.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;
namespace {

using boost::asio::awaitable;
using nlohmann::json;
namespace as = aftersales;

constexpr std::size_t max_import_rows = 5000;
constexpr std::size_t max_purchases_shown = 500;
constexpr std::size_t max_comment_bytes = 4000;

// Rows of the request body: a JSON array of objects (or {"rows": [...]}), or
// CSV with a header line when the content type says text/csv. Line numbers:
// CSV lines, or the 1-based index in the JSON array.
using raw_rows = std::vector<std::pair<std::size_t, std::map<std::string, std::string>>>;

std::variant<raw_rows, http_response> request_rows(const http_request& req) {
  raw_rows rows;
  auto type = req.header("content-type");
  if (!proto::valid_utf8(req.body)) return reject(400, "invalid_utf8", "the body is not UTF-8");
  if (type.substr(0, 8) == "text/csv") {
    auto csv = as::parse_csv(req.body, max_import_rows + 1);
    if (!csv.error.empty())
      return reject(400, "invalid_csv", "line " + std::to_string(csv.error_line) + ": " + csv.error);
    if (csv.records.empty()) return reject(400, "invalid_csv", "a header line is required");
    const auto& header = csv.records[0].fields;
    std::set<std::string> seen;
    for (const auto& h : header) {
      if (std::find(as::import_columns().begin(), as::import_columns().end(), h) == as::import_columns().end())
        return reject(400, "invalid_csv", "line 1: unknown column '" + h + "'");
      if (!seen.insert(h).second) return reject(400, "invalid_csv", "line 1: column '" + h + "' twice");
    }
    for (std::size_t i = 1; i < csv.records.size(); ++i) {
      const auto& rec = csv.records[i];
      std::map<std::string, std::string> m;
      for (std::size_t k = 0; k < rec.fields.size() && k < header.size(); ++k) m[header[k]] = rec.fields[k];
      if (rec.fields.size() != header.size()) m["\x01"] = std::to_string(rec.fields.size());  // reported below
      rows.emplace_back(rec.line, std::move(m));
    }
    return rows;
  }
  if (type.substr(0, 16) != "application/json")
    return reject(415, "unsupported_media_type", "send application/json or text/csv");
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return reject(400, "invalid_json", "the body is not valid JSON");
  if (j.is_object() && j.contains("rows")) j = j["rows"];
  if (!j.is_array()) return reject(400, "invalid_body", "a JSON array of rows (or {\"rows\": [...]})");
  if (j.size() > max_import_rows) return reject(413, "too_many_rows", "at most 5000 rows per request");
  std::size_t line = 0;
  for (const auto& item : j) {
    ++line;
    std::map<std::string, std::string> m;
    if (!item.is_object()) {
      m["\x02"] = "";
    } else {
      for (const auto& [k, v] : item.items()) {
        if (v.is_string()) m[k] = v.get<std::string>();
        else if (v.is_boolean()) m[k] = v.get<bool>() ? "true" : "false";
        else if (v.is_array()) {  // tags
          std::string joined;
          for (const auto& t : v) joined += (joined.empty() ? "" : ",") + (t.is_string() ? t.get<std::string>() : std::string(","));
          m[k] = joined;
        } else if (!v.is_null()) m["\x03"] = k;
      }
    }
    rows.emplace_back(line, std::move(m));
  }
  return rows;
}

// Imports the rows; `only_customer`: the per-customer route (rows may not name another).
awaitable<http_response> import_rows(services& s, raw_rows rows, const std::string& only_customer) {
  json errors = json::array();
  std::int64_t created = 0, updated = 0, unchanged = 0, customers_created = 0, customer_rows = 0;
  const auto now = std::to_string(now_ms());
  std::set<std::string> touched;
  for (auto& [line, fields] : rows) {
    auto fail = [&, line = line](std::string message) {
      errors.push_back({{"line", line}, {"error", std::move(message)}});
    };
    if (fields.count("\x01")) { fail("expected the header's number of fields, got " + fields["\x01"]); continue; }
    if (fields.count("\x02")) { fail("a row is a JSON object"); continue; }
    if (fields.count("\x03")) { fail(fields["\x03"] + ": a string"); continue; }
    if (!only_customer.empty()) {
      auto it = fields.find("customer_id");
      if (it != fields.end() && !it->second.empty() && it->second != only_customer) {
        fail("customer_id: not the customer of this route");
        continue;
      }
      fields["customer_id"] = only_customer;
    }
    auto checked = as::check_row(fields);
    if (auto* err = std::get_if<std::string>(&checked)) { fail(*err); continue; }
    auto& row = std::get<as::import_row>(checked);
    std::string kind;
    if (row.customer_id.empty() && !row.channel.empty()) {
      const auto* ch = s.cfg.find_channel(row.channel);
      if (!ch) { fail("channel: no configured channel " + row.channel); continue; }
      kind = std::string(proto::to_string(ch->kind));
    }
    std::string pkey, pjson, serial;
    if (row.item) {
      pkey = row.item->order_id + "|" + row.item->serial;
      serial = row.item->serial;
      pjson = json{{"order_id", row.item->order_id}, {"product", row.item->product}, {"serial", row.item->serial},
                   {"purchase_date", row.item->purchase_date}, {"warranty_end", row.item->warranty_end}}
                  .dump();
    }
    // Verified keys of the row (named first: no temporaries in a co_await expression).
    std::string keys;
    if (!row.email.empty()) keys += "email:" + row.email + "\n";
    if (!row.phone.empty()) keys += "phone:" + row.phone;
    auto r = co_await s.redis.fcall(
        routing::script(routing::lua::aftersales), store::make_command(),
        store::make_command(s.cfg.redis.prefix, "import", now, row.customer_id, row.channel, kind, row.external_id,
                            row.name, row.language, row.tags, row.vip, pkey, pjson, serial, keys));
    if (!r || r->is_error() || r->elements.size() < 2) co_return unavailable();
    const auto& status = r->elements[0].str;
    if (status == "no_customer") { fail("customer_id: no customer " + r->elements[1].str); continue; }
    if (status == "erased") { fail("customer_id: customer " + r->elements[1].str + " was erased"); continue; }
    touched.insert(r->elements[1].str);
    if (r->elements.size() > 2 && r->elements[2].str == "1") ++customers_created;
    if (status == "created") ++created;
    else if (status == "updated") ++updated;
    else if (status == "unchanged") ++unchanged;
    else ++customer_rows;
  }
  if (!errors.empty()) global_metrics().errors.inc("import_row_invalid");
  json out = {{"rows", rows.size()},
              {"imported", rows.size() - errors.size()},
              {"purchases_created", created},
              {"purchases_updated", updated},
              {"purchases_unchanged", unchanged},
              {"customer_only_rows", customer_rows},
              {"customers_created", customers_created},
              {"customers", std::vector<std::string>(touched.begin(), touched.end())},
              {"errors", errors}};
  spdlog::get("gateway")->info("import: {} rows, {} purchases created, {} updated, {} errors", rows.size(), created,
                               updated, errors.size());
  // 200 even with row errors: the good rows are kept; the errors name the lines to fix.
  co_return json_response(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
}

struct texts {
  const char* ask;
  const char* thanks;
  const char* comment_thanks;
  const char* opt_out;
};
const texts& texts_for(std::string_view lang) {
  static const texts en{"How would you rate our support? Reply with a number from 1 (poor) to 5 (excellent).",
                        "Thank you for your rating! If you like, tell us more in one message.",
                        "Thank you for your feedback.",
                        "You will no longer receive offers or reminders from us. You can still write to us any time."};
  static const texts fa{"از پشتیبانی ما چقدر راضی بودید؟ لطفاً عددی از ۱ (ضعیف) تا ۵ (عالی) بفرستید.",
                        "از امتیاز شما سپاسگزاریم! اگر مایلید، نظرتان را در یک پیام بنویسید.",
                        "از بازخورد شما سپاسگزاریم.",
                        "دیگر پیشنهاد یا یادآوری از ما دریافت نمی‌کنید. هر زمان بخواهید می‌توانید به ما پیام دهید."};
  static const texts ar{"ما تقييمك لخدمة الدعم؟ أرسل رقمًا من 1 (ضعيف) إلى 5 (ممتاز).",
                        "شكرًا لتقييمك! يمكنك كتابة تعليقك في رسالة واحدة إن أردت.",
                        "شكرًا على ملاحظاتك.",
                        "لن تصلك عروض أو تذكيرات منا بعد الآن. يمكنك مراسلتنا في أي وقت."};
  if (lang == "fa") return fa;
  if (lang == "ar") return ar;
  return en;
}

awaitable<std::string> customer_language(services& s, const std::string& cust) {
  auto r = co_await s.redis.exec(store::make_command("HGET", s.cfg.redis.prefix + "cust:" + cust, "language"));
  co_return (r && !r->is_nil()) ? r->str : std::string{};
}

// The bot's answer to "is my device under warranty?" for a serial in the
// customer's own file ({0} product, {1} serial, {2} warranty end). Serials of
// other customers are never disclosed: they are simply not found.
std::string warranty_answer(std::string_view lang, const std::string& status, const json& item) {
  struct forms { const char *active, *expired, *unknown; };
  static const forms en{"Your {0} (serial {1}) is under warranty until {2}.",
                        "The warranty of your {0} (serial {1}) ended on {2}.",
                        "I found your {0} (serial {1}), but its warranty end date is not on file; an agent can check it."};
  static const forms fa{"دستگاه {0} شما (سریال {1}) تا {2} گارانتی دارد.",
                        "گارانتی {0} شما (سریال {1}) در {2} به پایان رسیده است.",
                        "{0} شما (سریال {1}) را پیدا کردم، اما تاریخ پایان گارانتی آن ثبت نشده است؛ یک همکار آن را بررسی می‌کند."};
  static const forms ar{"جهازك {0} (الرقم التسلسلي {1}) مشمول بالضمان حتى {2}.",
                        "انتهى ضمان {0} (الرقم التسلسلي {1}) في {2}.",
                        "وجدت {0} (الرقم التسلسلي {1})، لكن تاريخ انتهاء الضمان غير مسجل؛ سيتحقق أحد الموظفين."};
  const forms& f = lang == "fa" ? fa : lang == "ar" ? ar : en;
  const char* form = status == "active" ? f.active : status == "expired" ? f.expired : f.unknown;
  return fmt::format(fmt::runtime(form), item.value("product", ""), item.value("serial", ""),
                     campaigns::date_for(lang, item.value("warranty_end", "")));
}

}  // namespace

namespace aftersales {

awaitable<outcome> on_customer_message(services& s, const routing::ingest_outcome& stored, const proto::inbound_event& event) {
  // Someone else in the customer's thread (a colleague in Cc) speaks for
  // neither the customer's file nor their rating.
  if (stored.duplicate || event.automatic || stored.other_sender) co_return outcome::not_mine;
  const auto& pre = s.cfg.redis.prefix;
  const auto& channel = event.from.channel;
  const std::string created = stored.new_conversation ? "1" : "0";
  auto log = spdlog::get("gateway");
  // Each step answers a message once, however often its follow-up runs
  // (followup.cpp): aftersales.lua remembers the answer by the message's seq.
  const auto msg_seq = std::to_string(stored.seq);
  if (auto lang = as::opt_out_language(event.text); !lang.empty()) {
    auto r = co_await s.redis.fcall(routing::script(routing::lua::aftersales), store::make_command(),
                                   store::make_command(pre, "opt_out", std::to_string(now_ms()), stored.customer_id,
                                                       stored.conversation_id, channel, created, texts_for(lang).opt_out,
                                                       stored.reply_counted_for, msg_seq));
    if (!r || r->is_error() || r->elements.empty()) {
      log->warn("conv={} channel={} opt-out failed", stored.conversation_id, channel);
      co_return outcome::failed;
    }
    global_metrics().routing_events.inc("opt_out");
    log->info("conv={} channel={} customer={} opted out ({})", stored.conversation_id, channel, stored.customer_id,
              r->elements[0].str);
    co_return outcome::handled;
  }
  // A warranty question to the bot, answered from the customer's own file.
  if (stored.status == "bot") {
    for (const auto& serial : as::warranty_serials(event.text)) {
      auto owner = co_await s.redis.exec(store::make_command("GET", pre + "serial:" + serial));
      if (!owner || owner->is_error()) co_return outcome::failed;
      if (owner->is_nil() || owner->str != stored.customer_id) continue;
      auto items = co_await s.redis.exec(store::make_command("HVALS", pre + "cust:" + stored.customer_id + ":purchases"));
      if (!items || items->is_error()) co_return outcome::failed;
      for (const auto& v : items->elements) {
        auto item = json::parse(v.str, nullptr, false);
        if (!item.is_object() || item.value("serial", "") != serial) continue;
        auto lang = co_await customer_language(s, stored.customer_id);
        if (lang.empty()) lang = event.language;
        auto status = as::warranty_status(item.value("warranty_end", ""), as::local_date(*s.cfg.shop_tz, now_ms()));
        routing::author bot{proto::author_kind::bot, "", s.cfg.bot.name.in(lang)};
        auto text = warranty_answer(lang, status, item);
        // Once per message: a follow-up run again finds it (followup.cpp).
        auto client_id = "warranty:" + std::to_string(stored.seq);
        auto sent = co_await s.conversations.append_reply(stored.conversation_id, bot, client_id, text, true);
        if (!sent) co_return outcome::failed;
        global_metrics().routing_events.inc("bot_warranty_answer");
        log->info("conv={} channel={} bot answered a warranty question ({})", stored.conversation_id, channel, status);
        co_return outcome::handled;
      }
    }
  }
  if (!s.cfg.csat.enabled) co_return outcome::not_mine;
  // A rating or a comment follows a resolved conversation: it lands in that
  // conversation (within the reopen window) or opens a new one.
  if (!stored.csat_open) co_return outcome::not_mine;
  const auto answer = as::csat_reply(event.button_payload.empty() ? event.text : event.button_payload);
  const int rating = answer.rating;
  const auto &en = texts_for("en"), &fa = texts_for("fa"), &ar = texts_for("ar");
  if (rating > 0) {
    auto r = co_await s.redis.fcall(
        routing::script(routing::lua::aftersales), store::make_command(),
        store::make_command(pre, "rate", std::to_string(now_ms()), stored.customer_id, channel, stored.conversation_id,
                            created, std::to_string(rating), std::to_string(s.cfg.csat.comment_window.count()), en.thanks,
                            fa.thanks, ar.thanks, msg_seq, answer.conversation, std::to_string(s.cfg.csat.window.count())));
    if (!r || r->is_error() || r->elements.empty()) {
      log->warn("conv={} channel={} csat rating failed", stored.conversation_id, channel);
      co_return outcome::failed;
    }
    if (r->elements[0].str != "rated") co_return outcome::not_mine;
    global_metrics().routing_events.inc("csat_rating");
    log->info("conv={} channel={} csat rating={}", r->elements.size() > 2 ? r->elements[2].str : "", channel, rating);
    co_return outcome::handled;
  }
  if (event.text.find_first_not_of(" \t\r\n") == std::string::npos) co_return outcome::not_mine;
  auto comment = event.text.substr(0, max_comment_bytes);
  while (!comment.empty() && !proto::valid_utf8(comment)) comment.pop_back();
  // Feedback (praise, a complaint) is thanked and its own new conversation
  // closed; a request goes on to the bot and the agents.
  const auto reading = bot::read_csat_comment(*s.faq_bot.snapshot(), comment, event.language, s.faq_bot.options());
  const auto kind = std::string(bot::to_string(reading.kind));
  auto r = co_await s.redis.fcall(routing::script(routing::lua::aftersales), store::make_command(),
                                 store::make_command(pre, "comment", std::to_string(now_ms()), stored.customer_id, channel,
                                                     stored.conversation_id, created, comment, en.comment_thanks,
                                                     fa.comment_thanks, ar.comment_thanks, msg_seq, kind));
  if (!r || r->is_error() || r->elements.empty()) {
    log->warn("conv={} channel={} csat comment failed", stored.conversation_id, channel);
    co_return outcome::failed;
  }
  const auto& status = r->elements[0].str;
  if (status == "commented" || status == "commented_open") {
    global_metrics().routing_events.inc("csat_comment_" + kind);
    log->info("conv={} channel={} csat comment read as {} ({}){}", r->elements.size() > 2 ? r->elements[2].str : "",
              channel, kind, reading.why, status == "commented_open" ? ", its conversation goes on" : "");
  }
  // "commented_open": kept as the comment, and the message goes on to the bot or an agent.
  co_return status == "commented" ? outcome::handled : outcome::not_mine;
}

awaitable<void> on_resolved(services& s, std::string conv) {
  if (!s.cfg.csat.enabled) co_return;
  const auto& pre = s.cfg.redis.prefix;
  auto cust = co_await s.redis.exec(store::make_command("HGET", pre + "conv:" + conv, "customer_id"));
  if (!cust || cust->is_nil()) co_return;
  auto lang = co_await customer_language(s, cust->str);
  json buttons = json::array();
  // The same digits as the question above the buttons.
  static const char* const persian[] = {"۱", "۲", "۳", "۴", "۵"};
  for (int i = 1; i <= 5; ++i)
    buttons.push_back({{"id", as::csat_button_id(conv, i)}, {"title", lang == "fa" ? persian[i - 1] : std::to_string(i)}});
  auto r = co_await s.redis.fcall(routing::script(routing::lua::aftersales), store::make_command(),
                                 store::make_command(pre, "ask", std::to_string(now_ms()), conv, texts_for(lang).ask,
                                                     buttons.dump(), std::to_string(s.cfg.csat.window.count()),
                                                     s.cfg.csat.bot_only ? "1" : "0", s.cfg.csat.whatsapp_template,
                                                     s.cfg.csat.whatsapp_template_language));
  if (!r || r->is_error() || r->elements.empty()) {
    spdlog::get("gateway")->warn("conv={} csat ask failed", conv);
    co_return;
  }
  if (r->elements[0].str == "asked") global_metrics().routing_events.inc("csat_asked");
  // WhatsApp after 24 hours without a template configured: not asked, counted.
  if (r->elements[0].str == "outside_window") global_metrics().routing_events.inc("csat_skipped_outside_window");
  spdlog::get("gateway")->debug("conv={} csat: {}", conv, r->elements[0].str);
}

}  // namespace aftersales

void add_aftersales_routes(router& r, services& s) {
  r.add("POST", "/api/v1/admin/customers/import", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto rows = request_rows(req);
    if (auto* err = std::get_if<http_response>(&rows)) co_return *err;
    std::string none;
    auto answer = co_await import_rows(s, std::move(std::get<raw_rows>(rows)), none);
    if (answer.status < 300) audit(std::get<agent>(who).id, "customers.import", "customers");
    co_return answer;
  });

  r.add("POST", "/api/v1/customers/{id}/purchases", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    if (auto err = co_await check_customer(s, std::get<agent>(who), id)) co_return *err;
    auto rows = request_rows(req);
    if (auto* err = std::get_if<http_response>(&rows)) co_return *err;
    co_return co_await import_rows(s, std::move(std::get<raw_rows>(rows)), id);
  });

  r.add("GET", "/api/v1/customers/{id}/purchases", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    if (auto err = co_await check_customer(s, std::get<agent>(who), id)) co_return *err;
    const auto& pre = s.cfg.redis.prefix;
    auto cmds = std::vector<std::vector<std::string>>{
        store::make_command("HVALS", pre + "cust:" + id + ":purchases"),
        store::make_command("HMGET", pre + "cust:" + id, "tags", "opt_out", "opt_out_at", "vip", "language")};
    auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
    if (!rows || rows->size() != 2) co_return unavailable();
    const auto today = as::local_date(*s.cfg.shop_tz, now_ms());
    json list = json::array();
    for (const auto& v : (*rows)[0].elements) {
      auto item = json::parse(v.str, nullptr, false);
      if (!item.is_object()) continue;
      auto end = item.value("warranty_end", std::string{});
      item["warranty"] = as::warranty_status(end, today);
      if (as::valid_date(end)) item["warranty_days_left"] = as::days_from_date(end) - as::days_from_date(today);
      list.push_back(std::move(item));
      if (list.size() >= max_purchases_shown) break;
    }
    std::sort(list.begin(), list.end(), [](const json& a, const json& b) {
      return a.value("purchase_date", "") > b.value("purchase_date", "");
    });
    const auto& h = (*rows)[1].elements;
    auto field = [&](std::size_t i) { return i < h.size() && !h[i].is_nil() ? h[i].str : std::string{}; };
    std::vector<std::string> tags;
    for (std::string_view rest = field(0); !rest.empty();) {
      auto cut = rest.find(',');
      tags.emplace_back(rest.substr(0, cut));
      if (cut == std::string_view::npos) break;
      rest.remove_prefix(cut + 1);
    }
    json out = {{"customer", id},
                {"today", today},
                {"tags", tags},
                {"vip", field(3) == "1"},
                {"language", field(4)},
                {"opt_out", field(1) == "1"},
                {"purchases", std::move(list)}};
    if (field(1) == "1") out["opt_out_at"] = (*rows)[1].elements[2].as_int();
    co_return json_response(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
  });
}

}  // namespace pasokh::gateway
