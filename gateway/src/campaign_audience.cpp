#include "pasokh/gateway/campaign_audience.hpp"

#include <map>
#include <set>

#include <fmt/format.h>

#include "pasokh/proto/split.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway::campaigns {
namespace {

using boost::asio::awaitable;
using nlohmann::json;

constexpr std::int64_t preview_batch = 100;  // customer files per script call (campaign_api.cpp: measured)
constexpr std::size_t preview_samples = 5;
constexpr std::int64_t forecast_days = 30;  // a recurring campaign's preview also counts the days ahead

using plans = std::vector<std::pair<std::string, std::string>>;  // { outcome, channel } per customer

customer_facts facts_of(const std::vector<store::reply>& fields, const std::vector<store::reply>* purchases) {
  customer_facts facts;
  facts.id = fields[0].str;
  facts.name = fields[1].str;
  facts.language = fields[2].str;
  facts.tags = proto::split_nonempty(fields[3].str, ',');
  facts.birthday = fields[4].str;
  if (purchases)
    for (std::size_t i = 0; i + 1 < purchases->size(); i += 2) {
      auto item = json::parse((*purchases)[i + 1].str, nullptr, false);
      if (!item.is_object()) continue;
      facts.purchases.push_back({(*purchases)[i].str, item.value("order_id", ""), item.value("product", ""),
                                 item.value("serial", ""), item.value("purchase_date", ""), item.value("warranty_end", "")});
    }
  return facts;
}

// campaign.lua "preview": { outcome, channel } per customer, in order.
awaitable<std::optional<plans>> plan_sends(
    services& s, const definition& d, const std::string& channels, const std::vector<std::string>& customers) {
  auto args = store::make_command(s.cfg.redis.prefix, "preview", std::to_string(routing::now_ms()), channels,
                                  d.who.channels.empty() ? "0" : "1",
                                  d.whatsapp_template ? d.whatsapp_template->name : std::string(),
                                  std::to_string(messaging_window.count()));
  args.insert(args.end(), customers.begin(), customers.end());
  auto r = co_await s.redis.fcall(routing::script(routing::lua::campaign), store::make_command(), std::move(args));
  if (!r || r->is_error() || r->elements.size() != customers.size()) co_return std::nullopt;
  plans out;
  for (const auto& e : r->elements)
    out.emplace_back(e.elements.empty() ? "" : e.elements[0].str, e.elements.size() > 1 ? e.elements[1].str : "");
  co_return out;
}

}  // namespace

std::string channels_for(const config& cfg, const definition& d) {
  std::string out;
  for (const auto& ch : cfg.channels) {
    if (!d.who.channels.empty() && std::find(d.who.channels.begin(), d.who.channels.end(), ch.id) == d.who.channels.end())
      continue;
    if (!out.empty()) out += ',';
    out += fmt::format("{}:{}:{}", ch.id, proto::to_string(ch.kind), ch.team);
  }
  return out;
}

awaitable<std::optional<std::int64_t>> customer_count(services& s) {
  auto last = co_await s.redis.exec(store::make_command("GET", s.cfg.redis.prefix + "next:customer"));
  if (!last || last->is_error()) co_return std::nullopt;
  co_return last->as_int();
}

awaitable<std::optional<std::vector<planned_message>>> messages_due(services& s, const definition& d, std::int64_t from,
                                                                    std::int64_t to, std::vector<upcoming_message>* upcoming) {
  const bool purchases = d.kind == "follow_up" || d.kind == "warranty_ending" || !d.who.products.empty();
  std::vector<std::vector<std::string>> cmds;
  for (auto i = from + 1; i <= to; ++i) {
    auto key = s.cfg.redis.prefix + "cust:cu_" + std::to_string(i);
    cmds.push_back(store::make_command("HMGET", key, "id", "name", "language", "tags", "birthday", "merged_into"));
    if (purchases) cmds.push_back(store::make_command("HGETALL", key + ":purchases"));
  }
  std::vector<planned_message> out;
  if (cmds.empty()) co_return out;
  auto rows = co_await s.redis.exec_pipeline(std::move(cmds));
  if (!rows) co_return std::nullopt;
  const auto today = local_day(*s.cfg.shop_tz, routing::now_ms());
  const std::size_t step = purchases ? 2 : 1;
  for (std::size_t k = 0; k + step - 1 < rows->size(); k += step) {
    const auto& h = (*rows)[k].elements;
    if (h.size() != 6 || h[0].is_nil() || !h[5].is_nil()) continue;  // no such file, or merged into another
    auto facts = facts_of(h, purchases ? &(*rows)[k + 1].elements : nullptr);
    for (auto& t : targets_for(d, facts, today)) {
      planned_message m{facts.id, t.member, facts.name, {}, {}, {}, today};
      // The text first: it says which language the placeholders are filled in
      // (an argument beside it could be read before it is set).
      const auto text = pick_text(d, facts.language, s.cfg.campaigns.language_fallback, &m.language);
      m.text = render(text, d, facts, t, m.language);
      if (d.whatsapp_template)
        for (const auto& param : d.whatsapp_template->params)
          m.template_params.push_back(render(param, d, facts, t, m.language));
      out.push_back(std::move(m));
    }
    if (upcoming)
      for (const auto& t : targets_between(d, facts, today + 1, today + forecast_days, today))
        upcoming->push_back({facts.id, t.day});
  }
  co_return out;
}

awaitable<std::optional<json>> preview(services& s, const definition& d, std::chrono::milliseconds budget) {
  auto total = co_await customer_count(s);
  if (!total) co_return std::nullopt;
  const auto channels = channels_for(s.cfg, d);
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const bool every_day = recurring(d);
  std::int64_t looked_at = 0, messages = 0, customers = 0, upcoming_messages = 0;
  std::map<std::string, std::int64_t> by_channel, skipped, upcoming_by_day;
  json samples = json::array();
  while (looked_at < *total && std::chrono::steady_clock::now() < deadline) {
    const auto to = std::min(*total, looked_at + preview_batch);
    std::vector<upcoming_message> upcoming;
    auto due = co_await messages_due(s, d, looked_at, to, every_day ? &upcoming : nullptr);
    if (!due) co_return std::nullopt;
    looked_at = to;
    // The plan depends on the customer only (a purchase campaign may have
    // several messages for one): each customer is planned once, for today
    // and the days ahead together.
    std::vector<std::string> who;
    std::map<std::string, std::size_t> slot;  // customer -> its place in `who` (and in the plans)
    auto list = [&](const std::string& customer) {
      if (slot.emplace(customer, who.size()).second) who.push_back(customer);
    };
    for (const auto& m : *due) list(m.customer);
    const auto due_customers = who.size();
    for (const auto& m : upcoming) list(m.customer);
    if (who.empty()) continue;
    auto planned = co_await plan_sends(s, d, channels, who);
    if (!planned) co_return std::nullopt;
    auto plan_of = [&](const std::string& customer) -> const auto& { return (*planned)[slot.at(customer)]; };
    for (std::size_t i = 0; i < due_customers; ++i)
      if ((*planned)[i].first == "queued") ++customers;
    std::set<std::string> seen;  // one message a day per customer (campaign.lua "later")
    for (const auto& m : *due) {
      if (!seen.insert(m.customer).second) continue;
      const auto& [outcome, channel] = plan_of(m.customer);
      if (outcome == "not_audience") continue;  // not on the campaign's channels
      if (outcome != "queued") {
        ++skipped[outcome.starts_with("skipped_") ? outcome.substr(8) : outcome];
        continue;
      }
      ++messages;
      ++by_channel[channel];
      if (samples.size() < preview_samples)
        samples.push_back({{"customer_id", m.customer}, {"name", m.name}, {"channel", channel},
                           {"language", m.language}, {"text", m.text}});
    }
    // The days ahead, as the customers' files and opt-outs stand now.
    for (const auto& m : upcoming) {
      if (plan_of(m.customer).first != "queued") continue;
      ++upcoming_messages;
      ++upcoming_by_day[date_string(m.day)];
    }
  }
  json answer{{"messages", messages},
              {"customers", customers},
              {"by_channel", by_channel},
              {"skipped", skipped},
              {"samples", samples},
              {"files_looked_at", looked_at},
              {"files_total", *total},
              {"complete", looked_at >= *total}};
  if (every_day) answer["upcoming"] = {{"days", forecast_days}, {"messages", upcoming_messages}, {"by_day", upcoming_by_day}};
  co_return answer;
}

}  // namespace pasokh::gateway::campaigns
