// Gateways with different channels on one Redis, as in a rolling deploy: a
// reply typed on a gateway whose configuration lacks the conversation's
// channel goes out through another gateway that has it; once no live gateway
// sends on the channel, a reply is refused at once (channel_unavailable), and
// one queued before is marked failed with a reason instead of waiting for ever.
// Real Redis and pasokh processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, sleep,
} from '../support/harness.mjs';
import { agentFor, metric, redisCli } from './messenger_support.mjs';

// A gateway's word lasts 1.5 s (renewed every 0.5 s); replies queued on a
// channel left without one fail 1 s after that.
const TTL_MS = 1500;
const GRACE_MS = 1000;

let redis, old, fresh;
let seq = 0;
const uid = () => `cs-${process.pid}-${++seq}`;
const cli = (...args) => redisCli(redis, ...args);

// `old` has only the api channel; `fresh` also api2 (the channel a deploy adds).
function config(channels) {
  const c = defaultConfig(redis, { outbox: { served_ttl_ms: TTL_MS, unserved_grace_ms: GRACE_MS } });
  c.channels = channels.map((id) => ({ id, kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' }));
  return c;
}

before(async () => {
  redis = await new RedisServer().start();
  old = await new Pasokh(config(['api'])).start();
  fresh = await new Pasokh(config(['api', 'api2'])).start();
  await old.createAgent('sara', 'sara-secret-1');
});
after(async () => {
  await fresh?.stop('SIGKILL');
  await fresh?.cleanup();
  await old?.cleanup();
  await redis?.cleanup();
});

const reply = (ws, conv, text) => {
  const clientId = uid();
  ws.send({ type: 'reply', conv, client_id: clientId, text });
  return ws.next((f) => (f.type === 'ack' || f.type === 'error') && f.client_id === clientId);
};
const delivery = (ws, conv, seqNo, status) => ws.next((f) => f.type === 'event' && f.event === 'delivery' &&
  f.conv === conv && f.message_seq === seqNo && f.status === status, 15_000)
  .catch(() => { throw new Error(`no ${status} mark for ${conv}:${seqNo}: ${cli('HGETALL', `pasokh:conv:${conv}:delivery`)}`); });

test('a reply on a channel only another gateway serves goes out; with none left it is refused, and a queued one fails', async () => {
  const ws = await agentFor(old);
  const posted = await postMessage(fresh, { message_id: uid(), customer: { id: uid() }, text: 'hello from api2' }, { channel: 'api2' });
  assert.equal(posted.status, 201, posted.text);
  const conv = posted.json.conversation_id;

  // Rolling deploy: the agent's gateway lacks api2, the other sends it.
  const first = await reply(ws, conv, 'typed on the old gateway');
  assert.equal(first.type, 'ack', JSON.stringify(first));
  await delivery(ws, conv, first.seq, 'sent');

  // The gateway serving api2 stops answering (its beats stop with it).
  fresh.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const queued = await reply(ws, conv, 'typed while api2 is still counted as served');
  assert.equal(queued.type, 'ack', 'within the TTL the channel still counts as served');

  // Refused within the TTL of its last beat: nothing stored.
  let refused;
  for (;;) {
    refused = await reply(ws, conv, 'typed once nobody serves api2');
    if (refused.type === 'error') break;
    assert.ok(Date.now() - stoppedAt < TTL_MS + 1000, 'refused within the heartbeat TTL');
    await sleep(100);
  }
  assert.ok(Date.now() - stoppedAt <= TTL_MS + 1000, `refused after ${Date.now() - stoppedAt} ms`);
  assert.equal(refused.code, 'channel_unavailable', JSON.stringify(refused));
  assert.equal(refused.channel, 'api2');
  const storedSeq = Number(cli('HGET', `pasokh:conv:${conv}`, 'seq'));
  assert.ok(await metric(old, 'pasokh_channel_unavailable_total{channel="api2",outcome="refused"} ') >= 1);

  // Its own channel's conversations are not held up.
  const own = await postMessage(old, { message_id: uid(), customer: { id: uid() }, text: 'hello from api' });
  const ownReply = await reply(ws, own.json.conversation_id, 'still fine');
  assert.equal(ownReply.type, 'ack');

  // What was queued before fails once the grace is over, with the reason
  // the agent sees; its outbox entry is done.
  const failed = await delivery(ws, conv, queued.seq, 'failed');
  assert.match(failed.reason, /no gateway sends on channel api2 any more/);
  assert.equal(JSON.parse(cli('HGET', `pasokh:conv:${conv}:delivery`, String(queued.seq))).status, 'failed');
  assert.equal(cli('XPENDING', 'pasokh:outbox:api2', 'senders').split('\n')[0], '0', 'no entry left pending');
  assert.equal(cli('EXISTS', `pasokh:outbox:api2:chat:${conv}`), '0', 'the chat order is empty');
  assert.ok(await metric(old, 'pasokh_channel_unavailable_total{channel="api2",outcome="failed"} ') >= 1);
  assert.equal(Number(cli('HGET', `pasokh:conv:${conv}`, 'seq')), storedSeq, 'the refused replies were not stored');

  // A gateway with api2 again (the deploy goes on): replies go out again.
  await fresh.stop('SIGKILL');
  fresh = await new Pasokh(config(['api', 'api2'])).start();
  let again;
  for (const deadline = Date.now() + 5000; ;) {
    again = await reply(ws, conv, 'and now it goes');
    if (again.type === 'ack' || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.equal(again.type, 'ack', JSON.stringify(again));
  await delivery(ws, conv, again.seq, 'sent');
  await ws.close();
});
