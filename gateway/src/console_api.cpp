#include "pasokh/gateway/console_api.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/audit.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/caller.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/proto/split.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/proto/utf8.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {

using routing::now_ms;
namespace {

using boost::asio::awaitable;
using nlohmann::json;

constexpr std::size_t max_note_bytes = 40'000;  // 10,000 characters of up to 4 bytes
constexpr std::size_t max_id_chars = 128;
constexpr std::size_t max_labels = 20;
constexpr std::size_t max_customer_conversations = 100;
constexpr std::size_t max_canned = 500;
constexpr std::size_t max_canned_text = 4'000;

http_response bad_field(std::string_view field, std::string_view what) {
  return reject(400, "invalid_field", std::string(field) + ": " + std::string(what));
}


// The caller may act on the conversation (access_to). Returns the error to answer, if any.
awaitable<std::optional<http_response>> check_conversation(services& s, const agent& a, const std::string& conv) {
  if (conv.empty() || conv.size() > max_id_chars) co_return bad_field("conversation", "not a conversation id");
  auto access = co_await access_to(s, a, conv);
  switch (access) {
    case conversation_access::allowed: co_return std::nullopt;
    case conversation_access::not_found: co_return reject(404, "not_found", "no conversation " + conv);
    case conversation_access::forbidden: co_return reject(403, "forbidden", "the conversation is not in your teams");
    case conversation_access::unavailable: break;
  }
  co_return unavailable();
}


// The labels of a request field: an array of valid labels, or an error.
std::variant<std::string, http_response> label_list(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::string{};
  if (!it->is_array() || it->size() > max_labels) return bad_field(key, "an array of at most 20 labels");
  std::set<std::string> labels;
  for (const auto& v : *it) {
    auto label = v.is_string() ? clean_label(v.get<std::string>()) : std::string{};
    if (label.empty()) return bad_field(key, "labels are 1 to 32 characters, without commas or control characters");
    labels.insert(std::move(label));
  }
  std::string csv;
  for (const auto& l : labels) csv += (csv.empty() ? "" : ",") + l;
  return csv;
}

json canned_item(const json& in, const std::string& id) {
  return {{"id", id}, {"shortcut", in.value("shortcut", "")}, {"title", in.value("title", "")},
          {"text", in.value("text", "")}};
}

// Validates a canned response body; fills `out` or returns the error.
std::optional<http_response> canned_from(const json& j, json& out) {
  auto shortcut = j.value("shortcut", std::string{});
  auto title = j.value("title", std::string{});
  auto text = j.value("text", std::string{});
  if (!valid_shortcut(shortcut)) return bad_field("shortcut", "1 to 32 of a-z, 0-9, _ and -");
  if (title.size() > 200) return bad_field("title", "at most 200 bytes");
  if (text.empty() || text.size() > max_canned_text) return bad_field("text", "required, at most 4000 bytes");
  out = {{"shortcut", shortcut}, {"title", title.empty() ? shortcut : title}, {"text", text}};
  return std::nullopt;
}

awaitable<store::result<std::vector<json>>> load_canned(services& s) {
  auto r = co_await s.redis.exec(store::make_command("HGETALL", s.cfg.redis.prefix + "canned"));
  if (!r) co_return r.error();
  std::vector<json> out;
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    auto item = json::parse(r->elements[i + 1].str, nullptr, false);
    if (item.is_object()) out.push_back(canned_item(item, r->elements[i].str));
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) { return a["shortcut"] < b["shortcut"]; });
  co_return out;
}

// A shortcut is unique: the id holding it, if another one does.
bool shortcut_taken(const std::vector<json>& all, const std::string& shortcut, const std::string& except_id) {
  return std::any_of(all.begin(), all.end(),
                     [&](const json& c) { return c["shortcut"] == shortcut && c["id"] != except_id; });
}

// An erased file (routing/src/lua/erase.lua) takes no personal data again:
// the person is a new customer now (customer_edit.lua refuses it).
http_response refuse_erased(const std::string& id) {
  return reject(409, "erased", "customer " + id + " was erased; their file takes no new data");
}

// An agent's change to the file (customer_edit.lua): its answer's first word.
awaitable<store::result<std::string>> edit_customer(services& s, std::vector<std::string> args) {
  auto r = co_await s.redis.fcall(routing::script(routing::lua::customer_edit), store::make_command(), std::move(args));
  if (!r) co_return r.error();
  if (r->is_error() || r->elements.empty()) co_return make_error_code(store::redis_errc::server_error);
  co_return r->elements[0].str;
}

}  // namespace

// The teams of each customer's (last 100) conversations, nullopt for one
// that does not exist: two pipelined round trips however many customers.
using teams_of_customer = std::optional<std::set<std::string>>;
awaitable<store::result<std::vector<teams_of_customer>>> customers_teams(services& s, const std::vector<std::string>& ids) {
  const auto& pre = s.cfg.redis.prefix;
  std::vector<std::vector<std::string>> heads;
  for (const auto& id : ids) {
    heads.push_back(store::make_command("EXISTS", pre + "cust:" + id));
    heads.push_back(
        store::make_command("LRANGE", pre + "cust:" + id + ":conversations", "-" + std::to_string(max_customer_conversations), "-1"));
  }
  auto head = co_await s.redis.exec_pipeline(std::move(heads));
  if (!head) co_return head.error();
  std::vector<teams_of_customer> out(ids.size());
  std::vector<std::vector<std::string>> team_reads;
  std::vector<std::size_t> read_for;  // the customer each team read is for
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if ((*head)[2 * i].integer == 0) continue;
    out[i].emplace();
    for (const auto& c : (*head)[2 * i + 1].elements) {
      team_reads.push_back(store::make_command("HGET", pre + "conv:" + c.str, "team"));
      read_for.push_back(i);
    }
  }
  if (!team_reads.empty()) {
    auto rows = co_await s.redis.exec_pipeline(std::move(team_reads));
    if (!rows) co_return rows.error();
    for (std::size_t k = 0; k < rows->size(); ++k)
      if (const auto& t = (*rows)[k]; !t.is_nil() && !t.str.empty()) out[read_for[k]]->insert(t.str);
  }
  co_return out;
}

// Admins reach every customer; an agent the customers with a conversation
// in one of its teams.
bool may_open_file(const agent& a, const std::set<std::string>& customer_teams) {
  return a.role == "admin" ||
         std::any_of(customer_teams.begin(), customer_teams.end(), [&](const std::string& t) { return may_see_team(a, t); });
}

// check_customer: the error to answer, if any.
awaitable<std::optional<http_response>> check_customer(services& s, const agent& a, const std::string& id,
                                                       std::set<std::string>* teams_out) {
  if (id.empty() || id.size() > max_id_chars) co_return bad_field("id", "not a customer id");
  const std::vector<std::string> ids{id};  // named: GCC 12 miscompiles a braced temporary in co_await
  auto found = co_await customers_teams(s, ids);
  if (!found) co_return unavailable();
  auto& teams = found->front();
  if (!teams) co_return reject(404, "not_found", "no customer " + id);
  if (!may_open_file(a, *teams)) co_return reject(403, "forbidden", "the customer has no conversation in your teams");
  if (teams_out) *teams_out = std::move(*teams);
  co_return std::nullopt;
}

// Tells the consoles of every team that has a conversation with the customer
// that the file changed (a seq-less `customer` frame, like delivery marks).
// The header names no customer, so customer-facing sessions never see it.
awaitable<void> publish_customer_changed(services& s, const std::string& id, const std::string& actor,
                                         const std::set<std::string>& teams) {
  const auto& pre = s.cfg.redis.prefix;
  auto frame = json{{"type", "customer"}, {"customer", id}, {"actor", actor}, {"at", now_ms()}}.dump();
  for (const auto& team : teams) {
    auto header = json{{"team", team}, {"conv", ""}, {"customer", ""}, {"seq", 0}, {"assignee", ""}}.dump();
    co_await s.redis.exec(store::make_command("PUBLISH", pre + "events", header + "\n" + frame));
  }
}

std::string clean_label(std::string_view raw) {
  auto first = raw.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  raw = raw.substr(first, raw.find_last_not_of(" \t") - first + 1);
  if (!proto::valid_utf8(raw)) return {};
  std::size_t chars = 0;
  for (unsigned char c : raw) {
    if (c < 0x20 || c == 0x7f || c == ',') return {};
    if ((c & 0xC0) != 0x80) ++chars;
  }
  if (chars == 0 || chars > 32) return {};
  return std::string(raw);
}

bool valid_shortcut(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void add_console_routes(router& r, services& s) {
  // --- private notes ---------------------------------------------------------
  r.add("POST", "/api/v1/conversations/{conv}/notes",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& a = std::get<agent>(who);
          const auto& conv = p.at("conv");
          if (auto err = co_await check_conversation(s, a, conv)) co_return *err;
          auto body = json_body(req);
          if (auto* err = std::get_if<http_response>(&body)) co_return *err;
          const auto& j = std::get<json>(body);
          auto text = j.value("text", std::string{});
          auto client_id = client_id_of(j);
          if (text.find_first_not_of(" \t\r\n") == std::string::npos || text.size() > max_note_bytes)
            co_return bad_field("text", "required, at most 10000 characters");
          if (client_id.size() > max_id_chars) co_return bad_field("client_id", "at most 128 characters");
          auto stored = co_await s.redis.fcall(
              routing::script(routing::lua::note), store::make_command(),
              store::make_command(s.cfg.redis.prefix, conv, a.id, a.name, client_id, text, std::to_string(now_ms())));
          if (!stored || stored->is_error() || stored->elements.empty()) co_return unavailable();
          const auto& status = stored->elements[0].str;
          if (status == "not_found") co_return reject(404, "not_found", "no conversation " + conv);
          auto seq = stored->elements.size() > 1 ? static_cast<std::uint64_t>(stored->elements[1].as_int()) : 0;
          spdlog::get("gateway")->debug("conv={} note by agent={} seq={}", conv, a.id, seq);
          json out = {{"conv", conv}, {"seq", seq}, {"duplicate", status == "duplicate"}};
          if (!client_id.empty()) out["client_id"] = client_id;
          co_return json_response(status == "duplicate" ? 200 : 201, out.dump());
        });

  // --- labels ------------------------------------------------------------------
  r.add("POST", "/api/v1/conversations/{conv}/labels",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& a = std::get<agent>(who);
          const auto& conv = p.at("conv");
          if (auto err = co_await check_conversation(s, a, conv)) co_return *err;
          auto body = json_body(req);
          if (auto* err = std::get_if<http_response>(&body)) co_return *err;
          const auto& j = std::get<json>(body);
          auto add = label_list(j, "add");
          if (auto* err = std::get_if<http_response>(&add)) co_return *err;
          auto remove = label_list(j, "remove");
          if (auto* err = std::get_if<http_response>(&remove)) co_return *err;
          auto client_id = client_id_of(j);
          if (client_id.size() > max_id_chars) co_return bad_field("client_id", "at most 128 characters");
          auto stored = co_await s.redis.fcall(
              routing::script(routing::lua::labels), store::make_command(),
              store::make_command(s.cfg.redis.prefix, conv, a.id, client_id, std::to_string(now_ms()),
                                  std::to_string(max_labels), std::get<std::string>(add), std::get<std::string>(remove)));
          if (!stored || stored->is_error() || stored->elements.empty()) co_return unavailable();
          const auto& status = stored->elements[0].str;
          if (status == "not_found") co_return reject(404, "not_found", "no conversation " + conv);
          if (status == "too_many") co_return reject(422, "too_many_labels", "a conversation has at most 20 labels");
          auto now = co_await s.redis.exec(store::make_command("HGET", s.cfg.redis.prefix + "conv:" + conv, "labels"));
          json out = {{"conv", conv},
                      {"seq", stored->elements.size() > 1 ? static_cast<std::uint64_t>(stored->elements[1].as_int()) : 0},
                      {"changed", status == "stored"},
                      {"labels", proto::split_nonempty(now && !now->is_nil() ? now->str : "", ',')}};
          co_return json_response(200, out.dump());
        });

  r.add("GET", "/api/v1/labels", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto all = co_await s.redis.exec(store::make_command("SRANDMEMBER", s.cfg.redis.prefix + "labels", "200"));
    if (!all || all->is_error()) co_return unavailable();
    std::vector<std::string> labels;
    for (auto& e : all->elements) labels.push_back(std::move(e.str));
    std::sort(labels.begin(), labels.end());
    co_return json_response(200, json{{"labels", labels}}.dump());
  });

  // --- the customer file -------------------------------------------------------
  r.add("GET", "/api/v1/customers/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& a = std::get<agent>(who);
    const auto& id = p.at("id");
    if (auto err = co_await check_customer(s, a, id)) co_return *err;
    auto file = co_await s.redis.fcall(
        routing::script(routing::lua::customer_file), store::make_command(),
        store::make_command(s.cfg.redis.prefix, id, std::to_string(max_customer_conversations)));
    if (!file || file->is_error()) co_return unavailable();
    if (file->str.empty()) co_return reject(404, "not_found", "no customer " + id);
    auto j = json::parse(file->str, nullptr, false);
    if (!j.is_object()) co_return unavailable();
    auto c = j["customer"];
    json customer = {{"id", c.value("id", id)},
                     {"name", c.value("name", "")},
                     {"language", c.value("language", "")},
                     {"vip", c.value("vip", "0") == "1"},
                     {"notes", c.value("notes", "")},
                     {"created_at", proto::parse_int(c.value("created_at", ""))},
                     {"last_seen_at", proto::parse_int(c.value("last_seen_at", ""))},
                     {"tags", proto::split_nonempty(c.value("tags", ""), ',')},
                     {"birthday", c.value("birthday", "")},
                     {"opt_out", c.value("opt_out", "0") == "1"}};
    // Merged into another file: the console follows it there.
    if (auto into = c.value("merged_into", ""); !into.empty()) customer["merged_into"] = into;
    // Erased on request (privacy.cpp): what is left is the id; `erasing` while
    // its conversations' texts are still being removed.
    if (auto at = proto::parse_int(c.value("erased_at", "")); at > 0) {
      customer["erased_at"] = at;
      customer["erased_by"] = c.value("erased_by", "");
      if (c.contains("erasing")) customer["erasing"] = true;
    }
    if (!j["identities"].is_array()) j["identities"] = json::array();
    json suggestions = json::array();
    if (j["suggestions"].is_array()) {
      // A file the agent may not open (another team's) is not shown through
      // this one either: its name, addresses and numbers stay there.
      std::vector<teams_of_customer> teams(j["suggestions"].size(), teams_of_customer{std::set<std::string>{}});
      if (a.role != "admin") {
        std::vector<std::string> others;
        for (const auto& sg : j["suggestions"]) others.push_back(sg.value("customer", ""));
        auto found = co_await customers_teams(s, others);
        if (!found) co_return unavailable();
        teams = std::move(*found);
      }
      for (std::size_t i = 0; i < teams.size(); ++i) {
        auto& sg = j["suggestions"][i];
        if (!teams[i] || !may_open_file(a, *teams[i])) continue;
        if (!sg["identities"].is_array()) sg["identities"] = json::array();
        suggestions.push_back(std::move(sg));
      }
    }
    customer["suggestions"] = std::move(suggestions);
    customer["merges"] = j["merges"].is_array() ? std::move(j["merges"]) : json::array();
    json conversations = json::array();
    if (j["conversations"].is_array()) {
      for (auto& conv : j["conversations"]) {
        // Agents see their own team's conversations; admins every one.
        if (!may_see_team(a, conv.value("team", ""))) continue;
        auto labels = conv.value("labels", std::string{});
        conv["labels"] = proto::split_nonempty(labels, ',');
        conversations.push_back(std::move(conv));
      }
    }
    customer["identities"] = std::move(j["identities"]);
    json out = {{"customer", std::move(customer)},
                {"conversations", std::move(conversations)},
                {"conversation_count", j.value("conversation_count", 0)}};
    co_return json_response(200, out.dump(-1, ' ', false, json::error_handler_t::replace));
  });

  r.add("PATCH", "/api/v1/customers/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    const auto& id = p.at("id");
    if (id.empty() || id.size() > max_id_chars) co_return bad_field("id", "not a customer id");
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    const auto& j = std::get<json>(body);
    auto cmd = store::make_command("HSET", s.cfg.redis.prefix + "cust:" + id);
    for (auto& [key, value] : j.items()) {
      if (key == "name" || key == "notes") {
        std::size_t max = key == "name" ? 200 : 4000;
        if (!value.is_string() || value.get<std::string>().size() > max)
          co_return bad_field(key, key == "name" ? "a string of at most 200 bytes" : "a string of at most 4000 bytes");
        cmd.push_back(key);
        cmd.push_back(value.get<std::string>());
      } else if (key == "language") {
        if (!value.is_string() || (value != "" && !proto::known_language(value.get<std::string>())))
          co_return bad_field("language", "one of fa, ar, en");
        cmd.push_back(key);
        cmd.push_back(value.get<std::string>());
      } else if (key == "vip") {
        if (!value.is_boolean()) co_return bad_field("vip", "true or false");
        cmd.push_back(key);
        cmd.push_back(value.get<bool>() ? "1" : "0");
      } else if (key == "tags") {
        // Replaces the customer's tags (after-sales audiences, see aftersales_api.cpp).
        auto tags = label_list(j, "tags");
        if (auto* err = std::get_if<http_response>(&tags)) co_return *err;
        cmd.push_back(key);
        cmd.push_back(std::get<std::string>(tags));
      } else if (key == "birthday") {
        // For birthday campaigns (campaigns.hpp); "" clears it.
        if (!value.is_string() || (!value.get<std::string>().empty() && !campaigns::valid_birthday(value.get<std::string>())))
          co_return bad_field("birthday", "YYYY-MM-DD or MM-DD, or \"\" to clear it");
        cmd.push_back(key);
        cmd.push_back(value.get<std::string>());
      } else if (key == "opt_out") {
        // Set by a "stop" reply; an agent clears it when the customer asks again.
        if (!value.is_boolean()) co_return bad_field("opt_out", "true or false");
        cmd.push_back(key);
        cmd.push_back(value.get<bool>() ? "1" : "0");
        cmd.push_back("opt_out_at");
        cmd.push_back(std::to_string(now_ms()));
      } else {
        co_return bad_field(key, "unknown field; name, language, vip, notes, tags, birthday and opt_out can be changed");
      }
    }
    if (cmd.size() == 2) co_return bad_field("body", "nothing to change");
    std::set<std::string> teams;
    if (auto err = co_await check_customer(s, std::get<agent>(who), id, &teams)) co_return *err;
    auto args = store::make_command(s.cfg.redis.prefix, "patch", id, std::to_string(now_ms()), j.contains("name") ? "1" : "0");
    args.insert(args.end(), std::make_move_iterator(cmd.begin() + 2), std::make_move_iterator(cmd.end()));
    auto stored = co_await edit_customer(s, std::move(args));
    if (!stored) co_return unavailable();
    if (*stored == "erased") co_return refuse_erased(id);
    co_await publish_customer_changed(s, id, std::get<agent>(who).id, teams);
    co_return json_response(200, R"({"status":"updated"})");
  });

  // Links another channel identity to the customer (the customer file joins
  // a person's identities on every channel). An identity already linked to
  // someone else is refused (merging two files is not done here).
  r.add("POST", "/api/v1/customers/{id}/identities",
        [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
          auto who = co_await require_agent(s, req, "");
          if (auto* err = std::get_if<http_response>(&who)) co_return *err;
          const auto& id = p.at("id");
          if (id.empty() || id.size() > max_id_chars) co_return bad_field("id", "not a customer id");
          auto body = json_body(req);
          if (auto* err = std::get_if<http_response>(&body)) co_return *err;
          const auto& j = std::get<json>(body);
          const auto* channel = s.cfg.find_channel(j.value("channel", std::string{}));
          if (!channel) co_return bad_field("channel", "a configured channel id");
          auto external = j.value("external_id", std::string{});
          if (external.empty() || external.size() > max_id_chars || !proto::valid_utf8(external) ||
              external.find_first_of("\r\n") != std::string::npos)
            co_return bad_field("external_id", "1 to 128 bytes");
          auto display = j.value("display_name", std::string{});
          if (display.size() > 200) co_return bad_field("display_name", "at most 200 bytes");
          const auto& pre = s.cfg.redis.prefix;
          std::set<std::string> teams;
          if (auto err = co_await check_customer(s, std::get<agent>(who), id, &teams)) co_return *err;
          json ident = {{"channel", channel->id}, {"kind", std::string(proto::to_string(channel->kind))}, {"external_id", external},
                        {"display_name", display}};
          auto linked = co_await s.redis.fcall(
              routing::script(routing::lua::customer_edit), store::make_command(),
              store::make_command(pre, "identity", id, std::to_string(now_ms()), channel->id, external, ident.dump()));
          if (!linked || linked->is_error() || linked->elements.empty()) co_return unavailable();
          const auto& a = linked->elements;
          if (a[0].str == "erased") co_return refuse_erased(id);
          if (a[0].str == "taken") co_return reject(409, "conflict", "this identity belongs to customer " + a[1].str);
          co_await publish_customer_changed(s, id, std::get<agent>(who).id, teams);
          co_return json_response(a.size() > 1 && a[1].str == "1" ? 201 : 200, ident.dump());
        });

  add_customer_link_routes(r, s);

  // --- canned responses --------------------------------------------------------
  r.add("GET", "/api/v1/canned", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto all = co_await load_canned(s);
    if (!all) co_return unavailable();
    co_return json_response(200, json{{"canned", *all}}.dump(-1, ' ', false, json::error_handler_t::replace));
  });

  r.add("POST", "/api/v1/admin/canned", [&s](const http_request& req, const route_params&) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    json item;
    if (auto err = canned_from(std::get<json>(body), item)) co_return *err;
    auto all = co_await load_canned(s);
    if (!all) co_return unavailable();
    if (all->size() >= max_canned) co_return reject(422, "too_many", "at most 500 canned responses");
    if (shortcut_taken(*all, item["shortcut"], ""))
      co_return reject(409, "conflict", "the shortcut /" + item["shortcut"].get<std::string>() + " is taken");
    auto n = co_await s.redis.exec(store::make_command("INCR", s.cfg.redis.prefix + "next:canned"));
    if (!n || n->is_error()) co_return unavailable();
    auto id = "cr_" + std::to_string(n->integer);
    auto stored = co_await s.redis.exec(store::make_command("HSET", s.cfg.redis.prefix + "canned", id, item.dump()));
    if (!stored || stored->is_error()) co_return unavailable();
    audit(std::get<agent>(who).id, "canned.create", id);
    co_return json_response(201, canned_item(item, id).dump());
  });

  r.add("PUT", "/api/v1/admin/canned/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto body = json_body(req);
    if (auto* err = std::get_if<http_response>(&body)) co_return *err;
    json item;
    if (auto err = canned_from(std::get<json>(body), item)) co_return *err;
    const auto& id = p.at("id");
    auto all = co_await load_canned(s);
    if (!all) co_return unavailable();
    if (std::none_of(all->begin(), all->end(), [&](const json& c) { return c["id"] == id; }))
      co_return reject(404, "not_found", "no canned response " + id);
    if (shortcut_taken(*all, item["shortcut"], id))
      co_return reject(409, "conflict", "the shortcut /" + item["shortcut"].get<std::string>() + " is taken");
    auto stored = co_await s.redis.exec(store::make_command("HSET", s.cfg.redis.prefix + "canned", id, item.dump()));
    if (!stored || stored->is_error()) co_return unavailable();
    audit(std::get<agent>(who).id, "canned.update", id);
    co_return json_response(200, canned_item(item, id).dump());
  });

  r.add("DELETE", "/api/v1/admin/canned/{id}", [&s](const http_request& req, const route_params& p) -> awaitable<http_response> {
    auto who = co_await require_agent(s, req, "admin");
    if (auto* err = std::get_if<http_response>(&who)) co_return *err;
    auto removed = co_await s.redis.exec(store::make_command("HDEL", s.cfg.redis.prefix + "canned", p.at("id")));
    if (!removed || removed->is_error()) co_return unavailable();
    if (removed->integer == 0) co_return reject(404, "not_found", "no canned response " + p.at("id"));
    audit(std::get<agent>(who).id, "canned.delete", p.at("id"));
    co_return json_response(200, R"({"status":"deleted"})");
  });
}

}  // namespace pasokh::gateway
