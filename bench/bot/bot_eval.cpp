// bot_eval: accuracy, handoff precision/recall and latency of the FAQ bot.
//
//   bot_eval --kb kb.json --set eval.jsonl [--set more.jsonl] [--loo]
//            [--synthetic 1000] [--reps 30] [--json summary.json] [--verbose]
//            [--answer-confidence 0.6] [--choice-confidence 0.5]
//
// Every eval line is {"lang", "text", "expect"}; expect is an entry id,
// "__human__" (asks for a person) or "__none__" (out of scope). Each line is
// one fresh conversation: decide() with an empty state and the line's lang as
// the channel hint. The predicted label is decision::label(): the answered
// entry, the first offered choice, "__human__" for an asked-for-human handoff,
// "__none__" for any other handoff or a greeting/thanks reply.
// Handoff = a label of "__human__" or "__none__" (the bot gives no KB answer);
// precision and recall are of that against expect ∈ {__human__, __none__}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "alloc_counter.hpp"
#include "pasokh/bot/decide.hpp"
#include "pasokh/bot/index.hpp"
#include "pasokh/bot/knowledge_base.hpp"
#include "synthetic_kb.hpp"

using namespace pasokh::bot;
using json = nlohmann::json;

namespace {

struct sample {
  std::string lang, text, expect;
};

struct args {
  std::string kb;
  std::vector<std::string> sets;
  bool loo = false;
  bool verbose = false;
  std::size_t synthetic = 1000;
  int reps = 30;
  std::string json_out;
  bot_options options;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: bot_eval --kb kb.json --set eval.jsonl [--set ...] [--loo] [--synthetic N]"
               " [--reps N] [--json out.json] [--verbose] [--answer-confidence X] [--choice-confidence X]\n",
               msg);
  std::exit(2);
}

args parse_args(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + k).c_str());
      return argv[++i];
    };
    if (k == "--kb") a.kb = value();
    else if (k == "--set") a.sets.push_back(value());
    else if (k == "--loo") a.loo = true;
    else if (k == "--verbose") a.verbose = true;
    else if (k == "--synthetic") a.synthetic = std::stoul(value());
    else if (k == "--reps") a.reps = std::stoi(value());
    else if (k == "--json") a.json_out = value();
    else if (k == "--answer-confidence") a.options.answer_confidence = std::stof(value());
    else if (k == "--choice-confidence") a.options.choice_confidence = std::stof(value());
    else usage(("unknown argument " + k).c_str());
  }
  if (a.kb.empty()) usage("--kb is required");
  return a;
}

std::vector<sample> read_set(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage(("cannot read " + path).c_str());
  std::vector<sample> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const auto j = json::parse(line);
      out.push_back({j.at("lang").get<std::string>(), j.at("text").get<std::string>(), j.at("expect").get<std::string>()});
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), n, e.what());
      std::exit(2);
    }
  }
  return out;
}

bool is_handoff_label(std::string_view l) { return l == "__human__" || l == "__none__"; }

double pct(std::size_t a, std::size_t b) { return b == 0 ? 0.0 : 100.0 * static_cast<double>(a) / static_cast<double>(b); }

struct tally {
  std::size_t total = 0, correct = 0;
  void add(bool ok) { ++total; correct += ok; }
};

// Scores one set of samples; prints a report and returns its JSON summary.
json score(const faq_index& index, const std::string& name, const std::vector<sample>& set, const bot_options& options,
           bool verbose) {
  tally all;
  std::map<std::string, tally> per_lang;
  std::size_t pred_handoff = 0, true_handoff = 0, both_handoff = 0, human_hit = 0, human_total = 0;
  std::size_t answers = 0, answers_right = 0, choices = 0, choices_right = 0, handoffs = 0, other = 0;
  // Calibration of the confidence over lines whose truth is a KB entry.
  constexpr int bins = 5;
  tally calib[bins];
  double calib_conf[bins] = {};
  for (const auto& s : set) {
    const decision d = decide(index, {}, {.text = s.text, .language = s.lang}, options);
    const std::string label(d.label());
    const bool ok = label == s.expect;
    all.add(ok);
    per_lang[s.lang].add(ok);
    const bool ph = is_handoff_label(label), th = is_handoff_label(s.expect);
    pred_handoff += ph;
    true_handoff += th;
    both_handoff += ph && th;
    if (s.expect == "__human__") {
      ++human_total;
      human_hit += label == "__human__";
    }
    switch (d.kind) {
      case action::answer: ++answers; answers_right += ok; break;
      case action::choices: ++choices; choices_right += ok; break;
      case action::handoff: ++handoffs; break;
      default: ++other; break;
    }
    if (!th && d.kind != action::handoff) {
      const int b = std::min(bins - 1, static_cast<int>(d.confidence * bins));
      calib[b].add(ok);
      calib_conf[b] += d.confidence;
    }
    if (verbose && !ok) {
      std::printf("    miss [%s] expect %-20s got %-20s (%s, conf %.2f)  %s\n", s.lang.c_str(), s.expect.c_str(),
                  label.c_str(), std::string(to_string(d.kind)).c_str(), d.confidence, s.text.c_str());
    }
  }
  std::printf("\n== %s (%zu lines)\n", name.c_str(), set.size());
  std::printf("  top-1 accuracy   %5.1f%% (%zu/%zu)", pct(all.correct, all.total), all.correct, all.total);
  json langs = json::object();
  for (const auto& [lang, t] : per_lang) {
    std::printf("   %s %5.1f%% (%zu/%zu)", lang.c_str(), pct(t.correct, t.total), t.correct, t.total);
    langs[lang] = pct(t.correct, t.total);
  }
  std::printf("\n  handoff          precision %5.1f%% (%zu/%zu)   recall %5.1f%% (%zu/%zu)   person requests %zu/%zu\n",
              pct(both_handoff, pred_handoff), both_handoff, pred_handoff, pct(both_handoff, true_handoff),
              both_handoff, true_handoff, human_hit, human_total);
  std::printf("  decisions        answer %zu (right %zu, wrong %zu)   choices %zu (first right %zu)   handoff %zu   other %zu\n",
              answers, answers_right, answers - answers_right, choices, choices_right, handoffs, other);
  std::printf("  calibration      ");
  for (int b = 0; b < bins; ++b) {
    if (calib[b].total == 0) continue;
    std::printf("[%.1f-%.1f) conf %.2f acc %.2f n=%zu   ", b / double(bins), (b + 1) / double(bins),
                calib_conf[b] / calib[b].total, calib[b].correct / double(calib[b].total), calib[b].total);
  }
  std::printf("\n");
  return json{{"name", name},
              {"lines", set.size()},
              {"accuracy", pct(all.correct, all.total)},
              {"per_language", langs},
              {"handoff_precision", pct(both_handoff, pred_handoff)},
              {"handoff_recall", pct(both_handoff, true_handoff)},
              {"answered", answers},
              {"answered_wrong", answers - answers_right},
              {"choices", choices}};
}

// Leave-one-phrasing-out: each KB question is removed from its entry, the
// index rebuilt, and the question asked. Measures generalization to unseen
// phrasings without any evaluation file.
json leave_one_out(const knowledge_base& kb, const bot_options& options, bool verbose) {
  tally all;
  std::map<std::string, tally> per_lang;
  std::size_t answered = 0, answered_wrong = 0;
  for (std::size_t e = 0; e < kb.entries.size(); ++e) {
    for (language l : kb.languages) {
      const auto li = static_cast<std::size_t>(l);
      for (std::size_t q = 0; q < kb.entries[e].questions[li].size(); ++q) {
        if (kb.entries[e].questions[li].size() < 2) continue;
        knowledge_base copy = kb;
        auto& qs = copy.entries[e].questions[li];
        const std::string text = qs[q];
        qs.erase(qs.begin() + static_cast<std::ptrdiff_t>(q));
        const faq_index index(std::move(copy));
        const decision d = decide(index, {}, {.text = text, .language = to_string(l)}, options);
        const bool ok = d.label() == kb.entries[e].id;
        all.add(ok);
        per_lang[std::string(to_string(l))].add(ok);
        answered += d.kind == action::answer;
        answered_wrong += d.kind == action::answer && !ok;
        if (verbose && !ok) {
          std::printf("    miss [%s] expect %-20s got %-20s (%s, conf %.2f)  %s\n", std::string(to_string(l)).c_str(),
                      kb.entries[e].id.c_str(), std::string(d.label()).c_str(), std::string(to_string(d.kind)).c_str(),
                      d.confidence, text.c_str());
        }
      }
    }
  }
  std::printf("\n== leave-one-phrasing-out on the KB's own questions (%zu queries)\n", all.total);
  std::printf("  top-1 accuracy   %5.1f%% (%zu/%zu)", pct(all.correct, all.total), all.correct, all.total);
  json langs = json::object();
  for (const auto& [lang, t] : per_lang) {
    std::printf("   %s %5.1f%%", lang.c_str(), pct(t.correct, t.total));
    langs[lang] = pct(t.correct, t.total);
  }
  std::printf("   answered outright %zu (wrong %zu)\n", answered, answered_wrong);
  return json{{"name", "leave-one-phrasing-out"}, {"lines", all.total}, {"accuracy", pct(all.correct, all.total)},
              {"per_language", langs}, {"answered", answered}, {"answered_wrong", answered_wrong}};
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

long involuntary_switches() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_nivcsw;
}

// Single-threaded wall time of decide() per query, and heap allocations of
// search() and decide() per query. On a shared machine the OS sometimes
// deschedules the thread mid-query; those samples measure the machine, not
// the bot, so p99 is also given over the samples without an involuntary
// context switch (and how many were dropped).
json latency(const faq_index& index, const std::vector<sample>& queries, int reps, const std::string& label,
             const bot_options& options) {
  using clock = std::chrono::steady_clock;
  for (const auto& s : queries) (void)decide(index, {}, {.text = s.text, .language = s.lang}, options);  // warm up
  std::vector<double> all, clean;
  all.reserve(queries.size() * static_cast<std::size_t>(reps));
  clean.reserve(all.capacity());
  for (int r = 0; r < reps; ++r) {
    for (const auto& s : queries) {
      const long cs0 = involuntary_switches();
      const auto t0 = clock::now();
      const decision d = decide(index, {}, {.text = s.text, .language = s.lang}, options);
      const auto t1 = clock::now();
      const long cs1 = involuntary_switches();
      const double us = std::chrono::duration<double, std::micro>(t1 - t0).count();
      all.push_back(us);
      if (cs1 == cs0) clean.push_back(us);
    }
  }
  const auto a0 = bench::allocations();
  for (const auto& s : queries) (void)index.search(s.text, *parse_language(s.lang));
  const auto a1 = bench::allocations();
  for (const auto& s : queries) (void)decide(index, {}, {.text = s.text, .language = s.lang}, options);
  const auto a2 = bench::allocations();
  const double n = static_cast<double>(queries.size());
  const std::size_t dropped = all.size() - clean.size();
  const double p50 = percentile(all, 0.50), p99 = percentile(all, 0.99);
  const double p99_clean = percentile(clean, 0.99), max_clean = clean.empty() ? 0 : *std::max_element(clean.begin(), clean.end());
  std::printf("  %-26s p50 %5.1f µs   p99 %7.1f µs   | not preempted: p99 %5.1f µs, max %6.1f µs (%zu of %zu samples dropped)"
              "   allocs/query: search %.1f, decide %.1f\n",
              label.c_str(), p50, p99, p99_clean, max_clean, dropped, all.size(), static_cast<double>(a1 - a0) / n,
              static_cast<double>(a2 - a1) / n);
  return json{{"entries", index.kb().entries.size()}, {"p50_us", p50}, {"p99_us", p99},
              {"p99_not_preempted_us", p99_clean}, {"preempted_samples", dropped},
              {"allocs_per_search", static_cast<double>(a1 - a0) / n},
              {"allocs_per_decide", static_cast<double>(a2 - a1) / n}};
}

}  // namespace

int main(int argc, char** argv) {
  const args a = parse_args(argc, argv);
  auto loaded = load_knowledge_base(a.kb);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s: %s\n", a.kb.c_str(), to_string(e).c_str());
    return 1;
  }
  const knowledge_base kb = loaded.kb;
  const faq_index index(std::move(loaded.kb));
  std::printf("Pasokh bot evaluation: %s (%zu entries), answer at confidence >= %.2f, choices at answerable >= %.2f\n",
              a.kb.c_str(), index.kb().entries.size(), a.options.answer_confidence, a.options.choice_confidence);

  json summary{{"kb", a.kb}, {"sets", json::array()}};
  std::vector<sample> all_queries;
  for (const auto& path : a.sets) {
    const auto set = read_set(path);
    summary["sets"].push_back(score(index, path.substr(path.find_last_of('/') + 1), set, a.options, a.verbose));
    all_queries.insert(all_queries.end(), set.begin(), set.end());
  }
  if (a.loo) summary["loo"] = leave_one_out(kb, a.options, a.verbose);

  if (!all_queries.empty() && a.reps > 0) {
    std::printf("\n== latency of decide() over the eval queries (%zu queries x %d reps, one thread)\n",
                all_queries.size(), a.reps);
    summary["latency"] = json::array();
    summary["latency"].push_back(latency(index, all_queries, a.reps, std::to_string(index.kb().entries.size()) + " entries (the KB)", a.options));
    if (a.synthetic > 0) {
      const faq_index big(bench::synthetic_kb(kb, a.synthetic));
      summary["latency"].push_back(latency(big, all_queries, a.reps, std::to_string(a.synthetic) + " entries (synthetic)", a.options));
    }
  }
  if (!a.json_out.empty()) std::ofstream(a.json_out) << summary.dump(2) << "\n";
  return 0;
}
