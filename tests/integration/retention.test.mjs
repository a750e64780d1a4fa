// Data retention (config `retention`) against real Redis and pasokh, with
// the period a couple of seconds long: a conversation resolved longer ago
// loses its texts (log, search) the way an erasure removes them, an open one
// and one resolved just now keep theirs, the reports count the same, and
// noted automatic mail older than its period is trimmed. The same sweep
// finishes an erasure whose gateway died.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, freePort, login, postMessage, sleep } from '../support/harness.mjs';
import { redisCli as cli, fcall } from './messenger_support.mjs';

// Long enough that what a check says is kept for its period still is on a slow machine.
const PERIOD_MS = 4000;
const MAILGUN_KEY = 'key-mailgun-retention-0123456789abcdef';
let redis, gw, boss, bossId;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    retention: { message_text_days: PERIOD_MS / 86_400_000, email_automatic_days: PERIOD_MS / 86_400_000, tick_ms: 100, lease_ms: 1000 },
    csat: { enabled: false },
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'web', kind: 'webchat', team: 'support' },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], reply_domain: 'shop.example', from_address: 'support@shop.example',
        smtp: { address: '127.0.0.1', port: await freePort() }, relay: { host: '127.0.0.1', port: await freePort(), tls: 'none' },
        webhook: { signing_key_env: 'PASOKH_TEST_MAILGUN_KEY', max_age_s: 300 } } },
    ],
  }), { PASOKH_WEBCHAT_SECRET: 'retention-test-webchat-secret-0123456789', PASOKH_TEST_MAILGUN_KEY: MAILGUN_KEY }).start();
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  ({ token: boss, agent: { id: bossId } } = (await login(gw, 'boss', 'boss-secret-3')).json);
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => cli(redis, ...args);
const call = (method, path, body) => apiCall(gw, method, path, { token: boss, body });

async function writes(customer, text) {
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: customer, name: customer }, text });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.conversation_id;
}

const texts = (conv) => redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((f) => f.event === 'message').map((f) => f.message.text);

async function answered(sock, customer, text) {
  const conv = await writes(customer, text);
  const client = randomUUID();
  sock.send({ type: 'reply', conv, client_id: client, text: `answer to ${customer}` });
  await sock.next((f) => f.type === 'ack' && f.client_id === client);
  return conv;
}
const resolve = async (conv) => assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, {})).status, 200);

// Polls `check` every 100 ms until it is true, failing with `what()` after `ms`.
async function until(check, what, ms) {
  for (const deadline = Date.now() + ms; !check(); await sleep(100)) assert.ok(Date.now() < deadline, what());
}

test('retention: texts of a conversation resolved longer ago go, open and recently resolved ones stay, reports unchanged', async () => {
  const from = Date.now() - 1000;
  const sock = await agentSocket(gw, boss);
  const old = await answered(sock, 'ret-old', 'oldsecret about my washer');
  const open = await writes('ret-open', 'opensecret still waiting');
  // Found before it is resolved, as its period begins then: the index's pace is not the question.
  for (let i = 0; (await call('GET', '/api/v1/search?q=oldsecret')).json.conversations.length === 0; i++) {
    assert.ok(i < 60, 'indexed');
    await sleep(100);
  }
  await resolve(old);
  const to = Date.now() + 1;  // before the conversation resolved below
  const reportBefore = (await call('GET', `/api/v1/reports/summary?from=${from}&to=${to}`)).json;

  await until(() => !texts(old).some((t) => t !== ''), () => `old texts still there: ${texts(old)}`, PERIOD_MS + 6000);
  // Resolved just now: within the period.
  const recent = await answered(sock, 'ret-recent', 'recentsecret kept');
  await resolve(recent);
  assert.deepEqual(texts(recent), ['recentsecret kept', 'answer to ret-recent']);
  sock.close();
  assert.deepEqual(texts(open), ['opensecret still waiting']);
  const frames = redisCli('XRANGE', `pasokh:conv:${old}:log`, '-', '+');
  assert.ok(!frames.includes('oldsecret') && !frames.includes('answer to ret-old'), frames);
  assert.match(frames, /"erased":"retention"/);
  assert.deepEqual((await call('GET', '/api/v1/search?q=oldsecret')).json.conversations, []);
  assert.equal((await call('GET', '/api/v1/search?q=opensecret')).json.conversations.length, 1);
  // (`scanned`, how many conversations the report looked at, counts the one resolved since too.)
  const reportAfter = (await call('GET', `/api/v1/reports/summary?from=${from}&to=${to}`)).json;
  assert.deepEqual({ ...reportAfter, scanned: 0 }, { ...reportBefore, scanned: 0 });
  // The customer's file is untouched: retention is about old texts only.
  const owner = redisCli('HGET', `pasokh:conv:${old}`, 'customer_id');
  assert.equal(redisCli('HGET', `pasokh:cust:${owner}`, 'name'), 'ret-old');

  // Noted automatic mail: one older than the period goes, a new one stays.
  const stream = 'pasokh:email_automatic:mail';
  redisCli('XADD', stream, `${Date.now() - 10 * PERIOD_MS}-0`, 'from', 'old-bounce@example.net');
  redisCli('XADD', stream, '*', 'from', 'new-bounce@example.net');
  await until(() => !redisCli('XRANGE', stream, '-', '+').includes('old-bounce'), () => 'trimmed within a few ticks', 3000);
  assert.match(redisCli('XRANGE', stream, '-', '+'), /new-bounce/);
});

test('retention sweep: an erasure its gateway did not finish is finished without anyone asking again', async () => {
  const conv = await writes('ret-erase', 'halfsecret in my message');
  const cust = redisCli('HGET', `pasokh:conv:${conv}`, 'customer_id');
  // What a gateway that died right after the first step leaves.
  fcall(redis, 'erase', 'begin', String(Date.now()), cust, bossId, '');
  await until(() => !redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').includes('halfsecret'),
    () => 'finished within a few lease periods', 6000);
  const audit = (await call('GET', '/api/v1/admin/erasures')).json.erasures;
  assert.deepEqual(audit.map((e) => [e.customer, e.by, e.messages]), [[cust, bossId, 1]]);
  assert.equal(redisCli('HEXISTS', `pasokh:cust:${cust}`, 'erasing'), '0');
});

// A web chat visitor's socket past its hello (its token: the same visitor again).
async function widget(token) {
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, lang: 'en' });
  await c.next((f) => f.type === 'welcome');
  return c;
}

test('retention: an agent\'s follow-up on a conversation already scrubbed goes a period later; the widget replays removed messages as removed', async () => {
  const { token } = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, { method: 'POST',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', name: 'Reza' }) })).json();
  const w = await widget(token);
  w.send({ type: 'message', client_id: 'c1', text: 'widgetsecret order 4471' });
  const { conv } = await w.next((f) => f.type === 'ack' && f.client_id === 'c1');
  w.close();
  const sock = await agentSocket(gw, boss);
  sock.send({ type: 'reply', conv, client_id: 'f1', text: 'It ships tomorrow' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'f1');
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, {})).status, 200);
  // Its period over now (the sweep's own step, with today as the edge).
  fcall(redis, 'erase', 'retain', String(Date.now()), String(Date.now()), '2000');
  assert.deepEqual(texts(conv), ['', '']);

  sock.send({ type: 'reply', conv, client_id: 'f2', text: 'followsecret: your card PIN is 9921' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'f2');
  assert.deepEqual(texts(conv), ['', '', 'followsecret: your card PIN is 9921'], 'kept for its period');
  sock.close();
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'status'), 'resolved');
  await until(() => !texts(conv).some((t) => t !== ''), () => `the follow-up still there: ${texts(conv)}`, PERIOD_MS + 6000);
  assert.equal(redisCli('ZSCORE', 'pasokh:retention:due', conv), '');

  // The visitor comes back: the removed messages say so.
  const again = await widget(token);
  const replayed = [];
  for (let i = 0; i < 3; i++) replayed.push(await again.next((f) => f.type === 'event' && f.event === 'message' && f.conv === conv));
  again.close();
  assert.deepEqual(replayed.map((f) => [f.message.author, f.message.text, f.message.erased]),
    [['customer', '', 'retention'], ['agent', '', 'retention'], ['agent', '', 'retention']]);
});

test('retention: a mail conversation\'s thread record loses the subject and the name, keeps what threads a reply', async () => {
  const sock = await agentSocket(gw, boss);
  const timestamp = String(Math.floor(Date.now() / 1000)), token = crypto.randomBytes(25).toString('hex');
  const signature = crypto.createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex');
  const posted = await fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST', body: new URLSearchParams({ sender: 'leila@example.org',
    recipient: 'support@shop.example', from: 'Leila Ahmadi <leila@example.org>', subject: 'Papers for case 5512', 'body-plain': 'see subject',
    'Message-Id': `<${randomUUID()}@example.org>`, timestamp, token, signature }) });
  assert.equal(posted.status, 200);
  const { conv } = await sock.next((f) => f.type === 'event' && f.event === 'message' && f.message?.channel === 'mail');
  sock.close();
  const thread = () => JSON.parse(redisCli('GET', `pasokh:conv:${conv}:email`));
  const before = thread();
  assert.equal(before.subject, 'Papers for case 5512');
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, {})).status, 200);
  fcall(redis, 'erase', 'retain', String(Date.now()), String(Date.now()), '2000');
  const after = thread();
  assert.deepEqual([after.subject, after.customer_name], ['', '']);
  assert.ok(before.reply_token && before.in_reply_to);
  assert.deepEqual([after.reply_token, after.in_reply_to], [before.reply_token, before.in_reply_to]);
  assert.ok(Number(redisCli('TTL', `pasokh:conv:${conv}:email`)) > 86400, 'kept as long as before');
});

test('retention sweep: client-id records a version before their expiry wrote get it (the week a write sets)', async () => {
  const conv = await writes('ret-clients', 'hello');
  const sock = await agentSocket(gw, boss);
  sock.send({ type: 'reply', conv, client_id: 'old-1', text: 'hi' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'old-1');
  sock.close();
  // As that version left it, and this version's one pass not made yet.
  const clients = `pasokh:conv:${conv}:clients`;
  redisCli('PERSIST', clients);
  redisCli('DEL', 'pasokh:retention:clients_ttl');
  await until(() => redisCli('TTL', clients) !== '-1', () => 'given an expiry within a few ticks', 3000);
  assert.ok(Number(redisCli('TTL', clients)) > 7 * 86400 - 60, redisCli('TTL', clients));
  assert.equal(redisCli('GET', 'pasokh:retention:clients_ttl'), 'done');
});

test('retention sweep: the client-id pass covers only the conversations there were when it began (a busy new database is not walked)', async () => {
  // Begun when there were `old` conversations; a million opened since by a
  // version that gives them their expiry itself.
  const old = Number(redisCli('GET', 'pasokh:next:conversation'));
  // In one step: a tick between two SETs would find the pass begun without
  // its end, set one itself and finish, leaving the test's end behind.
  redisCli('MSET', 'pasokh:retention:clients_ttl', String(old - 1), 'pasokh:retention:clients_ttl:until', String(old));
  redisCli('INCRBY', 'pasokh:next:conversation', '1000000');
  try {
    await until(() => redisCli('GET', 'pasokh:retention:clients_ttl') === 'done',
      () => `done within a few ticks, at ${redisCli('GET', 'pasokh:retention:clients_ttl')}`, 3000);
    assert.equal(redisCli('EXISTS', 'pasokh:retention:clients_ttl:until'), '0');
  } finally {
    redisCli('DECRBY', 'pasokh:next:conversation', '1000000');
  }
});

// Last: it stops the gateway.
test('retention sweep: a gateway shut down gives its lease up, so the next instance sweeps at once', async () => {
  const holder = () => redisCli('GET', 'pasokh:retention:lease');
  assert.ok(holder().includes(`-${gw.proc.pid}-`), holder());
  const next = await new Pasokh(defaultConfig(redis, { retention: { tick_ms: 100, lease_ms: 1000 } })).start();
  try {
    await gw.stop('SIGTERM');
    // Given up, not left to lapse (a lease's time after its last renewal).
    assert.ok(!holder().includes(`-${gw.proc.pid}-`), `still held by the stopped gateway: ${holder()}`);
    // Soon after (its tick is 100 ms; 3 s for a slow machine): the check above is the one a lapse fails.
    await until(() => holder().includes(`-${next.proc.pid}-`), () => `the next instance within its tick: ${holder()}`, 3000);
  } finally {
    await next.cleanup();
  }
});
