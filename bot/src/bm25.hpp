#pragma once
// One BM25 field over the knowledge base's entries: term → postings in
// compressed-row form with the tf part of BM25 precomputed, so a query only
// multiplies and adds over flat arrays.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "flat_map.hpp"

namespace pasokh::bot::detail {

class bm25_field {
 public:
  struct posting {
    std::uint32_t doc;
    float tf_part;   // tf·(k1+1) / (tf + k1·(1 − b + b·len/avg_len))
    float presence;  // min(1, tf): a term seen only in an answer explains less of a query
  };

  explicit bm25_field(std::size_t n_docs) : building_(n_docs) {}

  // Build phase: weighted term occurrences, then finish() once.
  void add(std::uint32_t doc, std::uint64_t term, float weight) { building_[doc][term] += weight; }
  void finish(float k1, float b);

  // Query phase. term_id < 0 when the knowledge base never uses the term.
  std::int64_t find(std::uint64_t term) const noexcept {
    const auto id = term_ids_.find(term);
    return id == flat_term_map::npos ? -1 : static_cast<std::int64_t>(id);
  }
  float idf(std::int64_t term_id) const noexcept { return term_id < 0 ? unknown_idf_ : idf_[term_id]; }
  std::span<const posting> postings(std::int64_t term_id) const noexcept {
    return {postings_.data() + offsets_[term_id], postings_.data() + offsets_[term_id + 1]};
  }
  std::size_t term_count() const noexcept { return idf_.size(); }
  // The posting's presence for `doc`, 0 when the entry lacks the term.
  // Postings are sorted by doc, so this is a binary search.
  float presence(std::int64_t term_id, std::uint32_t doc) const noexcept;
  float max_idf() const noexcept { return unknown_idf_; }

 private:
  std::vector<std::unordered_map<std::uint64_t, float>> building_;
  flat_term_map term_ids_;
  std::vector<std::uint32_t> offsets_;
  std::vector<posting> postings_;
  std::vector<float> idf_;
  // An unseen query term is as informative as the rarest possible one: it is
  // what makes "weather in Paris" score low against every entry.
  float unknown_idf_ = 0;
};

}  // namespace pasokh::bot::detail
