// Sends API-channel messages at a fixed rate and measures the time from the
// start of each POST to the agent WebSocket frame carrying it.
//   node e2e_latency.mjs <rate/s> <seconds>   (PASOKH_URL, BENCH_API_KEY, BENCH_AGENT_PASSWORD)
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from '../../tests/node_modules/ws/wrapper.mjs';

const rate = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 5);
const base = new URL(process.env.PASOKH_URL);
const apiKey = process.env.BENCH_API_KEY;

const login = await fetch(new URL('/api/v1/auth/login', base), {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ login: 'bench', password: process.env.BENCH_AGENT_PASSWORD }),
});
const { token } = await login.json();
const ws = new WebSocket(`ws://${base.host}/ws/agent`);
await new Promise((r) => ws.on('open', r));
ws.send(JSON.stringify({ type: 'hello', v: 1, token }));

const sentAt = new Map();
const latencies = [];
let failed = 0;
ws.on('message', (data) => {
  const now = performance.now();
  const s = data.toString();
  const m = s.match(/lat-(\d+)-end/);
  if (!m) return;
  const t0 = sentAt.get(Number(m[1]));
  if (t0 !== undefined) { latencies.push(now - t0); sentAt.delete(Number(m[1])); }
});
await new Promise((r) => setTimeout(r, 300));

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const run = Date.now();
function post(n) {
  const body = JSON.stringify({ message_id: `lat-${run}-${n}`, customer: { id: `lc${n % 5000}` }, text: `latency probe lat-${n}-end` });
  sentAt.set(n, performance.now());
  const req = http.request({ host: base.hostname, port: base.port, path: '/api/v1/channels/api/messages', method: 'POST', agent,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'content-length': Buffer.byteLength(body) } },
  (res) => { if (res.statusCode !== 201) failed++; res.resume(); });
  req.on('error', () => failed++);
  req.end(body);
}

const total = rate * seconds;
const start = performance.now();
let sent = 0;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) post(sent++);
    if (sent >= total) return resolve();
    setImmediate(tick);
  };
  tick();
});
const elapsed = (performance.now() - start) / 1000;
await new Promise((r) => setTimeout(r, 1000));
ws.close();
agent.destroy();

latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(2);
console.log(`  offered ${rate}/s for ${seconds}s: sent ${sent} at ${(sent / elapsed).toFixed(0)}/s, frames received ${latencies.length}, failed posts ${failed}`);
console.log(`  POST → agent frame latency: p50 ${pct(50)} ms  p90 ${pct(90)} ms  p99 ${pct(99)} ms  max ${latencies.at(-1)?.toFixed(2)} ms`);
