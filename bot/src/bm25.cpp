#include "bm25.hpp"

#include <algorithm>
#include <cmath>

namespace pasokh::bot::detail {

void bm25_field::finish(float k1, float b) {
  const std::size_t n_docs = building_.size();
  const auto n = static_cast<float>(n_docs);
  std::vector<float> len(n_docs, 0.f);
  std::vector<std::uint32_t> df;
  std::unordered_map<std::uint64_t, std::uint32_t> ids;
  float total = 0;
  for (std::size_t d = 0; d < n_docs; ++d) {
    for (const auto& [term, tf] : building_[d]) {
      len[d] += tf;
      const auto [it, inserted] = ids.try_emplace(term, static_cast<std::uint32_t>(df.size()));
      if (inserted) df.push_back(0);
      ++df[it->second];
    }
    total += len[d];
  }
  const float avg = (n_docs == 0 || total == 0) ? 1.f : total / n;
  offsets_.assign(df.size() + 1, 0);
  for (std::size_t t = 0; t < df.size(); ++t) offsets_[t + 1] = offsets_[t] + df[t];
  postings_.resize(offsets_.back());
  idf_.resize(df.size());
  for (std::size_t t = 0; t < df.size(); ++t) {
    idf_[t] = std::log(1.f + (n - static_cast<float>(df[t]) + 0.5f) / (static_cast<float>(df[t]) + 0.5f));
  }
  unknown_idf_ = std::log(1.f + (n + 0.5f) / 0.5f);
  std::vector<std::uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::uint32_t d = 0; d < n_docs; ++d) {
    const float norm = k1 * (1.f - b + b * len[d] / avg);
    for (const auto& [term, tf] : building_[d]) {
      const auto t = ids.at(term);
      postings_[fill[t]++] = {d, tf * (k1 + 1.f) / (tf + norm), std::min(1.f, tf)};
    }
  }
  term_ids_.build({ids.begin(), ids.end()});
  building_.clear();
  building_.shrink_to_fit();
}

float bm25_field::presence(std::int64_t term_id, std::uint32_t doc) const noexcept {
  if (term_id < 0) return 0;
  const auto list = postings(term_id);
  const auto it = std::lower_bound(list.begin(), list.end(), doc,
                                   [](const posting& p, std::uint32_t d) { return p.doc < d; });
  return it != list.end() && it->doc == doc ? it->presence : 0.f;
}

}  // namespace pasokh::bot::detail
