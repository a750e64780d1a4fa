#include "pasokh/bot/index.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

#include "analyzer.hpp"
#include "bm25.hpp"
#include "pasokh/bot/normalize.hpp"
#include "utf8.hpp"

namespace pasokh::bot {

using detail::bm25_field;
using detail::features;
using detail::lexicon;

namespace {

// Coverage credit for a domain word the candidate entry does not use.
constexpr float in_domain_credit = 0.5f;

// Candidates by BM25 that get the (costlier) coverage rerank.
constexpr std::size_t rerank_depth = 6;

// Per-thread buffers reused across queries.
struct query_scratch {
  std::string normalized;
  features feats;
  std::vector<std::uint64_t> word_grams;
  // Term ids of each content word, resolved once per query for the rerank.
  struct word_ids {
    std::int64_t word, single, pair;
  };
  std::vector<word_ids> ids;
  std::vector<std::int64_t> gram_ids;  // parallel to word_grams
  std::vector<std::int64_t> term_ids;  // of the field being accumulated
  std::vector<float> score;            // per entry, all fields
};

// Adds one field's BM25 contribution to every entry, normalized by the
// query's idf mass in that field so that fields (and queries of any length)
// are comparable. Returns the weight the field took part with (0 when the
// query has no such terms).
template <class Terms>
float accumulate(const bm25_field& f, const Terms& terms, float weight, query_scratch& s,
                 const std::vector<std::uint64_t>* explained_elsewhere = nullptr) {
  if (terms.empty() || weight <= 0) return 0;
  float mass = 0;
  s.term_ids.clear();
  for (const auto term : terms) {
    const auto t = f.find(static_cast<std::uint64_t>(term));
    if (t < 0 && explained_elsewhere &&
        std::binary_search(explained_elsewhere->begin(), explained_elsewhere->end(), term)) {
      continue;  // an unknown word whose concept speaks for it
    }
    mass += f.idf(t);
    if (t >= 0) s.term_ids.push_back(t);
  }
  if (mass <= 0) return 0;
  const float k = weight / mass;
  for (const auto t : s.term_ids) {
    const float w = k * f.idf(t);
    for (const auto& p : f.postings(t)) s.score[p.doc] += w * p.tf_part;
  }
  return weight;
}

struct word_credit {
  float weight, credit;
  detail::concept_id by_concept;  // no_concept unless a concept gave the credit
  bool by_grams;
};

void resolve_ids(const bm25_field& words, const bm25_field& concepts, const bm25_field& grams, query_scratch& s) {
  s.ids.clear();
  for (const auto& w : s.feats.content) {
    s.ids.push_back({words.find(w.word), w.single == detail::no_concept ? -1 : concepts.find(w.single),
                     w.pair == detail::no_concept ? -1 : concepts.find(w.pair)});
  }
  s.gram_ids.resize(s.word_grams.size());
  for (std::size_t g = 0; g < s.word_grams.size(); ++g) s.gram_ids[g] = grams.find(s.word_grams[g]);
}

// Share of the query's content words that entry `doc` explains: by the word
// itself, by its concept, or by its n-grams (the share of them the entry
// has); weighted by idf, so that "bitcoin" left unexplained counts more than
// "where", with unknown words weighing like the rarest known ones. This, not
// the BM25 sum, is what tells an off-topic question ("price of bitcoin") from
// an in-scope one. `on_word` sees each word's credit (for explain()).
template <class OnWord>
float explained_share(const bm25_field& words, const bm25_field& concepts, const bm25_field& grams,
                      const query_scratch& s, std::uint32_t doc, std::size_t n_docs, OnWord&& on_word) {
  const float n = static_cast<float>(n_docs);
  const float cap = std::log(1.f + (n - 0.5f) / 1.5f);
  float total = 0, explained = 0;
  for (std::size_t i = 0; i < s.feats.content.size(); ++i) {
    const auto& w = s.feats.content[i];
    const auto& ids = s.ids[i];
    word_credit c{std::min(words.idf(ids.word), cap), words.presence(ids.word, doc), detail::no_concept, false};
    bool in_domain = false;
    for (const auto [concept_, id] : {std::pair{w.single, ids.single}, std::pair{w.pair, ids.pair}}) {
      if (concept_ == detail::no_concept) continue;
      const float p = concepts.presence(id, doc);
      if (p > c.credit) c = {c.weight, p, concept_, false};
      in_domain = true;
    }
    if (c.credit < 1.f && w.gram_end > w.gram_begin) {
      float found = 0;
      for (auto g = w.gram_begin; g < w.gram_end; ++g) found += grams.presence(s.gram_ids[g], doc);
      found /= static_cast<float>(w.gram_end - w.gram_begin);
      if (found > c.credit) c = {c.weight, found, detail::no_concept, true};
    }
    // A word of a known after-sales concept that this entry does not use still
    // says the question is in the bot's domain: half credit, which lifts
    // confidence without lifting the entry above one whose questions use it.
    if (in_domain && c.credit < in_domain_credit) c = {c.weight, in_domain_credit, detail::no_concept, false};
    on_word(i, c);
    total += c.weight;
    explained += c.weight * c.credit;
  }
  return total > 0 ? explained / total : 0.f;
}

float rerank_key(const match& m, float alpha, float beta) { return m.score + alpha * m.coverage + beta * m.subject; }

// A concept is part of an entry's subject when most of the entry's phrasings
// (all languages together) use it: "refund" in every phrasing of a refund
// entry, not "returned" in one of them.
bool in_subject(std::uint32_t phrasings_with_it, std::uint32_t phrasings) { return 2 * phrasings_with_it > phrasings; }

// Turns the best candidates into probabilities. Both parts were fitted by
// maximum likelihood (bench/bot) on leave-one-phrasing-out queries of two
// knowledge bases (a success when top[0] is right) and the off-topic
// questions of tests/data/bot/calibration-oos.jsonl weighted to a 15% share
// (failures); never on the evaluation sets. τ was fitted again, the same
// way, when the subject joined the rerank key, and stayed 0.15.
//   answerable = logistic(a + b · coverage of top[0])
//   confidence = answerable · softmax_τ(rerank keys of the top three)[0]
void calibrate(ranking& r, float alpha, float beta) {
  constexpr float a = -5.34f, b = 13.97f, tau = 0.15f;
  if (r.size == 0) return;
  r.answerable = 1.f / (1.f + std::exp(-(a + b * r.top[0].coverage)));
  const auto key = [&](std::size_t k) { return rerank_key(r.top[k], alpha, beta); };
  float sum = 0;
  for (std::size_t k = 0; k < r.size; ++k) sum += std::exp((key(k) - key(0)) / tau);
  r.confidence = r.answerable / sum;
}

}  // namespace

faq_index::faq_index(knowledge_base kb, index_options options) : kb_(std::move(kb)), options_(options) {
  const std::size_t n = kb_.entries.size();
  words_ = std::make_unique<bm25_field>(n);
  concepts_ = std::make_unique<bm25_field>(n);
  grams_ = std::make_unique<bm25_field>(n);
  const lexicon& lex = lexicon::builtin();
  features f;
  std::string norm;
  const auto add_text = [&](std::uint32_t doc, std::string_view text, language lang, float weight) {
    f.clear();
    normalize_into(text, norm);
    detail::analyze(norm, lang, lex, f);
    for (auto w : f.words) words_->add(doc, w, weight);
    for (auto c : f.concepts) concepts_->add(doc, c, weight);
    for (auto g : f.grams) grams_->add(doc, g, weight);
  };
  // For each entry's subject: how many of its phrasings use each concept.
  std::vector<std::unordered_map<detail::concept_id, std::uint32_t>> phrasings_with(n);
  std::vector<std::uint32_t> phrasings(n, 0);
  std::vector<detail::concept_id> seen;
  for (std::uint32_t d = 0; d < n; ++d) {
    const auto& e = kb_.entries[d];
    for (language l : kb_.languages) {
      const auto li = static_cast<std::size_t>(l);
      for (const auto& q : e.questions[li]) {
        add_text(d, q, l, options_.question_tf);
        seen.assign(f.concepts.begin(), f.concepts.end());
        std::sort(seen.begin(), seen.end());
        seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
        for (auto c : seen) ++phrasings_with[d][c];
        ++phrasings[d];
      }
      add_text(d, e.answers[li], l, options_.answer_tf);
      if (!e.title[li].empty()) add_text(d, e.title[li], l, options_.question_tf);
    }
    for (const auto& tag : e.tags) add_text(d, tag, language::en, options_.tag_tf);
  }
  words_->finish(options_.k1, options_.b);
  concepts_->finish(options_.k1, options_.b);
  grams_->finish(options_.k1, options_.b);
  subjects_.resize(n);
  for (std::uint32_t d = 0; d < n; ++d) {
    for (const auto& [c, count] : phrasings_with[d]) {
      if (in_subject(count, phrasings[d])) subjects_[d].push_back({c, concepts_->idf(concepts_->find(c))});
    }
    std::sort(subjects_[d].begin(), subjects_[d].end(),
              [](const subject_term& a, const subject_term& b) { return a.concept_ < b.concept_; });
  }
}

float faq_index::subject_named(std::uint32_t entry, const std::vector<std::uint32_t>& query_concepts) const {
  const auto& subject = subjects_[entry];
  if (subject.empty()) return 1.f;  // its phrasings share no concept: no evidence either way
  float named = 0, total = 0;
  for (const auto& t : subject) {
    total += t.idf;
    if (std::binary_search(query_concepts.begin(), query_concepts.end(), t.concept_)) named += t.idf;
  }
  return total > 0 ? named / total : 1.f;
}

faq_index::~faq_index() = default;

ranking faq_index::search(std::string_view text, language lang) const {
  thread_local query_scratch s;
  const std::size_t n = kb_.entries.size();
  s.score.assign(n, 0.f);

  normalize_into(detail::utf8_prefix(text, max_query_bytes), s.normalized);
  s.feats.clear();
  detail::analyze(s.normalized, lang, lexicon::builtin(), s.feats);
  detail::unique_terms(s.feats, s.word_grams);

  ranking r;
  r.content_words = s.feats.content_words;
  float weights = 0;
  weights += accumulate(*words_, s.feats.words, options_.word_weight, s, &s.feats.words_with_concept);
  weights += accumulate(*concepts_, s.feats.concepts, options_.concept_weight, s);
  weights += accumulate(*grams_, s.feats.grams, options_.gram_weight, s);
  if (weights <= 0) return r;

  // Stage 1: the best few by BM25, by insertion into a small sorted array.
  std::array<match, rerank_depth> pool{};
  std::size_t pooled = 0;
  for (std::uint32_t d = 0; d < n; ++d) {
    const float sc = s.score[d] / weights;
    if (sc <= 0) continue;
    std::size_t pos = pooled;
    while (pos > 0 && pool[pos - 1].score < sc) --pos;
    if (pos >= rerank_depth) continue;
    for (std::size_t k = std::min(pooled, rerank_depth - 1); k > pos; --k) pool[k] = pool[k - 1];
    pool[pos] = {d, sc, 0.f};
    pooled = std::min(pooled + 1, rerank_depth);
  }
  resolve_ids(*words_, *concepts_, *grams_, s);
  // Stage 2: rerank by BM25 plus how much of the question each candidate
  // explains; a candidate that accounts for every word beats one that shares
  // a single frequent word many times.
  for (std::size_t k = 0; k < pooled; ++k) {
    pool[k].coverage = explained_share(*words_, *concepts_, *grams_, s, pool[k].entry, n, [](auto, auto) {});
  }
  for (std::size_t k = 0; k < pooled; ++k) pool[k].subject = subject_named(pool[k].entry, s.feats.concepts);
  const float alpha = options_.coverage_weight, beta = options_.subject_weight;
  std::sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(pooled), [=](const match& a, const match& b) {
    return rerank_key(a, alpha, beta) > rerank_key(b, alpha, beta);
  });
  r.size = std::min(pooled, ranking::max_matches);
  std::copy_n(pool.begin(), r.size, r.top.begin());
  calibrate(r, alpha, beta);
  return r;
}

std::vector<word_explanation> faq_index::explain(std::string_view text, language lang, std::uint32_t entry) const {
  std::vector<word_explanation> out;
  if (entry >= kb_.entries.size()) return out;
  thread_local query_scratch s;
  normalize_into(detail::utf8_prefix(text, max_query_bytes), s.normalized);
  s.feats.clear();
  detail::analyze(s.normalized, lang, lexicon::builtin(), s.feats);
  detail::unique_terms(s.feats, s.word_grams);
  resolve_ids(*words_, *concepts_, *grams_, s);
  explained_share(*words_, *concepts_, *grams_, s, entry, kb_.entries.size(), [&](std::size_t i, const word_credit& c) {
    const auto& w = s.feats.content[i];
    word_explanation e;
    e.word = s.normalized.substr(w.text_begin, w.text_end - w.text_begin);
    e.weight = c.weight;
    e.credit = c.credit;
    if (c.credit > 0) {
      e.via = c.by_concept != detail::no_concept ? "concept:" + std::string(lexicon::builtin().concept_name(c.by_concept))
              : c.by_grams                       ? "grams"
                                                 : "word";
    }
    out.push_back(std::move(e));
  });
  return out;
}

}  // namespace pasokh::bot
