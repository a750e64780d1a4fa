// After-sales (issue 8) against real Redis and pasokh: purchases with warranty
// imported by CSV and JSON (row errors with line numbers, idempotent on order
// id + serial), warranty status over REST, opt-out by "stop" / "لغو" / "إلغاء",
// the CSAT survey asked once on resolve and a ۵ reply stored on the
// conversation and the agent, and the live report seeing the rating
// (the report figures: reports.test.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, agentSocket, apiCall, clearOfMidnightUTC, defaultConfig, login, online, postMessage, reply, waitFor } from '../support/harness.mjs';

let redis, gw, ali, boss, aliId;
const testStart = Date.now();

before(async () => {
  await clearOfMidnightUTC(120_000);  // its campaigns are for today (UTC)
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'botdesk', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support', bot: true },
    ],
    campaigns: { timezone: 'UTC', quiet_hours: null, tick_ms: 50, lease_ms: 1000, rate_per_second: 200 },
  })).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  const a = (await login(gw, 'ali', 'ali-secret-1')).json;
  ali = a.token;
  aliId = a.agent.id;
  boss = (await login(gw, 'boss', 'boss-secret-3')).json.token;
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();

const call = (method, path, token, body, contentType) => apiCall(gw, method, path, { token, body, contentType });

async function customerWrites(text, customer, channel = 'api') {
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: customer, name: customer }, text }, { channel });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

async function messagesOf(conv, channel = 'api') {
  const res = await fetch(`${gw.base}/api/v1/channels/${channel}/conversations/${conv}/messages`, {
    headers: { authorization: 'Bearer test-api-key-0123456789' },
  });
  return (await res.json()).messages;
}

function logEvents(conv) {
  return redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

test('import: CSV with a bad row keeps the good ones, names the line, is idempotent; warranty over REST', async () => {
  const buyer = (await customerWrites('hello, I bought a phone', 'buyer-1')).customer_id;
  const csv = [
    'customer_id,channel,external_id,name,order_id,product,serial,purchase_date,warranty_end,tags,vip',
    `${buyer},,,,ORD-1,Phone X,SN-100,2025-01-10,2099-01-10,gold,`,
    ',api,new-buyer,Sara,ORD-2,"Vacuum V2, blue",SN-200,2020-05-01,2021-05-01,"repair;gold",yes',
    `${buyer},,,,ORD-3,Laptop,SN-300,2025-02-30,,,`,
    '',
  ].join('\r\n');
  const first = await call('POST', '/api/v1/admin/customers/import', boss, csv, 'text/csv');
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.rows, 3);
  assert.equal(first.json.imported, 2);
  assert.equal(first.json.purchases_created, 2);
  assert.equal(first.json.customers_created, 1);
  assert.deepEqual(first.json.errors, [{ line: 4, error: 'purchase_date: required, a date YYYY-MM-DD' }]);
  const again = await call('POST', '/api/v1/admin/customers/import', boss, csv, 'text/csv');
  assert.equal(again.json.purchases_created, 0);
  assert.equal(again.json.purchases_unchanged, 2);
  assert.equal(again.json.customers_created, 0);
  assert.equal(redisCli('HLEN', `pasokh:cust:${buyer}:purchases`), '1');

  // The agent whose team serves the customer sees the warranty.
  const mine = await call('GET', `/api/v1/customers/${buyer}/purchases`, ali);
  assert.equal(mine.status, 200, mine.text);
  assert.equal(mine.json.purchases.length, 1);
  assert.equal(mine.json.purchases[0].serial, 'SN-100');
  assert.equal(mine.json.purchases[0].warranty, 'active');
  assert.ok(mine.json.purchases[0].warranty_days_left > 0);
  assert.deepEqual(mine.json.tags, ['gold']);

  const sara = first.json.customers.find((c) => c !== buyer);
  const hers = await call('GET', `/api/v1/customers/${sara}/purchases`, boss);
  assert.equal(hers.json.purchases[0].warranty, 'expired');
  assert.equal(hers.json.purchases[0].product, 'Vacuum V2, blue');
  assert.deepEqual(hers.json.tags, ['gold', 'repair']);
  assert.equal(hers.json.vip, true);
  assert.equal(redisCli('GET', 'pasokh:serial:SN-200'), sara);
  // Sara has no conversation in Ali's team.
  assert.equal((await call('GET', `/api/v1/customers/${sara}/purchases`, ali)).status, 403);

  // Per customer, JSON: the same order and serial is updated, not added.
  const upd = await call('POST', `/api/v1/customers/${buyer}/purchases`, boss, [
    { order_id: 'ORD-1', serial: 'SN-100', product: 'Phone X Pro', purchase_date: '2025-01-10', warranty_end: '2099-01-10' },
    { order_id: 'ORD-4', product: 'Charger', purchase_date: '2025-03-01', customer_id: 'cu_999' },
    'not a row',
  ]);
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.json.purchases_updated, 1);
  assert.deepEqual(upd.json.errors.map((e) => e.line), [2, 3]);
  const after = await call('GET', `/api/v1/customers/${buyer}/purchases`, ali);
  assert.equal(after.json.purchases[0].product, 'Phone X Pro');

  // Refusals: agent role, no token, unknown column, bad CSV, wrong type, unknown customer.
  assert.equal((await call('POST', '/api/v1/admin/customers/import', ali, csv, 'text/csv')).status, 403);
  assert.equal((await call('POST', '/api/v1/admin/customers/import', null, csv, 'text/csv')).status, 401);
  const unknown = await call('POST', '/api/v1/admin/customers/import', boss, 'customer_id,colour\ncu_1,red\n', 'text/csv');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.error.code, 'invalid_csv');
  const broken = await call('POST', '/api/v1/admin/customers/import', boss, 'customer_id,name\ncu_1,"open\n', 'text/csv');
  assert.equal(broken.status, 400);
  assert.match(broken.json.error.message, /line 2/);
  assert.equal((await call('POST', '/api/v1/admin/customers/import', boss, 'x', 'text/plain')).status, 415);
  assert.equal((await call('POST', '/api/v1/admin/customers/import', boss, { rows: 3 })).status, 400);
  assert.equal((await call('GET', '/api/v1/customers/cu_999/purchases', boss)).status, 404);
  const nobody = await call('POST', '/api/v1/admin/customers/import', boss, [{ customer_id: 'cu_999', name: 'x' }]);
  assert.deepEqual(nobody.json.errors, [{ line: 1, error: 'customer_id: no customer cu_999' }]);
});

test('opt-out: stop, لغو and إلغاء set the flag and are acknowledged on the channel', async () => {
  const s1 = await customerWrites('  STOP ', 'opt-1');
  assert.equal(redisCli('HGET', `pasokh:cust:${s1.customer_id}`, 'opt_out'), '1');
  assert.equal(redisCli('HGET', `pasokh:cust:${s1.customer_id}`, 'opt_out_channel'), 'api');
  const m1 = await messagesOf(s1.conversation_id);
  assert.equal(m1.at(-1).direction, 'out');
  assert.match(m1.at(-1).text, /no longer receive/);
  // A conversation opened only to opt out does not wait in a queue.
  assert.equal(redisCli('HGET', `pasokh:conv:${s1.conversation_id}`, 'status'), 'closed');
  assert.equal(redisCli('ZSCORE', 'pasokh:queue:support', s1.conversation_id), '');

  const open = await customerWrites('my vacuum is noisy', 'opt-2');
  const s2 = await customerWrites('\u200Fلغو ', 'opt-2');
  assert.equal(s2.conversation_id, open.conversation_id);
  assert.equal(redisCli('HGET', `pasokh:cust:${s2.customer_id}`, 'opt_out'), '1');
  const m2 = await messagesOf(s2.conversation_id);
  assert.match(m2.at(-1).text, /دیگر پیشنهاد/);
  assert.equal(redisCli('HGET', `pasokh:conv:${s2.conversation_id}`, 'status'), 'queued', 'an ongoing case goes on');
  assert.ok(logEvents(s2.conversation_id).some((e) => e.event === 'opt_out'));

  const s3 = await customerWrites('إلغاء', 'opt-3');
  assert.equal(redisCli('HGET', `pasokh:cust:${s3.customer_id}`, 'opt_out'), '1');
  assert.match((await messagesOf(s3.conversation_id)).at(-1).text, /لن تصلك/);
  const shown = await call('GET', `/api/v1/customers/${s3.customer_id}/purchases`, boss);
  assert.equal(shown.json.opt_out, true);

  // The customer file shows it; an agent clears it (and edits tags) by PATCH.
  const file = await call('GET', `/api/v1/customers/${s2.customer_id}`, ali);
  assert.equal(file.json.customer.opt_out, true);
  const cleared = await call('PATCH', `/api/v1/customers/${s2.customer_id}`, ali, { opt_out: false, tags: ['repair', 'gold'] });
  assert.equal(cleared.status, 200, cleared.text);
  const refreshed = (await call('GET', `/api/v1/customers/${s2.customer_id}`, ali)).json.customer;
  assert.equal(refreshed.opt_out, false);
  assert.deepEqual(refreshed.tags, ['gold', 'repair']);
  assert.equal((await call('PATCH', `/api/v1/customers/${s2.customer_id}`, ali, { opt_out: 'no' })).status, 400);
  assert.equal((await call('PATCH', `/api/v1/customers/${s2.customer_id}`, ali, { tags: ['a,b'] })).status, 400);

  const normal = await customerWrites('please stop the noise', 'opt-4');
  assert.equal(redisCli('HGET', `pasokh:cust:${normal.customer_id}`, 'opt_out'), '');
});

test('csat: asked once when an agent resolves; a ۵ reply is stored on the conversation and the agent, then a comment', async () => {
  const sock = await online(gw, ali);
  const first = await customerWrites('my phone does not charge', 'rater-1');
  const conv = first.conversation_id;
  await reply(sock, conv, 'Please try another cable.');

  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali, {})).status, 200);
  const asks = async () => (await messagesOf(conv)).filter((m) => m.buttons?.length === 5);
  assert.equal((await asks()).length, 1);
  const ask = (await asks())[0];
  assert.match(ask.text, /1 \(poor\) to 5/);
  assert.deepEqual(ask.buttons.map((b) => b.id), [1, 2, 3, 4, 5].map((n) => `csat:${conv}:${n}`), 'the buttons name the case');
  assert.equal(redisCli('ZSCORE', 'pasokh:team:support:open', conv), '', 'the ask does not reopen it');
  // Resolving again, or after a reopen, never asks twice.
  await call('POST', `/api/v1/conversations/${conv}/resolve`, ali, {});
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/reopen`, ali, {})).status, 200);
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali, {})).status, 200);
  assert.equal((await asks()).length, 1);

  const rated = await customerWrites('۵', 'rater-1');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), '5');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_agent'), aliId);
  assert.equal(redisCli('HGET', `pasokh:csat:agent:${aliId}`, 'count'), '1');
  assert.equal(redisCli('HGET', `pasokh:csat:agent:${aliId}`, 'r5'), '1');
  assert.match((await messagesOf(conv)).at(-1).text, /^Thank you for your rating/);
  const csat = logEvents(conv).filter((e) => e.event === 'csat');
  assert.equal(csat.length, 1);
  assert.equal(csat[0].rating, 5);
  assert.equal(csat[0].agent, aliId);
  // The reply opened a conversation of its own (no reopen window): closed as a side one.
  assert.notEqual(rated.conversation_id, conv);
  assert.equal(redisCli('HGET', `pasokh:conv:${rated.conversation_id}`, 'status'), 'closed');
  assert.equal(redisCli('HGET', `pasokh:conv:${rated.conversation_id}`, 'side'), 'csat');
  // Routing never held it: Ali's capacity is not taken by it.
  assert.equal(redisCli('SISMEMBER', `pasokh:agent:${aliId}:convs`, rated.conversation_id), '0');
  await sock.next((f) => f.type === 'event' && f.conv === conv && f.event === 'csat');

  // Text after the rating is kept as the comment, and, as it may as well be a
  // new request, its conversation stays open for an agent.
  const commented = await customerWrites('Another thing: the screen flickers too', 'rater-1');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_comment'), 'Another thing: the screen flickers too');
  assert.equal((await messagesOf(conv)).at(-1).text, 'Thank you for your feedback.');
  assert.notEqual(redisCli('HGET', `pasokh:conv:${commented.conversation_id}`, 'status'), 'closed');
  assert.equal(redisCli('HGET', `pasokh:conv:${commented.conversation_id}`, 'side'), '');
  // Another number later is a new message, never a second rating.
  const later = await customerWrites('4', 'rater-1');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), '5');
  assert.notEqual(redisCli('HGET', `pasokh:conv:${later.conversation_id}`, 'status'), 'closed');

  // A bot-only conversation resolved by an admin gets no survey.
  const botOnly = await customerWrites('what is the warranty period?', 'bot-only-1', 'botdesk');
  assert.equal((await call('POST', `/api/v1/conversations/${botOnly.conversation_id}/resolve`, boss, {})).status, 200);
  assert.equal(redisCli('HGET', `pasokh:conv:${botOnly.conversation_id}`, 'csat_asked'), '');
  // Nor does a customer who opted out.
  const quiet = await customerWrites('help', 'opt-quiet');
  await customerWrites('stop', 'opt-quiet');
  sock.send({ type: 'reply', conv: quiet.conversation_id, client_id: 'r2', text: 'OK' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'r2');
  assert.equal((await call('POST', `/api/v1/conversations/${quiet.conversation_id}/resolve`, ali, {})).status, 200);
  assert.equal(redisCli('HGET', `pasokh:conv:${quiet.conversation_id}`, 'csat_asked'), '', 'an opted-out customer is not asked');
  // "stop" again opens a conversation that routing gives Ali at once, then
  // closes it as a side one: Ali gets the capacity back.
  const again = await customerWrites('stop', 'opt-quiet');
  assert.notEqual(again.conversation_id, quiet.conversation_id);
  assert.equal(redisCli('HGET', `pasokh:conv:${again.conversation_id}`, 'status'), 'closed');
  assert.equal(redisCli('SISMEMBER', `pasokh:agent:${aliId}:convs`, again.conversation_id), '0');
  sock.close();

  // The live report sees this one rating.
  const live = await call('GET', `/api/v1/reports/summary?from=${testStart}&to=${Date.now() + 1}`, boss);
  assert.equal(live.status, 200, live.text);
  assert.equal(live.json.csat.responses, 1);
  assert.equal(live.json.csat.distribution['5'], 1);
  assert.equal(live.json.csat.asked, 1);
});

test('csat: after the rating, a text answering what was sent since (a campaign message, an agent\'s reply) is no comment', async () => {
  const sock = await online(gw, ali);
  const rated = async (customer) => {
    const conv = (await customerWrites('my kettle does not heat', customer)).conversation_id;
    await reply(sock, conv, 'A new one is on its way');
    assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali, {})).status, 200);
    await customerWrites('5', customer);
    assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), '5');
    return conv;
  };

  // Our campaign message goes out after the rating: the answer is the campaign's.
  const conv = await rated('rater-campaign');
  const cust = redisCli('GET', 'pasokh:ident:api:rater-campaign');
  assert.equal((await call('PATCH', `/api/v1/customers/${cust}`, ali, { tags: ['kettle-offer'] })).status, 200);
  const created = await call('POST', '/api/v1/admin/campaigns', boss, { name: 'Kettle offer', kind: 'occasion', occasion: 'date',
    date: new Date().toISOString().slice(0, 10), audience: { tags: ['kettle-offer'] }, texts: { en: 'Descaler at half price, {name}!' },
    fallback: ['en'] });
  assert.equal(created.status, 201, created.text);
  const campaign = `/api/v1/admin/campaigns/${created.json.id}`;
  await waitFor(async () => (await call('GET', campaign, boss)).json.stats.queued === 1, 'the offer sent');
  await customerWrites('Yes please, two bottles', 'rater-campaign');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_comment'), '', 'not the survey\'s comment');
  assert.equal((await call('GET', campaign, boss)).json.stats.replied, 1);

  // An agent's follow-up after the rating: the answer is to the agent.
  const followed = await rated('rater-followed');
  await reply(sock, followed, 'Did the new kettle arrive?');
  await customerWrites('Yes, it works, thanks', 'rater-followed');
  assert.equal(redisCli('HGET', `pasokh:conv:${followed}`, 'csat_comment'), '');
  sock.close();
});

test('bot: "is my device under warranty?" answered from the serial in the customer\'s own file, never another\'s', async () => {
  const mine = await customerWrites('hello', 'owner-1', 'botdesk');
  const imported = await call('POST', `/api/v1/customers/${mine.customer_id}/purchases`, boss, [
    { order_id: 'ORD-9', product: 'Washer W9', serial: 'SN-777', purchase_date: '2025-06-01', warranty_end: '2099-06-01' }]);
  assert.equal(imported.json.purchases_created, 1, imported.text);
  await customerWrites('Is SN-777 still under warranty?', 'owner-1', 'botdesk');
  const last = (await messagesOf(mine.conversation_id, 'botdesk')).at(-1);
  assert.equal(last.author, 'bot');
  assert.equal(last.text, 'Your Washer W9 (serial SN-777) is under warranty until 2099-06-01.');

  // In Persian the date is the Solar Hijri one Iranians read, as Intl writes it.
  const persian = await customerWrites('سلام، وقت بخیر', 'owner-2', 'botdesk');
  await call('POST', `/api/v1/customers/${persian.customer_id}/purchases`, boss, [
    { order_id: 'ORD-10', product: 'یخچال R5', serial: 'SN-888', purchase_date: '2025-06-01', warranty_end: '2099-06-01' }]);
  await customerWrites('گارانتی دستگاه با سریال SN-۸۸۸ تا کی است؟', 'owner-2', 'botdesk');
  const solar = new Intl.DateTimeFormat('fa-IR-u-ca-persian', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' })
    .format(new Date('2099-06-01T00:00:00Z'));
  assert.equal((await messagesOf(persian.conversation_id, 'botdesk')).at(-1).text, `دستگاه یخچال R5 شما (سریال SN-888) تا ${solar} گارانتی دارد.`);

  const other = await customerWrites('گارانتی SN-۷۷۷ ؟', 'stranger-1', 'botdesk');
  const seen = (await messagesOf(other.conversation_id, 'botdesk')).map((m) => m.text).join('\n');
  assert.doesNotMatch(seen, /Washer|2099/);
});

test('csat: a comment that only thanks or complains is thanked and its conversation closed; a new request goes on to the bot', async () => {
  const start = Date.now();
  const sock = await online(gw, ali);
  // A case on the bot's channel that Ali answered and resolved, then rated 5.
  const ratedCase = async (customer) => {
    const conv = (await customerWrites('I want to talk to an agent', customer, 'botdesk')).conversation_id;
    assert.notEqual(redisCli('HGET', `pasokh:conv:${conv}`, 'status'), 'bot', 'handed to the team');
    await reply(sock, conv, 'Your new kettle is on its way.');
    assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali, {})).status, 200);
    await customerWrites('5', customer, 'botdesk');
    assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), '5');
    return conv;
  };
  const byBot = async (conv) => (await messagesOf(conv, 'botdesk')).filter((m) => m.author === 'bot');

  // "thanks!": the comment, thanked once in the rated case; the conversation
  // it opened is closed, never queued, never answered by the FAQ bot.
  const thanked = await ratedCase('feedback-1');
  const thanks = await customerWrites('thanks!', 'feedback-1', 'botdesk');
  assert.notEqual(thanks.conversation_id, thanked);
  assert.equal(redisCli('HGET', `pasokh:conv:${thanked}`, 'csat_comment'), 'thanks!');
  assert.equal(redisCli('HGET', `pasokh:conv:${thanks.conversation_id}`, 'status'), 'closed');
  const said = await messagesOf(thanked, 'botdesk');
  assert.equal(said.at(-1).text, 'Thank you for your feedback.');
  assert.equal(said.filter((m) => m.text === 'Thank you for your feedback.').length, 1);
  assert.equal(redisCli('HGET', `pasokh:conv:${thanks.conversation_id}`, 'side'), 'csat_comment');
  assert.equal(redisCli('ZSCORE', 'pasokh:queue:support', thanks.conversation_id), '');
  assert.equal(redisCli('SISMEMBER', `pasokh:agent:${aliId}:convs`, thanks.conversation_id), '0');
  assert.deepEqual(await byBot(thanks.conversation_id), [], 'no bot answer');
  assert.equal(redisCli('HGET', `pasokh:conv:${thanked}`, 'csat_comment_kind'), 'praise');

  // A complaint about the service asks nothing: thanked and closed the same,
  // and flagged for the report.
  const complained = await ratedCase('feedback-2');
  const rude = await customerWrites('The agent was rude and kept me waiting.', 'feedback-2', 'botdesk');
  assert.equal(redisCli('HGET', `pasokh:conv:${complained}`, 'csat_comment_kind'), 'complaint');
  assert.equal(redisCli('HGET', `pasokh:conv:${rude.conversation_id}`, 'status'), 'closed');
  assert.equal(redisCli('HGET', `pasokh:conv:${complained}`, 'status'), 'resolved', 'not reopened');

  // A new request: kept as the comment, and its conversation goes on to the bot.
  const asked = await ratedCase('feedback-3');
  const request = await customerWrites('my other order never arrived, where is it?', 'feedback-3', 'botdesk');
  assert.equal(redisCli('HGET', `pasokh:conv:${asked}`, 'csat_comment'), 'my other order never arrived, where is it?');
  assert.equal(redisCli('HGET', `pasokh:conv:${asked}`, 'csat_comment_kind'), 'request');
  assert.equal(redisCli('HGET', `pasokh:conv:${request.conversation_id}`, 'status'), 'bot', 'with the bot (which answers it), not closed');
  assert.equal(redisCli('HGET', `pasokh:conv:${request.conversation_id}`, 'side'), '');
  assert.equal((await byBot(request.conversation_id)).length, 1, 'the bot answers it');
  sock.close();

  // The report: three cases and the one request; the closed feedback
  // conversations and the ratings' own are no cases; one complaint.
  const live = await call('GET', `/api/v1/reports/summary?from=${start}&to=${Date.now() + 1}`, boss);
  assert.equal(live.status, 200, live.text);
  assert.equal(live.json.conversations.total, 4);
  assert.equal(live.json.csat.responses, 3);
  assert.equal(live.json.csat.complaints, 1);
});
