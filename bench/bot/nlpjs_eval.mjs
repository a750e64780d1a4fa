// NLP.js baseline for bench/bot/run.sh: trains node-nlp on the same knowledge
// base as bot_eval (every question in fa, ar and en) and classifies the same
// eval lines, giving each line's `lang` to NLP.js. Intent "None" counts as
// "__none__"; NLP.js has no notion of "__human__", exactly as deployed.
//
//   node nlpjs_eval.mjs --kb kb.json --set eval.jsonl [--set ...] [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import nlp from 'node-nlp';

const { NlpManager } = nlp;

function parseArgs(argv) {
  const args = { sets: [] };
  for (let i = 2; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`missing value for ${key}`);
    if (key === '--kb') args.kb = value;
    else if (key === '--set') args.sets.push(value);
    else if (key === '--json') args.json = value;
    else throw new Error(`unknown argument ${key}`);
  }
  if (!args.kb) throw new Error('--kb is required');
  return args;
}

const isHandoff = (label) => label === '__human__' || label === '__none__';
const pct = (a, b) => (b === 0 ? 0 : (100 * a) / b);

async function main() {
  const args = parseArgs(process.argv);
  const kb = JSON.parse(readFileSync(args.kb, 'utf8'));
  const languages = kb.languages ?? ['fa', 'ar', 'en'];
  const manager = new NlpManager({ languages, forceNER: false, autoSave: false, nlu: { log: false } });
  for (const entry of kb.entries) {
    for (const lang of languages) {
      for (const q of entry.questions[lang] ?? []) manager.addDocument(lang, q, entry.id);
    }
  }
  await manager.train();

  const summary = { kb: args.kb, sets: [], latency: [] };
  const times = [];
  for (const path of args.sets) {
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    let correct = 0, predHandoff = 0, trueHandoff = 0, both = 0;
    const perLang = {};
    for (const line of lines) {
      const t0 = performance.now();
      const result = await manager.process(line.lang, line.text);
      times.push((performance.now() - t0) * 1000);
      const label = !result.intent || result.intent === 'None' ? '__none__' : result.intent;
      const ok = label === line.expect;
      correct += ok;
      perLang[line.lang] ??= { correct: 0, total: 0 };
      perLang[line.lang].correct += ok;
      perLang[line.lang].total += 1;
      predHandoff += isHandoff(label);
      trueHandoff += isHandoff(line.expect);
      both += isHandoff(label) && isHandoff(line.expect);
    }
    const name = basename(path);
    const langs = Object.fromEntries(Object.entries(perLang).sort().map(([l, t]) => [l, pct(t.correct, t.total)]));
    summary.sets.push({
      name, lines: lines.length, accuracy: pct(correct, lines.length), per_language: langs,
      handoff_precision: pct(both, predHandoff), handoff_recall: pct(both, trueHandoff),
    });
    console.log(`\n== NLP.js ${name} (${lines.length} lines)`);
    console.log(`  top-1 accuracy   ${pct(correct, lines.length).toFixed(1)}% (${correct}/${lines.length})   ` +
      Object.entries(perLang).sort().map(([l, t]) => `${l} ${pct(t.correct, t.total).toFixed(1)}%`).join('   '));
    console.log(`  handoff          precision ${pct(both, predHandoff).toFixed(1)}% (${both}/${predHandoff})   ` +
      `recall ${pct(both, trueHandoff).toFixed(1)}% (${both}/${trueHandoff})`);
  }
  times.sort((a, b) => a - b);
  const at = (p) => (times.length ? times[Math.floor(p * (times.length - 1))] : 0);
  summary.latency.push({ entries: kb.entries.length, p50_us: at(0.5), p99_us: at(0.99) });
  console.log(`\n  latency of process() at ${kb.entries.length} entries: p50 ${at(0.5).toFixed(1)} µs   p99 ${at(0.99).toFixed(1)} µs`);
  if (args.json) writeFileSync(args.json, JSON.stringify(summary, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e.message ?? e);
  process.exit(2);
});
