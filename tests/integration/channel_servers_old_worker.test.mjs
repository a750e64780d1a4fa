// A gateway of the version before channels:served_until says nothing there,
// yet its outbox worker sends: during a rolling upgrade the sweep of
// channels without a server (channel_servers.lua) must not take its replies,
// and a refused reply must not make its channel look abandoned.
// Real Redis and a pasokh process; the old worker is played by hand.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, Pasokh, defaultConfig, postMessage, sleep } from '../support/harness.mjs';
import { agentFor, fcall, redisCli } from './messenger_support.mjs';

const GRACE_MS = 1000;
let redis, gw;
let seq = 0;
const uid = () => `csow-${process.pid}-${++seq}`;
const cli = (...args) => redisCli(redis, ...args);

before(async () => {
  redis = await new RedisServer().start();
  const c = defaultConfig(redis, { outbox: { served_ttl_ms: 1500, unserved_grace_ms: GRACE_MS } });
  c.channels = [{ id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' }];
  gw = await new Pasokh(c).start();
  await gw.createAgent('sara', 'sara-secret-1');
});
after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

test('a reply refused on a channel no upgraded gateway serves does not mark the channel for the sweep', async () => {
  const posted = await postMessage(gw, { message_id: uid(), customer: { id: uid() }, text: 'salam' });
  assert.equal(posted.status, 201, posted.text);
  const conv = posted.json.conversation_id;
  // As if it had come in on a channel only an old gateway has.
  cli('HSET', `pasokh:conv:${conv}`, 'channel', 'oldonly');
  const ws = await agentFor(gw);
  const clientId = uid();
  ws.send({ type: 'reply', conv, client_id: clientId, text: 'hi' });
  const refused = await ws.next((f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId);
  assert.equal(refused.code, 'channel_unavailable', JSON.stringify(refused));
  assert.equal(cli('HEXISTS', 'pasokh:channels:served_until', 'oldonly'), '0', 'never advertised: never swept');
  ws.close();
});

test('the sweep takes nothing from an outbox a worker without a heartbeat still reads, not even what it has not read yet', async () => {
  const key = 'pasokh:outbox:ghost';
  // Served once by an upgraded gateway, long gone.
  cli('HSET', 'pasokh:channels:served_until', 'ghost', '1');
  const m = JSON.stringify({ conversation_id: 'c-none', seq: 1, text: 'x' });
  cli('XADD', key, '*', 'm', m);
  cli('XGROUP', 'CREATE', key, 'senders', '0');
  // The old worker took the first reply and is sending it; the second is queued.
  cli('XREADGROUP', 'GROUP', 'senders', 'old-worker', 'COUNT', '1', 'STREAMS', key, '>');
  cli('XADD', key, '*', 'm', m);
  const until = Date.now() + 3 * GRACE_MS;
  while (Date.now() < until) {
    // It keeps polling (its own pending entries: it takes nothing new here).
    cli('XREADGROUP', 'GROUP', 'senders', 'old-worker', 'STREAMS', key, '0');
    assert.equal(fcall(redis, 'channel_servers', 'strand', 'ghost', 'sweeper', String(GRACE_MS), '10'), '',
      'nothing taken while the worker reads');
    await sleep(200);
  }
  const pending = cli('XPENDING', key, 'senders', '-', '+', '10').split('\n');
  assert.deepEqual([pending.length / 4, pending[1]], [1, 'old-worker'], 'the first still the old worker\'s');
  assert.equal(cli('XINFO', 'GROUPS', key).split('\n')[cli('XINFO', 'GROUPS', key).split('\n').indexOf('lag') + 1], '1',
    'the second still unread');
});
