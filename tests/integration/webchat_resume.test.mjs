// A customer back to a long web chat conversation of long answers (the
// widget reconnects with its last seq, or the gateway's pub/sub was down):
// the catch-up is paced by what the widget reads, so it never overflows the
// socket's send queue (1013, then the same replay again at every reconnect).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, login, agentSocket, eventsUntil, reply, sleep, waitFor, withPubSubDown,
} from '../support/harness.mjs';
import { chatSocket, newVisitor } from './webchat_support.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'resume-test-webchat-secret-0123456789' };
let redis, gw, agent;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    channels: [{ id: 'web', kind: 'webchat', team: 'support' }],
  }), SECRET).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara', role: 'agent' });
  agent = await agentSocket(gw, (await login(gw, 'sara', 'sara-secret-1')).json.token);
});
after(async () => { agent?.ws.close(); await gw?.cleanup(); await redis?.cleanup(); });

// A conversation of the visitor, opened by its first message.
async function startConversation(token) {
  const c = await chatSocket(gw, token);
  await c.next((f) => f.type === 'synced');
  c.send({ type: 'message', client_id: 'first', text: 'hello, anyone?' });
  const ack = await c.next((f) => f.type === 'ack' && f.client_id === 'first');
  return { c, conv: ack.conv, seq: ack.seq };
}

// 110 answers of 40 kB: 4.4 MB, more than the 4 MB send queue. Their seqs.
async function longAnswers(conv) {
  const long = '😀'.repeat(9990);
  const seqs = [];
  for (let i = 0; i < 110; i++) seqs.push(await reply(agent, conv, `${i} ${long}`, 10_000));
  return seqs;
}

// In order and once each (the customer is not shown every event of the log,
// an assignment's, say); every answer among them.
function assertInOrderOnce(events, answers) {
  const seqs = events.map((f) => f.seq);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `in order, once: ${seqs}`);
  assert.deepEqual(events.filter((f) => f.event === 'message').map((f) => f.seq), answers);
}

test('a customer back to a long conversation of long answers gets every one, in order, once, without a 1013', async () => {
  const token = await newVisitor(gw);
  const first = await startConversation(token);
  const { conv } = first;
  await first.c.close();
  const answers = await longAnswers(conv);

  const c = await chatSocket(gw, token, { resume: { conv, after: first.seq } });
  c.send({ type: 'ping' });  // answered while the replay goes, not after it
  // A live answer during the replay takes its place after it.
  const last = await reply(agent, conv, 'still there?', 10_000);
  const seen = (await eventsUntil(c, { [conv]: last }))[conv];
  assertInOrderOnce(seen, [...answers, last]);
  assert.ok(seen[0].seq > first.seq, `only what the widget missed: ${seen[0].seq}`);
  const synced = c.frames.findIndex((f) => f.type === 'synced');
  assert.ok(synced >= 0, 'synced');
  const replayed = c.frames.slice(0, synced).filter((f) => f.type === 'event' && f.event === 'message');
  assert.ok(replayed.length >= 110, `synced after the replay: ${replayed.length} answers before it`);
  const pong = c.frames.findIndex((f) => f.type === 'pong');
  assert.ok(pong >= 0 && pong < synced, `the ping was answered during the replay: ${pong} ${synced}`);
  const closed = await Promise.race([c.closed, sleep(100).then(() => null)]);
  assert.equal(closed, null, `the socket stays open: ${JSON.stringify(closed)}`);

  // The socket keeps working: a message is acked.
  c.send({ type: 'message', client_id: 'after-resume', text: 'thanks' });
  assert.ok((await c.next((f) => f.type === 'ack' && f.client_id === 'after-resume')).seq > last);
  await c.close();
});

test('an open widget gets a long gap missed during a pub/sub outage, in order, once, without a 1013', async () => {
  const token = await newVisitor(gw);
  const { c, conv, seq } = await startConversation(token);
  await c.next((f) => f.type === 'event' && f.seq === seq);

  // 4.4 MB stored while the subscribers are down.
  const answers = await withPubSubDown(redis, () => longAnswers(conv));
  // A live answer after the subscriber is back shows the gap too: one catch-up either way.
  const last = await reply(agent, conv, 'anyone there?', 10_000);
  const seen = (await eventsUntil(c, { [conv]: last }))[conv];
  assertInOrderOnce(seen.filter((f) => f.seq > seq), [...answers, last]);
  const closed = await Promise.race([c.closed, sleep(100).then(() => null)]);
  assert.equal(closed, null, `the socket stays open: ${JSON.stringify(closed)}`);
  await c.close();
});
