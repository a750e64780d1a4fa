#pragma once
// Retrieval over a knowledge base: BM25 on three fields per entry (stemmed
// words, cross-language concepts, character n-grams), pooled over all the
// entry's languages, questions weighted above answers. Immutable once built,
// so one instance is shared by every thread and swapped whole on reload.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pasokh/bot/knowledge_base.hpp"
#include "pasokh/bot/language.hpp"

namespace pasokh::bot {
namespace detail {
class bm25_field;
}

struct index_options {
  float k1 = 1.2f;
  float b = 0.75f;
  // How much each field counts in the combined score. Chosen by leave-one-
  // phrasing-out accuracy on two knowledge bases (bench/bot): concepts carry
  // the most because they pool all three languages of an entry.
  float word_weight = 0.5f;
  float concept_weight = 3.0f;
  float gram_weight = 0.5f;
  // Term frequency weight of text by source: answers and tags describe the
  // entry, but customers phrase things like the questions.
  float question_tf = 1.0f;
  float answer_tf = 0.2f;
  float tag_tf = 0.5f;
  // Rerank key: score + coverage_weight · coverage + subject_weight · subject.
  // subject_weight was chosen like the field weights (0.25 and 0.75 did worse
  // on both knowledge bases).
  float coverage_weight = 0.75f;
  float subject_weight = 0.5f;
};

struct match {
  std::uint32_t entry = 0;  // position in knowledge_base::entries
  float score = 0;          // normalized: about 1 when every query term matched well
  float coverage = 0;       // share of the query's content words the entry explains, [0,1]
  // Share of the entry's subject the query names, [0,1], by idf: the concepts
  // most of its phrasings use. Coverage alone is fooled by an entry that pools
  // many phrasings: a refund-timing entry, one of whose phrasings mentions an
  // item already returned, explains every word of a question about how long
  // one has to return something, yet the question never names a refund.
  float subject = 0;
};

struct ranking {
  static constexpr std::size_t max_matches = 3;
  std::array<match, max_matches> top{};
  std::size_t size = 0;           // matches with a positive score, best first
  // [0,1] estimated probability that the question is one this knowledge base
  // answers at all (from how much of it the best entry explains).
  float answerable = 0;
  // [0,1] estimated probability that top[0] is the right entry: answerable
  // times top[0]'s share among the close candidates. Low when two entries tie.
  float confidence = 0;
  std::size_t content_words = 0;  // query words that carry meaning
  bool empty() const { return size == 0; }
};

// Why an entry matched a query, word by word (for admins tuning a KB).
struct word_explanation {
  std::string word;    // normalized query word
  float weight = 0;    // its share in coverage (idf, capped)
  float credit = 0;    // [0,1] how well the entry explains it
  std::string via;     // "word", "concept:<name>", "grams" or "" (unexplained)
};

class faq_index {
 public:
  explicit faq_index(knowledge_base kb, index_options options = {});
  faq_index(const faq_index&) = delete;
  faq_index& operator=(const faq_index&) = delete;
  ~faq_index();

  const knowledge_base& kb() const { return kb_; }

  // Thread-safe; allocates nothing once the calling thread's scratch buffers
  // have grown to the knowledge base's size. Only the first
  // max_query_bytes of `text` are read: a question is short, and a pasted
  // e-mail must not cost more than one.
  ranking search(std::string_view text, language lang) const;
  static constexpr std::size_t max_query_bytes = 1024;

  // Diagnostic, allocates: how entry `entry` explains each content word.
  std::vector<word_explanation> explain(std::string_view text, language lang, std::uint32_t entry) const;

 private:
  knowledge_base kb_;
  index_options options_;
  std::unique_ptr<detail::bm25_field> words_, concepts_, grams_;
  // Per entry: its subject concepts with their idf, sorted by concept.
  struct subject_term {
    std::uint32_t concept_;
    float idf;
  };
  std::vector<std::vector<subject_term>> subjects_;
  // match::subject of `entry` for a query's sorted concepts.
  float subject_named(std::uint32_t entry, const std::vector<std::uint32_t>& query_concepts) const;
};


}  // namespace pasokh::bot
