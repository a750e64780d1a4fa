// Prints bot_eval's and nlpjs_eval.mjs's JSON summaries side by side.
//   node compare.mjs pasokh.json nlpjs.json
import { readFileSync } from 'node:fs';

const [pasokh, nlpjs] = process.argv.slice(2).map((p) => JSON.parse(readFileSync(p, 'utf8')));
const fmt = (v, unit = '%') => (v === undefined || v === null ? '-' : `${v.toFixed(1)}${unit}`);
const row = (label, a, b, unit = '%') => {
  const delta = a !== undefined && b !== undefined ? `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)}` : '';
  console.log(`  ${label.padEnd(28)} ${fmt(a, unit).padStart(9)} ${fmt(b, unit).padStart(9)} ${delta.padStart(8)}`);
};

console.log(`== side by side: ${pasokh.kb}`);
console.log(`  ${''.padEnd(28)} ${'Pasokh'.padStart(9)} ${'NLP.js'.padStart(9)} ${'Δ'.padStart(8)}`);
for (const set of pasokh.sets) {
  const other = nlpjs.sets.find((s) => s.name === set.name) ?? {};
  console.log(`  ${set.name} (${set.lines} lines)`);
  row('top-1 accuracy', set.accuracy, other.accuracy);
  for (const lang of Object.keys(set.per_language)) {
    row(`  ${lang}`, set.per_language[lang], other.per_language?.[lang]);
  }
  row('handoff precision', set.handoff_precision, other.handoff_precision);
  row('handoff recall', set.handoff_recall, other.handoff_recall);
}
if (pasokh.loo) {
  console.log(`  leave-one-phrasing-out (${pasokh.loo.lines} KB questions)`);
  row('top-1 accuracy', pasokh.loo.accuracy, undefined);
}
console.log('  latency (one query)');
for (const l of pasokh.latency ?? []) {
  const other = (nlpjs.latency ?? []).find((x) => x.entries === l.entries);
  row(`p50 at ${l.entries} entries`, l.p50_us, other?.p50_us, ' µs');
  row(`p99 at ${l.entries} entries`, l.p99_us, other?.p99_us, ' µs');
  row(`p99 not preempted, ${l.entries}`, l.p99_not_preempted_us, undefined, ' µs');
}
