// Erasing a customer on request (POST /api/v1/admin/customers/{id}/erase)
// against real Redis and pasokh: a customer who wrote on the API channel and
// by mail (with an attachment; a file merged into theirs), rated the
// support and was noted about. After the erasure nothing of what they or the
// agents wrote about them is anywhere in Redis (every key and value looked
// at), search finds nothing, the attachment is gone, the conversations keep
// their events without texts, open ones are closed live, a new message from
// the same id or address starts a new file, and the reports are unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomUUID } from 'node:crypto';
import {
  Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, freePort, login, monitored, postMessage, sleep, waitFor,
} from '../support/harness.mjs';
import { redisCli as cli, fcall } from './messenger_support.mjs';

const MAILGUN_KEY = 'key-mailgun-privacy-0123456789abcdef';
let redis, gw, ali, boss, bossId;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    public_url: 'https://support.shop.example',
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'web', kind: 'webchat', team: 'support', provider: { email_fallback_channel: 'mail' } },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], reply_domain: 'shop.example', from_address: 'support@shop.example',
        smtp: { address: '127.0.0.1', port: await freePort() }, relay: { host: '127.0.0.1', port: await freePort(), tls: 'none' },
        webhook: { signing_key_env: 'PASOKH_TEST_MAILGUN_KEY', max_age_s: 300 } } },
    ],
  }), { PASOKH_TEST_MAILGUN_KEY: MAILGUN_KEY, PASOKH_WEBCHAT_SECRET: 'privacy-test-webchat-secret-0123456789' }).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  const b = (await login(gw, 'boss', 'boss-secret-3')).json;
  boss = b.token;
  bossId = b.agent.id;
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => cli(redis, ...args);
const call = (method, path, token, body) => apiCall(gw, method, path, { token, body });

// What the customer and the agents wrote that identifies them.
const SECRETS = ['parisa', 'karimi', 'xq7781', 'valiasr', 'invoice-secret-bytes', 'flickers'];
const ADDRESS = 'parisa.k@example.org';

async function writes(text, { customer = 'crm-erase-1', name = 'Parisa Karimi' } = {}) {
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: customer, name }, text, language: 'en' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

function mail(text, files = [], { address = ADDRESS, name = 'Parisa Karimi', recipient = 'support@shop.example' } = {}) {
  const timestamp = Math.floor(Date.now() / 1000), token = crypto.randomBytes(25).toString('hex');
  const signature = crypto.createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex');
  const form = new FormData();
  for (const [k, v] of Object.entries({ sender: address, recipient, from: `${name} <${address}>`,
    subject: 'Broken screen', 'body-plain': text, 'Message-Id': `<${randomUUID()}@example.org>`,
    timestamp: String(timestamp), token, signature, 'attachment-count': String(files.length) })) form.append(k, v);
  files.forEach((f, i) => form.append(`attachment-${i + 1}`, new Blob([f.content], { type: 'text/plain' }), f.name));
  return fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST', body: form });
}

const logFrames = (conv) => redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// Every key of the database with its values, one line a key (the outbox's
// 24-hour trace of sent replies and the dedup records, which expire, aside:
// see README "Privacy").
function everything() {
  const script = `local out = {}
    for _, k in ipairs(redis.call('KEYS', '*')) do
      local line, t = { k }, redis.call('TYPE', k).ok
      local function add(list) for _, v in ipairs(list) do line[#line + 1] = v end end
      if t == 'string' then line[2] = redis.call('GET', k)
      elseif t == 'hash' then add(redis.call('HGETALL', k))
      elseif t == 'list' then add(redis.call('LRANGE', k, 0, -1))
      elseif t == 'set' then add(redis.call('SMEMBERS', k))
      elseif t == 'zset' then add(redis.call('ZRANGE', k, 0, -1))
      elseif t == 'stream' then for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do add(e[2]) end end
      out[#out + 1] = table.concat(line, ' ')
    end
    return out`;
  return redisCli('--no-raw', 'EVAL', script, '0').split('\n')
    .filter((l) => !/^\d+\) "pasokh:(outbox:|dedup:)/.test(l));
}

const summary = async (from, to) => {
  const r = await call('GET', `/api/v1/reports/summary?from=${from}&to=${to}`, boss);
  assert.equal(r.status, 200, r.text);
  return r.json;
};

test('erase: a customer on two channels with a merged file, an attachment, a rating and a note leaves nothing behind', async () => {
  const from = Date.now() - 1000;
  const sock = await agentSocket(gw, boss);
  // On the API channel: answered, resolved, rated and commented.
  const first = await writes('My phone XQ7781 does not charge');
  const cust = first.customer_id, conv1 = first.conversation_id;
  sock.send({ type: 'reply', conv: conv1, client_id: 'r1', text: 'Please try another cable.' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'r1');
  assert.equal((await call('POST', `/api/v1/conversations/${conv1}/notes`, boss, { text: 'She lives on Valiasr street' })).status, 201);
  assert.equal((await call('POST', `/api/v1/conversations/${conv1}/resolve`, boss, {})).status, 200);
  await writes('5');
  await writes('The screen flickers too');
  assert.match(redisCli('HGET', `pasokh:conv:${conv1}`, 'csat_comment'), /flickers/);

  // By mail, with an attachment: a file of its own, merged into theirs by an agent.
  assert.equal((await mail('The invoice is attached', [{ name: 'invoice.txt', content: 'INVOICE-SECRET-BYTES' }])).status, 200);
  const ev = await sock.next((f) => f.type === 'event' && f.event === 'message' && f.message?.channel === 'mail');
  const conv2 = ev.conv, mailed = ev.conversation.customer_id;
  const ref = ev.message.attachments[0].provider_ref;
  const blob = () => fetch(`${gw.base}/api/v1/attachments/${ref}`, { headers: { authorization: `Bearer ${boss}` } });
  assert.equal((await blob()).status, 200);
  const merged = await call('POST', `/api/v1/customers/${cust}/merge`, ali, { from: mailed });
  assert.equal(merged.status, 200, merged.text);
  assert.equal((await call('PATCH', `/api/v1/customers/${cust}`, ali, { notes: 'Prefers Valiasr branch', birthday: '1990-04-02' })).status, 200);

  // Search finds them (the index follows a tick behind).
  for (let i = 0; ; i++) {
    const s = await call('GET', '/api/v1/search?q=XQ7781', boss);
    const c = await call('GET', '/api/v1/search?q=karimi', boss);
    if (s.json.conversations.length === 1 && c.json.customers.some((x) => x.id === cust)) break;
    assert.ok(i < 60, `not indexed: ${s.text} ${c.text}`);
    await sleep(100);
  }
  const to = Date.now() + 60_000;
  const reportBefore = await summary(from, to);
  const conversations = (await call('GET', `/api/v1/customers/${cust}`, boss)).json.conversation_count;
  assert.ok(conversations >= 2);
  assert.ok(everything().some((l) => l.toLowerCase().includes('karimi')), 'the scan sees what is there');

  // Only an admin, and only with the id repeated.
  const erase = (id, token, body = { confirm: id }) => call('POST', `/api/v1/admin/customers/${id}/erase`, token, body);
  assert.equal((await erase(cust, ali)).status, 403);
  const unconfirmed = await erase(cust, boss, { confirm: 'cu_other' });
  assert.equal(unconfirmed.status, 400);
  assert.equal(unconfirmed.json.error.code, 'confirmation_required');
  assert.equal((await erase(cust, boss, {})).status, 400);
  assert.equal((await erase('cu_404', boss)).status, 404);
  const away = await erase(mailed, boss);
  assert.equal(away.status, 409, 'the merged-away file points to the one to erase');
  assert.match(away.json.error.message, new RegExp(cust));

  const done = await erase(cust, boss);
  assert.equal(done.status, 200, done.text);
  assert.deepEqual(done.json, { status: 'erased', customer: cust, conversations, messages: done.json.messages });
  assert.ok(done.json.messages >= 6, done.text);
  // The open mail conversation closed live.
  const closed = await sock.next((f) => f.type === 'event' && f.conv === conv2 && f.event === 'status');
  assert.equal(closed.status, 'closed');
  assert.equal(closed.reason, 'erased');
  sock.close();

  const leftovers = everything().filter((l) => SECRETS.some((s) => l.toLowerCase().includes(s)));
  assert.deepEqual(leftovers, []);
  assert.equal((await blob()).status, 404);
  for (const q of ['XQ7781', 'karimi', 'flickers', ADDRESS]) {
    const s = await call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`, boss);
    assert.deepEqual([s.json.conversations, s.json.customers], [[], []], q);
  }
  // The events stay, without texts.
  const messages = logFrames(conv1).filter((f) => f.event === 'message');
  assert.ok(messages.length >= 4);
  for (const f of messages) {
    assert.equal(f.message.text, '');
    assert.equal(f.message.erased, 'customer');
    assert.equal(f.conversation.customer_name, undefined);
  }
  assert.ok(messages.some((f) => f.message.author === 'agent' && f.message.author_id), 'who answered is kept');
  assert.equal(logFrames(conv2).find((f) => f.event === 'message').message.attachments, undefined);
  assert.ok(logFrames(conv1).some((f) => f.event === 'csat' && f.rating === 5), 'the rating is kept');
  assert.deepEqual(await summary(from, to), reportBefore, 'the reports count what they counted');

  // What is left of the files.
  const file = await call('GET', `/api/v1/customers/${cust}`, boss);
  assert.equal(file.status, 200);
  assert.equal(file.json.customer.name, '');
  assert.equal(file.json.customer.erased_by, bossId);
  assert.ok(file.json.customer.erased_at > from);
  assert.deepEqual([file.json.customer.identities, file.json.customer.merges, file.json.customer.tags], [[], [], []]);
  assert.equal(file.json.conversations.length, conversations);
  assert.ok(file.json.conversations.every((c) => c.status === 'closed'));
  const shell = await call('GET', `/api/v1/customers/${mailed}`, boss);
  assert.equal(shell.json.customer.merged_into, cust);
  assert.ok(shell.json.customer.erased_at);
  const undo = await call('POST', `/api/v1/customers/${cust}/merges/${merged.json.merge_id}/undo`, boss);
  assert.equal(undo.status, 409);
  assert.equal(undo.json.error.code, 'erased');
  assert.equal((await call('PATCH', `/api/v1/customers/${cust}`, boss, { name: 'Parisa' })).status, 409);
  assert.equal((await call('POST', `/api/v1/conversations/${conv1}/reopen`, boss, {})).status, 409);

  // Idempotent; and audited without personal data.
  const again = await erase(cust, boss);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, done.json);
  const audit = await call('GET', '/api/v1/admin/erasures', boss);
  assert.equal(audit.status, 200);
  assert.equal(audit.json.erasures.length, 1);
  assert.deepEqual({ ...audit.json.erasures[0], at: 0, done_at: 0 },
    { customer: cust, by: bossId, at: 0, done_at: 0, conversations, messages: done.json.messages, files: 2 });
  assert.equal((await call('GET', '/api/v1/admin/erasures', ali)).status, 403);

  // No campaign writes to them (their conversations still name the channels).
  const greeting = await call('POST', '/api/v1/admin/campaigns/preview', boss, { name: 'Nowruz', kind: 'occasion',
    occasion: 'date', date: new Date().toISOString().slice(0, 10), texts: { en: 'Happy Nowruz, {name}!' } });
  assert.equal(greeting.status, 200, greeting.text);
  assert.deepEqual([greeting.json.messages, greeting.json.skipped], [0, {}]);

  // The same person writing again is a stranger: new files, nothing of the old ones.
  const back = await writes('Hello again');
  assert.notEqual(back.customer_id, cust);
  assert.notEqual(back.conversation_id, conv1);
  assert.equal((await mail('Me again')).status, 200);
  const mailer = async () => redisCli('GET', `pasokh:key:email:${ADDRESS}`);
  for (let i = 0; !(await mailer()) && i < 50; i++) await sleep(50);
  assert.ok(![cust, mailed, ''].includes(await mailer()), await mailer());
});

test('erase: the name and address of a colleague who wrote in the customer\'s mail thread go with the texts', async () => {
  const sock = await agentSocket(gw, boss);
  assert.equal((await mail('My fridge is loud', [], { address: 'nasrin.r@example.org', name: 'Nasrin Rahimi' })).status, 200);
  const first = await sock.next((f) => f.type === 'event' && f.event === 'message' && f.message?.text === 'My fridge is loud');
  const { reply_token: replyToken } = JSON.parse(redisCli('GET', `pasokh:conv:${first.conv}:email`));
  assert.equal((await mail('Her colleague here', [], { address: 'kamran.b@example.org', name: 'Kamran Bahrami',
    recipient: `reply+${replyToken}@shop.example` })).status, 200);
  const guest = await sock.next((f) => f.type === 'event' && f.event === 'message' && f.message?.text === 'Her colleague here');
  assert.deepEqual([guest.conv, guest.message.author_name, guest.message.author_address],
    [first.conv, 'Kamran Bahrami', 'kamran.b@example.org']);
  sock.close();

  const cust = first.conversation.customer_id;
  const done = await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust });
  assert.equal(done.status, 200, done.text);
  const messages = logFrames(first.conv).filter((f) => f.event === 'message');
  assert.equal(messages.length, 2);
  for (const { message } of messages) assert.deepEqual([message.author_name, message.author_address], [undefined, undefined]);
});

test('erase: an erasure its gateway did not finish (the file wiped, the texts not yet) finishes when asked again', async () => {
  const { customer_id: cust, conversation_id: conv } = await writes('About my order ZZ4410', { customer: 'crm-erase-2', name: 'Half Done' });
  // What a gateway that died right after the first step leaves.
  fcall(redis, 'erase', 'begin', String(Date.now()), cust, bossId, '');
  assert.match(redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+'), /ZZ4410/);
  const half = await call('GET', `/api/v1/customers/${cust}`, boss);
  assert.equal(half.json.customer.erasing, true);
  assert.equal(half.json.customer.name, '');

  const done = await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual(done.json, { status: 'erased', customer: cust, conversations: 1, messages: 1 });
  assert.doesNotMatch(redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+'), /ZZ4410/);
  // Each ask leaves an audit line that says how far it got.
  await waitFor(() => new RegExp(`action=customer\\.erase target=${cust} status=erased$`, 'm').test(gw.output),
    'the audit line with status=erased');
  assert.equal((await call('GET', `/api/v1/customers/${cust}`, boss)).json.customer.erasing, undefined);
});

test('erase: a note in an erased conversation leaves nothing waiting for retention, which is off', async () => {
  const { customer_id: cust, conversation_id: conv } = await writes('About my order NT2207', { customer: 'crm-erase-note', name: 'Noted Later' });
  assert.equal((await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust })).status, 200);
  // An agent notes something in the closed, erased conversation: words after
  // its scrub (emit_json notes those in retention:due for retention).
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/notes`, boss, { text: 'refund sent' })).status, 201);
  // No retention configured: nothing is ever due, the sweep (every second) empties the set.
  for (let i = 0; redisCli('EXISTS', 'pasokh:retention:due') !== '0'; i++) {
    assert.ok(i < 30, `still waiting: ${redisCli('ZRANGE', 'pasokh:retention:due', '0', '-1')}`);
    await sleep(100);
  }
});

// A mail posted to the webhook as it came (body-mime): a bounce's report.
function rawMail(mime) {
  const timestamp = Math.floor(Date.now() / 1000), token = crypto.randomBytes(25).toString('hex');
  const signature = crypto.createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex');
  return fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST',
    body: new URLSearchParams({ sender: '', recipient: 'support@shop.example', 'body-mime': mime, timestamp, token, signature }) });
}

// The delivery report of our reply `seq` in `conv` (its Message-ID names both,
// tagged with the installation's key, which the test makes if no gateway has) to `address`.
function bounceOf(conv, seq, address, name) {
  const b64 = (s) => Buffer.from(s).toString('base64url');
  redisCli('SET', 'pasokh:email_message_id_key', 'privacy-test-message-id-key', 'NX');
  const key = redisCli('GET', 'pasokh:email_message_id_key');
  const tag = crypto.createHmac('sha256', key).update(`${conv}\n${conv}:${seq}`).digest().subarray(0, 12).toString('base64url');
  const ours = `<pasokh.${b64(conv)}.${b64(`${conv}:${seq}`)}.${tag}@shop.example>`;
  return ['From: Mail Delivery System <MAILER-DAEMON@mx.example.org>', 'To: support@shop.example',
    'Subject: Undelivered Mail Returned to Sender', `Message-ID: <${randomUUID()}@mx.example.org>`, 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"', '', '--BB', 'Content-Type: text/plain', '',
    `Your message to ${name} <${address}> could not be delivered. Mailbox closed.`, '', '--BB',
    'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.org', '', `Final-Recipient: rfc822; ${address}`,
    'Action: failed', 'Status: 5.1.1', `Diagnostic-Code: smtp; 550 5.1.1 <${address}>: user unknown`, '', '--BB',
    'Content-Type: text/plain; name="returned.txt"', 'Content-Disposition: attachment; filename="returned.txt"', '',
    `returned-bytes of ${name}`, '', '--BB',
    'Content-Type: message/rfc822-headers', '', `Message-ID: ${ours}`, `To: ${name} <${address}>`, 'Subject: Re: Broken screen', '',
    '--BB--', ''].join('\r\n');
}

test('erase: a bounce of our reply arriving after the erasure keeps nothing of it in the erased conversation', async () => {
  const sock = await agentSocket(gw, boss);
  assert.equal((await mail('Where is my order', [], { address: 'nima.r@example.org', name: 'Nima Rostami' })).status, 200);
  const ev = await sock.next((f) => f.type === 'event' && f.event === 'message' && /Where is my order/.test(f.message?.text));
  const conv = ev.conv, cust = ev.conversation.customer_id;
  sock.send({ type: 'reply', conv, client_id: 'b1', text: 'On its way' });
  const { seq } = await sock.next((f) => f.type === 'ack' && f.client_id === 'b1');
  sock.close();
  assert.equal((await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust })).status, 200);
  const before = redisCli('XLEN', `pasokh:conv:${conv}:log`);

  assert.equal((await rawMail(bounceOf(conv, seq, 'nima.r@example.org', 'Nima Rostami'))).status, 200);
  assert.equal(redisCli('XLEN', `pasokh:conv:${conv}:log`), before, 'nothing logged');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'last_message'), '');
  const leftovers = everything().filter((l) => /nima|rostami|returned-bytes/i.test(l));
  assert.deepEqual(leftovers, []);
});

// A web chat visitor's socket past its hello (`email`: given in the session, a proving link mailed).
async function widget(name, email) {
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', name, email }) })).json();
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token: session.token, lang: 'en' });
  await c.next((f) => f.type === 'welcome');
  return c;
}

test('erase: a visitor whose widget stayed open writes again and gets the agent\'s answer in the new conversation', async () => {
  const w = await widget('Sara Web');
  w.send({ type: 'message', client_id: 'w1', text: 'Is my repair done' });
  const first = await w.next((f) => f.type === 'ack' && f.client_id === 'w1');
  const cust = redisCli('HGET', `pasokh:conv:${first.conv}`, 'customer_id');
  assert.equal((await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust })).status, 200);

  w.send({ type: 'message', client_id: 'w2', text: 'Hello again' });
  const again = await w.next((f) => f.type === 'ack' && f.client_id === 'w2');
  assert.notEqual(again.conv, first.conv);
  assert.notEqual(redisCli('HGET', `pasokh:conv:${again.conv}`, 'customer_id'), cust);
  const sock = await agentSocket(gw, boss);
  sock.send({ type: 'reply', conv: again.conv, client_id: 'w3', text: 'Yes, it is ready' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'w3');
  sock.close();
  const got = await w.next((f) => f.type === 'event' && f.event === 'message' && f.message.author === 'agent', 10000);
  assert.equal(got.conv, again.conv);
  assert.equal(got.message.text, 'Yes, it is ready');
  w.close();
});

test('erase: a bounce\'s reason, noted auto-replies, unsent replies and later delivery ids of the customer go', async () => {
  const address = 'omid.t@example.net';
  const sock = await agentSocket(gw, boss);
  assert.equal((await mail('My blender smokes', [], { address, name: 'Omid Tehrani' })).status, 200);
  const ev = await sock.next((f) => f.type === 'event' && f.event === 'message' && /blender/.test(f.message?.text));
  const conv = ev.conv, cust = ev.conversation.customer_id;
  // Two replies: the relay is down, so both wait in the outbox; the first one's bounce is recorded.
  for (const id of ['o1', 'o2']) sock.send({ type: 'reply', conv, client_id: id, text: `reply ${id}` });
  const { seq } = await sock.next((f) => f.type === 'ack' && f.client_id === 'o1');
  await sock.next((f) => f.type === 'ack' && f.client_id === 'o2');
  sock.close();
  fcall(redis, 'delivery', 'mail', conv, String(seq), 'failed', '', `bounced: 550 5.1.1 <${address}>: user unknown`,
    String(Date.now()), '86400', '', '', '', '0');
  assert.match(redisCli('HGET', `pasokh:conv:${conv}:delivery`, String(seq)), /omid/);
  // An out-of-office of theirs that threads nowhere: noted.
  const timestamp = String(Math.floor(Date.now() / 1000)), token = crypto.randomBytes(25).toString('hex');
  const signature = crypto.createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex');
  assert.equal((await fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST', body: new URLSearchParams({ sender: address,
    recipient: 'support@shop.example', from: `Omid Tehrani <${address}>`, subject: 'Out of office', 'body-plain': 'Away',
    'Message-Id': `<${randomUUID()}@example.net>`, 'message-headers': JSON.stringify([['Auto-Submitted', 'auto-replied']]),
    timestamp, token, signature }) })).status, 200);
  assert.match(redisCli('XRANGE', 'pasokh:email_automatic:mail', '-', '+'), /omid/);
  assert.match(redisCli('XRANGE', 'pasokh:outbox:mail', '-', '+'), new RegExp(conv));

  assert.equal((await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust })).status, 200);
  assert.deepEqual(everything().filter((l) => /omid|tehrani/i.test(l)), []);
  assert.doesNotMatch(redisCli('XRANGE', 'pasokh:outbox:mail', '-', '+'), new RegExp(conv), 'the unsent replies are not sent');
  // The provider tells of the first reply's id after the erasure.
  fcall(redis, 'delivery', 'mail', conv, String(seq), 'sent', '<late-id@shop.example>', '', String(Date.now()), '86400', '', '', '', '0');
  assert.equal(redisCli('EXISTS', 'pasokh:provider_msg:mail:<late-id@shop.example>'), '0');
  assert.doesNotMatch(redisCli('HGET', `pasokh:conv:${conv}:delivery`, String(seq)), /late-id/);
});

test('erase: the web chat visitor\'s address, its proving code, the code\'s mail and its wrong tries go', async () => {
  const address = 'farah.n@example.com';
  const w = await widget('Farah N', address);
  w.send({ type: 'message', client_id: 'v1', text: 'Hello from the site' });
  const { conv } = await w.next((f) => f.type === 'ack' && f.client_id === 'v1');
  // A wrong code (not the one mailed): counted against the address for a day.
  const codeMail = redisCli('XRANGE', 'pasokh:outbox:mail', '-', '+').split('\n').find((l) => l.includes(address));
  const mailed = Number(codeMail.match(/(?<!\d)(\d{6})(?!\d)/)[1]);
  w.send({ type: 'verify_email', code: String((mailed + 1) % 1000000).padStart(6, '0') });
  await w.next((f) => f.type === 'error' && f.code === 'wrong_code');
  assert.equal(redisCli('GET', `pasokh:webchat:verify_wrong:${address}`), '1');
  w.close();
  assert.ok(everything().some((l) => l.includes('"pasokh:webchat:verify_code:') && l.includes(address)), 'a code was made');
  assert.match(redisCli('XRANGE', 'pasokh:outbox:mail', '-', '+'), /farah/);
  const cust = redisCli('HGET', `pasokh:conv:${conv}`, 'customer_id');
  assert.equal((await call('POST', `/api/v1/admin/customers/${cust}/erase`, boss, { confirm: cust })).status, 200);
  assert.deepEqual(everything().filter((l) => /farah/i.test(l)), []);
  assert.doesNotMatch(redisCli('XRANGE', 'pasokh:outbox:mail', '-', '+'), /farah/, 'the code is not mailed');
  assert.deepEqual(everything().filter((l) => l.includes('"pasokh:webchat:verify_code:')), [], 'nor kept');
});

test('erase: editing a file or linking an identity checks the erasure in the step that writes (an erasure cannot slip in between)', async () => {
  const { customer_id: cust } = await writes('Hi', { customer: 'crm-erase-7', name: 'Kian' });
  const seen = await monitored(redis, async () => {
    assert.equal((await call('PATCH', `/api/v1/customers/${cust}`, ali, { notes: 'calls after 5' })).status, 200);
    assert.equal((await call('POST', `/api/v1/customers/${cust}/identities`, ali, { channel: 'mail', external_id: 'kian@example.com' })).status, 201);
  });
  // Every read of erased_at and every write to the file ran inside a script ("lua" in MONITOR), none from the gateway's connection.
  const mine = seen.filter((l) => l.includes(`pasokh:cust:${cust}`) && /"(HEXISTS|HSET)"/.test(l));
  assert.ok(mine.some((l) => /"HSET"/.test(l)), seen.join('\n'));
  assert.deepEqual(mine.filter((l) => !/ lua\]/.test(l)), []);
});
