// Gateways with different channels on one Redis, as in a rolling deploy: a
// reply typed on a gateway whose configuration lacks the conversation's
// channel goes out through another gateway that has it; once no live gateway
// sends on the channel, a reply is refused at once (channel_unavailable), and
// one queued before is marked failed with a reason instead of waiting for ever.
// Real Redis and pasokh processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, reply, replyFrame, sleep,
} from '../support/harness.mjs';
import { agentFor, deliveryEvent, metric, redisCli } from './messenger_support.mjs';

// A gateway's word lasts 3 s (renewed every second); replies queued on a
// channel left without one fail 3 s after that.
const TTL_MS = 3000;
const GRACE_MS = 3000;

let redis, old, fresh;
let seq = 0;
const uid = () => `cs-${process.pid}-${++seq}`;
const cli = (...args) => redisCli(redis, ...args);
const convSeq = (conv) => Number(cli('HGET', `pasokh:conv:${conv}`, 'seq'));
// Until when (ms, Redis's clock: this machine's) api2 counts as served.
const servedUntil = () => Number(cli('HGET', 'pasokh:channels:served_until', 'api2'));

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

const delivery = (ws, conv, seqNo, status) => ws.next(deliveryEvent(conv, status, seqNo), 15_000)
  .catch(() => { throw new Error(`no ${status} mark for ${conv}:${seqNo}: ${cli('HGETALL', `pasokh:conv:${conv}:delivery`)}`); });

// When (Date.now()) the socket first got a `failed` mark for conv:seqNo.
function failedAt(ws, conv, seqNo) {
  const seen = { at: null };
  ws.ws.addEventListener('message', (e) => {
    if (seen.at === null && deliveryEvent(conv, 'failed', seqNo)(JSON.parse(e.data))) seen.at = Date.now();
  });
  return seen;
}

let conv;
test('a reply on a channel only another gateway serves goes out; with none left it is refused, and a queued one fails after the grace', async () => {
  const ws = await agentFor(old);
  const posted = await postMessage(fresh, { message_id: uid(), customer: { id: uid() }, text: 'hello from api2' }, { channel: 'api2' });
  assert.equal(posted.status, 201, posted.text);
  conv = posted.json.conversation_id;

  // Rolling deploy: the agent's gateway lacks api2, the other sends it.
  const first = await reply(ws, conv, 'typed on the old gateway');
  await delivery(ws, conv, first, 'sent');

  // The gateway serving api2 stops answering (its beats stop with it).
  fresh.proc.kill('SIGSTOP');
  const stoppedAt = Date.now();
  const lastWord = servedUntil();
  const queued = await reply(ws, conv, 'typed while api2 is still counted as served');
  const failure = failedAt(ws, conv, queued);

  // Refused once its last beat ran out (within TTL + 5 s of the stop), and
  // nothing of a refused reply stored: the conversation's seq stays, its log
  // holds no such text.
  const refusedTexts = [];
  let refused;
  for (let attempt = 1; ; attempt++) {
    const text = `refused attempt ${attempt} ${uid()}`;
    const seqBefore = convSeq(conv);
    refused = await replyFrame(ws, conv, text);
    if (refused.type === 'error') {
      refusedTexts.push(text);
      assert.equal(convSeq(conv), seqBefore, 'a refused reply takes no seq');
      if (refusedTexts.length === 2) break;
      continue;
    }
    assert.ok(Date.now() - stoppedAt < TTL_MS + 5000, 'refused within the heartbeat TTL');
    await sleep(100);
  }
  assert.ok(Date.now() - stoppedAt <= TTL_MS + 5000, `refused after ${Date.now() - stoppedAt} ms`);
  assert.equal(refused.code, 'channel_unavailable', JSON.stringify(refused));
  assert.equal(refused.channel, 'api2');
  const storedSeq = convSeq(conv);
  assert.ok(await metric(old, 'pasokh_channel_unavailable_total{channel="api2",outcome="refused"} ') >= 2);

  // Its own channel's conversations are not held up.
  const own = await postMessage(old, { message_id: uid(), customer: { id: uid() }, text: 'hello from api' });
  await reply(ws, own.json.conversation_id, 'still fine');

  // What was queued before fails once the grace is over, not before, with
  // the reason the agent sees; its outbox entry is done.
  const failed = await delivery(ws, conv, queued, 'failed');
  assert.match(failed.reason, /no gateway sends on channel api2 any more/);
  assert.ok(failure.at >= lastWord + GRACE_MS - 200,
    `failed ${failure.at - lastWord} ms after the last beat ran out; the grace is ${GRACE_MS} ms`);
  assert.deepEqual(failed.failure, { code: 'channel_unserved', channel: 'api2' }, 'the code the console translates');
  assert.equal(JSON.parse(cli('HGET', `pasokh:conv:${conv}:delivery`, String(queued))).status, 'failed');
  assert.equal(cli('XPENDING', 'pasokh:outbox:api2', 'senders').split('\n')[0], '0', 'no entry left pending');
  assert.equal(cli('EXISTS', `pasokh:outbox:api2:chat:${conv}`), '0', 'the chat order is empty');
  assert.ok(await metric(old, 'pasokh_channel_unavailable_total{channel="api2",outcome="failed"} ') >= 1);
  assert.equal(convSeq(conv), storedSeq, 'the refused replies were not stored');
  const log = cli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+');
  assert.ok(log.includes('typed while api2 is still counted as served'), 'the log is where replies are');
  for (const text of refusedTexts) assert.ok(!log.includes(text), `"${text}" is not in the log`);

  // A gateway with api2 again (the deploy goes on): replies go out again.
  await fresh.stop('SIGKILL');
  fresh = await new Pasokh(config(['api', 'api2'])).start();
  let again;
  for (const deadline = Date.now() + 5000; ;) {
    again = await replyFrame(ws, conv, 'and now it goes');
    if (again.type === 'ack' || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.equal(again.type, 'ack', JSON.stringify(again));
  await delivery(ws, conv, again.seq, 'sent');
  await ws.close();
});

test('a gateway back within the grace sends what was queued while it was away', async () => {
  const ws = await agentFor(old);
  fresh.proc.kill('SIGSTOP');
  let resumed = false;
  try {
    const lastWord = servedUntil();
    const queued = await reply(ws, conv, 'typed just before api2 went quiet');
    // Past the TTL: nobody serves api2 now...
    while (Date.now() < lastWord + 300) await sleep(50);
    await assert.rejects(reply(ws, conv, 'refused while api2 is quiet'), { code: 'channel_unavailable' });
    // ...but it is back before the grace is over.
    while (Date.now() < lastWord + GRACE_MS / 2) await sleep(50);
    fresh.proc.kill('SIGCONT');
    resumed = true;
    await delivery(ws, conv, queued, 'sent');
    assert.ok(!ws.frames.some(deliveryEvent(conv, 'failed', queued)), 'never marked failed');
    assert.equal(JSON.parse(cli('HGET', `pasokh:conv:${conv}:delivery`, String(queued))).status, 'sent');
  } finally {
    if (!resumed) fresh.proc.kill('SIGCONT');
  }
  await ws.close();
});
