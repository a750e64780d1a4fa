// The console's REST routes (gateway/src/console_api.cpp) against real Redis
// and pasokh: role and team checks, bad input answered with a clear 4xx JSON
// error and counted, notes and labels as log events that reach the agent
// socket (live and on resume) but never the customer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { API_KEY, Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, login, postMessage } from '../support/harness.mjs';

let redis, gw, ali, bahar, boss;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'vipdesk', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'vip' },
      { id: 'web', kind: 'webchat', team: 'support', provider: { pre_chat_form: false } },
    ],
  }), { PASOKH_WEBCHAT_SECRET: 'console-test-webchat-secret-0123456789' }).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  await gw.createAgent('bahar', 'bahar-secret-2', { name: 'Bahar', team: 'vip' });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  bahar = (await login(gw, 'bahar', 'bahar-secret-2')).json.token;
  boss = (await login(gw, 'boss', 'boss-secret-3')).json.token;
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString();

const call = (method, path, token, body, headers) => apiCall(gw, method, path, { token, body, headers });

async function errorCount(kind) {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  return Number(text.match(new RegExp(`pasokh_errors_total\\{kind="${kind}"\\} (\\d+)`))?.[1] ?? 0);
}

async function customerWrites(text, customer, channel = 'api') {
  const r = await postMessage(gw, { message_id: randomUUID(), customer, text }, { channel });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

test('notes: stored once per client_id, live on the agent socket, never a message or an outbox entry', async () => {
  const { conversation_id: conv } = await customerWrites('My kettle leaks', { id: 'c-note', name: 'Kian' });
  const ws = await agentSocket(gw, ali);
  const clientId = randomUUID();
  const r = await call('POST', `/api/v1/conversations/${conv}/notes`, ali, { text: 'Private: replaced once already', client_id: clientId });
  assert.equal(r.status, 201);
  const live = await ws.next((f) => f.type === 'event' && f.event === 'note');
  assert.equal(live.conv, conv);
  assert.equal(live.seq, r.json.seq);
  assert.equal(live.note.text, 'Private: replaced once already');
  assert.equal(live.note.author_name, 'Ali');
  const again = await call('POST', `/api/v1/conversations/${conv}/notes`, ali, { text: 'Private: replaced once already', client_id: clientId });
  assert.equal(again.status, 200);
  assert.equal(again.json.duplicate, true);
  assert.equal(again.json.seq, r.json.seq);

  // Resume after the note: it comes again to a console that missed it.
  const late = await agentSocket(gw, ali, { [conv]: r.json.seq - 1 });
  const resumed = await late.next((f) => f.type === 'event' && f.conv === conv && f.seq === r.json.seq);
  assert.equal(resumed.event, 'note');

  const messages = await (await fetch(`${gw.base}/api/v1/channels/api/conversations/${conv}/messages?after=0`,
    { headers: { authorization: `Bearer ${API_KEY}` } })).json();
  assert.deepEqual(messages.messages.map((m) => m.text), ['My kettle leaks']);
  assert.doesNotMatch(redisCli('XRANGE', 'pasokh:outbox:api', '-', '+'), /replaced once/);
  ws.close();
  late.close();
});

test('labels: add and remove atomically, sorted, validated, live; the conversation carries them', async () => {
  const { conversation_id: conv } = await customerWrites('Return please', { id: 'c-label' });
  const ws = await agentSocket(gw, ali);
  let r = await call('POST', `/api/v1/conversations/${conv}/labels`, ali, { add: ['returns', ' گارانتی ', 'vip'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.labels, ['returns', 'vip', 'گارانتی']);
  const ev = await ws.next((f) => f.type === 'event' && f.event === 'labels');
  assert.equal(ev.labels, 'returns,vip,گارانتی');
  assert.equal(ev.conversation.labels, 'returns,vip,گارانتی');
  r = await call('POST', `/api/v1/conversations/${conv}/labels`, ali, { remove: ['vip'] });
  assert.deepEqual(r.json.labels, ['returns', 'گارانتی']);
  r = await call('POST', `/api/v1/conversations/${conv}/labels`, ali, { remove: ['absent'] });
  assert.equal(r.json.changed, false, 'nothing to do is not an event');
  const known = await call('GET', '/api/v1/labels', ali);
  assert.ok(known.json.labels.includes('vip'));

  const before = await errorCount('invalid_field');
  for (const bad of [{ add: 'x' }, { add: ['a,b'] }, { add: [''] }, { add: ['x'.repeat(33)] }, { add: [1] }])
    assert.equal((await call('POST', `/api/v1/conversations/${conv}/labels`, ali, bad)).status, 400, JSON.stringify(bad));
  assert.equal(await errorCount('invalid_field'), before + 5);
  const many = Array.from({ length: 20 }, (_, i) => `l${i}`);
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/labels`, ali, { add: many })).status, 422);
  ws.close();
});

test('role and team checks, bad input: clear 4xx JSON errors', async () => {
  const { conversation_id: vipConv, customer_id: vipCust } = await customerWrites('VIP here', { id: 'c-vip' }, 'vipdesk');
  // Ali (support) may not touch the vip team's conversation; Bahar (vip) and admins may.
  assert.equal((await call('POST', `/api/v1/conversations/${vipConv}/notes`, ali, { text: 'x' })).status, 403);
  assert.equal((await call('POST', `/api/v1/conversations/${vipConv}/labels`, ali, { add: ['x'] })).status, 403);
  assert.equal((await call('POST', `/api/v1/conversations/${vipConv}/notes`, bahar, { text: 'ok' })).status, 201);
  assert.equal((await call('POST', `/api/v1/conversations/${vipConv}/notes`, boss, { text: 'ok' })).status, 201);
  // A customer file is for the agents of the customer's teams (and admins);
  // it lists only the conversations the agent may see.
  assert.equal((await call('GET', `/api/v1/customers/${vipCust}`, ali)).status, 403);
  assert.equal((await call('PATCH', `/api/v1/customers/${vipCust}`, ali, { vip: true })).status, 403);
  assert.equal((await call('POST', `/api/v1/customers/${vipCust}/identities`, ali, { channel: 'api', external_id: 'steal' })).status, 403);
  assert.equal((await call('GET', `/api/v1/customers/${vipCust}`, bahar)).json.conversations.length, 1);
  const { customer_id: both } = await customerWrites('Support too', { id: 'c-both' });
  assert.equal((await call('POST', `/api/v1/customers/${both}/identities`, ali, { channel: 'vipdesk', external_id: 'c-both-vip' })).status, 201);
  await customerWrites('And VIP', { id: 'c-both-vip' }, 'vipdesk');
  assert.equal((await call('GET', `/api/v1/customers/${both}`, ali)).json.conversations.length, 1, 'only the support one');
  assert.equal((await call('GET', `/api/v1/customers/${both}`, boss)).json.conversations.length, 2);

  const cases = [
    ['POST', '/api/v1/conversations/cv_404/notes', ali, { text: 'x' }, 404],
    ['POST', `/api/v1/conversations/${vipConv}/notes`, null, { text: 'x' }, 401],
    ['POST', `/api/v1/conversations/${vipConv}/notes`, 'bogus-token', { text: 'x' }, 401],
    ['POST', `/api/v1/conversations/${vipConv}/notes`, bahar, '{"text":', 400],
    ['POST', `/api/v1/conversations/${vipConv}/notes`, bahar, { text: '   ' }, 400],
    ['POST', `/api/v1/conversations/${vipConv}/notes`, bahar, { text: 'x'.repeat(40_001) }, 400],
    ['GET', '/api/v1/customers/cu_404', ali, undefined, 404],
    ['PATCH', `/api/v1/customers/${vipCust}`, ali, { vip: 'yes' }, 400],
    ['PATCH', `/api/v1/customers/${vipCust}`, ali, { password: 'x' }, 400],
    ['PATCH', `/api/v1/customers/${vipCust}`, ali, { language: 'de' }, 400],
    ['PATCH', `/api/v1/customers/${vipCust}`, ali, {}, 400],
    ['POST', `/api/v1/customers/${vipCust}/identities`, ali, { channel: 'nope', external_id: 'x' }, 400],
    ['GET', '/api/v1/canned', null, undefined, 401],
    ['POST', '/api/v1/admin/canned', ali, { shortcut: 'hi', text: 'Hello' }, 403],
    ['POST', '/api/v1/admin/canned', boss, { shortcut: 'Hi There', text: 'Hello' }, 400],
    ['POST', '/api/v1/admin/canned', boss, { shortcut: 'hi' }, 400],
    ['PUT', '/api/v1/admin/canned/cr_404', boss, { shortcut: 'hi', text: 'x' }, 404],
    ['DELETE', '/api/v1/admin/canned/cr_404', boss, undefined, 404],
    ['DELETE', '/api/v1/admin/agents/ag_nobody', boss, undefined, 404],  // agent_admin.lua's own check
  ];
  for (const [method, path, token, body, want] of cases) {
    const r = await call(method, path, token, body);
    assert.equal(r.status, want, `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}`);
    assert.ok(r.json?.error?.code && r.json.error.message, `${method} ${path}: a JSON error`);
  }
  const plain = await call('POST', `/api/v1/conversations/${vipConv}/notes`, bahar, 'text', { 'content-type': 'text/plain' });
  assert.equal(plain.status, 415);
});

test('customer file: edit, link an identity on another channel, conflicts; canned responses CRUD', async () => {
  const { customer_id: cust, conversation_id: first } = await customerWrites('Hi', { id: 'c-file', name: 'Nasrin' });
  const ws = await agentSocket(gw, ali);
  let r = await call('PATCH', `/api/v1/customers/${cust}`, boss, { vip: true, language: 'fa', notes: 'Calls after 5', name: 'نسرین' });
  assert.equal(r.status, 200);
  // The consoles of the customer's teams are told (no seq: not a log entry).
  const changed = await ws.next((f) => f.type === 'customer' && f.customer === cust);
  assert.equal(changed.actor, 'ag_boss');
  assert.equal(changed.seq, undefined);
  ws.close();
  r = await call('POST', `/api/v1/customers/${cust}/identities`, ali, { channel: 'vipdesk', external_id: 'vip-9', display_name: 'N.' });
  assert.equal(r.status, 201);
  assert.equal(r.json.kind, 'api');
  assert.equal((await call('POST', `/api/v1/customers/${cust}/identities`, ali, { channel: 'vipdesk', external_id: 'vip-9' })).status, 200);
  const { customer_id: other } = await customerWrites('Me too', { id: 'c-other' });
  r = await call('POST', `/api/v1/customers/${other}/identities`, ali, { channel: 'vipdesk', external_id: 'vip-9' });
  assert.equal(r.status, 409, 'belongs to someone else');
  const { customer_id: same, conversation_id: second } = await customerWrites('Via the vip desk', { id: 'vip-9' }, 'vipdesk');
  assert.equal(same, cust);
  const file = (await call('GET', `/api/v1/customers/${cust}`, boss)).json;
  assert.equal(file.customer.name, 'نسرین');
  assert.equal(file.customer.vip, true);
  assert.equal(file.customer.language, 'fa');
  assert.equal(file.customer.notes, 'Calls after 5');
  assert.deepEqual(file.customer.identities.map((i) => `${i.channel}:${i.external_id}`).sort(), ['api:c-file', 'vipdesk:vip-9']);
  assert.deepEqual(file.conversations.map((c) => c.id), [first, second]);
  assert.equal(file.conversation_count, 2);

  r = await call('POST', '/api/v1/admin/canned', boss, { shortcut: 'thanks', title: 'Thanks', text: 'Thank you!' });
  assert.equal(r.status, 201);
  const id = r.json.id;
  assert.equal((await call('POST', '/api/v1/admin/canned', boss, { shortcut: 'thanks', text: 'dup' })).status, 409);
  assert.equal((await call('PUT', `/api/v1/admin/canned/${id}`, boss, { shortcut: 'thanks', text: 'Thanks a lot!' })).status, 200);
  const list = (await call('GET', '/api/v1/canned', ali)).json.canned;
  assert.deepEqual(list.map((c) => [c.shortcut, c.title, c.text]), [['thanks', 'thanks', 'Thanks a lot!']]);
  assert.equal((await call('DELETE', `/api/v1/admin/canned/${id}`, boss)).status, 200);
  assert.deepEqual((await call('GET', '/api/v1/canned', ali)).json.canned, []);
});

test('a web chat customer never receives a private note, live or when the widget resumes', async () => {
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web' }),
  })).json();
  const widget = async (resume) => {
    const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
    await c.opened();
    c.send({ type: 'hello', v: 1, token: session.token, ...resume });
    await c.next((f) => f.type === 'welcome');
    return c;
  };
  const c = await widget({});
  c.send({ type: 'message', client_id: 'w-1', text: 'Hello from the widget' });
  const { conv } = await c.next((f) => f.type === 'ack' && f.client_id === 'w-1');
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/notes`, ali, { text: 'SECRET internal remark' })).status, 201);
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/labels`, ali, { add: ['secret-label'] })).status, 200);
  const agent = await agentSocket(gw, ali);
  agent.send({ type: 'reply', conv, client_id: randomUUID(), text: 'Public answer' });
  await c.next((f) => f.type === 'event' && f.message?.text === 'Public answer');
  const again = await widget({ conv, after: 0 });
  await again.next((f) => f.type === 'event' && f.message?.text === 'Public answer');
  await new Promise((r) => setTimeout(r, 200));
  for (const w of [c, again]) {
    const seen = JSON.stringify(w.frames);
    assert.doesNotMatch(seen, /SECRET|secret-label/, 'nothing internal reaches the widget');
  }
  c.close();
  again.close();
  agent.close();
});

test('the list carries each conversation\'s newest message as its row shows it, cut between characters, without reading its log', async () => {
  // Persian over more than a row: lines and runs of spaces become one line.
  const text = 'سلام،\n\n  گارانتی   ' + 'ماشین لباسشویی من تمام شده است؛ '.repeat(20);
  const { conversation_id: conv } = await customerWrites(text, { id: 'c-preview', name: 'Parisa' });
  const row = async () => (await call('GET', '/api/v1/conversations?view=all&limit=500', ali)).json.conversations.find((c) => c.id === conv);
  const oneLine = text.replace(/\s+/g, ' ');

  const first = (await row()).last_message;
  assert.equal(first.author, 'customer');
  assert.equal(first.seq, 1);
  assert.ok(first.at > 0);
  assert.ok(first.text.endsWith('…'), first.text);
  const shown = first.text.slice(0, -1);
  assert.ok(Buffer.byteLength(shown) <= 240 && Buffer.byteLength(shown) > 200, `${Buffer.byteLength(shown)} bytes`);
  assert.ok(oneLine.startsWith(shown), 'a whole-character prefix of the text as one line');
  assert.ok(!shown.includes('\uFFFD'));

  // An agent's reply is the newest now; the welcome of a console carries it too.
  const ws = await agentSocket(gw, ali);
  ws.send({ type: 'reply', conv, client_id: 'preview-1', text: 'A technician comes tomorrow' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'preview-1');
  const reply = (await row()).last_message;
  assert.deepEqual([reply.author, reply.text, reply.seq > 1], ['agent', 'A technician comes tomorrow', true]);
  const later = await agentSocket(gw, ali);
  assert.equal(later.welcome.conversations.find((c) => c.id === conv).last_message.text, 'A technician comes tomorrow');
  later.close();
  ws.close();

  // A conversation from before the hash kept it: read from the end of its log once, then kept.
  redisCli('HDEL', `pasokh:conv:${conv}`, 'last_message');
  assert.deepEqual((await row()).last_message, reply);
  assert.match(redisCli('HGET', `pasokh:conv:${conv}`, 'last_message'), /^\d+ \d+ agent 0 A technician comes tomorrow/);
});

test('a row\'s preview skips the blank lines a text starts with and never cuts a letter from its vowel mark or an emoji in two', async () => {
  const row = async (conv) => (await call('GET', '/api/v1/conversations?view=all&limit=500', ali)).json.conversations.find((c) => c.id === conv).last_message.text;
  // A mail converted from HTML can start with hundreds of blank lines.
  const blank = await customerWrites('\n'.repeat(600) + 'متن اصلی نامه', { id: 'c-preview-blank' });
  assert.equal(await row(blank.conversation_id), 'متن اصلی نامه');
  // 238 bytes, then a letter and its vowel mark (2 + 2 bytes) across the cut at 240: both go.
  const marked = await customerWrites('a'.repeat(238) + 'بِ' + ' end'.repeat(5), { id: 'c-preview-mark' });
  assert.equal(await row(marked.conversation_id), 'a'.repeat(238) + '…');
  // A family emoji (four people joined by ZWJ) across the cut goes whole.
  const family = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}';
  const emoji = await customerWrites('a'.repeat(236) + family + ' end'.repeat(5), { id: 'c-preview-emoji' });
  assert.equal(await row(emoji.conversation_id), 'a'.repeat(236) + '…');
});
