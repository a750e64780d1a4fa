#pragma once
// Search over conversations and customer files. The index is kept after the
// fact: every logged message or note marks its conversation dirty
// (prelude.lua), and index_pending(), run by the instance holding the routing
// timer lease, reads
// the new log entries and customer files and updates the term sets
// (routing/src/lua/search.lua). Ingest pays one ZADD per message; results lag
// by a timer tick or two.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "pasokh/routing/search_text.hpp"
#include "pasokh/store/redis_client.hpp"

namespace pasokh::routing {

struct search_request {
  search_query query;
  std::vector<std::string> teams;  // conversations of these teams only
  bool admin = false;              // every customer file (agents: files with a conversation in their teams)
  int limit = 20;                  // per kind (conversations, customers)
};

class search_service {
 public:
  search_service(store::redis_client& redis, std::string prefix);

  // Indexes up to `max_documents` dirty conversations and customer files
  // (fewer when recent documents suggest they would not fit), in one script
  // call of about `max_terms` terms (it blocks Redis for 5-10 µs a term);
  // answers how many were read (0: nothing is left).
  boost::asio::awaitable<boost::system::result<std::size_t>> index_pending(std::size_t max_documents = 200,
                                                                           std::size_t max_terms = 1000);

  // Marks every conversation from before the index existed, once per Redis,
  // and again when its terms were folded by older rules than
  // search_fold_version: then each is read whole again and its terms
  // replaced, while search goes on with the old ones. At most `slice` a
  // call; answers how many this call marked (fewer than `slice`: all are),
  // -1 when the index is current.
  boost::asio::awaitable<boost::system::result<std::int64_t>> backfill(std::int64_t slice);

  // JSON: { conversations: [{ conversation: view, match: { seq, event,
  // author, text, created_at } | null }], customers: [...], more } - newest
  // activity first; `match` is the newest message or note that contains the
  // words (null when only the customer's name or keys matched).
  boost::asio::awaitable<boost::system::result<std::string>> query(const search_request& request);

 private:
  struct document;
  boost::asio::awaitable<boost::system::result<void>> read_conversations(std::vector<document>& docs);
  boost::asio::awaitable<boost::system::result<void>> read_again(std::vector<document>& docs);
  boost::asio::awaitable<boost::system::result<void>> read_customers(std::vector<document>& docs);
  std::vector<std::string> index_args(const std::vector<document>& docs) const;
  static std::vector<document> dirty_documents(const std::vector<store::reply>& sets, std::size_t max);

  store::redis_client& redis_;
  std::string prefix_;
  double terms_per_document_ = 10;  // new terms a document brought lately (a running mean)
};

}  // namespace pasokh::routing
