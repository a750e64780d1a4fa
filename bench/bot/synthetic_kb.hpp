#pragma once
// A larger knowledge base for latency measurements, made by varying a real one.
#include <cstddef>

#include "pasokh/bot/knowledge_base.hpp"

namespace pasokh::bot::bench {

// `size` entries; entry i copies base entry i % n with its phrasings altered
// (one word dropped, made-up product/model words inserted, in each language's
// script) so that postings and vocabulary grow the way a real, larger KB's do.
knowledge_base synthetic_kb(const knowledge_base& base, std::size_t size, unsigned seed = 7);

}  // namespace pasokh::bot::bench
