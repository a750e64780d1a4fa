// Reports and campaigns against real Redis and pasokh: a customer answering
// our campaign message in their earlier, resolved conversation starts a
// contact on the day of the answer, as one answering it in a conversation of
// its own does; the earlier contact stays in its period; the index finds it
// for the next period's CRR, and the rebuild writes the same.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, apiCall, clearOfMidnightUTC, defaultConfig, login, online, postMessage, reply, sleep, waitFor } from '../support/harness.mjs';

let redis, gw, boss, ali, aliId;

before(async () => {
  await clearOfMidnightUTC(120_000);  // its campaigns are for today (UTC)
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    campaigns: { timezone: 'UTC', quiet_hours: null, tick_ms: 50, lease_ms: 1000, rate_per_second: 200 },
    // No survey on the resolve: the answer would be taken for its comment.
    csat: { enabled: false },
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
const call = (method, path, body) => apiCall(gw, method, path, { token: boss, body });
const report = async (from, to) => {
  const r = await call('GET', `/api/v1/reports/summary?from=${from}&to=${to}`);
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const contacts = (j) => ({ total: j.conversations.total, first_responses: j.first_response.count,
  resolved: j.resolution.count, reopened: j.resolution.reopened });

test('reports: a campaign answered in an earlier, resolved conversation is a contact of the day of the answer, not a reopen', async () => {
  const sock = await online(gw, ali);
  const customer = { id: 'buyer-1', name: 'Sara' };

  // The earlier contact: answered and resolved.
  const start = Date.now();
  const opened = await postMessage(gw, { message_id: randomUUID(), customer, text: 'my washer leaks', language: 'en' });
  assert.equal(opened.status, 201, opened.text);
  const conv = opened.json.conversation_id;
  await reply(sock, conv, 'A technician comes tomorrow');
  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token: ali })).status, 200);
  await sleep(50);
  const mid = Date.now();

  // The greeting goes into that conversation (still reopenable); the customer answers it there.
  const created = await call('POST', '/api/v1/admin/campaigns', { name: 'Nowruz', kind: 'occasion', occasion: 'date',
    date: new Date().toISOString().slice(0, 10), texts: { en: 'Happy Nowruz, {name}!' }, fallback: ['en'] });
  assert.equal(created.status, 201, created.text);
  const campaign = `/api/v1/admin/campaigns/${created.json.id}`;
  await waitFor(async () => (await call('GET', campaign)).json.stats.queued === 1, 'the greeting queued');
  const sent = redisCli('HGET', `pasokh:campaign:${created.json.id}:sent`, opened.json.customer_id);
  assert.equal(sent.split(':')[0], conv, 'the greeting went into the earlier conversation');
  const answer = await postMessage(gw, { message_id: randomUUID(), customer, text: 'Thanks! Is the offer on dryers too?', language: 'en' });
  assert.equal(answer.status, 201, answer.text);
  assert.equal(answer.json.conversation_id, conv);
  await waitFor(() => redisCli('HGET', `pasokh:conv:${conv}`, 'status') === 'assigned', 'reopened to Ali');
  await reply(sock, conv, 'Yes, on dryers too');
  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token: ali })).status, 200);
  sock.close();
  const end = Date.now() + 1;
  assert.equal((await call('GET', campaign)).json.stats.replied, 1);

  // The answer's period: a contact with its first response and resolve, no reopen.
  const answered = await report(mid, end);
  assert.deepEqual(contacts(answered), { total: 1, first_responses: 1, resolved: 1, reopened: 0 });
  assert.equal(answered.retention.customers_at_end, 1);
  assert.equal(answered.agents[aliId].conversations, 1);
  // The earlier contact's period is as it was.
  const earlier = await report(start, mid);
  assert.deepEqual(contacts(earlier), { total: 1, first_responses: 1, resolved: 1, reopened: 0 });

  // The next period's CRR counts the customer in S (the period of the answer)
  // through the contacts index alone (without the day's activity).
  const span = end - mid;
  const next = async () => (await report(end, end + span)).retention.customers_at_start;
  redisCli('DEL', 'pasokh:rpt:active');
  assert.equal(await next(), 1);

  // Rebuilt from the logs: the same.
  redisCli('DEL', 'pasokh:rpt:created', 'pasokh:rpt:events', 'pasokh:rpt:contacts', 'pasokh:rpt:facts');
  assert.equal((await call('POST', '/api/v1/admin/reports/rebuild')).status, 200);
  assert.deepEqual(contacts(await report(mid, end)), contacts(answered));
  assert.deepEqual(contacts(await report(start, mid)), contacts(earlier));
  redisCli('DEL', 'pasokh:rpt:active');
  assert.equal(await next(), 1);
});
