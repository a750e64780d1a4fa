#include "pasokh/gateway/webchat_transcript.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "pasokh/gateway/webchat_protocol.hpp"

namespace pasokh::gateway {
namespace {

using nlohmann::json;
const std::string rlm = "\u200F";

struct transcript_words {
  const char* subject;
  const char* intro;
  const char* you;
  const char* team;  // an answer whose agent the widget names not
  const char* bot;
  const char* omitted;
};

transcript_words words_in(std::string_view language) {
  if (language == "fa")
    return {"رونوشت گفتگوی شما", "رونوشت گفتگوی شما با ما در وب‌سایت، همان‌گونه که خواستید:", "شما", "پشتیبانی",
            "دستیار خودکار",
            "(پیام‌های پیشین در این رونوشت نیامده‌اند.)"};
  if (language == "ar")
    return {"نسخة من محادثتك", "نسخة من محادثتك معنا على الموقع، كما طلبت:", "أنت", "الدعم", "المساعد الآلي",
            "(لم تُدرج الرسائل السابقة في هذه النسخة.)"};
  return {"A copy of your conversation", "A copy of your chat with us on our website, as you asked:", "You",
          "Support", "Assistant", "(Earlier messages are left out of this copy.)"};
}

}  // namespace

std::vector<transcript_line> transcript_lines(const std::vector<std::string>& frames) {
  // By message seq: an edit or an unsend replaces the message it names.
  std::map<std::uint64_t, transcript_line> by_seq;
  for (const auto& frame : frames) {
    // What the widget is sent of the frame: nothing of notes and events.
    auto shown = customer_event_frame(frame);
    if (!shown) continue;
    auto view = json::parse(*shown, nullptr, false);
    if (!view.is_object() || view.value("event", "") != "message") continue;
    const auto& m = view["message"];
    const auto author = m.value("author", "");
    const auto seq = m.value("seq", std::uint64_t{0});
    if (author == "system" || m.contains("erased")) {
      by_seq.erase(seq);
      continue;
    }
    transcript_line line{seq, author, m.value("name", ""), m.value("text", "")};
    if (auto files = m.find("attachments"); files != m.end() && files->is_array())
      for (const auto& f : *files) line.text += (line.text.empty() ? "" : "\n") + std::string("📎 ") + f.value("name", "");
    if (line.text.empty()) by_seq.erase(seq);  // unsent by the customer
    else by_seq[seq] = std::move(line);
  }
  std::vector<transcript_line> out;
  out.reserve(by_seq.size());
  for (auto& [seq, line] : by_seq) out.push_back(std::move(line));
  return out;
}

transcript_mail transcript_mail_in(std::string_view language, const std::vector<transcript_line>& lines,
                                   bool earlier_omitted, std::size_t max_text) {
  const bool rtl = language == "fa" || language == "ar";
  const auto words = words_in(language);
  auto ours = [&](std::string_view line) { return (rtl ? rlm : std::string()) + std::string(line) + "\n"; };
  std::string text = ours(words.intro);
  const std::string omitted_line = "\n" + ours(words.omitted);
  // From the newest back, while they fit with room kept for the omitted line.
  std::vector<std::string> blocks;
  std::size_t size = text.size() + omitted_line.size();
  for (auto l = lines.rbegin(); l != lines.rend(); ++l) {
    const std::string who = l->author == "customer" ? words.you
                            : l->author == "bot"    ? words.bot
                            : l->name.empty()       ? words.team
                                                    : l->name;
    auto block = "\n" + ours(who + ":") + l->text + "\n";
    if (size + block.size() > max_text) {
      earlier_omitted = true;
      break;
    }
    size += block.size();
    blocks.push_back(std::move(block));
  }
  if (earlier_omitted) text += omitted_line;
  for (auto b = blocks.rbegin(); b != blocks.rend(); ++b) text += *b;
  return {words.subject, text};
}

}  // namespace pasokh::gateway
