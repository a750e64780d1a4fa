// Agent inbox benchmark: what an agent's connect costs as the team's open
// conversations grow. A real redis-server and pasokh (tests/support/harness.mjs).
//
//   bench/inbox/run.sh
//
// Customers open conversations through the API channel (CONCURRENCY at a
// time) until the team holds each of OPEN open ones; at each size an agent of
// the team (away, so routing assigns it nothing) connects CONNECTS times, one
// after another. Printed: hello→welcome p50 / p99 / max, the CPU time of the
// gateway and of Redis per connect (and a second of either's idle work, which
// runs meanwhile) and the commands Redis spent it in, the
// welcome's size and rows, the gateway's resident memory (now and its peak),
// and the resync: SOCKETS agent sockets are open when the gateway's pub/sub
// link is killed; from the subscriber being back in Redis to the last
// socket's snapshot, the CPU time it took and the Redis commands it spent
// it in (sessions share one read of the team: routing/team_scans.hpp).
//
//   OPEN=100,1000,5000 CONNECTS=200 SOCKETS=10 CONCURRENCY=32 (defaults)
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { RedisServer, Pasokh, defaultConfig, postMessage, login, sleep } from '../../tests/support/harness.mjs';

const WebSocket = createRequire(new URL('../../tests/package.json', import.meta.url))('ws');

const list = (v, d) => (v || d).split(',').map(Number);
const OPEN = list(process.env.OPEN, '100,1000,5000');
const CONNECTS = Number(process.env.CONNECTS || 200);
const SOCKETS = Number(process.env.SOCKETS || 10);
const CONCURRENCY = Number(process.env.CONCURRENCY || 32);

const redis = await new RedisServer().start();
const gw = await new Pasokh(defaultConfig(redis)).start();
const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();

// An agent socket that has sent its hello: resolves with the welcome, its
// size and the ms from hello to welcome; later frames go to onFrame.
function connect(token, onFrame = () => {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${gw.wsBase}/ws/agent`, { perMessageDeflate: false });
    let sent = 0;
    let welcome = null;
    ws.on('open', () => {
      sent = performance.now();
      ws.send(JSON.stringify({ type: 'hello', v: 1, token, presence: 'away' }));
    });
    ws.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString());
      if (!welcome && frame.type === 'welcome') {
        welcome = frame;
        resolve({ ws, welcome, bytes: data.length, ms: at - sent });
      } else onFrame(frame, at);
    });
    ws.on('error', reject);
    ws.on('close', (code, reason) => { if (!welcome) reject(new Error(`closed ${code} ${reason}`)); });
  });
}
const closeAll = (sockets) => Promise.all(sockets.map((s) => new Promise((r) => { s.ws.once('close', r); s.ws.close(); })));

// KB of the gateway's resident memory: now and its peak.
const memory = () => {
  const status = readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)[1]);
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
};
// CPU time (user + system) a process has used so far, in ms.
const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;  // in 100 Hz ticks
};
const cpu = () => ({ gateway: cpuMs(gw.proc.pid), redis: cpuMs(redis.proc.pid) });
const cpuSince = (c0, n = 1) => {
  const c1 = cpu();
  return `gateway ${((c1.gateway - c0.gateway) / n).toFixed(1)} ms, Redis ${((c1.redis - c0.redis) / n).toFixed(1)} ms`;
};

// Resolves at the moment Redis lists a pub/sub client again (polled on one
// connection as fast as Redis answers).
function pubsubBack() {
  return new Promise((resolve) => {
    const s = net.connect(redis.port, '127.0.0.1');
    let buffer = '';
    const ask = () => s.write('CLIENT LIST TYPE pubsub\r\n');
    s.on('connect', ask);
    s.on('data', (d) => {
      buffer += d;
      const m = /^\$(\d+)\r\n/.exec(buffer);
      if (!m || buffer.length < m[0].length + Number(m[1]) + 2) return;
      const listed = Number(m[1]) > 0;
      buffer = '';
      if (listed) { const at = performance.now(); s.destroy(); resolve(at); } else ask();
    });
  });
}

// The commands Redis spent most time in since the last CONFIG RESETSTAT, per
// connect: calls and ms.
const commandTime = (n) => [...cli('INFO', 'commandstats').matchAll(/cmdstat_(\w+):calls=(\d+),usec=(\d+)/g)]
  .map(([, name, calls, usec]) => ({ name, calls: Number(calls) / n, ms: Number(usec) / 1000 / n }))
  .sort((a, b) => b.ms - a.ms).slice(0, 4)
  .map((c) => `${c.name} ${c.calls.toFixed(0)}× ${c.ms.toFixed(2)} ms`).join(', ');
const at = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const fmt = (ms) => ms.toFixed(1).padStart(7);

try {
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali', role: 'agent' });
  const token = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  let opened = 0;
  const open = async (upTo) => {
    const t0 = performance.now();
    const from = opened;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (opened < upTo) {
        const i = opened++;
        const r = await postMessage(gw, { message_id: `m-${i}`, customer: { id: `cu-${i}`, name: `مشتری ${i}` },
          text: `سلام، سفارش ${100000 + i} من کجاست؟ هنوز نرسیده و پیگیری هم جواب نمی‌دهد.` });
        if (r.status >= 300) throw new Error(`ingest answered ${r.status}: ${r.text}`);
      }
    }));
    return (opened - from) * 1000 / (performance.now() - t0);
  };

  console.log(`inbox: ${CONNECTS} connects one after another, resync with ${SOCKETS} sockets open`);
  for (const target of OPEN) {
    const rate = await open(target);
    // The search index catches up with the new conversations first: its work is no connect's.
    for (let t = 0; t < 600 && cli('ZCARD', 'pasokh:search:dirty') !== '0'; t++) await sleep(100);
    const memBefore = memory();
    // Work meanwhile that is no connect's (routing's timers over the queued conversations).
    const idleCpu = cpu();
    await sleep(2000);
    const idle = cpuSince(idleCpu, 2);
    const times = [];
    cli('CONFIG', 'RESETSTAT');
    const connectCpu = cpu();
    let last;
    for (let k = 0; k < CONNECTS; k++) {
      last = await connect(token);
      times.push(last.ms);
      await closeAll([last]);
    }
    times.sort((a, b) => a - b);
    const perConnect = cpuSince(connectCpu, CONNECTS);
    const redisTime = commandTime(CONNECTS);
    const mem = memory();
    const rows = last.welcome.conversations.length;

    // Resync: every open socket reads its snapshot again.
    const sockets = [];
    const snapshots = [];  // [socket, when]
    for (let k = 0; k < SOCKETS; k++)
      sockets.push(await connect(token, (f, when) => { if (f.type === 'snapshot') snapshots.push([k, when]); }));
    await sleep(300);
    cli('CONFIG', 'RESETSTAT');
    const resyncCpu = cpu();
    cli('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const backAt = await pubsubBack();
    while (new Set(snapshots.map(([k]) => k)).size < SOCKETS) await sleep(5);
    // A socket may be sent more than one (earlier versions resynced a socket
    // once per key it listens under): the last of them, none for 500 ms after.
    for (let n = -1; n !== snapshots.length;) { n = snapshots.length; await sleep(500); }
    const resyncMs = Math.max(...snapshots.map(([, when]) => when)) - backAt;
    const resyncCost = cpuSince(resyncCpu);
    const resyncRedis = commandTime(1);
    await closeAll(sockets);

    console.log(`${String(target).padStart(5)} open (loaded at ${rate.toFixed(0)}/s)\n` +
      `  hello→welcome p50 ${fmt(at(times, 0.5))} ms  p99 ${fmt(at(times, 0.99))} ms  max ${fmt(times.at(-1))} ms;` +
      ` CPU per connect: ${perConnect} (idle: ${idle} a second)\n` +
      `  Redis per connect: ${redisTime}\n` +
      `  welcome ${(last.bytes / 1024).toFixed(1)} kB (${rows} rows, open_total ${last.welcome.open_total});` +
      ` gateway RSS ${(mem.rss / 1024).toFixed(1)} MB (${(memBefore.rss / 1024).toFixed(1)} before the connects,` +
      ` peak ${(mem.peak / 1024).toFixed(1)})\n` +
      `  resync of ${SOCKETS} sockets: ${resyncMs.toFixed(1)} ms from the subscriber back to the last snapshot` +
      ` (${snapshots.length} snapshots); CPU ${resyncCost} (with 0.5 s idle)\n` +
      `  Redis for the resync: ${resyncRedis}`);
  }
} finally {
  await gw.cleanup();
  await redis.cleanup();
}
