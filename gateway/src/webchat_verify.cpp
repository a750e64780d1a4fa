#include "pasokh/gateway/webchat_verify.hpp"

#include <spdlog/spdlog.h>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/gateway/password.hpp"
#include "pasokh/gateway/request_checks.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {
namespace {

using boost::asio::awaitable;

constexpr int token_ttl_s = 24 * 3600;
constexpr int visitor_gap_s = 10 * 60;     // one link per visitor in this time
constexpr int address_limit = 3;           // links to one address...
constexpr int address_window_s = 3600;     // ...in this time
constexpr std::size_t token_bytes = 32;    // 256 random bits
constexpr std::string_view actor = "customer:verified_email";  // the merge's `by`
const std::string rlm = "\u200F";

struct mail_words {
  const char* subject;
  const char* why;
  const char* open;
  const char* ignore;
};

mail_words mail_words_in(std::string_view language) {
  if (language == "fa")
    return {"تأیید نشانی ایمیل", "این نشانی ایمیل در گفتگوی وب‌سایت ما وارد شده است.",
            "اگر خودتان آن را وارد کرده‌اید، برای پیوند دادن آن گفتگو به گفتگوهای پیشین‌تان با ما، تا ۲۴ ساعت این "
            "پیوند را باز کنید و تأیید کنید:",
            "اگر شما نبودید، این ایمیل را نادیده بگیرید؛ چیزی پیوند داده نمی‌شود."};
  if (language == "ar")
    return {"تأكيد البريد الإلكتروني", "أُدخل عنوان البريد هذا في المحادثة على موقعنا.",
            "إذا كنت أنت من أدخله، فافتح هذا الرابط خلال ٢٤ ساعة وأكّد لربط تلك المحادثة بمحادثاتك السابقة معنا:",
            "إن لم تكن أنت، فتجاهل هذه الرسالة؛ لن يُربط شيء."};
  return {"Confirm your email address", "This email address was given in the chat on our website.",
          "If that was you, open this link within 24 hours and confirm, to connect that chat with your earlier "
          "conversations with us:",
          "If it was not you, ignore this email: nothing will be connected."};
}


const customer_page_texts& page_texts_in(std::string_view language) {
  static const customer_page_texts en{
      "Confirm your email",
      "Connect the chat on our website with your earlier conversations with us? Confirm only if you gave this "
      "address in the chat yourself.",
      "Confirm", "Thank you, your email address is confirmed. You can go back to the chat.",
      "This link is not valid or has expired. Give your email in the chat again to get a new one."};
  static const customer_page_texts fa{
      "تأیید ایمیل",
      "گفتگوی وب‌سایت به گفتگوهای پیشین شما با ما پیوند داده شود؟ تنها اگر خودتان این نشانی را در گفتگو وارد "
      "کرده‌اید تأیید کنید.",
      "تأیید", "سپاس، نشانی ایمیل شما تأیید شد. می‌توانید به گفتگو برگردید.",
      "این پیوند معتبر نیست یا منقضی شده است. برای پیوندی تازه، ایمیل خود را دوباره در گفتگو وارد کنید."};
  static const customer_page_texts ar{
      "تأكيد البريد الإلكتروني",
      "هل تريد ربط المحادثة على موقعنا بمحادثاتك السابقة معنا؟ أكّد فقط إذا كنت أنت من أدخل هذا العنوان في "
      "المحادثة.",
      "تأكيد", "شكرًا لك، تم تأكيد بريدك الإلكتروني. يمكنك العودة إلى المحادثة.",
      "هذا الرابط غير صالح أو انتهت صلاحيته. أدخل بريدك الإلكتروني في المحادثة مجددًا للحصول على رابط جديد."};
  if (language == "fa") return fa;
  if (language == "ar") return ar;
  return en;
}

http_response page(unsigned status, std::string_view language, std::string_view message, bool with_button) {
  const auto& t = page_texts_in(language);
  return customer_page(status, language, t.title, message, with_button ? t.button : "");
}

http_response unknown_link(std::string_view language) {
  global_metrics().errors.inc("webchat_verify_unknown");
  return page(404, language, page_texts_in(language).unknown, false);
}

http_response unavailable_page() { return page(503, "", "Please try again in a minute.", false); }

// The record of a token, by its hash: the stored key is useless to a reader
// of Redis, and no token is compared byte by byte here.
std::string record_id(const std::string& token) { return connectors::sha256_hex(token); }

// GET: the page asks; nothing changes.
awaitable<http_response> ask(services& s, const std::string& token) {
  auto r = co_await s.redis.exec(
      store::make_command("HGET", s.cfg.redis.prefix + "webchat:verify:" + record_id(token), "language"));
  if (!r || r->is_error()) co_return unavailable_page();
  if (r->is_nil()) co_return unknown_link("");
  co_return page(200, r->str, page_texts_in(r->str).ask, true);
}

// POST: the token is used up and the visitor linked, in one script.
awaitable<http_response> confirm(services& s, const std::string& token) {
  auto r = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(),
                                  store::make_command(s.cfg.redis.prefix, "verify", std::to_string(routing::now_ms()),
                                                      record_id(token), std::string(actor)));
  if (!r || r->is_error() || r->elements.empty()) co_return unavailable_page();
  const auto& e = r->elements;
  if (e[0].str == "not_found" || e.size() < 2) co_return unknown_link("");
  global_metrics().routing_events.inc("email_verified");
  if (e[0].str == "merged" && e.size() > 4)
    spdlog::get("gateway")->info("a web chat visitor confirmed their email: customer={} merged into customer={} ({})",
                                 e[3].str, e[2].str, e[4].str);
  co_return page(200, e[1].str, page_texts_in(e[1].str).done, false);
}

awaitable<http_response> answer(services& s, const std::string& token, bool confirmed) {
  // A base64url token of token_bytes; anything else was never ours.
  if (!plain_id(token) || token.size() != (token_bytes * 4 + 2) / 3) co_return unknown_link("");
  // Not `if (…) co_return co_await …;` followed by more: GCC 12 miscompiles it.
  http_response res;
  if (confirmed) res = co_await confirm(s, token);
  else res = co_await ask(s, token);
  co_return res;
}

}  // namespace

verification_mail verification_mail_in(std::string_view language, std::string_view link) {
  const bool rtl = language == "fa" || language == "ar";
  const auto words = mail_words_in(language);
  auto ours = [&](std::string_view line) { return (rtl ? rlm : std::string()) + std::string(line) + "\n"; };
  return {words.subject, ours(words.why) + "\n" + ours(words.open) + std::string(link) + "\n\n" + ours(words.ignore)};
}

awaitable<store::result<bool>> request_email_verification(services& s, const verification_request& r) {
  // result<bool> is not built from a bool or an error_code implicitly (bool is constructible from both).
  using out = store::result<bool>;
  if (r.mail_channel.empty() || s.cfg.public_url.empty() || r.key.empty()) co_return out(boost::system::in_place_value, false);
  const auto token = random_token(token_bytes);
  const auto mail = verification_mail_in(r.language, s.cfg.public_url + "/webchat/verify/" + token);
  auto res = co_await s.redis.fcall(
      routing::script(routing::lua::webchat_verify), store::make_command(),
      store::make_command(s.cfg.redis.prefix, std::to_string(routing::now_ms()), r.channel, r.visitor, r.email, r.key,
                          r.language, record_id(token), std::to_string(token_ttl_s), std::to_string(visitor_gap_s),
                          std::to_string(address_limit), std::to_string(address_window_s), r.mail_channel, mail.subject,
                          mail.text));
  if (!res) co_return out(boost::system::in_place_error, res.error());
  if (res->is_error() || res->elements.empty())
    co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  const bool sent = res->elements[0].str == "sent";
  if (sent) global_metrics().routing_events.inc("email_verification_sent");
  else global_metrics().errors.inc("webchat_verify_rate_limited");
  co_return out(boost::system::in_place_value, sent);
}

void add_webchat_verify_routes(router& r, services& s) {
  r.add("GET", "/webchat/verify/{token}", [&s](const http_request&, const route_params& p) -> awaitable<http_response> {
    co_return co_await answer(s, p.at("token"), false);
  });
  r.add("POST", "/webchat/verify/{token}", [&s](const http_request&, const route_params& p) -> awaitable<http_response> {
    co_return co_await answer(s, p.at("token"), true);
  });
}

}  // namespace pasokh::gateway
