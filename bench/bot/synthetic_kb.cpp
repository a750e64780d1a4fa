#include "synthetic_kb.hpp"

#include <random>
#include <string>
#include <vector>

namespace pasokh::bot::bench {
namespace {

const std::vector<std::string> latin = {"a", "e", "i", "o", "u", "k", "r", "t", "s", "m", "n", "l", "p", "d", "x", "z"};
const std::vector<std::string> arabic_script = {"ب", "ت", "س", "ش", "ر", "ز", "م", "ن", "ل", "ک", "د", "ف", "ق", "ح", "و", "ی", "ا", "ه"};

std::string made_up_word(std::mt19937& rng, language lang) {
  const auto& letters = lang == language::en ? latin : arabic_script;
  std::uniform_int_distribution<std::size_t> len(4, 8), pick(0, letters.size() - 1);
  std::string w;
  for (std::size_t i = len(rng); i > 0; --i) w += letters[pick(rng)];
  return w;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(' ', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string vary(const std::string& q, std::mt19937& rng, const std::string& product) {
  auto words = split(q);
  if (words.size() > 3) {
    words.erase(words.begin() + std::uniform_int_distribution<std::size_t>(0, words.size() - 1)(rng));
  }
  words.insert(words.begin() + std::uniform_int_distribution<std::size_t>(0, words.size())(rng), product);
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

knowledge_base synthetic_kb(const knowledge_base& base, std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  knowledge_base kb;
  kb.version = base.version;
  kb.languages = base.languages;
  kb.name = "synthetic";
  kb.entries.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    kb_entry e = base.entries[i % base.entries.size()];
    e.id += "_" + std::to_string(i);
    e.follow_ups.clear();
    for (language l : kb.languages) {
      const auto li = static_cast<std::size_t>(l);
      const std::string product = made_up_word(rng, l);
      for (auto& q : e.questions[li]) q = vary(q, rng, product);
      e.answers[li] += " " + product + " " + made_up_word(rng, l);
    }
    kb.entries.push_back(std::move(e));
  }
  return kb;
}

}  // namespace pasokh::bot::bench
