#pragma once
// Everything the bot says on its own, per language.
#include <string_view>

#include "pasokh/bot/language.hpp"

namespace pasokh::bot::detail {

enum class phrase {
  did_this_help,
  yes_helped,
  no_not_helped,
  which_one,
  talk_to_person,
  handoff_asked,
  handoff_low_confidence,
  handoff_not_helpful,
  handoff_upset,
  handoff_attachment,
  greeting,
  thanks,
  glad_it_helped,
};

std::string_view say(phrase, language);

}  // namespace pasokh::bot::detail
