// Web chat benchmark: a real redis-server and a real pasokh (tests/support/harness.mjs).
//
//   bench/webchat/run.sh [idle|latency|all]        (raises ulimit -n as far as allowed)
//
// idle:    N concurrent customer WebSocket sessions (hello + replay done), then each with
//          one conversation (one message, acked); resident memory of the pasokh process
//          before/after, per session.  N = $SESSIONS (default 20000, capped by the fd limit).
// latency: $CONVS (default 1000) active conversations; customers write at $RATE msgs/s in
//          total for $SECONDS s; an agent socket receives every event of the team.
//          customer frame sent → agent frame received, and agent reply → customer frame, p50/p99.
// Client sockets are spread over worker processes so no process needs more than ~10k fds,
// each worker on its own source address (127.0.0.2, .3, ...) so loopback ports never run out.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const WebSocket = require('ws');

const SECRET = 'bench-webchat-secret-0123456789abcdef';
const env = (k, d) => Number(process.env[k] || d);

function signToken(channel, visitor) {
  const payload = Buffer.from(JSON.stringify({ c: channel, v: visitor, e: Math.floor(Date.now() / 1000) + 86400 })).toString('base64url');
  const signed = `w1.${payload}`;
  return `${signed}.${crypto.createHmac('sha256', SECRET).update(signed).digest('base64url')}`;
}
const newVisitor = () => `v_${crypto.randomBytes(16).toString('base64url')}`;

// --- worker: holds a share of the customer sockets ------------------------------
if (process.argv[2] === '--worker') {
  const [, , , wsBase, countText, localAddress] = process.argv;
  const count = Number(countText);
  const sockets = [];
  let opened = 0, acked = 0, failed = 0;
  const open = (i) => new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/ws/chat?channel=web`, { perMessageDeflate: false, localAddress });
    const s = { ws, i, synced: false };
    // NO_HELLO=1: the transport alone (set a long hello timeout), for a breakdown of the memory.
    ws.on('open', () => {
      if (process.env.NO_HELLO) { s.synced = true; opened++; resolve(); return; }
      ws.send(JSON.stringify({ type: 'hello', v: 1, token: signToken('web', newVisitor()) }));
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (!s.synced && text.includes('"synced"')) { s.synced = true; opened++; resolve(); }
      else if (text.includes('"ack"')) { acked++; s.ackResolve?.(); }
    });
    ws.on('error', () => { failed++; resolve(); });
    ws.on('close', () => { if (!s.synced) resolve(); });
    sockets.push(s);
  });
  const run = async (fn, n, concurrency) => {
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }));
  };
  process.on('message', async (m) => {
    if (m === 'connect') {
      await run(open, count, 100);
      process.send({ opened, failed });
    } else if (m === 'converse') {
      await run((i) => new Promise((resolve) => {
        const s = sockets[i];
        if (!s.synced) return resolve();
        s.ackResolve = resolve;
        s.ws.send(JSON.stringify({ type: 'message', client_id: `first-${i}`, text: `سلام ${i}` }));
      }), sockets.length, 200);
      process.send({ acked });
    } else if (m === 'count') {
      process.send({ open: sockets.filter((s) => s.ws.readyState === 1).length });
    }
  });
  process.send('ready');
} else {
  main().catch((e) => { console.error(e); process.exit(1); });
}

// --- coordinator ---------------------------------------------------------------------
async function main() {
  const { RedisServer, Pasokh, defaultConfig, login, sleep } = await import('../../tests/support/harness.mjs');
  const mode = process.argv[2] || 'all';
  const redis = await new RedisServer().start();
  const start = async () => {
    const config = {
      ...defaultConfig(redis),
      log_level: 'error',
      limits: { max_connections: 60000, max_connections_per_address: 0, ws_queue_max_messages: 100000, ws_queue_max_bytes: 256 << 20,
        ws_hello_timeout_ms: process.env.NO_HELLO ? 600000 : 10000 },
      webchat: { messages_per_minute: 100000, sessions_per_ip_per_hour: 1000000 },
    };
    config.listen.threads = env('THREADS', 2);
    config.channels.push({ id: 'web', kind: 'webchat', team: 'support', provider: {} });
    return new Pasokh(config, { PASOKH_WEBCHAT_SECRET: SECRET }).start();
  };
  const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  const fdLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))[1]);

  try {
    if (mode === 'idle' || mode === 'all') {
      const gw = await start();
      // The server needs one fd per session besides the ones it has open now.
      const wanted = env('SESSIONS', 20000);
      const serverFds = readdirSync(`/proc/${gw.proc.pid}/fd`).length;
      const sessions = Math.min(wanted, fdLimit - serverFds - 16);
      const perWorker = 9000;
      const workers = [];
      for (let left = sessions; left > 0; left -= perWorker) {
        const source = `127.0.0.${2 + workers.length}`;
        const w = fork(new URL(import.meta.url).pathname, ['--worker', gw.wsBase, String(Math.min(perWorker, left)), source]);
        await new Promise((r) => w.once('message', r));
        workers.push(w);
      }
      const ask = (w, m) => new Promise((r) => { w.once('message', r); w.send(m); });
      await sleep(500);
      const before = rssKb(gw.proc.pid);
      const t0 = performance.now();
      const connected = await Promise.all(workers.map((w) => ask(w, 'connect')));
      const t1 = performance.now();
      const opened = connected.reduce((a, c) => a + c.opened, 0);
      const failed = connected.reduce((a, c) => a + c.failed, 0);
      await sleep(1000);
      const afterConnect = rssKb(gw.proc.pid);
      const conversed = process.env.NO_HELLO ? [] : await Promise.all(workers.map((w) => ask(w, 'converse')));
      const t2 = performance.now();
      const acked = conversed.reduce((a, c) => a + c.acked, 0);
      await sleep(1000);
      const afterConverse = rssKb(gw.proc.pid);
      const still = (await Promise.all(workers.map((w) => ask(w, 'count')))).reduce((a, c) => a + c.open, 0);
      const metrics = await (await fetch(`${gw.base}/metrics`)).text();
      const gauge = /pasokh_websocket_sessions (\d+)/.exec(metrics)?.[1];
      console.log(JSON.stringify({
        bench: 'webchat idle sessions', load_average: loadAverage(),
        fd_limit: fdLimit, server_fds_before: serverFds, sessions_wanted: wanted, sessions_open: opened, failed, still_open_at_end: still,
        server_ws_sessions_gauge: Number(gauge),
        connect_seconds: +((t1 - t0) / 1000).toFixed(1), first_messages_acked: acked,
        first_messages_per_s: Math.round(acked / ((t2 - t1) / 1000)),
        rss_before_kb: before, rss_connected_kb: afterConnect, rss_with_conversation_kb: afterConverse,
        kb_per_session_connected: +((afterConnect - before) / opened).toFixed(2),
        kb_per_session_with_conversation: +((afterConverse - before) / opened).toFixed(2),
      }, null, 1));
      workers.forEach((w) => w.kill());
      await gw.cleanup();
      await sleep(500);
    }

    if (mode === 'latency' || mode === 'all') {
      await redis.stop();
      await redis.start();
      const gw = await start();
      await gw.createAgent('bench', 'bench-password-123', { name: 'Bench Agent' });
      const token = (await login(gw, 'bench', 'bench-password-123')).json.token;
      const convs = env('CONVS', 1000), rate = env('RATE', 500), seconds = env('SECONDS', 20);

      const agent = new WebSocket(`${gw.wsBase}/ws/agent`, { perMessageDeflate: false });
      const toAgent = [], toCustomer = [];
      const sentAt = new Map();   // text → time the customer sent it
      const replyAt = new Map();  // text → time the agent sent it
      await new Promise((r) => agent.on('open', r));
      agent.send(JSON.stringify({ type: 'hello', v: 1, token }));
      agent.on('message', (data) => {
        const now = performance.now();
        const f = JSON.parse(data);
        if (f.type === 'event' && f.event === 'message' && f.message.author === 'customer') {
          const t = sentAt.get(f.message.text);
          if (t !== undefined) { toAgent.push(now - t); sentAt.delete(f.message.text); }
        }
      });

      const customers = [];
      for (let i = 0; i < convs; i++) {
        const ws = new WebSocket(`${gw.wsBase}/ws/chat?channel=web`, { perMessageDeflate: false });
        const c = { ws, conv: '', i };
        await new Promise((r) => ws.on('open', r));
        ws.on('message', (data) => {
          const now = performance.now();
          const f = JSON.parse(data);
          if (f.type === 'ack' && !c.conv) { c.conv = f.conv; c.ready?.(); }
          if (f.type === 'event' && f.event === 'message' && f.message.author === 'agent') {
            const t = replyAt.get(f.message.text);
            if (t !== undefined) { toCustomer.push(now - t); replyAt.delete(f.message.text); }
          }
        });
        ws.send(JSON.stringify({ type: 'hello', v: 1, token: signToken('web', newVisitor()) }));
        ws.send(JSON.stringify({ type: 'message', client_id: 'open', text: `conversation ${i}` }));
        customers.push(c);
      }
      await Promise.all(customers.map((c) => c.conv ? null : new Promise((r) => { c.ready = r; })));
      await sleep(1000);

      // Customers write at `rate` per second in total; the agent answers every fifth message.
      const interval = 1000 / rate;
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < seconds * 1000) {
        const due = Math.floor((performance.now() - t0) / interval);
        for (; n < due; n++) {
          const c = customers[n % convs];
          const text = `lat ${n}`;
          sentAt.set(text, performance.now());
          c.ws.send(JSON.stringify({ type: 'message', client_id: `m${n}`, text }));
          if (n % 5 === 0) {
            const reply = `re ${n}`;
            replyAt.set(reply, performance.now());
            agent.send(JSON.stringify({ type: 'reply', conv: c.conv, client_id: `r${n}`, text: reply }));
          }
        }
        await sleep(2);
      }
      await sleep(2000);
      const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2); };
      console.log(JSON.stringify({
        bench: 'webchat latency', load_average: loadAverage(), conversations: convs, customer_msgs_per_s: rate, seconds, threads: env('THREADS', 2),
        customer_to_agent_ms: { count: toAgent.length, lost: sentAt.size, p50: pct(toAgent, 0.5), p99: pct(toAgent, 0.99), max: pct(toAgent, 1) },
        agent_to_customer_ms: { count: toCustomer.length, lost: replyAt.size, p50: pct(toCustomer, 0.5), p99: pct(toCustomer, 0.99), max: pct(toCustomer, 1) },
      }, null, 1));
      agent.terminate();
      customers.forEach((c) => c.ws.terminate());
      await gw.cleanup();
    }
  } finally {
    await redis.cleanup();
  }
}
