#include "pasokh/routing/search_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "pasokh/proto/split.hpp"
#include "pasokh/routing/lua_script.hpp"
#include "search_pass.hpp"

namespace pasokh::routing {

namespace {

using boost::asio::awaitable;
using nlohmann::json;
template <class T> using result = boost::system::result<T>;

constexpr std::size_t terms_per_set = 5000;     // newest documents kept per common term (search.lua)
constexpr std::size_t entries_per_pass = 500;   // log entries read per conversation and pass
constexpr std::size_t entries_for_match = 200;  // newest entries searched for a result's matching message
constexpr std::size_t max_document_terms = 2000;  // new terms of one document in one pass

// The text a log frame adds to the index: a message's text and attachment
// names, a note's text. Empty for other events.
std::string searchable_text(const json& frame, std::string* event = nullptr) {
  auto kind = frame.value("event", "");
  if (event) *event = kind;
  std::string text;
  auto part = kind == "message" ? frame.find("message") : kind == "note" ? frame.find("note") : frame.end();
  if (part == frame.end() || !part->is_object()) return text;
  if (auto t = part->find("text"); t != part->end() && t->is_string()) text = t->get<std::string>();
  if (auto files = part->find("attachments"); files != part->end() && files->is_array()) {
    for (const auto& f : *files)
      if (f.is_object() && f.contains("filename") && f["filename"].is_string()) text += " " + f["filename"].get<std::string>();
  }
  return text;
}

// The id of a frame's message or note ("" when it has none).
std::string part_id(const json& frame, const std::string& event) {
  auto part = frame.find(event);
  if (part == frame.end() || !part->is_object()) return "";
  auto id = part->find("id");
  return id != part->end() && id->is_string() ? id->get<std::string>() : "";
}

// The frame of one XRANGE entry ([id, [field, value]]), or a discarded value.
json entry_frame(const store::reply& entry) {
  if (entry.elements.size() < 2 || entry.elements[1].elements.size() < 2) return json::value_t::discarded;
  return json::parse(entry.elements[1].elements[1].str, nullptr, false);
}

// Names a message or note across its versions: edits share it.
std::string version_key(const json& frame, const std::string& event, const store::reply& entry) {
  auto id = part_id(frame, event);
  return event + ':' + (id.empty() ? entry.elements[0].str : id);
}

// The seq of the message an edit frame rewrites (a messenger edit logs the
// same message again, "edit": true); 0 for any other frame.
std::int64_t edited_seq(const json& frame) {
  auto edit = frame.find("edit");
  auto message = frame.find("message");
  if (edit == frame.end() || *edit != true || message == frame.end() || !message->is_object()) return 0;
  auto seq = message->find("seq");
  return seq != message->end() && seq->is_number_integer() ? seq->get<std::int64_t>() : 0;
}

// The texts of a conversation's messages and notes, each at its newest
// version, and the older versions they replaced.
struct message_versions {
  std::vector<std::string> current;
  std::vector<std::string> replaced;
  std::map<std::string, std::size_t, std::less<>> slot;  // version key -> index in `current`

  // Takes XRANGE entries in log order.
  void add(const std::vector<store::reply>& entries) {
    for (const auto& entry : entries)
      if (auto frame = entry_frame(entry); !frame.is_discarded()) add(frame, entry);
  }

  // Takes one frame of an XRANGE entry; false when it is not a message or note.
  bool add(const json& frame, const store::reply& entry) {
    std::string event;
    auto text = searchable_text(frame, &event);
    if (event != "message" && event != "note") return false;
    if (auto [at, fresh] = slot.emplace(version_key(frame, event, entry), current.size()); fresh)
      current.push_back(std::move(text));
    else
      replaced.push_back(std::exchange(current[at->second], std::move(text)));
    return true;
  }
};

}  // namespace

// One thing to index: a conversation's new log entries or a customer file.
struct search_service::document {
  std::string member;        // cv_… or cu_…
  bool customer = false;
  std::int64_t seen = 0;     // customers: the dirty score read; conversations: 1 when the log was read to the end
  std::int64_t indexed = 0;  // conversations: the last seq indexed (before, then after this pass)
  std::int64_t from = 0;     // conversations: the last seq indexed before this pass (search.lua checks it is still so)
  std::int64_t score = 0;    // the time it last used its terms
  std::vector<std::string> terms;    // in the order found, each once
  std::set<std::string, std::less<>> known;
  std::vector<std::string> dropped;  // conversations: terms an edit took out (read_again)
  bool edited = false;  // conversations: this pass edits a message indexed before it (read_again)
  std::string brought_by;  // customers: the conversation first indexed with this file (they go together)

  void add_terms(std::string_view text) {
    for (auto& t : search_terms(text)) {
      if (terms.size() >= max_document_terms) return;
      if (known.insert(t).second) terms.push_back(std::move(t));
    }
  }

  // Takes a page of a conversation's log (XRANGE entries): the newest text of
  // each message and note, the last activity and the customer. Notes whether
  // an entry edits a message indexed before it (its old words may have to go:
  // read_again).
  void read_log(const std::vector<store::reply>& entries, std::string& customer) {
    const auto before = indexed;
    message_versions versions;
    for (const auto& entry : entries) {
      // The entry id is "<seq>-1": an unreadable frame is passed over, not read again and again.
      if (!entry.elements.empty()) indexed = std::max(indexed, entry.elements[0].as_int());
      auto frame = entry_frame(entry);
      if (frame.is_discarded()) continue;
      if (auto view = frame.find("conversation"); view != frame.end() && view->is_object()) {
        score = std::max<std::int64_t>(score, view->value("updated_at", std::int64_t{0}));
        customer = view->value("customer_id", "");
      }
      if (!versions.add(frame, entry)) continue;
      if (auto seq = edited_seq(frame); seq > 0 && seq <= before) edited = true;
    }
    for (const auto& text : versions.current) add_terms(text);
  }
};

// The members of the dirty sets (ZRANGE … WITHSCORES replies: conversations
// changed, the backlog, customer files), up to `max` conversations, each once.
std::vector<search_service::document> search_service::dirty_documents(const std::vector<store::reply>& sets,
                                                                      std::size_t max) {
  std::vector<document> docs;
  std::set<std::string> taken;
  for (std::size_t set = 0; set < sets.size(); ++set) {
    const auto& items = sets[set].elements;
    const bool customer = set == 2;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
      if (!customer && (docs.size() >= max || !taken.insert(items[i].str).second)) continue;
      docs.push_back({.member = items[i].str, .customer = customer, .seen = customer ? items[i + 1].as_int() : 0});
    }
  }
  return docs;
}

// search.lua "index": each document's member, seq and terms, then the
// postings grouped by term.
std::vector<std::string> search_service::index_args(const std::vector<document>& docs) const {
  auto args = store::make_command(prefix_, "index", std::to_string(terms_per_set), std::to_string(docs.size()));
  std::map<std::pair<char, std::string>, std::vector<const document*>> postings;
  for (const auto& d : docs) {
    args.push_back(d.member);
    args.push_back(std::to_string(d.seen));
    args.push_back(d.customer ? "" : std::to_string(d.indexed));
    args.push_back(d.customer ? "" : std::to_string(d.from));
    args.push_back(std::to_string(d.dropped.size()));
    args.insert(args.end(), d.dropped.begin(), d.dropped.end());
    args.push_back(std::to_string(d.terms.size()));
    args.insert(args.end(), d.terms.begin(), d.terms.end());
    for (const auto& t : d.terms) postings[{d.customer ? 'c' : 't', t}].push_back(&d);
  }
  for (const auto& [term, documents] : postings) {
    args.push_back(std::string(1, term.first));
    args.push_back(term.second);
    args.push_back(std::to_string(documents.size()));
    for (const auto* d : documents) {
      args.push_back(std::to_string(d->score));
      args.push_back(d->member);
    }
  }
  return args;
}

search_service::search_service(store::redis_client& redis, std::string prefix)
    : redis_(redis), prefix_(std::move(prefix)) {}

awaitable<result<std::int64_t>> search_service::backfill(std::int64_t slice) {
  auto r = co_await redis_.fcall(script(lua::search), store::make_command(),
                                 store::make_command(prefix_, "backfill", std::to_string(search_fold_version),
                                                     std::to_string(slice)));
  if (!r) co_return r.error();
  if (r->is_error()) co_return store::make_error_code(store::redis_errc::server_error);
  co_return r->integer;
}

awaitable<result<std::size_t>> search_service::index_pending(std::size_t max_documents, std::size_t max_terms) {
  // As many documents as about fit the term bound, going by the passes
  // before: the ones bound_pass leaves out would have been read for nothing.
  const auto fit = static_cast<std::size_t>(static_cast<double>(max_terms) / std::max(1.0, terms_per_document_));
  max_documents = std::clamp<std::size_t>(fit, 1, max_documents);
  // Changed conversations first, oldest change first; the backfill's backlog
  // only fills what is left of the pass.
  const auto last = std::to_string(max_documents - 1);
  std::vector<std::vector<std::string>> reads;
  reads.push_back(store::make_command("ZRANGE", prefix_ + "search:dirty", "0", last, "WITHSCORES"));
  reads.push_back(store::make_command("ZRANGE", prefix_ + "search:backlog", "0", last, "WITHSCORES"));
  reads.push_back(store::make_command("ZRANGE", prefix_ + "search:dirty:cust", "0", std::to_string(max_documents / 4), "WITHSCORES"));
  auto dirty = co_await redis_.exec_pipeline(std::move(reads));
  if (!dirty) co_return dirty.error();
  auto docs = dirty_documents(*dirty, max_documents);
  if (docs.empty()) co_return 0;
  if (auto r = co_await read_conversations(docs); !r) co_return r.error();
  if (auto r = co_await read_customers(docs); !r) co_return r.error();
  const auto read = docs.size();
  std::size_t terms = 0;
  for (const auto& d : docs) terms += d.terms.size();
  terms_per_document_ = (terms_per_document_ + static_cast<double>(terms) / static_cast<double>(read)) / 2;
  bound_pass(docs, max_terms);  // search_pass.hpp
  if (auto r = co_await read_again(docs); !r) co_return r.error();  // only for the documents that go

  auto r = co_await redis_.fcall(script(lua::search), store::make_command(), index_args(docs));
  if (!r) co_return r.error();
  if (r->is_error()) co_return store::make_error_code(store::redis_errc::server_error);
  co_return read;
}

// New log entries of each dirty conversation; a conversation indexed for the
// first time brings its customer file along.
awaitable<result<void>> search_service::read_conversations(std::vector<document>& docs) {
  auto seqs = store::make_command("HMGET", prefix_ + "search:seq");
  for (const auto& d : docs)
    if (!d.customer) seqs.push_back(d.member);
  if (seqs.size() == 2) co_return result<void>{};
  auto indexed = co_await redis_.exec(std::move(seqs));
  if (!indexed) co_return indexed.error();
  std::vector<std::vector<std::string>> reads;
  std::size_t k = 0;
  for (auto& d : docs) {
    if (d.customer) continue;
    d.from = d.indexed = indexed->elements.at(k++).as_int();
    reads.push_back(store::make_command("XRANGE", prefix_ + "conv:" + d.member + ":log",
                                        std::to_string(d.indexed + 1) + "-0", "+", "COUNT",
                                        std::to_string(entries_per_pass)));
  }
  auto logs = co_await redis_.exec_pipeline(std::move(reads));
  if (!logs) co_return logs.error();
  std::map<std::string, std::string> first_seen_customers;  // customer -> the conversation that brings it
  k = 0;
  for (auto& d : docs) {
    if (d.customer) continue;
    const bool first = d.indexed == 0;
    std::string customer;
    const auto& entries = (*logs)[k++].elements;
    d.read_log(entries, customer);
    // A full page: more may follow, so the conversation stays dirty until its
    // log is read to the end.
    d.seen = entries.size() < entries_per_pass ? 1 : 0;
    if (first && !customer.empty()) first_seen_customers.emplace(customer, d.member);
  }
  for (const auto& [c, conversation] : first_seen_customers) {
    bool queued = std::any_of(docs.begin(), docs.end(), [&](const document& d) { return d.customer && d.member == c; });
    if (!queued) docs.push_back({.member = c, .customer = true, .brought_by = conversation});
  }
  co_return result<void>{};
}

// A conversation with an edited message loses the words the edit took out:
// its log up to what this pass indexed is read again (edits are rare; a long
// log in pages), and the words of replaced versions that no newest version
// uses are dropped.
awaitable<result<void>> search_service::read_again(std::vector<document>& docs) {
  for (auto& d : docs) {
    if (!d.edited) continue;
    message_versions versions;
    const auto last = std::to_string(d.indexed);
    for (std::string from = "-";;) {
      auto page = co_await redis_.exec(store::make_command("XRANGE", prefix_ + "conv:" + d.member + ":log", from, last,
                                                           "COUNT", std::to_string(entries_per_pass)));
      if (!page) co_return page.error();
      versions.add(page->elements);
      if (page->elements.size() < entries_per_pass) break;
      from = "(" + page->elements.back().elements.at(0).str;
    }
    std::set<std::string, std::less<>> kept, dropped;
    for (const auto& text : versions.current)
      for (auto& t : search_terms(text)) kept.insert(std::move(t));
    for (const auto& text : versions.replaced)
      for (auto& t : search_terms(text))
        if (!kept.contains(t)) dropped.insert(std::move(t));
    d.dropped.assign(dropped.begin(), dropped.end());
  }
  co_return result<void>{};
}

// A customer file's terms: name, identities (display names and ids), email
// address and phone number. A merged or missing file has none (it leaves the index).
awaitable<result<void>> search_service::read_customers(std::vector<document>& docs) {
  std::vector<std::vector<std::string>> reads;
  for (const auto& d : docs) {
    if (!d.customer) continue;
    const auto key = prefix_ + "cust:" + d.member;
    reads.push_back(store::make_command("HMGET", key, "name", "email", "phone", "merged_into", "last_seen_at", "created_at"));
    reads.push_back(store::make_command("HVALS", key + ":identities"));
  }
  if (reads.empty()) co_return result<void>{};
  auto files = co_await redis_.exec_pipeline(std::move(reads));
  if (!files) co_return files.error();
  std::size_t k = 0;
  for (auto& d : docs) {
    if (!d.customer) continue;
    const auto& fields = (*files)[k++].elements;
    const auto& identities = (*files)[k++].elements;
    if (fields.size() < 6 || !fields[3].is_nil() || (fields[0].is_nil() && fields[5].is_nil())) continue;
    d.add_terms(fields[0].str);
    d.add_terms(fields[1].str);
    d.add_terms(fields[2].str);
    for (const auto& identity : identities) {
      auto j = json::parse(identity.str, nullptr, false);
      if (!j.is_object()) continue;
      d.add_terms(j.value("display_name", ""));
      d.add_terms(j.value("external_id", ""));
    }
    d.score = std::max(fields[4].as_int(), fields[5].as_int());
  }
  co_return result<void>{};
}

awaitable<result<std::string>> search_service::query(const search_request& q) {
  auto args = store::make_command(prefix_, "query", proto::join(q.teams, ','), q.admin ? "1" : "0", std::to_string(q.limit), q.query.key,
                                  q.query.last_is_prefix ? "1" : "0", std::to_string(terms_per_set));
  args.insert(args.end(), q.query.words.begin(), q.query.words.end());
  auto r = co_await redis_.fcall(script(lua::search), store::make_command(), std::move(args));
  if (!r) co_return r.error();
  if (r->is_error()) co_return store::make_error_code(store::redis_errc::server_error);
  auto found = json::parse(r->str, nullptr, false);
  if (!found.is_object()) co_return store::make_error_code(store::redis_errc::server_error);

  // The newest message or note of each conversation that holds the words.
  auto& conversations = found["conversations"];
  std::vector<std::vector<std::string>> reads;
  for (const auto& view : conversations)
    reads.push_back(store::make_command("XREVRANGE", prefix_ + "conv:" + view.value("id", "") + ":log", "+", "-",
                                        "COUNT", std::to_string(entries_for_match)));
  std::vector<store::reply> logs;
  if (!reads.empty()) {
    auto got = co_await redis_.exec_pipeline(std::move(reads));
    if (!got) co_return got.error();
    logs = std::move(*got);
  }
  json rows = json::array();
  for (std::size_t i = 0; i < conversations.size(); ++i) {
    json match = nullptr;
    std::set<std::string> newer;  // messages and notes seen in a later version (newest first)
    for (const auto& entry : logs.at(i).elements) {
      auto frame = entry_frame(entry);
      if (frame.is_discarded()) continue;
      std::string event;
      auto text = searchable_text(frame, &event);
      if ((event != "message" && event != "note") || !newer.insert(version_key(frame, event, entry)).second) continue;
      if (text.empty() || !text_matches(text, q.query)) continue;
      const auto& part = frame[event];
      match = {{"seq", frame.value("seq", 0)},
               {"event", event},
               {"author", event == "note" ? "agent" : part.value("author", "")},
               {"author_name", part.value("author_name", "")},
               {"text", search_snippet(text, q.query)},
               {"created_at", part.value("created_at", std::int64_t{0})}};
      break;
    }
    rows.push_back({{"conversation", std::move(conversations[i])}, {"match", std::move(match)}});
  }
  found["conversations"] = std::move(rows);
  co_return found.dump();
}

}  // namespace pasokh::routing
