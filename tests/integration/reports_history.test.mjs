// Reports stay as they were when an admin changes what they were computed
// with: a removed agent keeps its name in them (marked removed) and its id
// is never given again, so a new hire with the same login starts empty; a
// team's hours are versioned, so editing them (Ramadan hours) or deleting the
// team leaves past business-hour figures alone, while time after the edit is
// measured in the new hours. On the scripted February 2020 history
// (tests/support/report_history.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { apiCall, login, online, postMessage, reply } from '../support/harness.mjs';
import { EXPECTED, redisPipe, startReportsGateway, tehran, writeHistory } from '../support/report_history.mjs';

let redis, gw, boss, aliId, maryamId;

before(async () => {
  ({ redis, gw, boss, aliId, maryamId } = await startReportsGateway());
  writeHistory(redis.port, { ali: aliId, maryam: maryamId });
  assert.equal((await apiCall(gw, 'POST', '/api/v1/admin/reports/rebuild', { token: boss })).status, 200);
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();

const FEB = '/api/v1/reports/summary?from=2020-02-01&to=2020-03-01&tz=Asia/Tehran&group=day';
const report = async (path = FEB) => {
  const r = await apiCall(gw, 'GET', path, { token: boss });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

test('reports history: a removed agent keeps its name and figures; a new hire with its login gets a new id and starts empty', async () => {
  const before = await report();
  assert.equal(before.agents[aliId].name, 'علی رضایی');
  // Ali's ratings as aftersales.lua totals them.
  redisCli('HSET', `pasokh:csat:agent:${aliId}`, 'count', '1', 'sum', '5', 'r5', '1');

  assert.equal((await apiCall(gw, 'DELETE', `/api/v1/admin/agents/${aliId}`, { token: boss })).status, 200);
  const removed = await report();
  assert.equal(removed.agents[aliId].name, 'علی رضایی (removed)');
  assert.deepEqual(removed, { ...before, agents: { ...before.agents, [aliId]: { ...before.agents[aliId], name: 'علی رضایی (removed)' } } });

  // A new person with the login: a new id, their own name, nothing of Ali's.
  const hired = await apiCall(gw, 'POST', '/api/v1/admin/agents',
    { token: boss, body: { login: 'ali', password: 'new-secret-9', name: 'Ali Karimi' } });
  assert.equal(hired.status, 201, hired.text);
  const newId = hired.json.id;
  assert.equal(newId, `${aliId}_2`);
  assert.deepEqual(await report(), removed, 'the past is the same after the new hire');
  assert.equal(redisCli('HGET', `pasokh:csat:agent:${aliId}`, 'count'), '1', "Ali's CSAT totals stay his");
  assert.equal(redisCli('EXISTS', `pasokh:csat:agent:${newId}`), '0');

  // The new hire signs in and works: a customer's message reaches them, they answer it.
  const signedIn = await login(gw, 'ali', 'new-secret-9');
  assert.equal(signedIn.status, 200);
  assert.equal(signedIn.json.agent.id, newId);
  assert.equal(signedIn.json.agent.name, 'Ali Karimi');
  assert.equal((await login(gw, 'ali', 'ali-secret-1')).status, 401, "Ali's password is no way in");
  const from = Date.now() - 1;
  const sock = await online(gw, signedIn.json.token);
  const posted = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'hist-1', name: 'Nima' }, text: 'my kettle is broken' });
  assert.equal(posted.status, 201, posted.text);
  const conv = posted.json.conversation_id;
  await reply(sock, conv, 'Sorry to hear that');
  sock.close();
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'assignee'), newId);
  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token: signedIn.json.token })).status, 200);
  const now = await report(`/api/v1/reports/summary?from=${from}&to=${Date.now() + 1}`);
  assert.deepEqual(Object.keys(now.agents), [newId]);
  assert.equal(now.agents[newId].name, 'Ali Karimi');
  assert.equal(now.agents[newId].replies, 1);
  const feb = await report();
  assert.equal(feb.agents[newId], undefined, 'the new hire has no February');
  assert.equal(feb.agents[aliId].name, 'علی رضایی (removed)');

  // Ids are never given twice: again for the login, and a login that spells an old id.
  assert.equal((await apiCall(gw, 'DELETE', `/api/v1/admin/agents/${newId}`, { token: boss })).status, 200);
  await gw.createAgent('ali', 'third-secret-7', { name: 'Ali Sadeghi' });
  assert.equal((await login(gw, 'ali', 'third-secret-7')).json.agent.id, `${aliId}_3`);
  const spelled = await apiCall(gw, 'POST', '/api/v1/admin/agents', { token: boss, body: { login: 'ali_2', password: 'fourth-secret-6' } });
  assert.equal(spelled.json.id, `${aliId}_2_2`);
  assert.equal((await report(`/api/v1/reports/summary?from=${from}&to=${Date.now() + 1}`)).agents[newId].name, 'Ali Karimi (removed)');
});

// A Sunday at least two days ahead (Tehran, +03:30 all year now).
function sundayAhead() {
  const d = new Date(Date.now() + 2 * 86_400_000 + 12_600_000);
  d.setUTCDate(d.getUTCDate() + ((7 - d.getUTCDay()) % 7));
  return d.toISOString().slice(0, 10);
}

// One support conversation: opened, answered by Maryam and resolved at these local times.
function writeConversation(day, opened, answered, resolved) {
  const id = `cv_${redisCli('INCR', 'pasokh:next:conversation')}`;
  const created = tehran(`${day}T${opened}`);
  const cmds = [];
  let seq = 0;
  const push = (status, assignee, fields) => {
    seq += 1;
    const conversation = { id, channel: 'api', kind: 'api', customer_id: 'c_later', status, priority: 'normal', assignee,
      team: 'support', seq, created_at: created };
    cmds.push(['XADD', `pasokh:conv:${id}:log`, `${seq}-1`, 'f', JSON.stringify({ type: 'event', conv: id, seq, conversation, ...fields })]);
  };
  push('queued', '', { event: 'message', message: { direction: 'in', author: 'customer', created_at: created } });
  push('assigned', maryamId, { event: 'message', message: { direction: 'out', author: 'agent', author_id: maryamId,
    created_at: tehran(`${day}T${answered}`) } });
  push('resolved', maryamId, { event: 'status', status: 'resolved', at: tehran(`${day}T${resolved}`) });
  cmds.push(['HSET', `pasokh:conv:${id}`, 'id', id, 'seq', String(seq), 'status', 'resolved', 'team', 'support',
    'customer_id', 'c_later', 'created_at', String(created)]);
  cmds.push(['ZADD', 'pasokh:rpt:created', String(created), id], ['ZADD', 'pasokh:rpt:events', String(tehran(`${day}T${resolved}`)), `${id}|${tehran(`${day}T${resolved}`)}`]);
  redisPipe(redis.port)(cmds);
}

test('reports history: new business hours apply from their change on; past figures stay, also after the team is deleted', async () => {
  const before = await report();
  assert.deepEqual(before.first_response, EXPECTED.first_response);
  assert.deepEqual(before.resolution, EXPECTED.resolution);
  const versions = redisCli('ZRANGE', 'pasokh:team_hours:support', '0', '-1');

  // Ramadan: 10:00-15:00 every day. In these hours A (Wed 16:30 → Thu 09:10) would read 0 minutes.
  const ramadan = { timezone: 'Asia/Tehran', weekly: Object.fromEntries(['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri']
    .map((d) => [d, ['10:00-15:00']])) };
  const put = await apiCall(gw, 'PUT', '/api/v1/admin/teams/support/hours', { token: boss, body: ramadan });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(await report(), before, 'February is measured in the hours of February');
  assert.match(versions, /^0\|\{"holidays":\["2020-02-11"\]/, 'the hours at start, the first version, in force since ever');
  assert.equal(redisCli('ZCARD', 'pasokh:team_hours:support'), '2');
  assert.equal((await apiCall(gw, 'PUT', '/api/v1/admin/teams/support/hours', { token: boss, body: ramadan })).status, 200);
  assert.equal(redisCli('ZCARD', 'pasokh:team_hours:support'), '2', 'the same hours again are no new version');

  // After the change: Sunday 09:00 → 11:00 is 60 open minutes in the Ramadan hours (120 in the old ones).
  const day = sundayAhead();
  writeConversation(day, '09:00', '11:00', '11:30');
  const LATER = `/api/v1/reports/summary?from=${tehran(`${day}T00:00`)}&to=${tehran(`${day}T23:59`)}&tz=Asia/Tehran`;
  const later = await report(LATER);
  assert.equal(later.first_response.median_ms, 60 * 60_000);
  assert.equal(later.resolution.median_ms, 90 * 60_000);

  // The team deleted (once no channel routes to it: the gateway restarted with
  // the API channel on vip): it keeps its last hours, February its own.
  const cfg = JSON.parse(readFileSync(gw.configPath, 'utf8'));
  cfg.channels[0].team = 'vip';
  writeFileSync(gw.configPath, JSON.stringify(cfg));
  await gw.stop();
  await gw.start();
  const deleted = await apiCall(gw, 'DELETE', '/api/v1/admin/teams/support', { token: boss });
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(await report(), before);
  assert.deepEqual(await report(LATER), later);
});
