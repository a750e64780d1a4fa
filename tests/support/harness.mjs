// Test harness: real redis-server and real pasokh processes on free loopback
// ports, each in its own temp folder, stopped when the test ends.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const pasokhBin = process.env.PASOKH_BIN || path.join(repoRoot, 'build', 'gateway', 'pasokh');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Tests that name today's date (UTC, as the gateways count days) fail when the
// day changes under them: started less than `withinMs` before midnight UTC,
// this waits until just after it.
export async function clearOfMidnightUTC(withinMs) {
  const day = 86_400_000;
  const left = day - (Date.now() % day);
  if (left < withinMs) await sleep(left + 1000);
}

// Polls `check` until it is true (a throw counts as "not yet"). Each check
// bounds its own wait (a socket or fetch timeout), so the deadline holds.
export async function waitFor(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// The process id of the Redis answering on `port`, to tell ours from another
// test's that holds the port; null on any end without it: refused, reset,
// timed out, or closed without an answer (a test once waited forever on such
// a connection).
function redisPid(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let answer = '';
    s.setTimeout(1000, () => s.destroy());
    s.on('error', () => resolve(null));
    s.on('close', () => resolve(null));
    s.on('connect', () => s.write('INFO server\r\n'));
    s.on('data', (d) => {
      answer += d;
      const pid = /process_id:(\d+)/.exec(answer);
      if (pid || answer.startsWith('-')) { resolve(pid ? Number(pid[1]) : null); s.destroy(); }
    });
  });
}

// Runs `fn` while the gateways' pub/sub links are down and cannot come back
// (new connections are refused; their signed-in command links stay), then
// waits for a subscriber to be back.
export async function withPubSubDown(redis, fn) {
  const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
  cli('ACL', 'SETUSER', 'probe', 'on', '>probe-pw', '+@all', '~*', '&*');
  const asProbe = (...args) => cli('--user', 'probe', '--pass', 'probe-pw', '--no-auth-warning', ...args);
  asProbe('ACL', 'SETUSER', 'default', 'off');
  let result;
  try {
    asProbe('CLIENT', 'KILL', 'TYPE', 'pubsub');
    result = await fn();
  } finally {
    asProbe('ACL', 'SETUSER', 'default', 'on');
  }
  await waitFor(() => cli('CLIENT', 'LIST', 'TYPE', 'pubsub') !== '', 'the subscriber back');
  return result;
}

// Watches the commands Redis runs (MONITOR, as it prints them: a script's own
// commands, '[0 lua]', follow the line of its call) from now on: lines() so
// far, count(pattern) of those matching (a string they contain or a RegExp),
// stop() once everything Redis ran until then has been printed: the lines.
export async function monitor(redis) {
  const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
  const proc = spawn('redis-cli', ['-p', String(redis.port), 'monitor']);
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(); };
  try {
    await waitFor(() => out.startsWith('OK'), 'monitoring');
  } catch (e) { kill(); throw e; }
  const lines = () => out.split('\n').slice(1);
  return {
    lines,
    count: (pattern) => lines().filter((l) => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l))).length,
    kill,
    async stop() {
      const marker = `monitored-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        cli('ECHO', marker);
        await waitFor(() => out.includes(marker), 'the monitor to catch up');
      } finally { kill(); }
      return lines();
    },
  };
}

// A MONITOR that keeps no lines, for commands that carry megabytes: counts,
// by the first group of `pattern` (tried on each line's first 300
// characters), the commands that match, until stop() (once everything Redis
// ran until then has been seen): the Map of counts.
export async function monitorCounts(redis, pattern) {
  const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
  const proc = spawn('redis-cli', ['-p', String(redis.port), 'monitor']);
  const counts = new Map();
  const marker = `counted-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let head = '';       // the first characters of the line being read
  let inLine = false;  // whether `head` is full and the rest of the line skipped
  let watching = false, caughtUp = false;
  const line = (l) => {
    if (!watching) { watching = l.startsWith('OK'); return; }
    if (l.includes(marker)) caughtUp = true;
    const m = pattern.exec(l);
    if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  };
  proc.stdout.on('data', (d) => {
    for (let at = 0; at < d.length;) {
      const nl = d.indexOf(10, at);
      const end = nl < 0 ? d.length : nl;
      if (!inLine) {
        head += d.toString('latin1', at, Math.min(end, at + 300 - head.length));
        inLine = head.length >= 300;
      }
      if (nl < 0) break;
      line(head);
      head = '';
      inLine = false;
      at = nl + 1;
    }
  });
  const kill = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(); };
  try {
    await waitFor(() => watching, 'monitoring');
  } catch (e) { kill(); throw e; }
  return {
    counts,
    kill,
    async stop() {
      try {
        cli('ECHO', marker);
        await waitFor(() => caughtUp, 'the monitor to catch up', 30000);
      } finally { kill(); }
      return counts;
    },
  };
}

// The commands Redis runs while `during` does, as MONITOR prints them.
export async function monitored(redis, during) {
  const m = await monitor(redis);
  try {
    await during();
    return await m.stop();
  } finally { m.kill(); }
}

// A throwaway redis-server, by default without persistence. { aof: 'everysec' }
// is the production setting of deploy/redis.conf; { aof: 'always' } writes
// every command to the AOF before Redis answers it, so that a restart after
// stop() (SIGKILL) finds everything acknowledged even on a slow disk (with
// everysec Redis 7.0 answers before writing while a slow sync is running).
// `args` are more redis-server options (['--maxmemory-policy', 'volatile-lru']).
export class RedisServer {
  constructor({ aof = false, args = [] } = {}) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'pasokh-redis-'));
    this.persistence = aof ? ['--appendonly', 'yes', '--appendfsync', aof] : ['--appendonly', 'no'];
    this.args = args;
  }
  // On `port`, the port of its last start, or else a free one: a free port
  // can be taken by another process before redis-server binds it (other
  // tests run alongside), so then it tries another.
  async start(port) {
    const given = port ?? this.port;
    for (let attempt = 1; ; attempt++) {
      this.port = given ?? await freePort();
      const exit = await this.#run();
      if (!exit) return this;
      if (given !== undefined || attempt === 5) {
        throw new Error(`redis-server on ${this.port} exited (${exit.code ?? exit.signal}) before it answered`);
      }
    }
  }
  // Starts redis-server and waits for it to answer; its exit instead, if it went first.
  async #run() {
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--save', '', ...this.persistence, '--protected-mode', 'yes', ...this.args], { stdio: 'ignore' });
    this.proc = proc;
    let exit = null;
    proc.once('exit', (code, signal) => { exit = { code, signal }; });
    const deadline = Date.now() + 10000;
    for (;;) {
      if ((await redisPid(this.port)) === proc.pid) return null;
      if (exit) return exit;
      if (Date.now() > deadline) throw new Error(`timed out waiting for redis on ${this.port}`);
      await sleep(50);
    }
  }
  get url() { return `redis://127.0.0.1:${this.port}`; }
  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
  async cleanup() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }
}

export const API_KEY = 'test-api-key-0123456789';

// PBKDF2 rounds of the tests' agent passwords unless a config says: the
// default (600,000) costs about 0.3 s a hash here, and the tests create and
// sign in agents hundreds of times.
export const TEST_PASSWORD_ROUNDS = 20000;

export function defaultConfig(redis, extra = {}) {
  return {
    listen: { address: '127.0.0.1', port: 0, threads: 2 },
    redis: { url: redis.url, prefix: 'pasokh:', command_timeout_ms: 1000, connect_timeout_ms: 1000 },
    web_root: path.join(repoRoot, 'web'),
    bot: { knowledge_base: path.join(repoRoot, 'bot', 'data', 'demo-kb.json') },
    log_level: 'warn',
    channels: [{ id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' }],
    ...extra,
  };
}

// routing.teams with a second team, vip, for an agent who must not see
// support's conversations (--create-agent takes only teams that exist or are
// configured); support as the channels' default makes it.
export const TEAMS_WITH_VIP = [{ id: 'support', name: 'support' }, { id: 'vip', name: 'vip' }];

export class Pasokh {
  constructor(config, env = {}) {
    config = { ...config, auth: { password_rounds: TEST_PASSWORD_ROUNDS, ...config.auth } };
    this.dir = mkdtempSync(path.join(tmpdir(), 'pasokh-gw-'));
    this.configPath = path.join(this.dir, 'pasokh.json');
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
    this.env = { ...process.env, PASOKH_TEST_API_KEY: API_KEY, ...env };
    this.output = '';
  }
  // Resolves once /readyz answers 200 (Redis reached, routing state loaded),
  // as a load balancer would wait; { waitReady: false } for a gateway started
  // without its Redis.
  async start({ waitReady = true } = {}) {
    this.proc = spawn(pasokhBin, ['--config', this.configPath], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => {
      this.proc.once('exit', (code, signal) => r({ code, signal }));
      this.proc.once('error', () => r({ code: null, signal: null }));  // never started
    });
    this.proc.stderr.on('data', (d) => { this.output += d.toString(); });
    const port = await new Promise((resolve, reject) => {
      let out = '';
      this.proc.stdout.on('data', (d) => {
        out += d.toString();
        const m = out.match(/listening on https?:\/\/[^:]+:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      this.proc.once('exit', (code) => reject(new Error(`pasokh exited with ${code}: ${this.output}`)));
      this.proc.once('error', (e) => reject(new Error(`pasokh could not be started: ${e.message}`)));
    });
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.wsBase = `ws://127.0.0.1:${port}`;
    if (waitReady) {
      await waitFor(async () => {
        if (this.proc.exitCode !== null) throw new Error(`pasokh exited with ${this.proc.exitCode}: ${this.output}`);
        return (await fetch(`${this.base}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200;
      }, 'pasokh /readyz');
    }
    return this;
  }
  async createAgent(login, password, { name = login, role = 'agent', team = 'support' } = {}) {
    // Settles on 'error' (the process could not be started) as well as on
    // 'exit', and kills the CLI after 30 s: a test once waited here forever,
    // with no agent created and no child process left.
    // Its output ("created ag_x (agent, teams support)", or why not) goes
    // into the error, not among the test runner's lines.
    const p = spawn(pasokhBin, ['--config', this.configPath, '--create-agent', `${login},${name},${role},${team}`],
      { env: { ...this.env, PASOKH_NEW_AGENT_PASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
    let said = '';
    p.stdout.on('data', (d) => { said += d; });
    p.stderr.on('data', (d) => { said += d; });
    const code = await new Promise((resolve, reject) => {
      p.once('close', (c, signal) => resolve(c ?? signal));
      p.once('error', (e) => reject(new Error(`create-agent ${login} could not run: ${e.message}`)));
    });
    if (code !== 0) throw new Error(`create-agent ${login} failed with ${code}: ${said}`);
  }
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 8000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
  async cleanup() { await this.stop(); rmSync(this.dir, { recursive: true, force: true }); }
}

// --- HTTP and WebSocket helpers -------------------------------------------

export async function postMessage(gw, body, { key = API_KEY, channel = 'api', headers = {} } = {}) {
  const res = await fetch(`${gw.base}/api/v1/channels/${channel}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

// A REST call: the status, the body as text and as JSON (null when it is
// not JSON), the content type and the headers.
export async function apiCall(gw, method, path, { token, body, contentType = 'application/json', headers = {} } = {}) {
  const res = await fetch(`${gw.base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': contentType } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, type: res.headers.get('content-type'), headers: res.headers };
}

export async function login(gw, loginName, password) {
  const res = await fetch(`${gw.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: loginName, password }),
  });
  return { status: res.status, json: await res.json() };
}

// A WebSocket client that queues frames so tests can await the next one of a kind.
export class WsClient {
  constructor(url, options) {
    this.frames = [];
    this.waiters = [];
    this.ws = new WebSocket(url, options);
    this.closed = new Promise((resolve) => this.ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })));
    this.ws.addEventListener('message', (e) => {
      const frame = JSON.parse(e.data);
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !w(frame));
    });
  }
  opened() {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === 1) return resolve(this);
      this.ws.addEventListener('open', () => resolve(this));
      this.ws.addEventListener('error', (e) => reject(new Error(`websocket error: ${e.message ?? 'failed'}`)));
    });
  }
  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  // Resolves with the first frame (already received or future) matching `pred`.
  next(pred, timeoutMs = 5000) {
    const found = this.frames.find(pred);
    if (found) { this.frames.splice(this.frames.indexOf(found), 1); return Promise.resolve(found); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push((frame) => {
        if (!pred(frame)) return false;
        clearTimeout(timer);
        this.frames.splice(this.frames.indexOf(frame), 1);
        resolve(frame);
        return true;
      });
    });
  }
  close() { this.ws.close(); return this.closed; }
}

export async function agentSocket(gw, token, resume) {
  const c = new WsClient(`${gw.wsBase}/ws/agent`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, ...(resume ? { resume } : {}) });
  c.welcome = await c.next((f) => f.type === 'welcome');
  return c;
}

// An agent's socket, online: new conversations are assigned to the agent.
export async function online(gw, token) {
  const sock = await agentSocket(gw, token);
  sock.send({ type: 'presence', status: 'online', client_id: 'online' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'online');
  return sock;
}

// An agent's reply in `conv`: the gateway's answer to it, its ack (stored)
// or its error frame (refused).
let replies = 0;
export async function replyFrame(sock, conv, text, timeoutMs = 5000) {
  const id = `reply-${++replies}`;
  sock.send({ type: 'reply', conv, client_id: id, text });
  return sock.next((f) => (f.type === 'ack' || f.type === 'error') && f.client_id === id, timeoutMs);
}

// An agent's reply in `conv`, once the gateway acknowledged it (stored): its
// seq. A refusal throws at once, an Error with the error frame's code.
export async function reply(sock, conv, text, timeoutMs = 5000) {
  const answer = await replyFrame(sock, conv, text, timeoutMs);
  if (answer.type === 'error') {
    throw Object.assign(new Error(`reply refused: ${JSON.stringify(answer)}`), { code: answer.code, frame: answer });
  }
  return answer.seq;
}

// Waits until a socket (agent or web chat) has the event of seq `last` of each
// conversation in `lastSeqs` ({conv: last}), then 300 ms more: nothing may
// come twice. The events of each conversation, in the order they came; throws
// if the socket closes first or 30 s pass.
export async function eventsUntil(client, lastSeqs, timeoutMs = 30_000) {
  const events = (conv) => client.frames.filter((f) => f.type === 'event' && f.conv === conv && f.seq);
  const deadline = Date.now() + timeoutMs;
  while (!Object.entries(lastSeqs).every(([conv, last]) => events(conv).some((f) => f.seq === last))) {
    const closed = await Promise.race([client.closed, sleep(50).then(() => null)]);
    if (closed) throw new Error(`closed before the catch-up ended: ${JSON.stringify(closed)}`);
    if (Date.now() > deadline) throw new Error('timed out waiting for the catch-up');
  }
  await sleep(300);
  return Object.fromEntries(Object.keys(lastSeqs).map((conv) => [conv, events(conv)]));
}

// A TCP proxy in front of a gateway, to break the connections under a browser:
// cut() resets the ones open now; silence() makes them go quiet for good (no
// data either way, no FIN or RST: a laptop that slept, a Wi-Fi that changed).
// New connections pass normally after either; after down(), none does until
// up() (a server that is unreachable for a while). With `lateBy` (ms), every
// answer from the target reaches the client that much later (a busy or distant server);
// with `bytesPerSecond`, what each connection carries either way crawls through
// at that rate at most (a slow link: a big write, or a big answer, holds its
// connection while it passes).
export class TcpProxy {
  constructor({ lateBy = 0, bytesPerSecond = 0 } = {}) { this.lateBy = lateBy; this.bytesPerSecond = bytesPerSecond; }
  async start(targetPort) {
    this.links = new Set();
    this.quiet = new Set();  // silenced: kept open until close()
    this.accepted = 0;
    this.server = net.createServer((client) => {
      if (this.refusing) return client.resetAndDestroy();
      this.accepted++;
      const upstream = net.connect(targetPort, '127.0.0.1');
      const link = { client, upstream, silent: false, sent: 0, received: 0 };
      this.links.add(link);
      const send = this.bytesPerSecond ? this.#throttled(upstream) : (d) => upstream.write(d);
      client.on('data', (d) => {
        if (link.silent) return;
        link.sent += d.length;
        send(d);
      });
      const deliver = this.bytesPerSecond ? this.#throttled(client) : (d) => client.write(d);
      const answer = (d) => { if (!link.silent && !client.destroyed) deliver(d); };
      upstream.on('data', (d) => {
        link.received += d.length;
        return this.lateBy ? setTimeout(answer, this.lateBy, d) : answer(d);
      });
      const end = () => {
        this.links.delete(link);
        if (!link.silent) { client.destroy(); upstream.destroy(); }
      };
      for (const s of [client, upstream]) { s.on('error', end); s.on('close', end); }
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }
  // Writes to `to` (one end of a link) no faster than bytesPerSecond, a slice every 10 ms.
  #throttled(to) {
    const queue = [];
    let timer = null;
    const pump = () => {
      for (let budget = Math.max(1, Math.floor(this.bytesPerSecond / 100)); budget > 0 && queue.length;) {
        const d = queue[0];
        const n = Math.min(budget, d.length);
        if (!to.destroyed) to.write(d.subarray(0, n));
        budget -= n;
        if (n === d.length) queue.shift(); else queue[0] = d.subarray(n);
      }
      if (!queue.length || to.destroyed) { clearInterval(timer); timer = null; }
    };
    return (d) => {
      queue.push(d);
      if (!timer) timer = setInterval(pump, 10);
    };
  }
  // The most any open connection has carried to the target ('sent': a big
  // write) or from it ('received': a big read), in bytes.
  busiest(direction = 'sent') {
    return Math.max(0, ...[...this.links].map((l) => l[direction]));
  }
  // The connection that has sent the most (the one writing a big file), reset.
  cutBusiest() {
    const busiest = [...this.links].sort((a, b) => b.sent - a.sent)[0];
    busiest?.client.resetAndDestroy();
    busiest?.upstream.destroy();
    return busiest?.sent ?? 0;
  }
  cut() { for (const l of this.links) { l.client.resetAndDestroy(); l.upstream.destroy(); } }
  down() { this.refusing = true; this.cut(); }
  up() { this.refusing = false; }
  silence() {
    for (const l of this.links) { l.silent = true; l.upstream.destroy(); this.quiet.add(l.client); }
    this.links.clear();
  }
  // Both directions go quiet and neither end is told: the server's side of a
  // laptop that slept. Resolves when the server closes the connections.
  freeze() {
    const closed = [...this.links].map((l) => {
      l.silent = true;
      this.quiet.add(l.client);
      return new Promise((r) => l.upstream.once('close', r));
    });
    this.links.clear();
    return Promise.all(closed);
  }
  async close() {
    this.cut();
    for (const c of this.quiet) c.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

// --- a slow link to Redis ---------------------------------------------------

// A gateway on a Redis of its own reached through a TcpProxy carrying
// `bytesPerSecond` a connection (a slow link: a big write or read crawls
// through it). `config(redis)` makes the gateway's configuration; fn gets
// { redis, link, gw }. Everything is stopped after; PASOKH_TEST_LOG=1 prints
// the gateway's log.
export async function overSlowLink({ bytesPerSecond, config, env = {} }, fn) {
  const redis = await new RedisServer().start();
  const link = await new TcpProxy({ bytesPerSecond }).start(redis.port);
  let gw;
  try {
    const c = config(redis);
    c.redis = { ...c.redis, url: `redis://127.0.0.1:${link.port}` };
    gw = await new Pasokh(c, env).start();
    return await fn({ redis, link, gw });
  } finally {
    if (gw && process.env.PASOKH_TEST_LOG) console.log(gw.output);
    await gw?.cleanup();
    await link.close();
    await redis.cleanup();
  }
}

// API posts to `gw`, one every 50 ms while `busy()` (at most 200): their
// statuses and times, the slowest, how long it went on (ms), and a line
// saying so.
export async function postsWhile(gw, busy, label) {
  const posts = [];
  const started = Date.now();
  for (let i = 0; (await busy()) && posts.length < 200; i++) {
    const at = Date.now();
    const res = await postMessage(gw, { message_id: `${label}-${i}`, customer: { id: `${label}-customer` }, text: `still here ${i}` });
    posts.push({ status: res.status, ms: Date.now() - at });
    await sleep(50);
  }
  const times = posts.map((p) => p.ms).sort((x, y) => x - y);
  const summary = `${posts.length} posts: median ${times[times.length >> 1]} ms, slowest ${times.at(-1)} ms, ` +
    `statuses ${[...new Set(posts.map((p) => p.status))]}`;
  return { posts, slowest: times.at(-1) ?? 0, ms: Date.now() - started, summary };
}

// What a gateway's log says when a Redis connection was reset under it.
export const connectionReset = /got no reply within|connection to \S+ lost/;
