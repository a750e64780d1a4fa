// Redis killed (SIGKILL) and restarted from its AOF while customers keep
// writing: what the gateway acknowledged survives, exactly once and in order,
// what it refused (503) is stored once when the sender retries, and a
// connected agent ends up with every message once, in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, API_KEY, sleep, waitFor,
} from '../support/harness.mjs';

let redis, gw;

before(async () => {
  redis = await new RedisServer({ aof: true }).start();
  gw = await new Pasokh(defaultConfig(redis)).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara', role: 'agent' });
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

// Sends one message until the gateway acknowledges it, as a provider's
// webhook retry would; returns the acknowledgement and the refusals met.
async function sendUntilStored(body, deadline) {
  let refusals = 0;
  for (;;) {
    const answer = await postMessage(gw, body);
    if (answer.status === 201 || answer.status === 200) return { answer, refusals };
    // Anything but "try again later" is a bug here, not an outage.
    assert.equal(answer.status, 503, `${answer.status} ${answer.text}`);
    assert.equal(answer.json.error.code, 'unavailable');
    ++refusals;
    assert.ok(Date.now() < deadline, `message ${body.message_id} not stored after the outages`);
    await sleep(20);
  }
}

async function storedMessages(conv) {
  const res = await fetch(`${gw.base}/api/v1/channels/api/conversations/${conv}/messages?after=0&limit=200`,
    { headers: { authorization: `Bearer ${API_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.json()).messages;
}

test('messages survive Redis being killed mid-stream: each acknowledged one is stored once, in order', async () => {
  const customers = 12, perCustomer = 25;
  const deadline = Date.now() + 60000;
  const agent = await agentSocket(gw, (await login(gw, 'sara', 'sara-secret-1')).json.token);
  let sending = true;
  // Each customer writes its messages one after another, all customers at once.
  const senders = Array.from({ length: customers }, async (_, c) => {
    const acks = [];
    let refusals = 0;
    for (let i = 0; i < perCustomer; ++i) {
      const body = { message_id: `crash-${c}-${i}`, customer: { id: `crash-cust-${c}` }, text: `c${c} m${i}` };
      const sent = await sendUntilStored(body, deadline);
      acks.push(sent.answer.json);
      refusals += sent.refusals;
    }
    return { acks, refusals };
  });
  // Meanwhile Redis dies three times under load and comes back from its AOF.
  const crashes = (async () => {
    for (let k = 0; k < 3 && sending; ++k) {
      await sleep(150);
      await redis.stop();
      await sleep(200);
      await redis.start();
    }
  })();
  const results = await Promise.all(senders);
  sending = false;
  await crashes;
  await waitFor(async () => (await fetch(`${gw.base}/readyz`)).status === 200, 'the gateway back on Redis');

  // The outages hit the stream: some sends were refused and retried.
  const refused = results.reduce((n, r) => n + r.refusals, 0);
  assert.ok(refused > 0, 'no send met an outage; the test proved nothing');
  // The agent's frames per conversation: live, or filled in from the log
  // after the gateway's subscription came back.
  const seen = new Map();
  const received = () => {
    seen.clear();
    for (const f of agent.frames) {
      if (f.type === 'event' && f.event === 'message' && f.message.text.startsWith('c')) {
        seen.set(f.conv, [...(seen.get(f.conv) || []), f.seq]);
      }
    }
    return [...seen.values()].reduce((n, seqs) => n + seqs.length, 0);
  };
  await waitFor(() => received() >= customers * perCustomer, 'every message at the agent');
  for (let c = 0; c < customers; ++c) {
    const { acks } = results[c];
    // One conversation per customer; the acknowledgements number it 1..N in order.
    const convs = new Set(acks.map((a) => a.conversation_id));
    assert.equal(convs.size, 1, `customer ${c}: ${[...convs]}`);
    assert.deepEqual(acks.map((a) => a.seq), Array.from({ length: perCustomer }, (_, i) => i + 1));
    // The conversation holds exactly the messages sent, once each, in order.
    const stored = await storedMessages(acks[0].conversation_id);
    assert.deepEqual(stored.map((m) => m.text), Array.from({ length: perCustomer }, (_, i) => `c${c} m${i}`));
    assert.deepEqual(stored.map((m) => m.seq), acks.map((a) => a.seq));
    assert.deepEqual(seen.get(acks[0].conversation_id), acks.map((a) => a.seq), `agent's frames of customer ${c}`);
  }
  await agent.close();
});
