#pragma once
// The shipped demo knowledge base, loaded once for the tests.
#include <gtest/gtest.h>

#include <memory>

#include "pasokh/bot/index.hpp"
#include "pasokh/bot/knowledge_base.hpp"

namespace pasokh::bot::testing_support {

inline const faq_index& demo_index() {
  static const std::unique_ptr<faq_index> index = [] {
    auto r = load_knowledge_base(PASOKH_BOT_DEMO_KB);
    if (!r.ok()) throw std::runtime_error("demo KB invalid: " + to_string(r.errors.front()));
    return std::make_unique<faq_index>(std::move(r.kb));
  }();
  return *index;
}

}  // namespace pasokh::bot::testing_support
