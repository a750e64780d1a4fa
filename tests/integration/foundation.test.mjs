// The foundation's end-to-end path with real processes: API channel → Redis →
// agent WebSocket → reply → stored and readable back; dedup, resume, outages,
// two instances, bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, WsClient, API_KEY, sleep, freePort, apiCall, waitFor,
  pasokhBin, TEAMS_WITH_VIP,
} from '../support/harness.mjs';

let redis, gw;
let customerSeq = 0;
const newCustomer = () => `cust-${process.pid}-${++customerSeq}`;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, { routing: { teams: TEAMS_WITH_VIP } })).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara', role: 'agent' });
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

async function token() {
  const r = await login(gw, 'sara', 'sara-secret-1');
  assert.equal(r.status, 200);
  return r.json.token;
}

async function messages(g, conv, after = 0) {
  const res = await fetch(`${g.base}/api/v1/channels/api/conversations/${conv}/messages?after=${after}`,
    { headers: { authorization: `Bearer ${API_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.json()).messages;
}

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
}

// Sends raw bytes and returns everything the server answers before closing.
function rawHttp(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (d) => { answer += d.toString(); });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

async function metric(g, line) {
  const text = await (await fetch(`${g.base}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(line));
  return row ? Number(row.split(' ').pop()) : 0;
}

test('a customer message is stored in a conversation with increasing sequence numbers', async () => {
  const customer = newCustomer();
  const first = await postMessage(gw, { message_id: uid(), customer: { id: customer, name: 'سارا' }, text: 'سلام، گارانتی گوشی چقدره؟', language: 'fa' });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.seq, 1);
  assert.match(first.json.conversation_id, /^cv_\d+$/);
  const second = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'ممنون' });
  assert.equal(second.status, 201);
  assert.equal(second.json.conversation_id, first.json.conversation_id);
  assert.equal(second.json.seq, 2);
  const stored = await messages(gw, first.json.conversation_id);
  assert.deepEqual(stored.map((m) => [m.seq, m.text, m.author]), [[1, 'سلام، گارانتی گوشی چقدره؟', 'customer'], [2, 'ممنون', 'customer']]);
  // Another customer gets another conversation.
  const other = await postMessage(gw, { message_id: uid(), customer: { id: newCustomer() }, text: 'hi' });
  assert.notEqual(other.json.conversation_id, first.json.conversation_id);
});

test('a repeated message id is stored once and answered with the first result', async () => {
  const id = uid();
  const body = { message_id: id, customer: { id: newCustomer() }, text: 'where is my repair?' };
  const before = await metric(gw, 'pasokh_dedup_hits_total{channel="api"}');
  const a = await postMessage(gw, body);
  const b = await postMessage(gw, body);
  assert.equal(a.status, 201);
  assert.equal(b.status, 200);
  assert.equal(b.json.duplicate, true);
  assert.equal(b.json.seq, a.json.seq);
  assert.equal(b.json.conversation_id, a.json.conversation_id);
  assert.equal((await messages(gw, a.json.conversation_id)).length, 1);
  assert.equal(await metric(gw, 'pasokh_dedup_hits_total{channel="api"}'), before + 1);
});

// Integrations often number each chat's messages from 1: the same message id
// from another customer is another message; from the same customer with
// another text it is an error, never a silently dropped message.
test('a message id is unique per customer, and reusing one for another text answers 409', async () => {
  const id = uid();
  const customer = newCustomer();
  const first = await postMessage(gw, { message_id: id, customer: { id: customer }, text: 'my washing machine leaks' });
  const other = await postMessage(gw, { message_id: id, customer: { id: newCustomer() }, text: 'totally different' });
  assert.equal(first.status, 201);
  assert.equal(other.status, 201);
  assert.equal(other.json.duplicate, false);
  assert.notEqual(other.json.conversation_id, first.json.conversation_id);
  assert.deepEqual((await messages(gw, other.json.conversation_id)).map((m) => m.text), ['totally different']);

  const before = await metric(gw, 'pasokh_errors_total{kind="message_id_reused"}');
  const reused = await postMessage(gw, { message_id: id, customer: { id: customer }, text: 'another question' });
  assert.equal(reused.status, 409);
  assert.equal(reused.json.error.code, 'message_id_reused');
  assert.equal(await metric(gw, 'pasokh_errors_total{kind="message_id_reused"}'), before + 1);
  assert.equal((await messages(gw, first.json.conversation_id)).length, 1);
});

test('reading a long conversation goes page by page until has_more is false', async () => {
  const customer = newCustomer();
  const texts = Array.from({ length: 520 }, (_, i) => `message ${i}`);
  const first = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: texts[0] });
  for (let i = 1; i < texts.length; i += 40)
    await Promise.all(texts.slice(i, i + 40).map((text) => postMessage(gw, { message_id: uid(), customer: { id: customer }, text })));
  const conv = first.json.conversation_id;
  const read = async (after) => (await fetch(`${gw.base}/api/v1/channels/api/conversations/${conv}/messages?after=${after}`,
    { headers: { authorization: `Bearer ${API_KEY}` } })).json();
  const one = await read(0);
  assert.equal(one.has_more, true);
  assert.equal(one.messages.length, 500);
  const two = await read(one.next_after);
  assert.equal(two.has_more, false);
  const all = [...one.messages, ...two.messages];
  assert.equal(all.length, 520);
  assert.deepEqual(all.map((m) => m.seq), Array.from({ length: 520 }, (_, i) => i + 1));
  assert.deepEqual(new Set(all.map((m) => m.text)), new Set(texts));
});

test('an agent receives messages live, replies, and the reply is stored and queued for delivery', async () => {
  const agent = await agentSocket(gw, await token());
  assert.equal(agent.welcome.agent.name, 'Sara');
  const customer = newCustomer();
  const posted = await postMessage(gw, { message_id: uid(), customer: { id: customer, name: 'Omar' }, text: 'مرحبا، أريد إرجاع المنتج' });
  const conv = posted.json.conversation_id;
  const live = await agent.next((f) => f.type === 'event' && f.conv === conv);
  assert.equal(live.message.text, 'مرحبا، أريد إرجاع المنتج');
  assert.equal(live.conversation.customer_name, 'Omar');
  assert.equal(live.seq, 1);

  const outboxBefore = Number(redisCli('XLEN', 'pasokh:outbox:api'));
  agent.send({ type: 'reply', conv, client_id: 'r-1', text: 'أهلاً، سنساعدك' });
  const ack = await agent.next((f) => f.type === 'ack' && f.client_id === 'r-1');
  assert.equal(ack.seq, 2);
  const echoed = await agent.next((f) => f.type === 'event' && f.conv === conv && f.seq === 2);
  assert.equal(echoed.message.author, 'agent');
  assert.equal(echoed.conversation.status, 'assigned');
  // A resend of the same client id is stored once.
  agent.send({ type: 'reply', conv, client_id: 'r-1', text: 'أهلاً، سنساعدك' });
  const dup = await agent.next((f) => f.type === 'ack' && f.client_id === 'r-1');
  assert.equal(dup.seq, 2);
  assert.equal(dup.duplicate, true);

  const stored = await messages(gw, conv);
  assert.deepEqual(stored.map((m) => [m.seq, m.author, m.text]), [[1, 'customer', 'مرحبا، أريد إرجاع المنتج'], [2, 'agent', 'أهلاً، سنساعدك']]);
  assert.equal(Number(redisCli('XLEN', 'pasokh:outbox:api')), outboxBefore + 1);
  // Once the outbox has handed the reply over, reading the conversation says so.
  let reply;
  for (let i = 0; i < 50 && reply?.status !== 'sent'; i++) {
    if (i) await sleep(100);
    reply = (await messages(gw, conv)).find((m) => m.seq === 2);
  }
  assert.equal(reply.status, 'sent');

  agent.send({ type: 'resolve', conv, client_id: 'res-1' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'res-1');
  const resolved = await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'status');
  assert.equal(resolved.conversation.status, 'resolved');
  // The customer's next message opens a new conversation.
  const again = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'one more thing' });
  assert.notEqual(again.json.conversation_id, conv);
  await agent.close();
});

// Messages that arrive together are committed together (one ingest call per
// batch): a burst of concurrent posts — some customers writing several times,
// some ids sent twice — must still store each message once, give each
// conversation contiguous sequence numbers, and reach the agent live.
test('a burst of concurrent messages is stored once each, in order, and reaches the agent live', async () => {
  const agent = await agentSocket(gw, await token());
  const customers = Array.from({ length: 20 }, () => newCustomer());
  const bodies = [];
  for (let round = 0; round < 4; round++) {
    for (const c of customers) bodies.push({ message_id: uid(), customer: { id: c, name: 'Burst Customer' }, text: `round ${round}` });
  }
  const repeats = bodies.slice(0, 10);  // the same ids again, in the same burst
  const evalsBefore = Number((redisCli('INFO', 'commandstats').match(/cmdstat_fcall:calls=(\d+)/) || [0, 0])[1]);
  const answers = await Promise.all([...bodies, ...repeats].map((b) => postMessage(gw, b)));
  const evals = Number(redisCli('INFO', 'commandstats').match(/cmdstat_fcall:calls=(\d+)/)[1]) - evalsBefore;
  assert.ok(answers.every((a) => a.status === 201 || a.status === 200), answers.map((a) => a.status).join(','));
  // A repeated id answers what its first copy stored.
  const stored = new Map();
  answers.forEach((a, i) => {
    const id = [...bodies, ...repeats][i].message_id;
    const key = `${a.json.conversation_id}:${a.json.seq}`;
    if (stored.has(id)) assert.equal(stored.get(id), key);
    else stored.set(id, key);
  });
  assert.equal(stored.size, bodies.length);
  assert.equal(answers.filter((a) => a.status === 201).length, bodies.length);
  // Per customer: one conversation, seqs 1..4, in the order of the answers' seqs.
  const byConv = new Map();
  for (const key of stored.values()) {
    const [conv, seq] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    byConv.set(conv, [...(byConv.get(conv) || []), seq]);
  }
  assert.equal(byConv.size, customers.length);
  for (const [conv, seqs] of byConv) {
    assert.deepEqual(seqs.sort((a, b) => a - b), [1, 2, 3, 4]);
    assert.equal((await messages(gw, conv)).length, 4);
  }
  // The agent sees every stored message live, each conversation in seq order.
  const seen = new Map();
  while ([...seen.values()].reduce((n, l) => n + l.length, 0) < bodies.length) {
    const f = await agent.next((x) => x.type === 'event' && x.event === 'message' && byConv.has(x.conv));
    seen.set(f.conv, [...(seen.get(f.conv) || []), f.seq]);
  }
  for (const seqs of seen.values()) assert.deepEqual(seqs, [1, 2, 3, 4]);
  // Fewer ingest calls than messages: the burst was grouped.
  assert.ok(evals < answers.length, `${evals} ingest calls for ${answers.length} messages`);
  await agent.close();
});

test('a reconnecting agent gets exactly what it missed', async () => {
  const t = await token();
  const customer = newCustomer();
  const first = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'one' });
  const conv = first.json.conversation_id;
  let agent = await agentSocket(gw, t);
  assert.ok(agent.welcome.conversations.some((c) => c.id === conv && c.seq === 1));
  await agent.close();
  await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'two' });
  await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'three' });
  agent = await agentSocket(gw, t, { [conv]: 1 });
  const e2 = await agent.next((f) => f.type === 'event' && f.conv === conv);
  const e3 = await agent.next((f) => f.type === 'event' && f.conv === conv);
  assert.deepEqual([e2.seq, e2.message.text, e3.seq, e3.message.text], [2, 'two', 3, 'three']);
  // Live again after the catch-up, with no duplicates of what was replayed.
  await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'four' });
  const e4 = await agent.next((f) => f.type === 'event' && f.conv === conv);
  assert.equal(e4.seq, 4);
  await sleep(100);
  assert.equal(agent.frames.filter((f) => f.type === 'event' && f.conv === conv).length, 0);
  // history gives the whole log.
  agent.send({ type: 'history', conv, after: 0 });
  const h = await agent.next((f) => f.type === 'history');
  assert.deepEqual(h.events.map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(h.has_more, false);
  await agent.close();
});

test('a long conversation of long messages opens page by page instead of overflowing the agent socket', async () => {
  const customer = newCustomer();
  const long = '😀'.repeat(9990);  // 40 kB: 110 of them pass the 4 MB send queue
  let conv;
  for (let i = 0; i < 110; i++) {
    const r = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: `${i} ${long}` });
    conv = r.json.conversation_id;
  }
  const agent = await agentSocket(gw, await token());
  const seqs = [];
  for (let after = 0, more = true; more;) {
    agent.send({ type: 'history', conv, after });
    const h = await agent.next((f) => f.type === 'history');
    assert.ok(h.events.length > 0);
    seqs.push(...h.events.map((e) => e.seq));
    after = seqs.at(-1);
    more = h.has_more;
  }
  assert.deepEqual(seqs, Array.from({ length: 110 }, (_, i) => i + 1));
  const closed = await Promise.race([agent.closed, sleep(200).then(() => null)]);
  assert.equal(closed, null, `the socket stays open: ${JSON.stringify(closed)}`);
  await agent.close();
});

test('read marks follow an agent across sessions and instances, forwards only; a bad mark is refused', async () => {
  const t = await token();
  const laptop = await agentSocket(gw, t);
  const second = await new Pasokh(defaultConfig(redis)).start();
  try {
    const phone = await agentSocket(second, t);
    laptop.send({ type: 'read', conv: 'cv_77', at: 5000 });
    const mark = await phone.next((f) => f.type === 'read');
    assert.deepEqual([mark.conv, mark.at, mark.agent], ['cv_77', 5000, 'ag_sara']);
    // An older mark changes nothing and is not sent on; a newer one is.
    laptop.send({ type: 'read', conv: 'cv_77', at: 4000 });
    laptop.send({ type: 'read', conv: 'cv_77', at: 6000 });
    assert.equal((await phone.next((f) => f.type === 'read' && f.at !== 5000)).at, 6000);
    // A mark from the future (a wrong clock) is held to now: it must not hide later messages.
    const sentAt = Date.now();
    laptop.send({ type: 'read', conv: 'cv_78', at: sentAt + 86_400_000 });
    const held = (await phone.next((f) => f.type === 'read' && f.conv === 'cv_78')).at;
    assert.ok(sentAt <= held && held <= Date.now(), `held to now: ${held}`);
    // A session that starts later gets the marks in its welcome.
    const tablet = await agentSocket(second, t);
    assert.equal(tablet.welcome.read.cv_77, 6000);
    await tablet.close();
    await phone.close();
  } finally {
    await second.cleanup();
  }
  laptop.send({ type: 'read', conv: 'cv_77', at: 'yesterday' });
  assert.equal((await laptop.next((f) => f.type === 'error')).code, 'bad_frame');
  await laptop.close();
});

test('agents see who else has a conversation open: across instances, per device, only in its team; a bad frame is refused', async () => {
  await gw.createAgent('reza', 'reza-secret-2', { name: 'Reza' });
  await gw.createAgent('vida', 'vida-secret-3', { name: 'Vida', team: 'vip' });
  const open = async (text) => (await postMessage(gw, { message_id: uid(), customer: { id: newCustomer() }, text })).json.conversation_id;
  const [conv, other, third] = [await open('Is my oven still under warranty?'), await open('Where is my invoice?'),
    await open('Can I return the kettle?')];
  const second = await new Pasokh(defaultConfig(redis)).start();
  const viewing = (f) => f.type === 'viewing';
  try {
    const laptop = await agentSocket(gw, await token());
    const reza = await agentSocket(second, (await login(second, 'reza', 'reza-secret-2')).json.token);
    const vida = await agentSocket(gw, (await login(gw, 'vida', 'vida-secret-3')).json.token);
    laptop.send({ type: 'viewing', conv, state: true });
    const shown = await reza.next(viewing);
    assert.deepEqual([shown.conv, shown.agent_id, shown.name, shown.state], [conv, 'ag_sara', 'Sara', true]);
    // Reza opens it too: he learns at once that Sara is there, and she learns of him.
    reza.send({ type: 'viewing', conv, state: true });
    const listed = await reza.next(viewing);
    assert.deepEqual([listed.conv, listed.agent_id, listed.state], [conv, 'ag_sara', true]);
    assert.equal((await laptop.next(viewing)).agent_id, 'ag_reza');

    // Sara's phone shows it too, then moves on: her laptop still shows it, so Reza hears nothing of it.
    const phone = await agentSocket(second, await token());
    phone.send({ type: 'viewing', conv, state: true });
    phone.send({ type: 'viewing', conv: other, state: true });
    assert.equal((await reza.next((f) => viewing(f) && f.conv === other)).agent_id, 'ag_sara');
    assert.ok(!reza.frames.some((f) => viewing(f) && f.conv === conv && !f.state), 'still on her laptop');
    // Closing the laptop ends it at once, not when refreshes stop.
    await laptop.close();
    const ended = await reza.next((f) => viewing(f) && f.conv === conv && !f.state);
    assert.equal(ended.agent_id, 'ag_sara');
    // A session whose instance died leaves its entry until the entry lapses;
    // past that it holds nothing. Staged: Sara's tablet on a dead instance,
    // its entry lapsing 1 s from now, while her desk shows the conversation.
    const lapses = Date.now() + 1000;
    redisCli('ZADD', `pasokh:viewing:${conv}`, String(lapses), 'ag_sara|deadtablet');
    const desk2 = await agentSocket(gw, await token());
    desk2.send({ type: 'viewing', conv, state: true });
    // Listed to her desk once its view is stored: Reza is there.
    await desk2.next((f) => viewing(f) && f.agent_id === 'ag_reza');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lapses + 50 - Date.now())));
    await desk2.close();
    assert.equal((await reza.next((f) => viewing(f) && f.conv === conv && !f.state)).agent_id, 'ag_sara');

    // Another team's conversation: refused (counted once however often asked), never relayed.
    const forbidden = () => metric(gw, 'pasokh_errors_total{kind="ws_viewing_forbidden"}');
    const before = await forbidden();
    vida.send({ type: 'viewing', conv, state: true });
    vida.send({ type: 'viewing', conv, state: true });
    vida.send({ type: 'viewing', conv });
    assert.equal((await vida.next((f) => f.type === 'error')).code, 'bad_frame');
    assert.equal(await forbidden(), before + 1);
    // Anything Vida's session had published would reach Reza before a later
    // frame from her instance: Sara opens a third conversation at another desk there.
    const desk = await agentSocket(gw, await token());
    desk.send({ type: 'viewing', conv: third, state: true });
    await reza.next((f) => viewing(f) && f.conv === third);
    assert.ok(!vida.frames.some(viewing) && !reza.frames.some((f) => f.agent_id === 'ag_vida'));
    for (const socket of [desk, phone, reza, vida]) await socket.close();
  } finally {
    await second.cleanup();
  }
});

test('ingest answers 503 while Redis is down and recovers by itself', async () => {
  await redis.stop();
  const down = await postMessage(gw, { message_id: uid(), customer: { id: newCustomer() }, text: 'lost?' });
  assert.equal(down.status, 503);
  assert.equal(down.json.error.code, 'unavailable');
  assert.equal((await fetch(`${gw.base}/readyz`)).status, 503);
  assert.equal((await fetch(`${gw.base}/healthz`)).status, 200);
  await redis.start();
  // The data went with the killed server (no persistence in tests); the gateway must reconnect.
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  let status = 0;
  for (let i = 0; i < 100 && status !== 201; ++i) {
    status = (await postMessage(gw, { message_id: uid(), customer: { id: newCustomer() }, text: 'back' })).status;
    if (status !== 201) await sleep(100);
  }
  assert.equal(status, 201);
  assert.equal((await fetch(`${gw.base}/readyz`)).status, 200);
});

test('a gateway started before its Redis reports ready only once it knows its channels\' teams', async () => {
  // A slow routing tick (3 s) leaves a wide gap between Redis coming up and the
  // startup sync that seeds the channels' teams: /readyz must not cover it.
  const late = new RedisServer();
  late.port = await freePort();
  const g = await new Pasokh(defaultConfig(late, { routing: { tick_interval_ms: 3000 } })).start({ waitReady: false });
  try {
    const first = await fetch(`${g.base}/readyz`);
    assert.equal(first.status, 503);
    assert.equal((await first.json()).error.code, 'redis_unavailable');
    await late.start();
    await g.createAgent('lead', 'lead-secret-1', { name: 'Lead', role: 'admin' });
    // The reconnect and the next tick, with room for a slow machine.
    await waitFor(async () => (await fetch(`${g.base}/readyz`)).status === 200, '/readyz', 15000);
    // Ready means the channel's team "support" is known at once.
    const r = await login(g, 'lead', 'lead-secret-1');
    const made = await apiCall(g, 'POST', '/api/v1/admin/agents',
      { token: r.json.token, body: { login: 'new', password: 'new-secret-1', teams: ['support'] } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
  } finally {
    await g.cleanup();
    await late.cleanup();
  }
});

test('two gateway processes on one Redis serve a customer on one and an agent on the other', async () => {
  const second = await new Pasokh(defaultConfig(redis)).start();
  try {
    const agent = await agentSocket(second, await token());
    const posted = await postMessage(gw, { message_id: uid(), customer: { id: newCustomer() }, text: 'via A' });
    const conv = posted.json.conversation_id;
    const live = await agent.next((f) => f.type === 'event' && f.conv === conv);
    assert.equal(live.message.text, 'via A');
    agent.send({ type: 'reply', conv, client_id: 'x-1', text: 'answered via B' });
    await agent.next((f) => f.type === 'ack' && f.client_id === 'x-1');
    const stored = await messages(gw, conv);
    assert.equal(stored.at(-1).text, 'answered via B');
    await agent.close();
  } finally {
    await second.cleanup();
  }
});

test('bad HTTP input gets a specific 4xx with a JSON body, is counted, and the server keeps serving', async () => {
  const cases = [
    [{ body: '{"message_id": ' }, 400, 'invalid_json'],
    [{ body: '[]' }, 400, 'invalid_body'],
    [{ body: { message_id: 'x', customer: { id: 'c' } } }, 400, 'invalid_field'],
    [{ body: JSON.stringify({ message_id: 'x' }), headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    [{ body: { message_id: 'x', customer: { id: 'c' }, text: 'hi' }, key: 'wrong' }, 401, 'unauthorized'],
    [{ body: { message_id: 'x', customer: { id: 'c' }, text: 'hi' }, channel: 'nope' }, 404, 'unknown_channel'],
    [{ body: { message_id: 'x', customer: { id: 'c', name: 5 }, text: 'hi' } }, 400, 'invalid_field'],
    [{ body: { message_id: 'x', customer: { id: 'c' }, text: 'hi', language: ['fa'] } }, 400, 'invalid_field'],
  ];
  for (const [req, status, code] of cases) {
    const r = await postMessage(gw, req.body, { key: req.key, channel: req.channel, headers: req.headers });
    assert.equal(r.status, status, `${code}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json.error.code, code);
  }
  // The text limit counts characters, not bytes: 10,000 Persian letters pass, one more does not.
  const long = (n) => ({ message_id: uid(), customer: { id: newCustomer() }, text: 'س'.repeat(n) });
  assert.equal((await postMessage(gw, long(10000))).status, 201);
  const tooLong = await postMessage(gw, long(10001));
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.json.error.code, 'invalid_field');
  // An oversized body is refused from its Content-Length, before it is read. (Sent over a raw socket:
  // a client still writing a 2 MB body when the 413 and close arrive sees EPIPE instead of the answer.)
  const tooLarge = await rawHttp(gw.port, 'POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: x\r\n' +
    `Authorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${3 << 20}\r\n\r\n{"a":`);
  assert.match(tooLarge, /^HTTP\/1\.1 413 /);
  assert.match(tooLarge, /"code":"body_too_large"/);
  // Over the webhooks' larger limit too: still the API's own limit is named.
  for (const length of [3 << 20, 5 << 20]) {
    const refused = await rawHttp(gw.port, 'POST /api/v1/channels/api/messages HTTP/1.1\r\nHost: x\r\n' +
      `Authorization: Bearer ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"a":`);
    assert.match(refused, /request body exceeds 1048576 bytes/, `Content-Length ${length}`);
  }

  // Invalid UTF-8 bytes in an otherwise valid JSON body.
  const bad = Buffer.concat([Buffer.from('{"message_id":"u","customer":{"id":"c"},"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const r = await fetch(`${gw.base}/api/v1/channels/api/messages`, { method: 'POST', body: bad,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` } });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error.code, 'invalid_utf8');

  const unknown = await fetch(`${gw.base}/no/such/route`);
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, 'not_found');
  const wrongMethod = await fetch(`${gw.base}/api/v1/channels/api/messages`, { method: 'PUT' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  // A load balancer's HEAD check gets the GET's answer without its body.
  const head = await fetch(`${gw.base}/healthz`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String('{"status":"ok"}'.length));
  assert.equal(await head.text(), '');
  // Media types are case-insensitive; a 100-character name passes, 101 does not (it rides in every event).
  const named = (name) => ({ message_id: uid(), customer: { id: newCustomer(), name }, text: 'hi' });
  assert.equal((await postMessage(gw, named('ن'.repeat(100)), { headers: { 'content-type': 'Application/JSON; charset=UTF-8' } })).status, 201);
  const longName = await postMessage(gw, named('ن'.repeat(101)));
  assert.equal(longName.status, 400);
  assert.match(longName.json.error.message, /customer\.name/);

  assert.ok(await metric(gw, 'pasokh_errors_total{kind="invalid_json"}') >= 1);
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="invalid_utf8"}') >= 1);
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="body_too_large"}') >= 1);
  assert.ok(await metric(gw, 'pasokh_http_requests_total{route="/api/v1/channels/{channel}/messages",status="401"}') >= 1);
  assert.equal((await fetch(`${gw.base}/healthz`)).status, 200);
});

test('bad WebSocket input closes the session with a specific code', async () => {
  const t = await token();
  const expectClose = async (setup, code) => {
    const c = new WsClient(`${gw.wsBase}/ws/agent`);
    await c.opened();
    setup(c);
    const closed = await c.closed;
    assert.equal(closed.code, code, `expected close ${code}, got ${closed.code} ${closed.reason}`);
  };
  await expectClose((c) => c.send({ type: 'hello', v: 1, token: 'forged' }), 1008);
  await expectClose((c) => c.send({ type: 'reply', conv: 'cv_1', text: 'x' }), 1008);
  await expectClose((c) => c.send('this is not json'), 1007);
  await expectClose((c) => { c.send({ type: 'hello', v: 1, token: t }); c.send({ type: 'ping', pad: 'x'.repeat(100 << 10) }); }, 1009);
  await expectClose((c) => c.ws.send(Buffer.from([1, 2, 3]), { binary: true }), 1003);
  // An unknown frame type is answered, not fatal.
  const agent = await agentSocket(gw, t);
  agent.send({ type: 'dance' });
  const err = await agent.next((f) => f.type === 'error');
  assert.equal(err.code, 'unknown_type');
  agent.send({ type: 'ping' });
  await agent.next((f) => f.type === 'pong');
  await agent.close();
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="ws_bad_token"}') >= 1);
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="ws_not_json"}') >= 1);
});

test('a frame with a number where a string belongs is answered bad_frame (or refused 1008 at hello), never a dropped socket', async () => {
  const logged = gw.output.length;
  // Before sign-in: a hello whose token is not a string is a refused hello.
  const hello = new WsClient(`${gw.wsBase}/ws/agent`);
  await hello.opened();
  hello.send({ type: 'hello', v: 1, token: 5, client_id: 5 });
  assert.equal((await hello.closed).code, 1008);
  // Signed in: each such frame gets an error frame and the socket stays open.
  const agent = await agentSocket(gw, await token());
  for (const frame of [{ type: 'reply', conv: 'cv_1', text: 5, client_id: 5 },
    { type: 'reply', conv: 'cv_1', text: 'hi', client_id: { id: 1 } },
    { type: 'presence', status: 5, client_id: 5 },
    { type: 'resolve', conv: 7, client_id: [1] }]) {
    agent.send(frame);
    const err = await agent.next((f) => f.type === 'error');
    assert.equal(err.code, 'bad_frame', `${JSON.stringify(frame)}: ${JSON.stringify(err)}`);
    assert.equal(err.client_id, undefined, 'only a string client_id is echoed');
  }
  agent.send({ type: 'ping' });
  await agent.next((f) => f.type === 'pong');
  await agent.close();
  assert.doesNotMatch(gw.output.slice(logged), /\[error\]/);
});

// Opens `n` idle sockets from the local address `from` (127.0.0.0/8 is all this host).
async function idleSockets(port, n, from) {
  const out = [];
  for (let i = 0; i < n; ++i) {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
    await new Promise((r) => s.once('connect', r));
    out.push(s);
  }
  await sleep(100);  // accepted and counted
  return out;
}

// What the server says to a new connection from `from`, up to its close.
function firstAnswer(port, from) {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: from });
  return new Promise((resolve) => {
    let text = '';
    s.on('data', (d) => { text += d; });
    s.on('close', () => resolve(text));
    s.on('error', () => resolve(text));
    s.on('connect', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  });
}

test('one client address cannot hold every connection: its next one gets 503, others are served', async () => {
  const g = await new Pasokh(defaultConfig(redis, { limits: { max_connections_per_address: 3 } })).start();
  const idle = await idleSockets(g.port, 3, '127.0.0.2');
  try {
    const refused = await firstAnswer(g.port, '127.0.0.2');
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.equal(JSON.parse(refused.split('\r\n\r\n')[1]).error.code, 'too_many_connections');
    assert.match(await firstAnswer(g.port, '127.0.0.3'), /^HTTP\/1\.1 200 /);
  } finally {
    for (const s of idle) s.destroy();
  }
  await waitFor(async () => /^HTTP\/1\.1 200 /.test(await firstAnswer(g.port, '127.0.0.2')), 'served again');
  await g.cleanup();
});

test('a full gateway answers 503 at max_connections; close codes a client picks add no metric series', async () => {
  const g = await new Pasokh(defaultConfig(redis, { limits: { max_connections: 3 } })).start();
  const idle = await idleSockets(g.port, 3, '127.0.0.1');
  try {
    const answer = await firstAnswer(g.port, '127.0.0.4');
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.match(answer, /Retry-After: 1/);
    assert.equal(JSON.parse(answer.split('\r\n\r\n')[1]).error.code, 'too_many_connections');
  } finally {
    for (const s of idle) s.destroy();
  }
  // Room again once they are gone.
  await waitFor(async () => (await fetch(`${g.base}/healthz`).catch(() => null))?.status === 200, 'served again');
  // A client's own close codes (3000-4999) are counted as "other".
  const chosen = [4000, 4001, 4002];
  for (const code of chosen) {
    const c = new WsClient(`${g.wsBase}/ws/agent`);
    await c.opened();
    c.ws.close(code);
    await c.closed;
  }
  await waitFor(async () => (await metric(g, 'pasokh_websocket_closed_total{endpoint="/ws/agent",code="other"}')) >= 3, 'counted as other');
  const text = await (await fetch(`${g.base}/metrics`)).text();
  for (const code of chosen) assert.ok(!text.includes(`code="${code}"`), `a series for ${code}`);
  await g.cleanup();
});

test('--check-config refuses what would stop the start: an unreadable certificate, a missing knowledge base', async () => {
  const check = (extra) => {
    const g = new Pasokh(defaultConfig(redis, extra));
    const r = spawnSync(pasokhBin, ['--config', g.configPath, '--check-config'], { env: g.env, encoding: 'utf8' });
    rmSync(g.dir, { recursive: true, force: true });
    return r;
  };
  const ok = check({});
  assert.equal(ok.status, 0, ok.stderr);
  const tls = check({ listen: { address: '127.0.0.1', port: 0, threads: 2, tls: { cert_file: '/nonexistent/cert.pem', key_file: '/nonexistent/key.pem' } } });
  assert.equal(tls.status, 2);
  assert.match(tls.stderr, /listen\.tls \(\/nonexistent\/cert\.pem/);
  const kb = check({ bot: { knowledge_base: '/nonexistent/kb.json' } });
  assert.equal(kb.status, 2);
  assert.match(kb.stderr, /\/nonexistent\/kb\.json/);
});

test('SIGTERM drains: WebSockets are closed with 1001 and the process exits cleanly', async () => {
  const g = await new Pasokh(defaultConfig(redis)).start();
  const agent = await agentSocket(g, await token());
  const result = await g.stop('SIGTERM');
  const closed = await agent.closed;
  assert.equal(closed.code, 1001);
  assert.equal(result.code, 0);
  await g.cleanup();
});

test('over TLS: HTTPS is served, browsers are told to keep to it (HSTS), and the console is never framed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pasokh-tls-'));
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const secure = await new Pasokh(defaultConfig(redis, { listen: { address: '127.0.0.1', port: 0, threads: 1, tls: { cert_file: cert, key_file: key } } }))
    .start({ waitReady: false });
  const get = (p) => new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: secure.port, path: p, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    }).on('error', reject);
  });
  try {
    await waitFor(async () => (await get('/readyz')).status === 200, 'ready over TLS');
    const page = await get('/console/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['content-security-policy'], "frame-ancestors 'none'");
    // Plain HTTP to the TLS port gets no answer in plain text.
    await assert.rejects(fetch(`http://127.0.0.1:${secure.port}/healthz`, { signal: AbortSignal.timeout(3000) }));
  } finally {
    await secure.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  // Without TLS there is no HSTS (a browser would keep to a scheme the server does not speak).
  assert.equal((await fetch(`${gw.base}/console/`)).headers.get('strict-transport-security'), null);
});

test('requests through a proxy that is not trusted: the operator is told once to set proxy.trust_forwarded_for', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await fetch(`${gw.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${i}` },
      body: JSON.stringify({ login: 'nobody', password: 'wrong-password' }) });
    assert.equal(r.status, 401);
  }
  const said = gw.output.split('\n').filter((l) => l.includes('proxy.trust_forwarded_for is off'));
  assert.equal(said.length, 1, gw.output.slice(-2000));
});

test('/metrics behind a token when metrics.token_env is set: 401 without it or with a wrong one, the numbers with it', async () => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  const guarded = await new Pasokh(defaultConfig(redis, { metrics: { token_env: 'PASOKH_TEST_METRICS_TOKEN' } }),
    { PASOKH_TEST_METRICS_TOKEN: TOKEN }).start();
  try {
    const get = (auth) => fetch(`${guarded.base}/metrics`, { headers: auth ? { authorization: auth } : {} });
    const open = await get();
    assert.equal(open.status, 401);
    assert.equal((await open.json()).error.code, 'unauthorized');
    assert.equal((await get(`Bearer ${TOKEN}x`)).status, 401);
    const ok = await get(`Bearer ${TOKEN}`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /pasokh_errors_total\{kind="unauthorized"\} 2/);
    assert.ok(!guarded.output.includes(TOKEN), 'the token is never logged');
  } finally {
    await guarded.cleanup();
  }
});
