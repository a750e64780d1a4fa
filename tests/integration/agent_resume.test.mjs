// An agent console that missed many events (it reconnects with `resume`
// after a long absence, or the gateway's pub/sub was down): the catch-up is
// paced by what the console reads, so a big gap never overflows the socket's
// send queue (1013, then the same catch-up again at every reconnect).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, eventsUntil, sleep, waitFor, withPubSubDown,
} from '../support/harness.mjs';

let redis, gw;
let customerSeq = 0;
const newCustomer = () => `cust-${process.pid}-${++customerSeq}`;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis)).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara', role: 'agent' });
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

const seqsOf = (events) => events.map((f) => f.seq);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('an agent back after a long gap of long messages gets every one, in order, once, without a 1013', async () => {
  const t = (await login(gw, 'sara', 'sara-secret-1')).json.token;
  const [busy, quiet] = [newCustomer(), newCustomer()];
  const post = async (customer, text) =>
    (await postMessage(gw, { message_id: uid(), customer: { id: customer }, text })).json;
  const a = (await post(busy, 'hello')).conversation_id;
  const b = (await post(quiet, 'hi')).conversation_id;
  let agent = await agentSocket(gw, t);
  await agent.close();

  // 110 messages of 40 kB: 4.4 MB, more than the 4 MB send queue; a few in another conversation.
  const long = '😀'.repeat(9990);
  for (let i = 0; i < 110; i++) await post(busy, `${i} ${long}`);
  for (let i = 0; i < 5; i++) await post(quiet, `${i} ${long}`);

  agent = await agentSocket(gw, t, { [a]: 1, [b]: 1 });
  // Live messages during the catch-up take their place after it.
  await post(busy, 'still there?');
  const lastA = (await post(busy, 'hello?')).seq;
  const lastB = (await post(quiet, 'one more')).seq;
  assert.ok(lastA >= 113 && lastB >= 7, `${lastA} ${lastB}`);
  const seen = await eventsUntil(agent, { [a]: lastA, [b]: lastB });
  assert.deepEqual(seqsOf(seen[a]), range(2, lastA));
  assert.deepEqual(seqsOf(seen[b]), range(2, lastB));
  const closed = await Promise.race([agent.closed, sleep(100).then(() => null)]);
  assert.equal(closed, null, `the socket stays open: ${JSON.stringify(closed)}`);

  // The socket keeps working: a reply is answered.
  agent.send({ type: 'reply', conv: a, client_id: 'after-resume', text: 'Sorry for the wait' });
  assert.ok((await agent.next((f) => f.type === 'ack' && f.client_id === 'after-resume')).seq > lastA);
  await agent.close();
});

test('an open socket gets a long gap missed during a pub/sub outage, in order, once, without a 1013', async () => {
  const t = (await login(gw, 'sara', 'sara-secret-1')).json.token;
  const customer = newCustomer();
  const post = async (text) => (await postMessage(gw, { message_id: uid(), customer: { id: customer }, text })).json;
  const agent = await agentSocket(gw, t);
  const conv = (await post('hello')).conversation_id;
  await agent.next((f) => f.type === 'event' && f.conv === conv && f.seq === 1);

  // 4.4 MB stored while the subscriber is down.
  await withPubSubDown(redis, async () => {
    const long = '😀'.repeat(9990);
    for (let i = 0; i < 110; i++) await post(`${i} ${long}`);
  });
  // A live message after the subscriber is back shows the gap too: one catch-up either way.
  const last = (await post('anyone there?')).seq;
  assert.ok(last >= 112, `${last}`);
  const seen = await eventsUntil(agent, { [conv]: last });
  assert.deepEqual(seqsOf(seen[conv]), range(2, last));
  const closed = await Promise.race([agent.closed, sleep(100).then(() => null)]);
  assert.equal(closed, null, `the socket stays open: ${JSON.stringify(closed)}`);
  await agent.close();
});
