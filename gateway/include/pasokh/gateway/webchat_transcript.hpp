#pragma once
// "Email me a copy of this conversation" at End chat (web/widget/README.md):
// the conversation as the customer saw it in the widget (their messages and
// the team's and bot's answers; never a private note, a system message or a
// log event such as a status change), mailed before this device forgets it.
// Mailed only to an email the customer proved theirs, through the channel's
// email_fallback_channel (routing/src/lua/webchat_end.lua).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pasokh::gateway {

struct transcript_line {
  std::uint64_t seq = 0;
  std::string author;  // customer, agent, bot
  std::string name;    // the agent's name, when the widget shows one
  std::string text;    // attachments as their names, one a line
};

// The customer-visible messages of a conversation's log frames, in order; an
// edited or unsent message as it reads now (an unsent or erased one is left out).
std::vector<transcript_line> transcript_lines(const std::vector<std::string>& frames);

struct transcript_mail {
  std::string subject;
  std::string text;
};

// The most text one copy carries: a chat of thousands of messages is still a
// mail that servers take.
inline constexpr std::size_t transcript_max_text = 200 * 1024;

// The mail in the customer's language (fa, ar, else English): the newest
// lines that fit in max_text, after a line saying earlier messages are left
// out when some are (or `earlier_omitted`: the log was read only in part).
transcript_mail transcript_mail_in(std::string_view language, const std::vector<transcript_line>& lines,
                                   bool earlier_omitted = false, std::size_t max_text = transcript_max_text);

}  // namespace pasokh::gateway
