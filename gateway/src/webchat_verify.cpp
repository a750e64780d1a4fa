#include "pasokh/gateway/webchat_verify.hpp"

#include <openssl/rand.h>

#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pasokh/connectors/common/crypto.hpp"
#include "pasokh/gateway/metrics.hpp"
#include "pasokh/routing/clock.hpp"
#include "pasokh/routing/lua_script.hpp"

namespace pasokh::gateway {
namespace {

using boost::asio::awaitable;

constexpr int code_ttl_s = 30 * 60;
constexpr int max_tries = 5;               // wrong codes before the code is void
constexpr int visitor_gap_s = 10 * 60;     // one code per visitor in this time
constexpr int wrong_codes_a_day = 10;      // wrong codes typed for one address, then no more codes to it that day
constexpr int address_limit = 3;           // codes to one address...
constexpr int address_window_s = 3600;     // ...in this time
constexpr std::string_view actor = "customer:verified_email";  // the merge's `by`
const std::string rlm = "\u200F";

struct mail_words {
  const char* subject;
  const char* why;     // ends where the code's line follows
  const char* secret;  // only in that chat, to nobody, staff never ask; how long
  const char* ignore;
};

mail_words mail_words_in(std::string_view language) {
  if (language == "fa")
    return {"تأیید نشانی ایمیل",
            "این نشانی ایمیل در گفتگوی وب‌سایت ما وارد شده است. برای تأیید آن، این کد را در همان گفتگو وارد کنید:",
            "این کد را فقط در گفتگوی وب‌سایت ما وارد کنید و هرگز آن را به کسی ندهید؛ همکاران ما هیچ‌گاه آن را از شما "
            "نمی‌خواهند. کد تا ۳۰ دقیقه معتبر است.",
            "اگر شما آن را نخواسته‌اید، این ایمیل را نادیده بگیرید؛ چیزی پیوند داده نمی‌شود."};
  if (language == "ar")
    return {"تأكيد البريد الإلكتروني",
            "أُدخل عنوان البريد هذا في المحادثة على موقعنا. لتأكيده، اكتب هذا الرمز في تلك المحادثة:",
            "اكتبه فقط في المحادثة على موقعنا ولا تعطه لأي أحد أبدًا؛ لن يطلبه منك موظفونا أبدًا. الرمز صالح لمدة ٣٠ "
            "دقيقة.",
            "إن لم تطلبه، فتجاهل هذه الرسالة؛ لن يُربط شيء."};
  return {"Confirm your email address",
          "This email address was given in the chat on our website. To confirm it, type this code into that chat:",
          "Type it only into the chat on our website and never give it to anyone: our staff will never ask you for "
          "it. It is valid for 30 minutes.",
          "If you did not ask for it, ignore this email: nothing will be connected."};
}

// The page of a link mailed before codes (24 h links): it links nothing now.
struct link_page_texts {
  const char* title;
  const char* message;
};

const link_page_texts& link_page_in(std::string_view language) {
  static const link_page_texts en{
      "Confirm your email",
      "Email addresses are now confirmed with a code. Give your email in the chat on our website again: we will "
      "mail you a code to type there."};
  static const link_page_texts fa{
      "تأیید ایمیل",
      "نشانی‌های ایمیل اکنون با یک کد تأیید می‌شوند. ایمیل خود را دوباره در گفتگوی وب‌سایت ما وارد کنید تا کدی "
      "برایتان بفرستیم که همان‌جا وارد کنید."};
  static const link_page_texts ar{
      "تأكيد البريد الإلكتروني",
      "يُؤكَّد البريد الإلكتروني الآن برمز. أدخل بريدك الإلكتروني مجددًا في المحادثة على موقعنا وسنرسل إليك رمزًا "
      "لتكتبه هناك."};
  if (language == "fa") return fa;
  if (language == "ar") return ar;
  return en;
}

// The browser's first language, when it is one the page speaks.
std::string_view page_language(const http_request& req) {
  auto accept = req.header("accept-language");
  auto first = accept.substr(0, accept.find_first_of(",;-_ "));
  if (first == "fa" || first == "ar") return first;
  return "en";
}

http_response old_link(const http_request& req) {
  global_metrics().errors.inc("webchat_verify_old_link");
  const auto language = page_language(req);
  const auto& t = link_page_in(language);
  return customer_page(410, language, t.title, t.message, "");
}

// Six digits, uniform: a draw at or past the last whole million is drawn again.
std::string new_code() {
  constexpr std::uint32_t span = 1'000'000, limit = UINT32_MAX - UINT32_MAX % span;
  for (;;) {
    std::uint32_t n = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&n), sizeof n) != 1) throw std::runtime_error("RAND_bytes failed");
    if (n < limit) return fmt::format("{:06}", n % span);
  }
}

// What Redis keeps of a code: a reader of Redis cannot try the million codes
// against it without the web chat secret, and the visitor is part of it.
std::string code_hash(const std::string& secret, std::string_view channel, std::string_view visitor,
                      std::string_view code) {
  return connectors::hmac_sha256_hex(secret, fmt::format("verify_code\n{}\n{}\n{}", channel, visitor, code));
}

}  // namespace

verification_mail verification_mail_in(std::string_view language, std::string_view code) {
  const bool rtl = language == "fa" || language == "ar";
  const auto words = mail_words_in(language);
  auto ours = [&](std::string_view line) { return (rtl ? rlm : std::string()) + std::string(line) + "\n"; };
  return {words.subject,
          ours(words.why) + "\n" + std::string(code) + "\n\n" + ours(words.secret) + "\n" + ours(words.ignore)};
}

awaitable<store::result<bool>> request_email_verification(services& s, const verification_request& r) {
  // result<bool> is not built from a bool or an error_code implicitly (bool is constructible from both).
  using out = store::result<bool>;
  if (r.mail_channel.empty() || r.key.empty()) co_return out(boost::system::in_place_value, false);
  const auto code = new_code();
  const auto mail = verification_mail_in(r.language, code);
  auto res = co_await s.redis.fcall(
      routing::script(routing::lua::webchat_verify), store::make_command(),
      store::make_command(s.cfg.redis.prefix, std::to_string(routing::now_ms()), r.channel, r.visitor, r.email, r.key,
                          r.language, code_hash(s.cfg.webchat.secret, r.channel, r.visitor, code),
                          std::to_string(code_ttl_s),
                          std::to_string(visitor_gap_s), std::to_string(address_limit),
                          std::to_string(address_window_s), r.mail_channel, mail.subject, mail.text,
                          std::to_string(wrong_codes_a_day)));
  if (!res) co_return out(boost::system::in_place_error, res.error());
  if (res->is_error() || res->elements.empty())
    co_return out(boost::system::in_place_error, make_error_code(store::redis_errc::server_error));
  const bool sent = res->elements[0].str == "sent";
  if (sent) global_metrics().routing_events.inc("email_verification_sent");
  else global_metrics().errors.inc("webchat_verify_rate_limited");
  co_return out(boost::system::in_place_value, sent);
}

awaitable<store::result<code_answer>> check_email_code(services& s, const std::string& channel,
                                                      const std::string& visitor, const std::string& code) {
  // During a rotation a code mailed under the previous secret proves the
  // address too: the script accepts either hash, a wrong code costs one try.
  // (Built before the co_await: GCC 12 mishandles temporaries inside it.)
  const auto& before = s.cfg.webchat.previous_secret;
  auto args = store::make_command(s.cfg.redis.prefix, "verify_code", std::to_string(routing::now_ms()), channel,
                                  visitor, code_hash(s.cfg.webchat.secret, channel, visitor, code),
                                  std::to_string(max_tries), std::string(actor),
                                  before.empty() ? std::string() : code_hash(before, channel, visitor, code));
  auto r = co_await s.redis.fcall(routing::script(routing::lua::customer_merge), store::make_command(), std::move(args));
  if (!r) co_return r.error();
  if (r->is_error() || r->elements.empty()) co_return make_error_code(store::redis_errc::server_error);
  const auto& e = r->elements;
  if (e[0].str == "wrong") {
    global_metrics().errors.inc("webchat_verify_wrong_code");
    co_return code_answer{code_check::wrong, e.size() > 1 ? static_cast<int>(e[1].as_int()) : 0};
  }
  if (e[0].str != "merged" && e[0].str != "verified") {
    global_metrics().errors.inc("webchat_verify_no_code");
    co_return code_answer{code_check::no_code, 0};
  }
  global_metrics().routing_events.inc("email_verified");
  if (e[0].str == "merged" && e.size() > 4)
    spdlog::get("gateway")->info("a web chat visitor confirmed their email: customer={} merged into customer={} ({})",
                                 e[3].str, e[2].str, e[4].str);
  co_return code_answer{code_check::verified, 0, e.size() > 1 ? e[1].str : std::string()};
}

void add_webchat_verify_routes(router& r) {
  auto answer = [](const http_request& req, const route_params&) -> awaitable<http_response> { co_return old_link(req); };
  r.add("GET", "/webchat/verify/{token}", answer);
  r.add("POST", "/webchat/verify/{token}", answer);
}

}  // namespace pasokh::gateway
