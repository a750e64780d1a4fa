#pragma once
// Which documents one indexing pass takes (search_service.cpp). A pass is one
// script call; it blocks Redis while it runs, about 5-10 µs a term, and every
// customer's message waits behind it, so a pass takes about `max_terms` terms.
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace pasokh::routing {

// Keeps, in order, the documents that fit `max_terms`; the ones left out stay
// dirty for the next pass. Customer files from the dirty set go first and
// always (a few terms each; behind busy conversations they would wait
// forever). A file first seen with a conversation (`brought_by`) is in no
// dirty set, so it goes exactly when its conversation does. The first
// conversation always goes, however large.
// Doc: member, customer (bool), brought_by ("" or a conversation), terms.
template <class Doc>
void bound_pass(std::vector<Doc>& docs, std::size_t max_terms) {
  std::map<std::string, std::size_t, std::less<>> brought_terms;  // conversation -> its new file's terms
  std::size_t total = 0;
  for (const auto& d : docs) {
    if (!d.brought_by.empty()) brought_terms[d.brought_by] += d.terms.size();
    else if (d.customer) total += d.terms.size();
  }
  std::set<std::string, std::less<>> taken;
  bool first = true;
  for (const auto& d : docs) {
    if (d.customer) continue;
    auto brought = brought_terms.find(d.member);
    const auto cost = d.terms.size() + (brought == brought_terms.end() ? 0 : brought->second);
    if (!first && total + cost > max_terms) continue;
    first = false;
    total += cost;
    taken.insert(d.member);
  }
  std::erase_if(docs, [&](const Doc& d) {
    if (!d.brought_by.empty()) return !taken.contains(d.brought_by);
    return !d.customer && !taken.contains(d.member);
  });
}

}  // namespace pasokh::routing
