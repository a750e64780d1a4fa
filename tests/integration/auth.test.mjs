// Agent sessions with real processes (two gateways on one Redis): logout,
// a password change, a removal and new rights end access at once, on every
// instance; each admin change leaves an audit line; login limits hold under
// concurrency and per client address; a burst of logins does not stall the
// gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, apiCall, sleep, waitFor, WsClient, TEST_PASSWORD_ROUNDS,
} from '../support/harness.mjs';

let redis, gw1, gw2;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;
const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();

before(async () => {
  redis = await new RedisServer().start();
  // Behind a proxy: the rate limit tests speak from addresses of their own.
  const config = () => defaultConfig(redis, { proxy: { trust_forwarded_for: true } });
  gw1 = await new Pasokh(config()).start();
  gw2 = await new Pasokh(config()).start();
  await gw1.createAgent('chief', 'chief-secret-1', { name: 'Chief', role: 'admin' });
});
after(async () => { await gw1?.cleanup(); await gw2?.cleanup(); await redis?.cleanup(); });

let chiefToken;
async function chief() {
  if (!chiefToken) chiefToken = (await login(gw1, 'chief', 'chief-secret-1')).json.token;
  return chiefToken;
}

async function newAgent(name, { role = 'agent' } = {}) {
  const r = await apiCall(gw1, 'POST', '/api/v1/admin/agents', { token: await chief(),
    body: { login: name, name, password: `${name}-password`, role, teams: ['support'] } });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

async function tokenOf(name, password = `${name}-password`) {
  const r = await login(gw1, name, password);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.token;
}

function loginFrom(gw, name, password, address) {
  return apiCall(gw, 'POST', '/api/v1/auth/login', { body: { login: name, password }, headers: { 'x-forwarded-for': address } });
}

// The close (code, reason) if the socket closes within `ms`, else null.
async function closedWithin(socket, ms = 1500) {
  return Promise.race([socket.closed, sleep(ms).then(() => null)]);
}

// The close of a socket whose hello is refused.
async function refused(gw, token) {
  const c = new WsClient(`${gw.wsBase}/ws/agent`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token });
  return closedWithin(c);
}

async function stillOpen(socket) {
  socket.send({ type: 'ping' });
  await socket.next((f) => f.type === 'pong');
}

test('logout closes that session\'s sockets on every instance (1008), not the agent\'s other sessions', async () => {
  await newAgent('outie');
  const [a, b] = [await tokenOf('outie'), await tokenOf('outie')];
  const a1 = await agentSocket(gw1, a), a2 = await agentSocket(gw2, a), b2 = await agentSocket(gw2, b);

  assert.equal((await apiCall(gw1, 'POST', '/api/v1/auth/logout', { token: a })).status, 200);
  for (const s of [a1, a2]) {
    const closed = await closedWithin(s);
    assert.equal(closed?.code, 1008, 'the logged-out session\'s socket closes');
    assert.match(closed.reason, /logged out/);
  }
  await stillOpen(b2);
  assert.equal((await apiCall(gw2, 'GET', '/api/v1/agents', { token: a })).status, 401);
  assert.equal((await apiCall(gw2, 'GET', '/api/v1/agents', { token: b })).status, 200);
  await b2.close();
});

test('an agent who logs out is offline at once: no new conversation goes to them', async () => {
  const id = await newAgent('signs-out');
  const token = await tokenOf('signs-out');
  const socket = await agentSocket(gw2, token);
  socket.send({ type: 'presence', status: 'online' });
  await socket.next((f) => f.type === 'ack');
  assert.notEqual(cli('ZSCORE', 'pasokh:presence', id), '', 'online before the logout');

  assert.equal((await apiCall(gw1, 'POST', '/api/v1/auth/logout', { token })).status, 200);
  assert.equal((await closedWithin(socket))?.code, 1008);
  // Not after the presence TTL (a reload's grace): now.
  const deadline = Date.now() + 1000;
  while (cli('ZSCORE', 'pasokh:presence', id) !== '') {
    assert.ok(Date.now() < deadline, 'still present after logging out');
    await sleep(50);
  }
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: `leaver-cust-${uid()}` }, text: 'anyone there?' });
  assert.equal(cli('HGET', `pasokh:conv:${p.json.conversation_id}`, 'assignee'), '');
});

test('a password change ends every session: the sockets close on every instance and old tokens get 401', async () => {
  const id = await newAgent('rotor');
  const [t1, t2] = [await tokenOf('rotor'), await tokenOf('rotor')];
  const s1 = await agentSocket(gw1, t1), s2 = await agentSocket(gw2, t2);

  const changed = await apiCall(gw1, 'PATCH', `/api/v1/admin/agents/${id}`, { token: await chief(), body: { password: 'rotor-new-password' } });
  assert.equal(changed.status, 200, changed.text);
  for (const s of [s1, s2]) {
    const closed = await closedWithin(s);
    assert.equal(closed?.code, 1008, 'every socket of the agent closes');
    assert.match(closed.reason, /password/);
  }
  for (const t of [t1, t2]) assert.equal((await apiCall(gw2, 'GET', '/api/v1/agents', { token: t })).status, 401);
  assert.equal((await refused(gw2, t1))?.code, 1008, 'an old token opens no socket');
  assert.equal((await login(gw1, 'rotor', 'rotor-password')).status, 401);
  assert.equal((await login(gw2, 'rotor', 'rotor-new-password')).status, 200);
});

test('admin changes leave one audit line each naming the admin, the action and the target, never the password', async () => {
  const boss = (await login(gw1, 'chief', 'chief-secret-1')).json.agent.id;
  const id = await newAgent('audited');
  const secret = 'audited-new-secret-5150';
  const token = await chief();
  assert.equal((await apiCall(gw1, 'PATCH', `/api/v1/admin/agents/${id}`, { token, body: { password: secret } })).status, 200);
  assert.equal((await apiCall(gw1, 'PATCH', `/api/v1/admin/agents/${id}`, { token, body: { role: 'admin' } })).status, 200);
  assert.equal((await apiCall(gw1, 'DELETE', `/api/v1/admin/agents/${id}`, { token })).status, 200);
  const audit = () => gw1.output.split('\n').filter((l) => l.includes('[audit]') && l.includes(`target=${id}`));
  await waitFor(() => audit().length === 4, 'four audit lines');
  const lines = audit();
  assert.match(lines[0], new RegExp(`\\[info\\] admin=${boss} action=agent\\.create target=${id} login=audited role=agent teams=support$`));
  assert.match(lines[1], new RegExp(`admin=${boss} action=agent\\.password target=${id}$`));
  assert.match(lines[2], new RegExp(`admin=${boss} action=agent\\.role target=${id} role=admin$`));
  assert.match(lines[3], new RegExp(`admin=${boss} action=agent\\.remove target=${id}$`));
  assert.ok(!gw1.output.includes(secret) && !gw1.output.includes('audited-password'), 'no password in the log');
});

test('a removed agent\'s sockets close on every instance, and a reply of theirs still in flight is refused', async () => {
  const id = await newAgent('leaver');
  const s = await agentSocket(gw2, await tokenOf('leaver'));
  const c = (await postMessage(gw1, { message_id: uid(), customer: { id: `au-${process.pid}-1` }, text: 'hello?' })).json.conversation_id;

  assert.equal((await apiCall(gw1, 'DELETE', `/api/v1/admin/agents/${id}`, { token: await chief() })).status, 200);
  const closed = await closedWithin(s);
  assert.equal(closed?.code, 1008);
  assert.match(closed.reason, /removed/);

  // The reply script as the socket would have called it a moment later.
  const fn = cli('FUNCTION', 'LIST').match(/append_reply_[0-9a-f]+/)[0];
  const answer = cli('FCALL', fn, '0', 'pasokh:', c, 'agent', id, 'leaver', 'late-1', 'too late', String(Date.now()), '0');
  assert.equal(answer, 'author_gone');
  assert.notEqual(cli('HGET', `pasokh:conv:${c}`, 'assignee'), id, 'no conversation is left with a removed agent');
});

test('new rights reconnect the agent\'s sockets, session kept: a demoted admin loses the all-teams feed', async () => {
  const id = await newAgent('lead2', { role: 'admin' });
  const token = await tokenOf('lead2');
  const s = await agentSocket(gw2, token);
  assert.equal(s.welcome.agent.role, 'admin');

  // A change of name only leaves the socket alone.
  await apiCall(gw1, 'PATCH', `/api/v1/admin/agents/${id}`, { token: await chief(), body: { name: 'Lead Two' } });
  await stillOpen(s);

  await apiCall(gw1, 'PATCH', `/api/v1/admin/agents/${id}`, { token: await chief(), body: { role: 'agent' } });
  const closed = await closedWithin(s);
  assert.equal(closed?.code, 1008);
  assert.match(closed.reason, /role or teams/);
  const back = await agentSocket(gw2, token);
  assert.equal(back.welcome.agent.role, 'agent');
  assert.equal((await apiCall(gw2, 'GET', '/api/v1/admin/teams/support/hours', { token })).status, 403);
  await back.close();
});

test('a session that ended unnoticed (a missed notice) closes the socket at its next ping', async () => {
  await newAgent('pinger');
  const token = await tokenOf('pinger');
  const s = await agentSocket(gw1, token);
  await stillOpen(s);
  cli('DEL', `pasokh:session:${createHash('sha256').update(token).digest('hex')}`);
  s.send({ type: 'ping' });
  const closed = await closedWithin(s);
  assert.equal(closed?.code, 1008);
  assert.ok(!s.frames.some((f) => f.type === 'pong'), 'no pong for an ended session');
});

test('a socket closes when its login session ends, pings or not (a token that ended reads and writes nothing more)', async () => {
  await newAgent('quiet');
  const token = await tokenOf('quiet');
  // Sessions last auth.session_ttl_s (at least a minute): this one is made to end soon.
  cli('PEXPIRE', `pasokh:session:${createHash('sha256').update(token).digest('hex')}`, '1500');
  const s = await agentSocket(gw1, token);
  const closed = await Promise.race([s.closed, sleep(4000).then(() => null)]);
  assert.equal(closed?.code, 1008, 'closed at the end of its session, without a ping');
  assert.match(closed.reason, /sign in again/);
});

test('30 concurrent wrong passwords for one login: exactly 10 are checked, the rest get 429', async () => {
  await newAgent('target');
  const answers = await Promise.all(Array.from({ length: 30 },
    (_, i) => loginFrom(gw1, 'target', `guess-${i}`, '198.51.100.1')));
  const count = (status) => answers.filter((r) => r.status === status).length;
  assert.equal(count(401), 10, `${count(401)} passwords were checked`);
  assert.equal(count(401) + count(429), 30);
  assert.equal(answers.find((r) => r.status === 429).headers.get('retry-after'), '60');
  assert.equal((await loginFrom(gw2, 'target', 'target-password', '198.51.100.1')).status, 429);
  // Guesses from one address do not lock the agent out from another.
  assert.equal((await loginFrom(gw2, 'target', 'target-password', '198.51.100.9')).status, 200);
});

test('behind the proxy the client address is the entry the proxy appended, not one the client wrote', async () => {
  // The client writes its own X-Forwarded-For; the proxy appends the real address.
  const answers = await Promise.all(Array.from({ length: 31 },
    (_, i) => loginFrom(gw1, `spoofer${i}`, 'wrong-password', `10.9.${i}.1, 198.51.100.7`)));
  assert.deepEqual(answers.map((r) => r.status).sort(), [...Array(30).fill(401), 429]);
  // A proxy that adds a header line of its own, after the client's.
  const lines = await Promise.all(Array.from({ length: 31 }, (_, i) => new Promise((resolve) => {
    const body = JSON.stringify({ login: `liner${i}`, password: 'wrong-password' });
    const s = net.connect(gw1.port, '127.0.0.1', () => s.write(
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      `X-Forwarded-For: 10.8.${i}.1\r\nX-Forwarded-For: 198.51.100.8\r\nConnection: close\r\n\r\n${body}`));
    let text = '';
    s.on('data', (d) => { text += d; });
    s.on('close', () => resolve(Number(text.split(' ')[1])));
  })));
  assert.deepEqual(lines.sort(), [...Array(30).fill(401), 429]);
});

test('one client address may try 30 logins a minute, whatever the login names', async () => {
  const answers = await Promise.all(Array.from({ length: 30 },
    (_, i) => loginFrom(gw1, `nobody${i}`, 'wrong-password', '198.51.100.2')));
  assert.deepEqual([...new Set(answers.map((r) => r.status))], [401]);
  assert.equal((await loginFrom(gw2, 'chief', 'chief-secret-1', '198.51.100.2')).status, 429);
  assert.equal((await loginFrom(gw2, 'chief', 'chief-secret-1', '198.51.100.3')).status, 200);
});

test('an office behind one address signs in more than 30 times a minute; its wrong guesses are still limited', async () => {
  for (let i = 0; i < 35; ++i) {
    const r = await loginFrom(i % 2 ? gw1 : gw2, 'chief', 'chief-secret-1', '198.51.100.40');
    assert.equal(r.status, 200, `sign-in ${i + 1}: ${r.status}`);
  }
  const guesses = await Promise.all(Array.from({ length: 31 },
    (_, i) => loginFrom(gw1, `guesser${i}`, 'wrong-password', '198.51.100.40')));
  assert.deepEqual(guesses.map((r) => r.status).sort(), [...Array(30).fill(401), 429]);
});

test('guesses from many addresses do not lock an agent out of an address they signed in from before', async () => {
  await newAgent('hunted');
  assert.equal((await loginFrom(gw1, 'hunted', 'hunted-password', '198.51.100.50')).status, 200);
  // 110 guesses from 11 addresses: past the login's ceiling of 100 a minute.
  for (let a = 0; a < 11; ++a) {
    await Promise.all(Array.from({ length: 10 }, (_, i) => loginFrom(gw2, 'hunted', `guess-${a}-${i}`, `203.0.113.${a + 1}`)));
  }
  assert.equal((await loginFrom(gw1, 'hunted', 'hunted-password', '198.51.100.51')).status, 429, 'a new address waits');
  assert.equal((await loginFrom(gw1, 'hunted', 'hunted-password', '198.51.100.50')).status, 200, 'a known one gets in');
  assert.equal((await loginFrom(gw1, 'hunted', 'wrong', '198.51.100.50')).status, 401);
});

test('a password hashed at fewer rounds than configured is hashed again at the next login, and still works', async () => {
  // As an older version stored it: fewer rounds than the gateways use now.
  const older = new Pasokh(defaultConfig(redis, { auth: { password_rounds: TEST_PASSWORD_ROUNDS / 2 } }));
  try {
    await older.createAgent('veteran', 'veteran-secret-1');
  } finally {
    await older.cleanup();
  }
  const stored = () => cli('HGET', `pasokh:agent:${cli('GET', 'pasokh:agent_login:veteran')}`, 'password');
  assert.match(stored(), new RegExp(`^pbkdf2-sha256\\$${TEST_PASSWORD_ROUNDS / 2}\\$`));
  assert.equal((await loginFrom(gw1, 'veteran', 'wrong-secret', '198.51.100.9')).status, 401);
  assert.match(stored(), new RegExp(`^pbkdf2-sha256\\$${TEST_PASSWORD_ROUNDS / 2}\\$`), 'a wrong password changes nothing');

  assert.equal((await loginFrom(gw1, 'veteran', 'veteran-secret-1', '198.51.100.9')).status, 200);
  assert.match(stored(), new RegExp(`^pbkdf2-sha256\\$${TEST_PASSWORD_ROUNDS}\\$`));
  assert.equal((await loginFrom(gw2, 'veteran', 'veteran-secret-1', '198.51.100.9')).status, 200);
  assert.equal((await loginFrom(gw2, 'veteran', 'wrong-secret', '198.51.100.9')).status, 401);
});

test('an agent with an older hash who signs in twice at once (a form sent twice, two devices) gets in both times', async () => {
  const older = new Pasokh(defaultConfig(redis, { auth: { password_rounds: TEST_PASSWORD_ROUNDS / 2 } }));
  try {
    await older.createAgent('twice', 'twice-secret-1');
  } finally {
    await older.cleanup();
  }
  // Each login reads the old hash and hashes the password again; the first
  // stores its hash, the others open their session against that one.
  const answers = await Promise.all([gw1, gw2, gw1, gw2].map((gw) => loginFrom(gw, 'twice', 'twice-secret-1', '198.51.100.10')));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200]);
  const stored = cli('HGET', `pasokh:agent:${cli('GET', 'pasokh:agent_login:twice')}`, 'password');
  assert.match(stored, new RegExp(`^pbkdf2-sha256\\$${TEST_PASSWORD_ROUNDS}\\$`));
});

test('password checks run beside the I/O threads: /healthz answers at once while logins are being checked', async () => {
  const id = await newAgent('slowpoke');
  // A stored hash of 2,000,000 rounds makes each check take long enough to see.
  cli('HSET', `pasokh:agent:${id}`, 'password',
    `pbkdf2-sha256$2000000$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`);
  const started = Date.now();
  const logins = Array.from({ length: 3 }, () => loginFrom(gw1, 'slowpoke', 'anything', '198.51.100.4').then((r) => {
    assert.equal(r.status, 401);
    return Date.now() - started;
  }));
  await sleep(50);  // the checks are under way
  const asked = Date.now();
  assert.equal((await fetch(`${gw1.base}/healthz`)).status, 200);
  const health = Date.now() - asked;
  const firstLogin = Math.min(...await Promise.all(logins));
  assert.ok(health < firstLogin / 2, `/healthz took ${health} ms; the first login ${firstLogin} ms`);
});
