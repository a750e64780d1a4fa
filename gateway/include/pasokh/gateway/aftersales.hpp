#pragma once
// After-sales (issue 8): purchases with warranty in the customer file (REST and
// CSV import), opt-out by a "stop" / "لغو" / "إلغاء" reply, the CSAT survey
// after an agent resolves a conversation, and the summary report.
// The pure parts (CSV, reply normalization, row checks, report figures) are
// plain functions over values, unit-tested in tests/unit/aftersales/.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/router.hpp"
#include "pasokh/gateway/services.hpp"
#include "pasokh/proto/types.hpp"
#include "pasokh/routing/conversation_service.hpp"
#include "pasokh/routing/time_zone.hpp"

namespace pasokh::gateway {

// Routes: POST /api/v1/admin/customers/import, POST|GET /api/v1/customers/{id}/purchases,
// (the summary report: reports.hpp).
void add_aftersales_routes(router& r, services& s);

namespace aftersales {

// What on_customer_message made of a message.
enum class outcome {
  handled,   // consumed: the caller neither runs the bot nor routes
  not_mine,  // no after-sales message: the bot and routing go on
  failed,    // Redis trouble: nothing is known; the follow-up is run again
};

// After ingest, before the bot and routing: an opt-out word, a warranty
// question to the bot, a CSAT rating or the comment after it. Costs a Redis
// call only for an opt-out word, a warranty question, or a message that
// opened a conversation or landed in a resolved one.
boost::asio::awaitable<outcome> on_customer_message(services& s, const routing::ingest_outcome& stored,
                                                    const proto::inbound_event& event);

// After an agent resolved the conversation: ask for a rating (once per
// conversation; never for bot-only ones or customers who opted out).
boost::asio::awaitable<void> on_resolved(services& s, std::string conv);

// ---- pure parts -------------------------------------------------------------

struct csv_record {
  std::size_t line = 0;  // physical line the record starts on (header = 1)
  std::vector<std::string> fields;
};
struct csv_result {
  std::vector<csv_record> records;  // the header is records[0]
  std::string error;                // malformed input ("" when fine)
  std::size_t error_line = 0;
};
// RFC 4180: quoted fields with "" escapes and line breaks, CRLF or LF, a
// UTF-8 BOM skipped, blank lines ignored. Stops with an error after
// `max_records` records.
csv_result parse_csv(std::string_view text, std::size_t max_records);

// Trimmed, invisible marks (ZWNJ, bidi marks, tatweel, harakat) removed,
// spaces collapsed, ASCII lower-cased, Persian/Arabic digits as ASCII, alef
// forms as plain alef, edge punctuation removed.
std::string normalize_reply(std::string_view text);
// "en" for stop, "fa" for لغو, "ar" for إلغاء; "" otherwise.
std::string opt_out_language(std::string_view text);
// A CSAT rating: a reply that is just a digit 1..5 (any script), or one of
// our buttons. A button names the survey's conversation ("csat:<conv>:N"), so
// a customer with two surveys on a channel rates the one pressed; "csat:N"
// (surveys sent before buttons named it) and a typed digit rate the latest
// asked.
struct csat_answer {
  int rating = 0;            // 0: no rating
  std::string conversation;  // the one the button names; "" = the latest asked
};
csat_answer csat_reply(std::string_view text);
// The id of the survey's button for `rating` ("csat:<conv>:N"; "csat:N" for
// an id too long for Telegram's 64-byte callback data).
std::string csat_button_id(std::string_view conversation, int rating);

// A warranty question to the bot: serial-like tokens (4..64 of letters,
// digits and -_/. with at least one digit; Persian/Arabic digits as ASCII),
// at most 3, when the text names the warranty (warranty, guarantee, گارانتی,
// ضمانت, ضمان, كفالة) or is nothing but one such token. Empty otherwise.
std::vector<std::string> warranty_serials(std::string_view text);

// YYYY-MM-DD, a real calendar date between 1900 and 2999.
bool valid_date(std::string_view s);
// Days since 1970-01-01 of a valid date.
std::int64_t days_from_date(std::string_view s);
// The date at `ms` in `tz`: warranties end on the customers' calendar day (the
// configured campaigns.timezone, as campaigns date purchases), not UTC's.
std::string local_date(const routing::time_zone& tz, std::int64_t ms);
// "active" (today <= end), "expired", or "unknown" (no end date).
std::string warranty_status(std::string_view warranty_end, std::string_view today);

struct purchase {
  std::string order_id, product, serial, purchase_date, warranty_end;
};
struct import_row {
  std::size_t line = 0;
  std::string customer_id, channel, external_id, name, language, tags, vip;  // vip: "" | "1" | "0"
  std::string email, phone;  // normalised verified keys, may be empty
  std::optional<purchase> item;
};
// The columns an import row may have.
const std::vector<std::string>& import_columns();
// One row (column -> value) checked; the row or the error message.
std::variant<import_row, std::string> check_row(const std::map<std::string, std::string>& fields);

}  // namespace aftersales
}  // namespace pasokh::gateway
