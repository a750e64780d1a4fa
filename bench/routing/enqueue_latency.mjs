// Time from enqueue (the POST of a new customer's message) to the assigned
// agent's WebSocket frame announcing the assignment, with AGENTS online agents.
//   node enqueue_latency.mjs <rate/s> <seconds> <agents>  (PASOKH_URL, BENCH_API_KEY, BENCH_ADMIN_PASSWORD)
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from '../../tests/node_modules/ws/wrapper.mjs';

const rate = Number(process.argv[2] ?? 200);
const seconds = Number(process.argv[3] ?? 5);
const agentCount = Number(process.argv[4] ?? 20);
const base = new URL(process.env.PASOKH_URL);
const apiKey = process.env.BENCH_API_KEY;

async function call(method, path, token, body) {
  const res = await fetch(new URL(path, base), { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: await res.json() };
}
const admin = (await call('POST', '/api/v1/auth/login', null, { login: 'bench', password: process.env.BENCH_ADMIN_PASSWORD })).json.token;

const sentAt = new Map();   // marker n -> t0
const convOf = new Map();   // conv -> n
const latencies = [];
const sockets = [];
for (let i = 0; i < agentCount; ++i) {
  const login = `lat${i}`;
  const created = await call('POST', '/api/v1/admin/agents', admin, { login, password: `${login}-password`, teams: ['support'], capacity: 1000 });
  // A refused agent would make every latency "undefined": stop with the reason.
  if (created.status >= 300) throw new Error(`creating agent ${login}: ${created.status} ${JSON.stringify(created.json)}`);
  const token = (await call('POST', '/api/v1/auth/login', null, { login, password: `${login}-password` })).json.token;
  const ws = new WebSocket(`ws://${base.host}/ws/agent`);
  await new Promise((r) => ws.on('open', r));
  const me = `ag_${login}`;
  ws.on('message', (data) => {
    const now = performance.now();
    const s = data.toString();
    if (!s.includes('"event"')) return;
    const f = JSON.parse(s);
    if (f.event === 'message' && f.seq === 1) {
      const m = /lat-(\d+)-end/.exec(f.message?.text ?? '');
      if (m) convOf.set(f.conv, Number(m[1]));
    } else if (f.event === 'status' && f.status === 'assigned' && f.assignee === me) {
      const n = convOf.get(f.conv);
      const t0 = sentAt.get(n);
      if (t0 !== undefined) { latencies.push(now - t0); sentAt.delete(n); }
    }
  });
  ws.send(JSON.stringify({ type: 'hello', v: 1, token, presence: 'online' }));
  sockets.push(ws);
}
await new Promise((r) => setTimeout(r, 500));

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const run = Date.now();
let failed = 0;
function post(n) {
  const body = JSON.stringify({ message_id: `lat-${run}-${n}`, customer: { id: `latc-${run}-${n}` }, text: `my order lat-${n}-end` });
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
    setTimeout(tick, 1);
  };
  tick();
});
const elapsed = (performance.now() - start) / 1000;
await new Promise((r) => setTimeout(r, 1500));
for (const ws of sockets) ws.close();
agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(2);
console.log(`  ${agentCount} agents online (WebSocket), ${rate} new conversations/s for ${seconds}s: sent ${sent} at ${(sent / elapsed).toFixed(0)}/s, assignments seen ${latencies.length}, failed posts ${failed}`);
console.log(`  enqueue (POST) → assigned agent's WebSocket frame: p50 ${pct(50)} ms  p90 ${pct(90)} ms  p99 ${pct(99)} ms  max ${latencies.at(-1)?.toFixed(2)} ms`);
