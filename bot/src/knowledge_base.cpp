#include "pasokh/bot/knowledge_base.hpp"

#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "pasokh/bot/normalize.hpp"

namespace pasokh::bot {
namespace {

using json = nlohmann::json;

constexpr std::size_t idx(language l) { return static_cast<std::size_t>(l); }

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > max_entry_id_bytes || id.starts_with("__")) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Collects errors with their location while walking the document.
class validator {
 public:
  explicit validator(std::vector<kb_error>& errors) : errors_(errors) {}

  void error(std::string entry, std::string path, std::string message) {
    if (errors_.size() < max_kb_errors) errors_.push_back({std::move(entry), std::move(path), std::move(message)});
  }

  void reject_unknown_keys(const json& obj, std::initializer_list<std::string_view> allowed,
                           const std::string& entry, const std::string& path) {
    for (const auto& [key, value] : obj.items()) {
      bool known = false;
      for (auto a : allowed) known |= key == a;
      if (!known) error(entry, path + "/" + key, "unknown key '" + key + "'");
    }
  }

  // {"fa": "...", ...} with only declared languages; missing ones stay empty.
  localized parse_localized(const json& obj, const knowledge_base& kb, const std::string& entry,
                            const std::string& path, std::size_t max_bytes) {
    localized out;
    if (!obj.is_object()) {
      error(entry, path, "must be an object of language → text");
      return out;
    }
    for (const auto& [key, value] : obj.items()) {
      const auto lang = parse_language(key);
      if (!lang || key.size() != 2) {
        error(entry, path + "/" + key, "unknown language '" + key + "' (use fa, ar or en)");
        continue;
      }
      if (!kb.has_language(*lang)) {
        error(entry, path + "/" + key, "language '" + key + "' is not in the knowledge base's languages");
        continue;
      }
      if (!value.is_string()) {
        error(entry, path + "/" + key, "must be a string");
        continue;
      }
      auto text = value.get<std::string>();
      if (text.size() > max_bytes) {
        error(entry, path + "/" + key, "longer than " + std::to_string(max_bytes) + " bytes");
      }
      out[idx(*lang)] = std::move(text);
    }
    return out;
  }

 private:
  std::vector<kb_error>& errors_;
};

void parse_entry(const json& e, std::size_t i, knowledge_base& kb, validator& v) {
  const std::string path = "/entries/" + std::to_string(i);
  if (!e.is_object()) {
    v.error("", path, "entry must be an object");
    return;
  }
  kb_entry entry;
  if (!e.contains("id") || !e["id"].is_string()) {
    v.error("", path + "/id", "missing string 'id'");
  } else {
    entry.id = e["id"].get<std::string>();
    if (!valid_id(entry.id)) {
      v.error(entry.id, path + "/id",
              "id must be 1-" + std::to_string(max_entry_id_bytes) + " characters of a-z 0-9 _ - . and must not start with '__' (reserved)");
    }
  }
  const std::string& id = entry.id;
  v.reject_unknown_keys(e, {"id", "tags", "title", "questions", "answers", "follow_ups"}, id, path);

  if (e.contains("tags")) {
    const auto& tags = e["tags"];
    if (!tags.is_array()) {
      v.error(id, path + "/tags", "must be an array of strings");
    } else {
      for (std::size_t t = 0; t < tags.size(); ++t) {
        if (!tags[t].is_string() || tags[t].get_ref<const std::string&>().empty()) {
          v.error(id, path + "/tags/" + std::to_string(t), "tag must be a non-empty string");
        } else {
          entry.tags.push_back(tags[t].get<std::string>());
        }
      }
    }
  }

  if (e.contains("title")) entry.title = v.parse_localized(e["title"], kb, id, path + "/title", 200);

  if (!e.contains("questions") || !e["questions"].is_object()) {
    v.error(id, path + "/questions", "missing object 'questions' (language → array of phrasings)");
  } else {
    for (const auto& [key, list] : e["questions"].items()) {
      const std::string qpath = path + "/questions/" + key;
      const auto lang = parse_language(key);
      if (!lang || key.size() != 2) {
        v.error(id, qpath, "unknown language '" + key + "' (use fa, ar or en)");
        continue;
      }
      if (!kb.has_language(*lang)) {
        v.error(id, qpath, "language '" + key + "' is not in the knowledge base's languages");
        continue;
      }
      if (!list.is_array()) {
        v.error(id, qpath, "must be an array of strings");
        continue;
      }
      for (std::size_t q = 0; q < list.size(); ++q) {
        const std::string p = qpath + "/" + std::to_string(q);
        if (!list[q].is_string()) {
          v.error(id, p, "question must be a string");
          continue;
        }
        const auto& text = list[q].get_ref<const std::string&>();
        if (text.size() > max_question_bytes) {
          v.error(id, p, "question longer than " + std::to_string(max_question_bytes) + " bytes");
        } else if (normalize(text).empty()) {
          v.error(id, p, "question has no words");
        } else {
          entry.questions[idx(*lang)].push_back(text);
        }
      }
    }
  }

  if (!e.contains("answers")) {
    v.error(id, path + "/answers", "missing object 'answers' (language → text)");
  } else {
    entry.answers = v.parse_localized(e["answers"], kb, id, path + "/answers", max_answer_bytes);
  }

  for (language l : kb.languages) {
    const std::string code(to_string(l));
    if (entry.questions[idx(l)].empty() && e.contains("questions") && e["questions"].is_object()) {
      v.error(id, path + "/questions/" + code, "no questions in '" + code + "'");
    }
    if (e.contains("answers") && e["answers"].is_object()) {
      const auto& a = entry.answers[idx(l)];
      if (!e["answers"].contains(code)) {
        v.error(id, path + "/answers/" + code, "no answer in '" + code + "'");
      } else if (normalize(a).empty() && e["answers"][code].is_string()) {
        v.error(id, path + "/answers/" + code, "answer is empty");
      }
    }
  }

  if (e.contains("follow_ups")) {
    const auto& fu = e["follow_ups"];
    if (!fu.is_array()) {
      v.error(id, path + "/follow_ups", "must be an array of {\"entry\": id, \"title\": {...}}");
    } else {
      for (std::size_t f = 0; f < fu.size(); ++f) {
        const std::string p = path + "/follow_ups/" + std::to_string(f);
        if (!fu[f].is_object() || !fu[f].contains("entry") || !fu[f]["entry"].is_string()) {
          v.error(id, p, "follow-up must be an object with a string 'entry'");
          continue;
        }
        v.reject_unknown_keys(fu[f], {"entry", "title"}, id, p);
        follow_up item;
        item.entry = fu[f]["entry"].get<std::string>();
        if (fu[f].contains("title")) item.title = v.parse_localized(fu[f]["title"], kb, id, p + "/title", 200);
        entry.follow_ups.push_back(std::move(item));
      }
    }
  }
  kb.entries.push_back(std::move(entry));
}

// Checks that need every entry: unique ids, follow-up targets, questions that
// two entries share (the bot could never tell them apart).
void check_cross_references(knowledge_base& kb, validator& v) {
  std::unordered_map<std::string_view, std::size_t> by_id;
  for (std::size_t i = 0; i < kb.entries.size(); ++i) {
    const auto& id = kb.entries[i].id;
    if (id.empty()) continue;
    const auto [it, inserted] = by_id.emplace(id, i);
    if (!inserted) {
      v.error(id, "/entries/" + std::to_string(i) + "/id",
              "duplicate id (also used by /entries/" + std::to_string(it->second) + ")");
    }
  }
  std::unordered_map<std::string, std::string> question_owner;
  for (std::size_t i = 0; i < kb.entries.size(); ++i) {
    const auto& entry = kb.entries[i];
    for (std::size_t f = 0; f < entry.follow_ups.size(); ++f) {
      const auto& target = entry.follow_ups[f].entry;
      const std::string p = "/entries/" + std::to_string(i) + "/follow_ups/" + std::to_string(f) + "/entry";
      if (target == entry.id) v.error(entry.id, p, "follow-up points to its own entry");
      else if (!by_id.contains(target)) v.error(entry.id, p, "follow-up points to unknown entry '" + target + "'");
    }
    for (language l : kb.languages) {
      const auto& qs = entry.questions[idx(l)];
      for (std::size_t q = 0; q < qs.size(); ++q) {
        const auto [it, inserted] = question_owner.emplace(normalize(qs[q]), entry.id);
        if (!inserted && it->second != entry.id) {
          v.error(entry.id,
                  "/entries/" + std::to_string(i) + "/questions/" + std::string(to_string(l)) + "/" +
                      std::to_string(q),
                  "same question as entry '" + it->second + "'");
        }
      }
    }
  }
}

}  // namespace

std::string_view kb_entry::label(language l) const {
  const auto& t = title[idx(l)];
  if (!t.empty()) return t;
  const auto& qs = questions[idx(l)];
  return qs.empty() ? std::string_view(id) : std::string_view(qs.front());
}

const kb_entry* knowledge_base::find(std::string_view id) const {
  for (const auto& e : entries) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

bool knowledge_base::has_language(language l) const {
  for (language x : languages) {
    if (x == l) return true;
  }
  return false;
}

std::string to_string(const kb_error& e) {
  std::string out;
  if (!e.entry_id.empty()) out += "entry '" + e.entry_id + "' ";
  out += "at " + (e.path.empty() ? std::string("/") : e.path) + ": " + e.message;
  return out;
}

kb_load_result parse_knowledge_base(std::string_view text) {
  kb_load_result result;
  validator v(result.errors);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    v.error("", "", std::string("not valid JSON: ") + e.what());
    return result;
  }
  if (!doc.is_object()) {
    v.error("", "", "knowledge base must be a JSON object");
    return result;
  }
  knowledge_base& kb = result.kb;
  v.reject_unknown_keys(doc, {"version", "languages", "name", "description", "entries"}, "", "");
  if (doc.contains("version")) {
    if (!doc["version"].is_number_integer() || doc["version"].get<long long>() < 1) {
      v.error("", "/version", "version must be a positive integer");
    } else {
      kb.version = doc["version"].get<int>();
    }
  }
  if (doc.contains("name") && doc["name"].is_string()) kb.name = doc["name"].get<std::string>();
  if (!doc.contains("languages")) {
    kb.languages.assign(std::begin(all_languages), std::end(all_languages));
  } else if (!doc["languages"].is_array() || doc["languages"].empty()) {
    v.error("", "/languages", "languages must be a non-empty array of \"fa\", \"ar\", \"en\"");
  } else {
    const auto& langs = doc["languages"];
    for (std::size_t i = 0; i < langs.size(); ++i) {
      const auto lang = langs[i].is_string() ? parse_language(langs[i].get<std::string>()) : std::nullopt;
      if (!lang || langs[i].get<std::string>().size() != 2) {
        v.error("", "/languages/" + std::to_string(i), "unknown language (use fa, ar or en)");
      } else if (!kb.has_language(*lang)) {
        kb.languages.push_back(*lang);
      }
    }
  }
  if (!doc.contains("entries") || !doc["entries"].is_array()) {
    v.error("", "/entries", "missing array 'entries'");
    return result;
  }
  const auto& entries = doc["entries"];
  if (entries.empty()) v.error("", "/entries", "knowledge base has no entries");
  if (entries.size() > max_kb_entries) {
    v.error("", "/entries", "more than " + std::to_string(max_kb_entries) + " entries");
    return result;
  }
  kb.entries.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) parse_entry(entries[i], i, kb, v);
  check_cross_references(kb, v);
  return result;
}

kb_load_result load_knowledge_base(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    kb_load_result result;
    result.errors.push_back({"", "", "cannot read knowledge base file " + file.string()});
    return result;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_knowledge_base(buffer.str());
}

}  // namespace pasokh::bot
