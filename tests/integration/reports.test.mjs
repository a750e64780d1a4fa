// Reports (issue 8) against real Redis and pasokh: figures computed from the
// conversation logs on a scripted February 2020 history whose numbers are
// known by hand (business hours across a night, a weekend and a holiday; bot
// time before the handoff; a reopen; CRR), filters, day/week series, CSV with
// a BOM and defused formulas, the time index kept live by the conversation
// scripts, the timeline cache continued from the log, and the rebuild.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { defaultConfig, login, monitored, online, Pasokh, postMessage, reply, sleep, TcpProxy } from '../support/harness.mjs';
import { EXPECTED, expectedAgents, startReportsGateway, TEAMS, tehran, writeHistory } from '../support/report_history.mjs';

let redis, gw, boss, ali, aliId, maryamId, ids;

before(async () => {
  ({ redis, gw, boss, ali, aliId, maryamId } = await startReportsGateway([['eve', 'eve-secret-4', '=2+3 @eve']]));
  ids = writeHistory(redis.port, { ali: aliId, maryam: maryamId });
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
}

async function call(method, path, token) {
  const res = await fetch(`${gw.base}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  // Decoded keeping a BOM (fetch's text() would drop it).
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV */ }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

const FEB = '/api/v1/reports/summary?from=2020-02-01&to=2020-03-01&tz=Asia/Tehran';
const figures = (j) => Object.fromEntries(Object.keys(EXPECTED).map((k) => [k,
  k === 'retention' ? Object.fromEntries(Object.keys(EXPECTED.retention).map((r) => [r, j.retention[r]])) : j[k]]));

test('reports: the scripted February, rebuilt from the logs, gives the figures computed by hand', async () => {
  const rebuilt = await call('POST', '/api/v1/admin/reports/rebuild', boss);
  assert.equal(rebuilt.status, 200, rebuilt.text);
  assert.equal(rebuilt.json.conversations, Object.keys(ids).length);

  const r = await call('GET', `${FEB}&group=day`, boss);
  assert.equal(r.status, 200, r.text);
  const j = r.json;
  assert.equal(j.from, tehran('2020-02-01T00:00'));
  assert.equal(j.to, tehran('2020-03-01T00:00'));
  assert.deepEqual(figures(j), EXPECTED);
  assert.deepEqual(j.agents, expectedAgents(aliId, maryamId));
  assert.match(j.rules.clock_start, /bot does not count/);

  // One point per day of February 2020 (a leap year), each conversation on its Tehran day.
  const points = j.series.points;
  assert.equal(points.length, 29);
  assert.deepEqual(points.filter((p) => p.conversations).map((p) => [p.date, p.conversations]),
    [['2020-02-05', 1], ['2020-02-06', 1], ['2020-02-10', 1], ['2020-02-15', 1], ['2020-02-16', 1], ['2020-02-18', 1]]);
  assert.deepEqual(points.filter((p) => p.first_response_median_ms != null).map((p) => p.first_response_median_ms / 60000),
    [40, 120, 70, 30, 2]);
  assert.equal(points[11].resolved, 2, 'both resolves of the reopened conversation on 12 February');

  const weeks = (await call('GET', `${FEB}&group=week&week_start=sat`, boss)).json.series.points;
  assert.deepEqual(weeks.map((p) => [p.date, p.conversations]),
    [['2020-02-01', 2], ['2020-02-08', 1], ['2020-02-15', 3], ['2020-02-22', 0], ['2020-02-29', 0]]);

  // Filters: a channel, a team, an agent.
  const web = (await call('GET', `${FEB}&channel=web`, boss)).json;
  assert.equal(web.conversations.total, 2);
  assert.deepEqual(web.first_response.median_ms, 2 * 60000);
  assert.equal((await call('GET', `${FEB}&team=vip`, boss)).json.conversations.total, 1);
  const maryam = (await call('GET', `${FEB}&agent=${maryamId}`, boss)).json;
  assert.equal(maryam.conversations.total, 2);
  assert.deepEqual(Object.keys(maryam.agents), [maryamId]);
  assert.equal(maryam.responses.count, 3);
  assert.equal(maryam.csat.average, 3.5);

  // Without the team's hours the same history would count the night, the weekend and the holiday.
  const utcDays = (await call('GET', '/api/v1/reports/summary?from=2020-02-01&to=2020-03-01&tz=UTC', boss)).json;
  assert.equal(utcDays.from, Date.parse('2020-02-01T00:00:00Z'), 'dates are UTC days with tz=UTC');
});

test('reports: without tz a report is in the shop\'s zone (here the first team\'s hours, Asia/Tehran), not UTC', async () => {
  const r = await call('GET', '/api/v1/reports/summary?from=2020-02-01&to=2020-03-01', boss);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.tz, 'Asia/Tehran');
  assert.equal(r.json.from, tehran('2020-02-01T00:00'), 'the days begin at Tehran midnight');
  assert.deepEqual(figures(r.json), figures((await call('GET', FEB, boss)).json));
});

test('reports: weeks start as where the report\'s zone is (Saturday in Tehran, Monday in UTC) unless week_start says', async () => {
  const weeks = async (query) => {
    const r = await call('GET', `/api/v1/reports/summary?from=2020-02-01&to=2020-03-01&group=week${query}`, boss);
    assert.equal(r.status, 200, r.text);
    return r.json.series.points.map((p) => p.date);
  };
  const saturdays = ['2020-02-01', '2020-02-08', '2020-02-15', '2020-02-22', '2020-02-29'];
  assert.deepEqual(await weeks(''), saturdays, 'the shop\'s zone, Asia/Tehran');
  assert.deepEqual(await weeks('&tz=Asia/Tehran'), saturdays);
  const mondays = ['2020-02-01', '2020-02-03', '2020-02-10', '2020-02-17', '2020-02-24'];
  assert.deepEqual(await weeks('&tz=UTC'), mondays, 'the first week clipped to the period');
  assert.deepEqual(await weeks('&week_start=mon'), mondays);
  assert.deepEqual(await weeks('&tz=UTC&week_start=sat'), saturdays);
});

test('reports: CSV with a BOM, quoted keys and defused formulas', async () => {
  const csv = await call('GET', `${FEB}&format=csv&group=day`, boss);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv; charset=utf-8/);
  assert.ok(csv.text.startsWith('\uFEFFmetric,key,value\r\n'), JSON.stringify(csv.text.slice(0, 30)));
  assert.match(csv.text, /\r\nretention,"crr",50(\.0)?\r\n/);
  assert.match(csv.text, /\r\nconversations_by_channel,"web",2\r\n/);
  assert.match(csv.text, new RegExp(`\\r\\nagent_name,"${aliId}","علی رضایی"\\r\\n`));
  assert.match(csv.text, /\r\nseries_conversations,"2020-02-10",1\r\n/);

  // An agent whose name is a formula, in March: the cell starts with ' so a spreadsheet shows it as text.
  const eveId = (await login(gw, 'eve', 'eve-secret-4')).json.agent.id;
  const conv = `cv_${redisCli('INCR', 'pasokh:next:conversation')}`;
  const view = { id: conv, channel: 'api', customer_id: 'c_m', status: 'assigned', team: 'support', assignee: eveId,
    created_at: tehran('2020-03-10T10:00') };
  redisCli('XADD', `pasokh:conv:${conv}:log`, '1-1', 'f', JSON.stringify({ type: 'event', conv, seq: 1, event: 'message',
    conversation: { ...view, status: 'queued', assignee: '' }, message: { direction: 'in', author: 'customer', created_at: tehran('2020-03-10T10:00') } }));
  redisCli('XADD', `pasokh:conv:${conv}:log`, '2-1', 'f', JSON.stringify({ type: 'event', conv, seq: 2, event: 'message',
    conversation: view, message: { direction: 'out', author: 'agent', author_id: eveId, created_at: tehran('2020-03-10T10:05') } }));
  redisCli('HSET', `pasokh:conv:${conv}`, 'id', conv, 'seq', '2');
  redisCli('ZADD', 'pasokh:rpt:created', String(tehran('2020-03-10T10:00')), conv);
  const march = await call('GET', '/api/v1/reports/summary?from=2020-03-10&to=2020-03-11&tz=Asia/Tehran&format=csv', boss);
  assert.match(march.text, new RegExp(`\\r\\nagent_name,"${eveId}","'=2\\+3 @eve"\\r\\n`));
  assert.doesNotMatch(march.text, /,"=/);
});

test('reports: a cached timeline continues with new log entries; the rebuild restores a lost index', async () => {
  // Ali follows up on F a day later (no customer waiting): one more reply, no response time.
  const f = ids.F;
  const seq = Number(redisCli('HGET', `pasokh:conv:${f}`, 'seq')) + 1;
  const cachedSeq = () => Number(redisCli('HGET', 'pasokh:rpt:facts', f).split('\x1f')[4]);
  assert.equal(cachedSeq(), seq - 1);
  const last = JSON.parse(redisCli('XREVRANGE', `pasokh:conv:${f}:log`, '+', '-', 'COUNT', '1').split('\n')[2]);
  redisCli('XADD', `pasokh:conv:${f}:log`, `${seq}-1`, 'f', JSON.stringify({ ...last, seq, event: 'message', status: undefined,
    message: { direction: 'out', author: 'agent', author_id: aliId, created_at: tehran('2020-02-19T10:00') } }));
  redisCli('HSET', `pasokh:conv:${f}`, 'seq', String(seq));
  const before = (await call('GET', FEB, boss)).json;
  assert.equal(before.agents[aliId].replies, 5);
  assert.equal(before.responses.count, 7);
  assert.equal(cachedSeq(), seq, 'the cached timeline was continued from the log');

  // The index and the cache lost: nothing to report until rebuilt from the logs.
  redisCli('DEL', 'pasokh:rpt:created', 'pasokh:rpt:events', 'pasokh:rpt:active', 'pasokh:rpt:facts');
  assert.equal((await call('GET', FEB, boss)).json.conversations.total, 0);
  assert.equal((await call('POST', '/api/v1/admin/reports/rebuild', boss)).status, 200);
  const after = (await call('GET', FEB, boss)).json;
  assert.deepEqual(after, before);
});

test('reports: an agent\'s follow-up on the bot\'s deflected conversation leaves deflection and first response as they were', async () => {
  const feb = (await call('GET', FEB, boss)).json;
  assert.deepEqual(feb.bot, EXPECTED.bot);
  // Ali writes to D two days after the bot resolved it; append_reply.lua keeps it resolved.
  const d = ids.D;
  const seq = Number(redisCli('HGET', `pasokh:conv:${d}`, 'seq')) + 1;
  const last = JSON.parse(redisCli('XREVRANGE', `pasokh:conv:${d}:log`, '+', '-', 'COUNT', '1').split('\n')[2]);
  assert.equal(last.conversation.status, 'resolved');
  redisCli('XADD', `pasokh:conv:${d}:log`, `${seq}-1`, 'f', JSON.stringify({ ...last, seq, event: 'message', status: undefined,
    reason: undefined, actor: undefined, message: { direction: 'out', author: 'agent', author_id: aliId, created_at: tehran('2020-02-18T10:00') } }));
  redisCli('HSET', `pasokh:conv:${d}`, 'seq', String(seq));
  const after = (await call('GET', FEB, boss)).json;
  assert.deepEqual(after.bot, EXPECTED.bot, 'still deflected');
  assert.deepEqual(after.first_response, feb.first_response, 'no 0 ms first response');
  assert.deepEqual(after.resolution, feb.resolution);
  assert.deepEqual(after.responses, feb.responses, 'nobody was waiting');
  assert.equal(after.agents[aliId].replies, feb.agents[aliId].replies + 1);
  assert.equal(after.agents[aliId].first_response_median_ms, feb.agents[aliId].first_response_median_ms);
  // The same from the logs alone.
  assert.equal((await call('POST', '/api/v1/admin/reports/rebuild', boss)).status, 200);
  assert.deepEqual((await call('GET', FEB, boss)).json, after);
});

test('reports: conversations through the API are indexed live by the scripts (bot, handoff, reply, reopen)', async () => {
  const from = Date.now() - 1;
  const sock = await online(gw, ali);
  const first = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'live-1', name: 'نرگس' }, text: 'گوشی‌ام شارژ نمی‌شود' });
  assert.equal(first.status, 201, first.text);
  const conv = first.json.conversation_id;
  await reply(sock, conv, 'لطفاً کابل دیگری امتحان کنید.');
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali)).status, 200);
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/reopen`, ali)).status, 200);
  await reply(sock, conv, 'دوباره بررسی کردم.');
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, ali)).status, 200);
  sock.close();
  assert.notEqual(redisCli('ZSCORE', 'pasokh:rpt:created', conv), '', 'indexed when it opened');

  const live = await call('GET', `/api/v1/reports/summary?from=${from}&to=${Date.now() + 1}`, boss);
  assert.equal(live.status, 200, live.text);
  const j = live.json;
  assert.equal(j.conversations.total, 1);
  assert.equal(j.first_response.count, 1);
  assert.equal(j.resolution.count, 2);
  assert.equal(j.resolution.reopened, 1);
  assert.equal(j.agents[aliId].replies, 2);
  assert.equal(j.agents[aliId].resolved, 2);
  assert.equal(j.csat.asked, 1, 'the survey sent on the first resolve is seen in the log');
});

test('reports: replies this period in a conversation opened long before it count (the activity index, kept live and rebuilt)', async () => {
  const sock = await online(gw, ali);
  const opened = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'long-1', name: 'Long' }, text: 'my washer leaks' });
  const conv = opened.json.conversation_id;
  await reply(sock, conv, 'We will send a technician');
  // The period is [from, to), far shorter than the conversation's age: it is
  // neither opened in it nor in the period before it, nor resolved.
  await sleep(400);
  const from = Date.now();
  assert.equal((await postMessage(gw, { message_id: randomUUID(), customer: { id: 'long-1', name: 'Long' }, text: 'nobody came' })).status, 201);
  await reply(sock, conv, 'Sorry, rebooked for tomorrow');
  await reply(sock, conv, 'Here is the booking number');
  sock.close();
  const period = `/api/v1/reports/summary?from=${from}&to=${Date.now() + 1}`;
  const check = (j) => {
    assert.equal(j.conversations.total, 0, 'not opened in the period');
    assert.equal(j.agents[aliId]?.replies, 2, JSON.stringify(j.agents));
    assert.equal(j.responses.count, 1, 'the first reply answered the waiting customer');
  };
  check((await call('GET', period, boss)).json);
  check((await call('GET', `${period}&agent=${aliId}`, boss)).json);

  redisCli('DEL', 'pasokh:rpt:active');
  assert.equal((await call('GET', period, boss)).json.agents[aliId], undefined, 'found only through the activity index');
  assert.equal((await call('POST', '/api/v1/admin/reports/rebuild', boss)).status, 200);
  check((await call('GET', period, boss)).json);
});

test('reports: live, a follow-up on a resolved case is a reply only; the agent filter counts the surveys about the agent', async () => {
  const from = Date.now() - 1;
  const maryam = (await login(gw, 'maryam', 'maryam-secret-2')).json.token;
  const asAli = await online(gw, ali), asMaryam = await online(gw, maryam);
  try {
    // Ali answers, Maryam takes over and resolves: the survey is about her, and she is rated.
    const shared = (await postMessage(gw, { message_id: randomUUID(), customer: { id: 'fu-1', name: 'Shirin' }, text: 'my fridge is loud' })).json.conversation_id;
    await reply(asAli, shared, 'Is it level?');
    await reply(asMaryam, shared, 'I take it from here: a technician comes tomorrow.');
    assert.equal((await call('POST', `/api/v1/conversations/${shared}/resolve`, maryam)).status, 200);
    assert.notEqual(redisCli('HGET', `pasokh:conv:${shared}`, 'csat_asked'), '');
    assert.equal((await postMessage(gw, { message_id: randomUUID(), customer: { id: 'fu-1', name: 'Shirin' }, text: '4' })).status, 201);
    assert.equal(redisCli('HGET', `pasokh:conv:${shared}`, 'csat_rating'), '4');
    // Resolved without an answer (a duplicate).
    const quiet = (await postMessage(gw, { message_id: randomUUID(), customer: { id: 'fu-2', name: 'Kian' }, text: 'same as before' })).json.conversation_id;
    assert.equal((await call('POST', `/api/v1/conversations/${quiet}/resolve`, boss)).status, 200);

    const period = () => `/api/v1/reports/summary?from=${from}&to=${Date.now() + 1}`;
    const before = (await call('GET', period(), boss)).json;
    assert.equal(before.first_response.count, 1);
    // Ali follows up on both while they are resolved.
    await reply(asAli, shared, 'Did the technician come?');
    await reply(asAli, quiet, 'We merged this with your earlier request.');
    assert.equal(redisCli('HGET', `pasokh:conv:${quiet}`, 'status'), 'resolved');
    const j = (await call('GET', period(), boss)).json;
    assert.deepEqual(j.first_response, before.first_response, 'a follow-up is no first response');
    assert.deepEqual(j.resolution, before.resolution);
    assert.equal(j.responses.count, before.responses.count, 'nobody waited for a follow-up');
    assert.equal(j.agents[aliId].replies, before.agents[aliId].replies + 2);

    const of = async (id) => (await call('GET', `${period()}&agent=${id}`, boss)).json.csat;
    assert.deepEqual(await of(maryamId), { ...j.csat, asked: 1, asked_rated: 1, responses: 1 });
    const alis = await of(aliId);
    assert.equal(alis.asked, 0, 'the survey was about Maryam');
    assert.equal(alis.asked_rated, 0);
    assert.equal(alis.responses, 0);
  } finally {
    asAli.close();
    asMaryam.close();
  }
});

test('reports: admin only; bad parameters are 400 and documented routes', async () => {
  assert.equal((await call('GET', FEB, ali)).status, 403);
  assert.equal((await call('POST', '/api/v1/admin/reports/rebuild', ali)).status, 403);
  assert.equal((await call('GET', FEB, null)).status, 401);
  for (const bad of ['from=2020-03-01&to=2020-02-01', 'from=yesterday', 'format=xml', 'group=month', 'tz=Mars/Olympus',
    'week_start=someday', 'channel=a%20b', 'from=2019-01-01&to=2020-03-01']) {
    const r = await call('GET', `/api/v1/reports/summary?${bad}`, boss);
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.error.code, 'invalid_field', bad);
  }
  const metrics = await (await fetch(`${gw.base}/metrics`)).text();
  assert.match(metrics, /pasokh_errors_total\{kind="invalid_field"\} [1-9]/);
  const doc = (await call('GET', '/api/v1/openapi.json', null)).json;
  assert.ok(doc.paths['/api/v1/reports/summary'].get.parameters.some((p) => p.name === 'group'));
  assert.ok(doc.paths['/api/v1/admin/reports/rebuild'].post);
});

test('reports: the agents\' names and the teams\' hours are read in one round trip', async () => {
  // Behind a Redis 300 ms away, a round trip apart is 300 ms apart in Redis's MONITOR.
  const delay = 300;
  const proxy = await new TcpProxy({ lateBy: delay }).start(redis.port);
  const config = defaultConfig(redis, { routing: { teams: TEAMS } });
  config.redis.url = `redis://127.0.0.1:${proxy.port}`;
  config.redis.command_timeout_ms = 5000;
  const far = await new Pasokh(config).start();
  try {
    const seen = await monitored(redis, async () => {
      const res = await fetch(`${far.base}${FEB}`, { headers: { authorization: `Bearer ${boss}` } });
      assert.equal(res.status, 200, await res.text());
    });
    // Redis's time (s) of each command of the report matching `pattern`.
    const times = (pattern) => seen.filter((l) => pattern.test(l)).map((l) => Number(l.split(' ')[0]));
    const names = times(/"HGET" "pasokh:agents_removed"/);
    const hours = times(/"ZRANGE" "pasokh:team_hours:[^"]*" "0" "-1"/);
    assert.ok(names.length >= 2 && hours.length >= 1, `names ${names.length}, hours ${hours.length}`);
    const all = [...names, ...hours];
    const spread = (Math.max(...all) - Math.min(...all)) * 1000;
    assert.ok(spread < delay / 2, `read ${spread.toFixed(0)} ms apart`);
  } finally {
    await far.cleanup();
    await proxy.close();
  }
});
