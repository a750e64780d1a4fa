// Sends API-channel messages at a fixed rate and measures the time from
// writing each POST to the agent WebSocket frame carrying it.
//   node e2e_latency.mjs <rate/s> <seconds>   (PASOKH_URL, BENCH_API_KEY, BENCH_AGENT_PASSWORD)
// The agent socket runs in its own worker thread, so a busy sender never
// delays reading frames (that delay would be counted as gateway latency).
// Requests go over raw keep-alive sockets: node's http client costs more CPU
// per request than the gateway does. Times are absolute (timeOrigin + now),
// comparable across threads.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from '../../tests/node_modules/ws/wrapper.mjs';

const clock = () => performance.timeOrigin + performance.now();

if (!isMainThread) {
  // Agent side: log in, say hello, record when each probe's frame arrives.
  const { base, password } = workerData;
  const login = await fetch(new URL('/api/v1/auth/login', base), {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'bench', password }),
  });
  const { token } = await login.json();
  const ws = new WebSocket(`ws://${new URL(base).host}/ws/agent`);
  await new Promise((r) => ws.on('open', r));
  ws.send(JSON.stringify({ type: 'hello', v: 1, token }));
  const arrivals = [];
  ws.on('message', (data) => {
    const at = clock();
    const m = data.toString().match(/lat-(\d+)-end/);
    if (m) arrivals.push([Number(m[1]), at]);
  });
  parentPort.on('message', (msg) => {
    if (msg === 'stop') { ws.close(); parentPort.postMessage(arrivals); }
  });
  setTimeout(() => parentPort.postMessage('ready'), 300);
} else {
  const rate = Number(process.argv[2] ?? 5000);
  const seconds = Number(process.argv[3] ?? 5);
  const base = new URL(process.env.PASOKH_URL);
  const apiKey = process.env.BENCH_API_KEY;

  const agent = new Worker(new URL(import.meta.url), { workerData: { base: base.href, password: process.env.BENCH_AGENT_PASSWORD } });
  await new Promise((r) => agent.once('message', r));

  // A pool of keep-alive connections, one request in flight on each.
  const run = Date.now();
  const sentAt = new Map();
  const answered = [];  // POST → 201 times, to tell a slow acknowledgement from a slow fanout
  let failed = 0;
  const idle = [];
  function request(n) {
    const body = JSON.stringify({ message_id: `lat-${run}-${n}`, customer: { id: `lc${n % 5000}` }, text: `latency probe lat-${n}-end` });
    return `POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: ${base.host}\r\nContent-Type: application/json\r\n` +
      `Authorization: Bearer ${apiKey}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }
  function connection() {
    const socket = net.connect({ host: base.hostname, port: Number(base.port), noDelay: true });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      buffer += chunk;
      // One answer per request; the body length is in the header.
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        if (!buffer.startsWith('HTTP/1.1 201')) failed++;
        answered.push(clock() - sentAt.get(socket.inFlight));
        buffer = buffer.slice(end + 4 + length);
        idle.push(socket);
      }
    });
    socket.on('error', () => failed++);
    return new Promise((r) => socket.on('connect', () => { idle.push(socket); r(); }));
  }
  await Promise.all(Array.from({ length: 64 }, connection));

  const total = rate * seconds;
  const start = performance.now();
  let sent = 0, waited = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due && idle.length) {
        const socket = idle.pop();
        sentAt.set(sent, clock());
        socket.inFlight = sent;
        socket.write(request(sent++));
      }
      if (sent < due) waited++;  // every connection busy: the gateway is behind
      if (sent >= total) return resolve();
      setTimeout(tick, 1);  // not setImmediate: a spinning sender would take a core from the gateway
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  agent.postMessage('stop');
  const arrivals = await new Promise((r) => agent.once('message', r));
  await agent.terminate();

  const latencies = [];
  for (const [n, at] of arrivals) if (sentAt.has(n)) latencies.push(at - sentAt.get(n));
  latencies.sort((a, b) => a - b);
  answered.sort((a, b) => a - b);
  const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]?.toFixed(2);
  const pct = (p) => at(latencies, p);
  console.log(`  offered ${rate}/s for ${seconds}s: sent ${sent} at ${(sent / elapsed).toFixed(0)}/s, frames received ${latencies.length}, failed posts ${failed}${waited ? `, sender waited for a free connection ${waited} times` : ''}`);
  console.log(`  POST → 201 latency:         p50 ${at(answered, 50)} ms  p90 ${at(answered, 90)} ms  p99 ${at(answered, 99)} ms  max ${answered.at(-1)?.toFixed(2)} ms`);
  console.log(`  POST → agent frame latency: p50 ${pct(50)} ms  p90 ${pct(90)} ms  p99 ${pct(99)} ms  max ${latencies.at(-1)?.toFixed(2)} ms`);
  process.exit(0);
}
