// Email benchmarks: parse_email on a 20 KB reply (Persian/English, HTML
// alternative, quoted history, one attachment), and the SMTP listener's
// throughput with 20 KB messages sent by our own client over loopback.
//
//   email_bench [--parse-iterations N] [--messages N] [--concurrency N] [--target-port P]
//
// --target-port sends to a running listener instead (the full pasokh binary,
// bench/email/run.sh pasokh): every message then gets its own Message-ID and one
// of 1,000 senders, so none is a duplicate, and "delivered" means pasokh
// answered 250, i.e. the mail was stored in Redis.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "pasokh/connectors/email/compose.hpp"
#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/smtp_client.hpp"
#include "pasokh/connectors/email/smtp_server.hpp"

namespace asio = boost::asio;
namespace email = pasokh::connectors::email;
using clock_type = std::chrono::steady_clock;

namespace {

std::string b64(std::string_view s) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
    if (out.size() % 78 == 76) out += "\r\n";
  }
  return out + "\r\n";
}

// About 20 KB: a realistic Gmail-style reply in Persian with English, quoted history and a small attachment.
std::string make_message() {
  std::string para =
      "سلام، دستگاه کولر گازی که هفته پیش خریدم صدای زیادی می‌دهد و خوب خنک نمی‌کند. "
      "The AC-200 unit makes a loud noise and does not cool well; order 5521, warranty card attached.\r\n";
  std::string plain, html;
  while (plain.size() < 4000) plain += para;
  plain += "\r\nOn Mon, Mar 11, 2024 at 10:00 AM Support <support@support.example> wrote:\r\n";
  for (int i = 0; i < 20; ++i) plain += "> لطفا شماره سریال دستگاه را بفرستید. Please send the serial number.\r\n";
  html = "<div dir=\"rtl\">";
  while (html.size() < 5000) html += "<p>" + para + "</p>";
  html += "</div><div class=\"gmail_quote\"><blockquote class=\"gmail_quote\">";
  for (int i = 0; i < 20; ++i) html += "<div>لطفا شماره سریال دستگاه را بفرستید.</div>";
  html += "</blockquote></div>";
  std::string attachment(2500, 'A');
  std::string m =
      "From: =?UTF-8?B?2LnZhNuMINix2LbYp9uM24w=?= <ali.rezaei@example.com>\r\n"
      "To: Support <reply+tok42@support.example>\r\n"
      "Subject: =?UTF-8?B?UmU6INqv2KfYsdin2YbYqtuMINqv2YjYtNuM?=\r\n"
      "Date: Tue, 12 Mar 2024 09:00:00 +0330\r\n"
      "Message-ID: <bench-1@example.com>\r\n"
      "In-Reply-To: <pasokh.Y3ZfOQ.Y3ZfOTox@support.example>\r\n"
      "References: <pasokh.Y3ZfOQ.Y3ZfOTox@support.example>\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n"
      "--mix\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
      "--alt\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      b64(plain) +
      "--alt\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(html) +
      "--alt--\r\n--mix\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"w.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64(attachment) + "--mix--\r\n";
  return m;
}

long arg(int argc, char** argv, const char* name, long def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  return def;
}

void bench_parse(const std::string& msg, long iterations) {
  email::email_config config;
  auto check = email::parse_email(msg, config);
  if (check.event.text.empty() || check.attachments.size() != 1) {
    std::fprintf(stderr, "bench message did not parse as expected\n");
    std::exit(1);
  }
  for (int i = 0; i < 50; ++i) email::parse_email(msg, config);  // warm-up
  auto start = clock_type::now();
  std::size_t sink = 0;
  for (long i = 0; i < iterations; ++i) sink += email::parse_email(msg, config).event.text.size();
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("parse_email: %zu-byte message, %ld iterations: %.1f us/message, %.0f messages/s, %.1f MB/s (sink %zu)\n",
              msg.size(), iterations, secs / iterations * 1e6, iterations / secs,
              msg.size() * static_cast<double>(iterations) / secs / 1e6, sink % 10);
}

// The bench message with its own Message-ID and one of 1,000 senders.
std::string variant(const std::string& msg, const std::string& tag, long n) {
  std::string m = msg;
  auto replace = [&m](std::string_view what, const std::string& with) {
    if (auto at = m.find(what); at != std::string::npos) m.replace(at, what.size(), with);
  };
  replace("ali.rezaei@example.com", "customer" + std::to_string(n % 1000) + "@example.com");
  replace("bench-1@example.com", "bench-" + tag + "-" + std::to_string(n) + "@example.com");
  return m;
}

// One client connection after another until all messages are sent. With a tag,
// each message is a variant (see above).
asio::awaitable<void> client_loop(const email::relay_config& relay, const std::string& msg, std::atomic<long>& next,
                                  long messages, std::atomic<long>& failed, std::string tag) {
  // Built outside co_await: GCC 12 miscompiles initializer lists inside coroutines ("array used as initializer").
  const std::string from = "customer@example.com";
  std::vector<std::string> rcpts(1, "support@support.example");
  for (long n = next++; n < messages; n = next++) {
    std::string data = tag.empty() ? msg : variant(msg, tag, n);
    auto r = co_await email::send_mail(relay, from, rcpts, data);
    if (r.status != email::send_status::delivered) failed++;
  }
}

// Against a listener that is already running (pasokh).
void bench_target(const std::string& msg, long messages, long concurrency, long port) {
  asio::io_context client_ioc{1};
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = static_cast<std::uint16_t>(port);
  relay.tls = email::relay_tls::none;
  std::atomic<long> next{0}, failed{0};
  auto tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  auto start = clock_type::now();
  for (long c = 0; c < concurrency; ++c)
    asio::co_spawn(client_ioc, client_loop(relay, msg, next, messages, failed, tag), asio::detached);
  client_ioc.run();
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf(
      "pasokh SMTP listener on port %ld: %ld messages of ~%zu bytes, %ld concurrent connections (one per message): "
      "%.0f messages/s stored (250 after the Redis write), %.2f ms per message per connection, failed %ld\n",
      port, messages, msg.size(), concurrency, (messages - failed.load()) / secs, secs / messages * concurrency * 1e3,
      failed.load());
}

void bench_smtp(const std::string& msg, long messages, long concurrency) {
  asio::io_context server_ioc{1};
  email::smtp_config config;
  config.port = 0;
  config.max_connections = 1024;
  config.recipients = {{"support@support.example"}, {}, "support.example"};
  std::atomic<long> stored{0};
  email::smtp_server server(server_ioc.get_executor(), config,
                            [&](email::smtp_envelope, std::string raw) -> asio::awaitable<email::store_outcome> {
                              if (raw.size() > msg.size()) stored++;
                              co_return email::store_outcome::stored();
                            });
  auto port = server.start();
  std::thread server_thread([&] { server_ioc.run(); });

  asio::io_context client_ioc{1};
  email::relay_config relay;
  relay.host = "127.0.0.1";
  relay.port = port;
  relay.tls = email::relay_tls::none;
  std::atomic<long> next{0}, failed{0};
  auto start = clock_type::now();
  const std::string same_message;  // no tag: every message is the same bytes
  for (long c = 0; c < concurrency; ++c)
    asio::co_spawn(client_ioc, client_loop(relay, msg, next, messages, failed, same_message), asio::detached);
  client_ioc.run();
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  server.stop();
  server_thread.join();
  std::printf(
      "smtp listener: %ld messages of %zu bytes, %ld concurrent connections (one per message, our client, "
      "loopback, 1 server thread): %.0f messages/s, %.1f MB/s, stored %ld, failed %ld\n",
      messages, msg.size(), concurrency, messages / secs, messages * static_cast<double>(msg.size()) / secs / 1e6,
      stored.load(), failed.load());
}

}  // namespace

int main(int argc, char** argv) {
  auto msg = make_message();
  bench_parse(msg, arg(argc, argv, "--parse-iterations", 5000));
  if (long port = arg(argc, argv, "--target-port", 0); port > 0)
    bench_target(msg, arg(argc, argv, "--messages", 3000), arg(argc, argv, "--concurrency", 8), port);
  else
    bench_smtp(msg, arg(argc, argv, "--messages", 3000), arg(argc, argv, "--concurrency", 8));
  return 0;
}
