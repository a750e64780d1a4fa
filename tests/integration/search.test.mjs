// Search (GET /api/v1/search) against real Redis and pasokh: conversations by
// the words of their messages and notes, customer files by name, email and
// phone, as an agent types; only what the agent may see; data from before the
// index existed; bad queries answered with a 400 JSON error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, agentSocket, apiCall, defaultConfig, login, postMessage, sleep, waitFor } from '../support/harness.mjs';
import { redisCli as cli } from './messenger_support.mjs';

let redis, gw, ali, bahar, boss;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'vipdesk', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'vip' },
    ],
  })).start();
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

const redisCli = (...args) => cli(redis, ...args);

const call = (method, path, token, body) => apiCall(gw, method, path, { token, body });

const search = (token, q, extra = '') => call('GET', `/api/v1/search?q=${encodeURIComponent(q)}${extra}`, token);

// The index follows the logs a timer tick or two behind: ask until `ok` holds.
async function searchUntil(token, q, ok, what) {
  let last;
  for (let i = 0; i < 60; i++) {
    last = await search(token, q);
    assert.equal(last.status, 200, JSON.stringify(last.json));
    if (ok(last.json)) return last.json;
    await sleep(150);
  }
  assert.fail(`${what}: search "${q}" answered ${JSON.stringify(last.json)}`);
}

async function customerWrites(text, customer, channel = 'api') {
  const r = await postMessage(gw, { message_id: randomUUID(), customer, text }, { channel });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

const convIds = (found) => found.conversations.map((r) => r.conversation.id);

test('a message typed with Arabic letters and digits is found by the Persian spelling, with the matching message', async () => {
  const { conversation_id: conv } = await customerWrites('سلام، گارانتي يخچال من كار نمي‌كند. سفارش ٤٥٦٧', { id: 'c-fridge', name: 'مریم کاظمی' });
  await customerWrites('ممنون', { id: 'c-fridge' });
  const found = await searchUntil(ali, 'یخچال گارانتی', (f) => convIds(f).includes(conv), 'Persian spelling');
  const row = found.conversations.find((r) => r.conversation.id === conv);
  assert.equal(row.conversation.customer_name, 'مریم کاظمی');
  assert.equal(row.conversation.status, 'queued');
  // The message that holds the words, not the newest one ("ممنون").
  assert.match(row.match.text, /يخچال/);
  assert.equal(row.match.author, 'customer');
  assert.equal(row.match.seq, 1);
  // The order number in Persian, Arabic-Indic or ASCII digits, and a word half typed.
  for (const q of ['4567', '۴۵۶۷', 'سفارش ۴۵', 'يخچ']) {
    const f = await search(ali, q);
    assert.ok(convIds(f.json).includes(conv), `${q}: ${JSON.stringify(f.json)}`);
  }
  // Every word must be there.
  assert.ok(!convIds((await search(ali, 'یخچال لباسشویی ')).json).includes(conv));
});

test('an order number glued to a word («سفارش۷۷۳۱۵», "ORD77316") is found by its digits in any script', async () => {
  const { conversation_id: fa } = await customerWrites('سفارش۷۷۳۱۵ هنوز نرسیده', { id: 'c-glued-fa' });
  const { conversation_id: en } = await customerWrites('Refund for ORD77316 please', { id: 'c-glued-en' });
  await searchUntil(ali, '77315', (f) => convIds(f).includes(fa), 'Persian digits glued to a word');
  for (const q of ['۷۷۳۱۵', '٧٧٣١٥']) assert.ok(convIds((await search(ali, q)).json).includes(fa), q);
  await searchUntil(ali, '77316', (f) => convIds(f).includes(en), 'ASCII digits glued to a word');
  for (const q of ['ord77316', 'ORD-77316', 'ord7731']) assert.ok(convIds((await search(ali, q)).json).includes(en), q);
});

test('agents find only their teams\' conversations; an admin finds all; newest first', async () => {
  const { conversation_id: older } = await customerWrites('The blender jar cracked', { id: 'c-blend-1' });
  await sleep(5);
  const { conversation_id: newer } = await customerWrites('Blender motor smells burnt', { id: 'c-blend-2' });
  const { conversation_id: vip } = await customerWrites('My blender needs a repair visit', { id: 'c-blend-vip' }, 'vipdesk');
  const all = await searchUntil(boss, 'blender', (f) => [older, newer, vip].every((c) => convIds(f).includes(c)), 'admin');
  assert.ok(convIds(all).indexOf(vip) < convIds(all).indexOf(newer), 'newest activity first');
  assert.ok(convIds(all).indexOf(newer) < convIds(all).indexOf(older), 'newest activity first');

  const support = (await search(ali, 'blender')).json;
  assert.deepEqual(convIds(support).filter((c) => [older, newer, vip].includes(c)), [newer, older]);
  const vipDesk = (await search(bahar, 'blender')).json;
  assert.deepEqual(convIds(vipDesk).filter((c) => [older, newer, vip].includes(c)), [vip]);
  // limit, and "more" when there are more.
  const one = (await search(boss, 'blender', '&limit=1')).json;
  assert.equal(one.conversations.length, 1);
  assert.equal(one.more, true);
});

test('agent notes and replies are searchable; a resolved conversation is still found', async () => {
  const { conversation_id: conv } = await customerWrites('Where is my parcel?', { id: 'c-parcel' });
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/notes`, ali, { text: 'Courier lost it, tracking PX-88412' })).status, 201);
  const ws = await agentSocket(gw, boss);
  ws.send({ type: 'reply', conv, client_id: randomUUID(), text: 'A replacement leaves today with courier KX-5512' });
  assert.equal((await ws.next((f) => f.type === 'ack' || f.type === 'error')).type, 'ack');
  await ws.close();
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, boss, {})).status, 200);
  const found = await searchUntil(ali, 'px-88412', (f) => convIds(f).includes(conv), 'note');
  const row = found.conversations.find((r) => r.conversation.id === conv);
  assert.equal(row.conversation.status, 'resolved');
  assert.equal(row.match.event, 'note');
  assert.equal(row.match.author_name, 'Ali');
  const reply = (await searchUntil(ali, 'kx-5512', (f) => convIds(f).includes(conv), 'reply')).conversations[0];
  assert.equal(reply.match.event, 'message');
  assert.equal(reply.match.author, 'agent');
});

test('customer files: by name, by email or phone in any form; renamed and merged files', async () => {
  await customerWrites('hello', { id: 'c-file', name: 'Kourosh Tehrani' });
  const byName = await searchUntil(ali, 'kouro', (f) => f.customers.some((c) => c.name === 'Kourosh Tehrani'), 'name');
  const id = byName.customers.find((c) => c.name === 'Kourosh Tehrani').id;

  // A file with an email and a phone number (the after-sales import).
  const imported = await call('POST', '/api/v1/admin/customers/import', boss, {
    rows: [{ name: 'Shirin Ahmadi', email: 'Shirin@Example.com', phone: '+98 912 555 0101' }],
  });
  assert.equal(imported.status, 200, JSON.stringify(imported.json));
  for (const q of ['shirin@example.com', '09125550101', '۰۹۱۲ ۵۵۵ ۰۱۰۱', 'ahmadi']) {
    const f = await searchUntil(boss, q, (r) => r.customers.some((c) => c.name === 'Shirin Ahmadi'), `import ${q}`);
    assert.equal(f.customers.find((c) => c.name === 'Shirin Ahmadi').email, 'shirin@example.com');
  }
  // No conversation in Ali's teams: an agent does not see the file.
  assert.ok(!(await search(ali, 'shirin@example.com')).json.customers.some((c) => c.name === 'Shirin Ahmadi'));

  assert.equal((await call('PATCH', `/api/v1/customers/${id}`, ali, { name: 'Kourosh Farahani' })).status, 200);
  const renamed = await searchUntil(ali, 'farahani', (f) => f.customers.some((c) => c.id === id), 'new name');
  assert.equal(renamed.customers.find((c) => c.id === id).name, 'Kourosh Farahani');

  // Two files of one person, merged: only the one kept is found, by either name.
  const { customer_id: keep } = await customerWrites('first', { id: 'c-merge-a', name: 'Laleh Moradi' });
  const { customer_id: gone } = await customerWrites('second', { id: 'c-merge-b', name: 'Laleh Ghasemi' });
  await searchUntil(ali, 'laleh', (f) => [keep, gone].every((c) => f.customers.some((x) => x.id === c)), 'both files');
  const merged = await call('POST', `/api/v1/customers/${keep}/merge`, ali, { from: gone });
  assert.equal(merged.status, 200, JSON.stringify(merged.json));
  // The merged-away file is never shown; its name finds the file it joined.
  assert.ok(!(await search(ali, 'ghasemi')).json.customers.some((c) => c.id === gone));
  await searchUntil(ali, 'ghasemi', (f) => f.customers.some((c) => c.id === keep), 'found under the file it joined');
  assert.equal(redisCli('HGET', 'pasokh:search:terms', gone), '', 'the merged-away file left the index');
});

test('a burst of new customers, more than one indexing pass takes, leaves every conversation and file findable', async () => {
  // 60 new customers at once, about 15 terms each: an indexing pass takes
  // about 300, so the indexer leaves some conversations (and the files they
  // bring) for later passes.
  const tag = (i) => String.fromCharCode(97 + (i % 26), 97 + Math.floor(i / 26));
  const posted = await Promise.all(Array.from({ length: 60 }, (_, i) => customerWrites(
    `The fridge model fw${tag(i)} stopped cooling after delivery to zone${tag(i)} yesterday evening`,
    { id: `c-burst-${i}`, name: `Burst${tag(i)} Karimi` })));
  for (const [i, { conversation_id: conv, customer_id: customer }] of posted.entries()) {
    await searchUntil(ali, `zone${tag(i)}`, (f) => convIds(f).includes(conv), `conversation ${i}`);
    await searchUntil(ali, `burst${tag(i)}`, (f) => f.customers.some((c) => c.id === customer), `file ${i}`);
  }
});

test('a common word (its set trimmed to the newest 5000) still narrows a search by a rare one', async () => {
  const { conversation_id: wanted } = await customerWrites('Invoice question about order 4711', { id: 'c-common-1' });
  const { conversation_id: other } = await customerWrites('Invoice 4711 was paid twice', { id: 'c-common-2' });
  await searchUntil(ali, 'invoice 4711', (f) => [wanted, other].every((c) => convIds(f).includes(c)), 'both');
  // "question" as if 5000 newer conversations used it, and this one trimmed away.
  const fake = Array.from({ length: 5000 }, (_, i) => [String(9e12 + i), `cv_fake${i}`]).flat();
  for (let i = 0; i < fake.length; i += 2000) redisCli('ZADD', 'pasokh:search:t:question', ...fake.slice(i, i + 2000));
  redisCli('ZREM', 'pasokh:search:t:question', wanted);
  for (const q of ['4711 question', '4711 questi', 'question 4711 ']) {
    const found = convIds((await search(ali, q)).json);
    assert.ok(found.includes(wanted), `${q}: ${found}`);
    assert.ok(!found.includes(other), `${q}: the other one lacks the word`);
  }
});

test('conversations from before the index existed are found after a restart', async () => {
  const { conversation_id: conv } = await customerWrites('Dishwasher error E24 again', { id: 'c-old' });
  await searchUntil(ali, 'e24', (f) => convIds(f).includes(conv), 'indexed');
  // Forget the whole index, as on a Redis that never had one.
  const keys = redisCli('--scan', '--pattern', 'pasokh:search:*').split('\n').filter(Boolean);
  redisCli('DEL', ...keys);
  await gw.stop();
  await gw.start();
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  await searchUntil(ali, 'dishwasher', (f) => convIds(f).includes(conv), 'backfilled');
});

test('messages indexed under older folding rules are found by today\'s terms after the gateway starts', async () => {
  const { conversation_id: conv } = await customerWrites('Order ORD55123 arrived with a cracked door', { id: 'c-refold' });
  // Longer than one indexing pass reads (500 log entries): re-read in several.
  for (let i = 0; i < 520; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, k) => customerWrites(`note ${i + k}`, { id: 'c-refold' })));
  }
  await searchUntil(ali, '55123', (f) => convIds(f).includes(conv), 'indexed');
  // The index as an older gateway left it: no folding marker, "ord55123" one
  // term (no "ord" / "55123" runs), and a term today's rules never make.
  const old = redisCli('HGET', 'pasokh:search:terms', conv).split(' ').filter((t) => t !== '55123' && t !== 'ord');
  redisCli('HSET', 'pasokh:search:terms', conv, [...old, 'oldfoldterm'].join(' '));
  for (const t of ['55123', 'ord']) redisCli('ZREM', `pasokh:search:t:${t}`, conv);
  redisCli('ZADD', 'pasokh:search:t:oldfoldterm', '1', conv);
  redisCli('DEL', 'pasokh:search:fold');
  assert.ok(!convIds((await search(ali, '55123')).json).includes(conv), 'not found by the new term before');

  await gw.stop();
  await gw.start();
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  // The old terms keep finding it while the index is rebuilt.
  assert.ok(convIds((await search(ali, 'cracked')).json).includes(conv));
  await searchUntil(ali, '55123', (f) => convIds(f).includes(conv), 're-indexed');
  assert.ok(!redisCli('HGET', 'pasokh:search:terms', conv).split(' ').includes('oldfoldterm'), 'old terms replaced');
  assert.equal(redisCli('ZSCORE', 'pasokh:search:t:oldfoldterm', conv), '');
  assert.match(redisCli('GET', 'pasokh:search:fold'), /^\d+$/);
});

test('a restart with an index of the current folding reads no conversation again', async () => {
  await waitFor(() => redisCli('GET', 'pasokh:search:fold') !== '', 'the index records its folding');
  const version = redisCli('GET', 'pasokh:search:fold');
  // The indexed seqs stay (a re-index forgets them); a new message found
  // shows the new process's first indexing tick ran.
  redisCli('HSET', 'pasokh:search:seq', 'cv_sentinel', '7');
  await gw.stop();
  await gw.start();
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  const { conversation_id: later } = await customerWrites('Kettle boils dry', { id: 'c-refold-2' });
  await searchUntil(ali, 'kettle', (f) => convIds(f).includes(later), 'indexed after the restart');
  assert.equal(redisCli('HGET', 'pasokh:search:seq', 'cv_sentinel'), '7');
  assert.equal(redisCli('GET', 'pasokh:search:fold'), version);
});

test('bad queries: a clear 400 JSON error, and no token is a 401', async () => {
  for (const [q, extra] of [['', ''], ['?', ''], ['x'.repeat(201), ''], ['ok', '&limit=0'], ['ok', '&limit=51'], ['ok', '&limit=ten']]) {
    const r = await search(ali, q, extra);
    assert.equal(r.status, 400, `${q.slice(0, 10)}${extra}`);
    assert.equal(r.json.error.code, 'invalid_field');
  }
  assert.equal((await search(null, 'blender')).status, 401);
});
