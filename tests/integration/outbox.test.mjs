// The durable outbox with real processes: an agent's reply on the API channel
// is delivered by the outbox worker and marked "sent" live on the agent's
// socket; the mark is kept in Redis and never moves backwards; an entry left
// pending by a crashed instance is claimed and delivered by a live one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, sleep, repoRoot,
} from '../support/harness.mjs';
import path from 'node:path';

let redis, gw;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;

before(async () => {
  redis = await new RedisServer().start();
  // A short claim time so the crash test need not wait 30 s.
  gw = await new Pasokh(defaultConfig(redis, {
    outbox: { claim_idle_ms: 1000 },
    bot: { knowledge_base: path.join(repoRoot, 'bot', 'data', 'demo-kb.json'), watch_interval_ms: 0 },
  })).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
}

async function agent() {
  const r = await login(gw, 'sara', 'sara-secret-1');
  assert.equal(r.status, 200);
  return agentSocket(gw, r.json.token);
}

async function newConversation(text = 'سلام، سفارشم کی می‌رسه؟') {
  const posted = await postMessage(gw, { message_id: uid(), customer: { id: `c-${uid()}`, name: 'Sara' }, text, language: 'fa' });
  assert.equal(posted.status, 201, posted.text);
  return posted.json.conversation_id;
}

const isDelivery = (conv, seq) => (f) => f.type === 'event' && f.event === 'delivery' && f.conv === conv &&
  (seq === undefined || f.message_seq === seq);

test('an agent reply is delivered and marked sent live, without a sequence number', async () => {
  const ws = await agent();
  const conv = await newConversation();
  await ws.next((f) => f.type === 'event' && f.conv === conv && f.seq === 1);
  ws.send({ type: 'reply', conv, client_id: 'o-1', text: 'سفارش شما فردا می‌رسد.' });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'o-1');
  assert.equal(ack.seq, 2);

  const mark = await ws.next(isDelivery(conv, 2));
  assert.equal(mark.status, 'sent');
  assert.equal(mark.message_id, `${conv}:2`);
  assert.equal(mark.seq, undefined, 'delivery marks are not log entries');
  assert.equal(typeof mark.at, 'number');

  // Kept with the conversation; the outbox entry is acknowledged.
  const kept = JSON.parse(redisCli('HGET', `pasokh:conv:${conv}:delivery`, '2'));
  assert.equal(kept.status, 'sent');
  assert.equal(redisCli('XPENDING', 'pasokh:outbox:api', 'senders').split('\n')[0], '0');
  // The conversation log did not grow: the next event still gets seq 3.
  ws.send({ type: 'reply', conv, client_id: 'o-2', text: 'ممنون از صبرتان' });
  assert.equal((await ws.next((f) => f.type === 'ack' && f.client_id === 'o-2')).seq, 3);
  await ws.next(isDelivery(conv, 3));
  await ws.close();

  // A console opened later (a reload) learns the marks with the history.
  const later = await agent();
  later.send({ type: 'history', conv, after: 0 });
  const history = await later.next((f) => f.type === 'history' && f.conv === conv);
  assert.deepEqual(history.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(history.events[1].message.status, 'pending', 'the log keeps the message as written');
  assert.equal(history.deliveries['2'].status, 'sent');
  assert.equal(history.deliveries['3'].status, 'sent');
  assert.equal(history.deliveries['1'], undefined, 'customer messages have no delivery record');
  await later.close();
});

test('an entry left pending by a crashed instance is claimed and delivered once', async () => {
  const ws = await agent();
  const conv = await newConversation('entry of a crashed sender');
  await ws.next((f) => f.type === 'event' && f.conv === conv && f.seq === 1);
  // A sender that read the entry and died before recording anything: the
  // entry sits in its pending list (added and read in one atomic step, so the
  // live worker cannot take it first).
  const entry = JSON.stringify({ message_id: `${conv}:42`, conversation_id: conv, seq: 42, channel: 'api', kind: 'api',
    recipient: 'x', text: 'queued before the crash' });
  const id = redisCli('EVAL', `
    local id = redis.call('XADD', KEYS[1], '*', 'm', ARGV[1])
    redis.call('XREADGROUP', 'GROUP', 'senders', 'crashed-host-1-abc', 'COUNT', '1000', 'STREAMS', KEYS[1], '>')
    return id`, '1', 'pasokh:outbox:api', entry);
  const owner = redisCli('XPENDING', 'pasokh:outbox:api', 'senders', id, id, '1');
  assert.match(owner, /crashed-host-1-abc/);

  // Taken over after claim_idle (1 s here) and delivered.
  const mark = await ws.next(isDelivery(conv, 42), 15000);
  assert.equal(mark.status, 'sent');
  assert.equal(redisCli('XPENDING', 'pasokh:outbox:api', 'senders', id, id, '1'), '');
  // Exactly one mark: nothing else arrives for it.
  await sleep(2500);
  assert.equal(ws.frames.filter(isDelivery(conv, 42)).length, 0);
  await ws.close();
});

test('a status never moves backwards and failed is final', async () => {
  const ws = await agent();
  const conv = await newConversation('statuses');
  ws.send({ type: 'reply', conv, client_id: 'o-3', text: 'hello' });
  await ws.next(isDelivery(conv, 2));
  // A late duplicate of an already delivered entry changes nothing and publishes nothing.
  const entry = JSON.stringify({ message_id: `${conv}:2`, conversation_id: conv, seq: 2, channel: 'api', kind: 'api', text: 'hello' });
  redisCli('XADD', 'pasokh:outbox:api', '*', 'm', entry);
  await sleep(1500);
  assert.equal(ws.frames.filter(isDelivery(conv, 2)).length, 0);
  assert.equal(JSON.parse(redisCli('HGET', `pasokh:conv:${conv}:delivery`, '2')).status, 'sent');
  assert.equal(redisCli('XPENDING', 'pasokh:outbox:api', 'senders').split('\n')[0], '0');
  await ws.close();
});

test('an unreadable outbox entry is acknowledged instead of blocking the channel', async () => {
  redisCli('XADD', 'pasokh:outbox:api', '*', 'm', '{not json');
  const ws = await agent();
  const conv = await newConversation('after the bad entry');
  ws.send({ type: 'reply', conv, client_id: 'o-4', text: 'still delivered' });
  assert.equal((await ws.next(isDelivery(conv, 2))).status, 'sent');
  await sleep(300);
  assert.equal(redisCli('XPENDING', 'pasokh:outbox:api', 'senders').split('\n')[0], '0');
  await ws.close();
});

test('housekeeping of the outbox runs without errors', async () => {
  // It runs soon after start (and every minute): trimming old acknowledged
  // entries and forgetting consumers of long-gone instances.
  await sleep(1500);
  assert.doesNotMatch(gw.output, /outbox api: (trim|XREADGROUP|cannot)/);
  const consumers = redisCli('XINFO', 'CONSUMERS', 'pasokh:outbox:api', 'senders');
  assert.match(consumers, /crashed-host-1-abc/, 'idle for less than an hour: kept');
});
