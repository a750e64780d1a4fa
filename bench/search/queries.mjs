// Times GET /api/v1/search on the index bench/search/run.sh built: 60
// queries of each kind, one at a time, and prints p50 / p99 / max in ms and
// the time Redis spent in scripts per query (the query script blocks Redis).
//   PASOKH_URL=… TOKEN=… REDIS_PORT=… node queries.mjs <conversations>
import { execFileSync } from 'node:child_process';

// Microseconds Redis has spent in script calls (FCALL) so far.
const scriptUsec = () => Number(/cmdstat_fcall:calls=\d+,usec=(\d+)/.exec(
  execFileSync('redis-cli', ['-p', process.env.REDIS_PORT, 'info', 'commandstats']).toString())?.[1] ?? 0);
const conversations = Number(process.argv[2] ?? 50000);
const syl = ['با', 'سا', 'را', 'نو', 'می', 'کا', 'دو', 'ته', 'لی', 'زه', 'گا', 'رو', 'شی', 'پا', 'مه', 'ست',
  'ter', 'mo', 'ka', 'li', 'ro', 'sen', 'da', 'vi'];
// The same vocabulary as run.sh's generator.
function word(k) {
  let w = '';
  do { w += syl[k % syl.length]; k = Math.floor(k / syl.length); } while (k !== 0);
  return w;
}
const pick = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo));
const kinds = {
  'a common word (in most conversations)': () => word(pick(1, 4)),
  'a rare word': () => word(pick(5000, 20000)),
  'two mid-frequency words': () => `${word(pick(100, 1000))} ${word(pick(100, 1000))}`,
  'a half-typed word (prefix)': () => word(pick(600, 5000)).slice(0, 3),
  'an order number': () => `order ${100000 + pick(1, conversations)}`,
};

const base = process.env.PASOKH_URL;
const headers = { authorization: `Bearer ${process.env.TOKEN}` };
console.log('GET /api/v1/search (limit 20, one query at a time):');
for (const [label, make] of Object.entries(kinds)) {
  const times = [];
  let found = 0;
  const usec0 = scriptUsec();
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/search?q=${encodeURIComponent(make())}`, { headers });
    const body = await res.json();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`search answered ${res.status}: ${JSON.stringify(body)}`);
    found += body.conversations.length;
  }
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
  console.log(`  ${label.padEnd(40)} p50 ${at(0.5).padStart(6)} ms  p99 ${at(0.99).padStart(6)} ms  max ${times.at(-1).toFixed(1).padStart(6)} ms` +
    `  Redis ${((scriptUsec() - usec0) / 60 / 1000).toFixed(1).padStart(5)} ms  (${(found / 60).toFixed(1)} conversations a query)`);
}
