// Prints what parse_email makes of .eml files, as JSON (a debugging aid):
//   email_dump file.eml...
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "pasokh/connectors/email/parse.hpp"
#include "pasokh/connectors/email/threading.hpp"
#include "pasokh/proto/json.hpp"

namespace email = pasokh::connectors::email;

int main(int argc, char** argv) {
  email::email_config config;
  config.recipients.reply_domain = "support.example";
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto mail = email::parse_email(ss.str(), config);
    nlohmann::json attachments = nlohmann::json::array();
    for (const auto& a : mail.attachments)
      attachments.push_back({{"meta", a.meta}, {"disposition", a.disposition}, {"content_id", a.content_id},
                             {"content_bytes", a.content.size()}, {"dropped", a.content_dropped}});
    nlohmann::json hints = nlohmann::json::array();
    for (const auto& h : email::thread_hints(mail, config.recipients.reply_domain))
      hints.push_back({{"source", h.source == email::hint_source::reply_token   ? "reply_token"
                                  : h.source == email::hint_source::in_reply_to ? "in_reply_to"
                                                                                : "references"},
                       {"value", h.value},
                       {"conversation", h.conversation_id}});
    nlohmann::json out = {{"file", argv[i]},          {"event", mail.event},
                          {"subject", mail.subject},  {"message_id", mail.message_id},
                          {"in_reply_to", mail.in_reply_to}, {"references", mail.references},
                          {"full_text", mail.full_text}, {"attachments", attachments},
                          {"automatic_reason", mail.automatic_reason}, {"notes", mail.notes},
                          {"warning", mail.warning},  {"thread_hints", hints}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}
