// The one-click unsubscribe link of campaign mail (RFC 8058): GET shows a page
// asking to confirm (mail scanners open links; a GET never opts out), POST
// opts the customer out of campaigns. A mail client's one-click POST and the
// page's button send the same form. State: aftersales.lua "unsubscribe".
#include <spdlog/spdlog.h>

#include "pasokh/gateway/campaigns.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {
namespace {

using boost::asio::awaitable;

const customer_page_texts& texts_in(std::string_view language) {
  static const customer_page_texts en{"Unsubscribe",
                                      "Stop receiving our news, reminders and greetings? Answers to your own questions still reach you.",
                                      "Unsubscribe", "You are unsubscribed. We will not send you these messages again.",
                                      "This link is not valid. To stop our messages, reply \"stop\" to one of them."};
  static const customer_page_texts fa{"لغو دریافت پیام‌ها",
                                      "دیگر خبرها، یادآوری‌ها و تبریک‌های ما را دریافت نکنید؟ پاسخ پرسش‌های شما همچنان می‌رسد.",
                                      "لغو دریافت", "لغو دریافت انجام شد. دیگر این پیام‌ها را برایتان نمی‌فرستیم.",
                                      "این پیوند معتبر نیست. برای لغو دریافت، به یکی از پیام‌های ما «لغو» را پاسخ دهید."};
  static const customer_page_texts ar{"إلغاء الاشتراك",
                                      "هل تريد التوقف عن تلقي أخبارنا وتذكيراتنا وتهانينا؟ ستصلك الردود على أسئلتك كما هي.",
                                      "إلغاء الاشتراك", "تم إلغاء اشتراكك. لن نرسل إليك هذه الرسائل مرة أخرى.",
                                      "هذا الرابط غير صالح. لإيقاف رسائلنا أرسل «إلغاء» ردًا على إحداها."};
  if (language == "fa") return fa;
  if (language == "ar") return ar;
  return en;
}

http_response page(unsigned status, std::string_view language, std::string_view message, bool with_button) {
  const auto& t = texts_in(language);
  // The same form as a mail client's one-click POST (RFC 8058).
  return customer_page(status, language, t.title, message, with_button ? t.button : "",
                       "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">");
}

awaitable<http_response> answer(services& s, const std::string& token, bool confirm) {
  if (!plain_id(token)) {
    global_metrics().errors.inc("unsubscribe_unknown");
    co_return page(404, "", texts_in("").unknown, false);
  }
  auto r = co_await s.redis.fcall(routing::script(routing::lua::aftersales), store::make_command(),
                                  store::make_command(s.cfg.redis.prefix, "unsubscribe", std::to_string(routing::now_ms()),
                                                      token, confirm ? "1" : "0"));
  if (!r || r->is_error() || r->elements.empty()) co_return page(503, "", "Please try again in a minute.", false);
  const auto& e = r->elements;
  const std::string language = e.size() > 1 ? e[1].str : std::string();
  const auto& t = texts_in(language);
  if (e[0].str == "not_found") {
    global_metrics().errors.inc("unsubscribe_unknown");
    co_return page(404, language, t.unknown, false);
  }
  if (e[0].str == "subscribed") co_return page(200, language, t.ask, true);
  if (e[0].str == "opted_out") {
    global_metrics().routing_events.inc("opt_out");
    spdlog::get("gateway")->info("a customer unsubscribed by the link in a campaign mail");
  }
  co_return page(200, language, t.done, false);
}

}  // namespace

void add_unsubscribe_routes(router& r, services& s) {
  r.add("GET", "/unsubscribe/{token}", [&s](const http_request&, const route_params& p) -> awaitable<http_response> {
    co_return co_await answer(s, p.at("token"), false);
  });
  r.add("POST", "/unsubscribe/{token}", [&s](const http_request&, const route_params& p) -> awaitable<http_response> {
    co_return co_await answer(s, p.at("token"), true);
  });
}

}  // namespace pasokh::gateway
