// Routing with real Redis and TWO pasokh processes: presence, atomic
// assignment under contention, queue drain, sticky agent, reassign timeout,
// transfer/escalate/snooze/reopen, business hours, SLA events, the bot's
// silence after a human, and role checks on every routing/admin route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  RedisServer, Pasokh, TcpProxy, defaultConfig, postMessage, login, agentSocket, sleep, waitFor,
} from '../support/harness.mjs';

let redis, gw1, gw2;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;
let customerSeq = 0;
const newCustomer = () => `rc-${process.pid}-${++customerSeq}`;

// A team that is always closed (no opening hours on any day) and one with an SLA.
const routing = {
  default_capacity: 2,
  presence_ttl_s: 5,
  reassign_after_s: 2,
  reopen_window_s: 3600,
  tick_interval_ms: 100,
  teams: [
    { id: 'support', name: 'Support', strategy: 'least_loaded' },
    { id: 'warranty', name: 'Warranty', strategy: 'round_robin', skills: ['warranty'], languages: ['fa', 'en'] },
    { id: 'night', name: 'Night', hours: { timezone: 'Asia/Tehran', weekly: {}, holidays: ['2026-03-21'] } },
    { id: 'sla', name: 'SLA', sla: { first_response_s: 2, resolution_s: 3600, warn_before_s: 1 } },
    { id: 'vip', name: 'VIP desk' },
  ],
  rules: [
    { channels: ['night'], team: 'night' },
    { channels: ['slach'], team: 'sla' },
    { vip: true, team: 'vip', priority: 'high' },
  ],
};

function config() {
  // Some 40 agents sign in from this one address within a minute or two.
  const c = defaultConfig(redis, { routing, auth: { login_attempts_per_address_per_minute: 100 } });
  c.channels = [
    { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'night', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'slach', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'botch', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support', bot: true },
  ];
  return c;
}

const cli = (...args) => execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();

before(async () => {
  redis = await new RedisServer().start();
  gw1 = await new Pasokh(config()).start();
  gw2 = await new Pasokh(config()).start();
  await gw1.createAgent('boss', 'boss-secret-1', { name: 'Boss', role: 'admin', team: 'support' });
});
after(async () => { await gw1?.cleanup(); await gw2?.cleanup(); await redis?.cleanup(); });

async function api(gw, method, path, token, body) {
  const res = await fetch(`${gw.base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

let bossToken;
async function boss() {
  if (!bossToken) bossToken = (await login(gw1, 'boss', 'boss-secret-1')).json.token;
  return bossToken;
}

// Creates an agent through the admin API and logs it in.
async function newAgent(loginName, { teams = ['support'], capacity, role = 'agent' } = {}) {
  const body = { login: loginName, name: loginName, password: `${loginName}-password`, teams, role };
  if (capacity !== undefined) body.capacity = capacity;
  const r = await api(gw1, 'POST', '/api/v1/admin/agents', await boss(), body);
  assert.equal(r.status, 201, r.text);
  const l = await login(gw1, loginName, `${loginName}-password`);
  assert.equal(l.status, 200);
  return { id: r.json.id, token: l.json.token };
}

async function conv(id) {
  const h = cli('HGETALL', `pasokh:conv:${id}`).split('\n');
  const o = {};
  for (let i = 0; i + 1 < h.length; i += 2) o[h[i]] = h[i + 1];
  return o;
}

// The conversation's log as event objects.
const logEvents = (c) => cli('XRANGE', `pasokh:conv:${c}:log`, '-', '+').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

// Says the agent's availability on its socket and waits for the ack.
async function setPresence(socket, status) {
  socket.send({ type: 'presence', status });
  await socket.next((f) => f.type === 'ack');
}

const isStatus = (c, status, extra = () => true) => (f) => f.type === 'event' && f.conv === c && f.event === 'status' && f.status === status && extra(f);

// A new team with one online agent (`login`) and a customer's conversation
// transferred there and assigned to that agent.
async function assignedInTeam(team, login) {
  await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: team, name: team });
  const agent = await newAgent(login, { teams: [team] });
  const socket = await agentSocket(gw1, agent.token);
  await setPresence(socket, 'online');
  const customer = newCustomer();
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'where is my order?' });
  const c = p.json.conversation_id;
  await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team });
  await socket.next(isStatus(c, 'assigned', (f) => f.assignee === agent.id));
  return { agent, socket, customer, c };
}

// Back in the team's queue, unassigned, the last 'queued' event saying why and who had it.
async function assertRequeued(c, team, reason, previous) {
  const st = await conv(c);
  assert.equal(st.status, 'queued');
  assert.equal(st.assignee, '');
  assert.notEqual(cli('ZSCORE', `pasokh:queue:${team}`, c), '');
  const back = logEvents(c).filter((e) => e.event === 'status' && e.status === 'queued').at(-1);
  assert.equal(back.reason, reason);
  assert.equal(back.previous_assignee, previous);
}

test('presence: an agent is offline until it says online; the queue drains to it at once; away stops assignment', async () => {
  const a = await newAgent('pres1', { teams: ['warranty'] });
  const r1 = await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: 'pteam', name: 'P team' });
  assert.equal(r1.status, 201, r1.text);
  await api(gw1, 'PATCH', `/api/v1/admin/agents/${a.id}`, await boss(), { teams: ['pteam'] });
  const ch = { message_id: uid(), customer: { id: newCustomer() }, text: 'hello' };
  // Route into pteam through a transfer (no channel goes there).
  const posted = await postMessage(gw1, ch);
  const c = posted.json.conversation_id;
  const t = await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team: 'pteam', note: 'for P' });
  assert.equal(t.status, 200, t.text);
  assert.equal((await conv(c)).status, 'queued');

  const sock = await agentSocket(gw2, a.token);                   // connected, but away by default
  assert.equal(sock.welcome.presence, 'away');
  assert.equal((await conv(c)).status, 'queued');
  sock.send({ type: 'presence', status: 'online', client_id: 'p1' });
  const assigned = await sock.next(isStatus(c, 'assigned'));        // drained at once
  assert.equal(assigned.assignee, a.id);
  assert.equal(assigned.reason, 'queue');
  const ack = await sock.next((f) => f.type === 'ack' && f.client_id === 'p1');
  assert.equal(ack.presence, 'online');
  const list = await api(gw1, 'GET', '/api/v1/presence', a.token);
  assert.equal(list.json.agents.find((x) => x.id === a.id).status, 'online');

  // Away: a new conversation in the team waits.
  sock.send({ type: 'presence', status: 'away', client_id: 'p2' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'p2');
  const p2 = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'x' });
  await api(gw1, 'POST', `/api/v1/conversations/${p2.json.conversation_id}/transfer`, await boss(), { team: 'pteam' });
  assert.equal((await conv(p2.json.conversation_id)).status, 'queued');
  // REST presence switch back to online drains it.
  const on = await api(gw1, 'PUT', '/api/v1/presence', a.token, { status: 'online' });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.assigned, 1);
  await sock.next(isStatus(p2.json.conversation_id, 'assigned'));
  // The socket closes: after the TTL the agent is offline (published to the team).
  await sock.close();
  const watcher = await agentSocket(gw1, await boss());
  const off = await watcher.next((f) => f.type === 'presence' && f.agent === a.id && f.status === 'offline', 15000);
  assert.equal(off.status, 'offline');
  await watcher.close();
});

test('two instances assigning at once never exceed capacity nor assign a conversation twice', async () => {
  await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: 'race', name: 'Race', strategy: 'least_loaded' });
  const agents = [];
  for (let i = 0; i < 3; ++i) agents.push(await newAgent(`race${i}`, { teams: ['race'], capacity: 2 }));
  // 12 conversations waiting in the race team.
  const convs = [];
  for (let i = 0; i < 12; ++i) {
    const p = await postMessage(i % 2 ? gw1 : gw2, { message_id: uid(), customer: { id: newCustomer() }, text: `race ${i}` });
    convs.push(p.json.conversation_id);
  }
  await Promise.all(convs.map((c, i) => api(i % 2 ? gw1 : gw2, 'POST', `/api/v1/conversations/${c}/transfer`, bossToken, { team: 'race' })));
  // All three come online at the same moment on both instances, repeatedly.
  const socks = await Promise.all(agents.map((a, i) => agentSocket(i % 2 ? gw1 : gw2, a.token)));
  await Promise.all([
    ...agents.map((a, i) => api(i % 2 ? gw2 : gw1, 'PUT', '/api/v1/presence', a.token, { status: 'online' })),
    ...socks.map((s) => s.send({ type: 'presence', status: 'online' })),
  ]);
  await Promise.all(agents.map((a, i) => api(i % 2 ? gw1 : gw2, 'PUT', '/api/v1/presence', a.token, { status: 'online' })));
  const states = await Promise.all(convs.map(conv));
  const assigned = states.filter((s) => s.status === 'assigned');
  assert.equal(assigned.length, 6, 'three agents with capacity 2 take exactly six');
  for (const a of agents) {
    assert.equal(assigned.filter((s) => s.assignee === a.id).length, 2, `${a.id} holds exactly its capacity`);
    assert.equal(Number(cli('SCARD', `pasokh:agent:${a.id}:convs`)), 2);
  }
  // Every assignment was logged once per conversation.
  for (const c of convs) {
    assert.ok(logEvents(c).filter((e) => e.event === 'status' && e.status === 'assigned').length <= 1,
      `conv ${c} assigned at most once`);
  }
  // Resolving frees capacity: the oldest waiting conversation goes to that agent at once.
  const first = assigned[0];
  const waiting = states.filter((s) => s.status === 'queued').sort((x, y) => Number(x.queued_at) - Number(y.queued_at));
  const sock = socks[agents.findIndex((a) => a.id === first.assignee)];
  sock.send({ type: 'resolve', conv: first.id, client_id: 'res' });
  await sock.next((f) => f.type === 'ack' && f.client_id === 'res');
  const drained = await sock.next(isStatus(waiting[0].id, 'assigned'));
  assert.equal(drained.assignee, first.assignee);
  await Promise.all(socks.map((s) => s.close()));
});

test('an escalated (high priority) conversation is served before older ones, then the oldest', async () => {
  await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: 'prio', name: 'Prio' });
  const agent = await newAgent('prio1', { teams: ['prio'], capacity: 1 });
  const ids = [];
  for (const text of ['oldest', 'middle', 'newest']) {
    const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text });
    await api(gw1, 'POST', `/api/v1/conversations/${p.json.conversation_id}/transfer`, await boss(), { team: 'prio' });
    ids.push(p.json.conversation_id);
  }
  const esc = await api(gw1, 'POST', `/api/v1/conversations/${ids[2]}/escalate`, await boss(), { note: 'angry' });
  assert.equal(esc.status, 200, esc.text);
  assert.equal((await conv(ids[2])).priority, 'high');
  const sock = await agentSocket(gw1, agent.token, undefined);
  sock.send({ type: 'presence', status: 'online' });
  const got = await sock.next((f) => f.type === 'event' && f.event === 'status' && f.status === 'assigned' && ids.includes(f.conv));
  assert.equal(got.conv, ids[2], 'the escalated conversation first');
  sock.send({ type: 'resolve', conv: ids[2] });
  const next = await sock.next((f) => f.type === 'event' && f.event === 'status' && f.status === 'assigned' && ids.includes(f.conv));
  assert.equal(next.conv, ids[0], 'then the oldest');
  await sock.close();
});

test('a returning customer goes to the previous agent when online with room, else to the queue', async () => {
  const a = await newAgent('sticky1', { capacity: 5 });
  const b = await newAgent('sticky2', { capacity: 5 });
  const sa = await agentSocket(gw1, a.token);
  await setPresence(sa, 'online');
  const customer = newCustomer();
  const first = await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: 'first visit' });
  const c1 = first.json.conversation_id;
  // Make sure it is the sticky agent's (take it over if routing chose another support agent).
  const take = await api(gw1, 'POST', `/api/v1/conversations/${c1}/assign`, a.token, {});
  assert.ok(take.status === 200, take.text);
  sa.send({ type: 'reply', conv: c1, client_id: 'r1', text: 'hi!' });
  await sa.next((f) => f.type === 'ack' && f.client_id === 'r1');
  sa.send({ type: 'resolve', conv: c1, client_id: 'z1' });
  await sa.next((f) => f.type === 'ack' && f.client_id === 'z1');
  // The reopen window would bring the customer back to c1; close it to get a new conversation.
  cli('DEL', `pasokh:cust:${first.json.customer_id}:open:api`);
  const sb = await agentSocket(gw2, b.token);
  await setPresence(sb, 'online');
  const again = await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: 'me again' });
  const c2 = again.json.conversation_id;
  assert.notEqual(c2, c1);
  const ev = await sa.next(isStatus(c2, 'assigned'));
  assert.equal(ev.assignee, a.id);
  assert.equal(ev.reason, 'returning_customer');
  // Previous agent away: the next new conversation is not stuck with it.
  await setPresence(sa, 'away');
  sa.send({ type: 'resolve', conv: c2 });
  cli('DEL', `pasokh:cust:${first.json.customer_id}:open:api`);
  const third = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'third' });
  const st = await conv(third.json.conversation_id);
  assert.notEqual(st.assignee, a.id);
  await sa.close(); await sb.close();
});

test('an agent who answers a waiting conversation is the customer\'s agent next time', async () => {
  const a = await newAgent('answerer1', { capacity: 5 });
  const customer = newCustomer();
  const first = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'anyone there?' });
  const c1 = first.json.conversation_id;
  const sa = await agentSocket(gw1, a.token);
  sa.send({ type: 'reply', conv: c1, client_id: 'w1', text: 'I am here' });  // takes it over by answering
  await sa.next((f) => f.type === 'ack' && f.client_id === 'w1');
  sa.send({ type: 'resolve', conv: c1, client_id: 'w2' });
  await sa.next((f) => f.type === 'ack' && f.client_id === 'w2');
  cli('DEL', `pasokh:cust:${first.json.customer_id}:open:api`);  // past the reopen window
  await setPresence(sa, 'online');
  const again = await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: 'me again' });
  const ev = await sa.next(isStatus(again.json.conversation_id, 'assigned'));
  assert.equal(ev.assignee, a.id);
  assert.equal(ev.reason, 'returning_customer');
  await setPresence(sa, 'away');
  await sa.close();
});

test('removing an agent puts its open conversations back in the queue, unassigned', async () => {
  const { agent: a, socket: s, c } = await assignedInTeam('gone', 'leaver1');
  await s.close();
  const removed = await api(gw1, 'DELETE', `/api/v1/admin/agents/${a.id}`, await boss());
  assert.ok(removed.status === 200 || removed.status === 204, removed.text);
  await assertRequeued(c, 'gone', 'agent_removed', a.id);
});

test('a customer whose agent went offline goes to another online agent of the team, else back to the queue', async () => {
  const { agent: first, socket: s1, customer, c } = await assignedInTeam('late', 'late1');
  // Its heartbeats stop (a laptop closed with the console open): past the
  // presence TTL the agent is offline, though the socket never closed.
  const goOffline = (id) => { cli('DEL', `pasokh:presence:${id}`); cli('ZREM', 'pasokh:presence', id); };
  goOffline(first.id);

  // Another agent of the team is online: the customer's next message goes to them.
  const second = await newAgent('late2', { teams: ['late'] });
  const s2 = await agentSocket(gw2, second.token);
  await setPresence(s2, 'online');
  await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: 'hello?' });
  const moved = await s2.next(isStatus(c, 'assigned', (f) => f.assignee === second.id));
  assert.equal(moved.reason, 'assignee_offline');

  // Nobody of the team online: back to the queue, unassigned.
  goOffline(second.id);
  await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'anyone?' });
  await assertRequeued(c, 'late', 'assignee_offline', second.id);
  await s1.close(); await s2.close();
});

test('an open console that sends no pings keeps its agent online; a connection gone silent is dropped within the TTL, its agent offline then', async () => {
  // (A background tab: the browser runs its ping timer once a minute, past the TTL.)
  const { agent, socket, customer, c } = await assignedInTeam('quiet', 'quiet1');
  const proxy = await new TcpProxy().start(gw1.port);
  try {
    const mate = await newAgent('quiet2', { teams: ['quiet'] });
    const sm = await agentSocket({ wsBase: `ws://127.0.0.1:${proxy.port}` }, mate.token);
    await setPresence(sm, 'online');
    const ttlMs = routing.presence_ttl_s * 1000;
    const frozenAt = Date.now();
    const dropped = proxy.freeze().then(() => Date.now() - frozenAt);
    await sleep(ttlMs + 500);
    await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'are you there?' });
    await socket.next((f) => f.type === 'event' && f.conv === c && f.message?.text === 'are you there?');
    // (Routed before the POST's answer.) Still its agent's, who is still present.
    const after = await conv(c);
    assert.deepEqual([after.status, after.assignee], ['assigned', agent.id]);
    assert.notEqual(cli('ZSCORE', 'pasokh:presence', agent.id), '', 'the quiet console\'s agent is present');
    // (Beast pings after half the TTL without a word, and drops it at the TTL; plus timer slack and a
    // slow machine's lag. Never dropped, it would stay till the socket's own end.)
    const droppedAfter = await Promise.race([dropped, sleep(ttlMs + 3000).then(() => null)]);
    assert.ok(droppedAfter !== null && droppedAfter < ttlMs + 1500, `dropped after ${droppedAfter} ms`);
    // Unheard for a TTL by then, the silent console's agent is offline at once, not a TTL later: it
    // beat every third of the TTL till dropped, so its presence would last 2/3 of a TTL past the drop.
    await waitFor(async () => cli('ZSCORE', 'pasokh:presence', mate.id) === '', 'the silent agent offline', 6000);
    const offlineAfterDrop = Date.now() - frozenAt - droppedAfter;
    assert.ok(offlineAfterDrop < ttlMs / 2, `offline ${offlineAfterDrop} ms after the drop`);
  } finally {
    await socket.close(); await proxy.close();
  }
});

test('no agent reply within the time limit: offered to another agent', async () => {
  await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: 'slow', name: 'Slow' });
  const a = await newAgent('slow1', { teams: ['slow'] });
  const b = await newAgent('slow2', { teams: ['slow'] });
  const sa = await agentSocket(gw1, a.token, undefined);
  await setPresence(sa, 'online');
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'anyone?' });
  const c = p.json.conversation_id;
  await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team: 'slow' });
  await sa.next(isStatus(c, 'assigned', (f) => f.assignee === a.id));
  const sb = await agentSocket(gw2, b.token);
  sb.send({ type: 'presence', status: 'online' });
  // a never answers: after reassign_after_s (2 s) it goes to b.
  const moved = await sb.next(isStatus(c, 'assigned', (f) => f.assignee === b.id), 8000);
  assert.equal(moved.reason, 'no_reply');
  assert.equal(moved.previous_assignee, a.id);
  // b answers: it stays with b.
  sb.send({ type: 'reply', conv: c, client_id: 'b1', text: 'here' });
  await sb.next((f) => f.type === 'ack' && f.client_id === 'b1');
  assert.equal(Number(cli('ZSCORE', 'pasokh:timers:reassign', c) || 0), 0);
  await sa.close(); await sb.close();
});

// Two online agents of a new team; a customer's conversation assigned to the
// first, who answers it; the customer writes back.
async function answeredAndWaiting(team, prefix) {
  const { agent: a, socket: sa, customer, c } = await assignedInTeam(team, `${prefix}1`);
  const b = await newAgent(`${prefix}2`, { teams: [team] });
  const sb = await agentSocket(gw2, b.token);
  await setPresence(sb, 'online');
  sa.send({ type: 'reply', conv: c, client_id: `${prefix}-r1`, text: 'checking now' });
  await sa.next((f) => f.type === 'ack' && f.client_id === `${prefix}-r1`);
  await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'my order is 7788' });
  await sa.next((f) => f.type === 'event' && f.conv === c && f.message?.text === 'my order is 7788');
  return { a, sa, b, sb, customer, c };
}

test('a customer waiting on an agent who went offline is moved on after reassign_after_s, without writing again', async () => {
  const { a, sa, b, sb, customer, c } = await answeredAndWaiting('gone_quiet', 'quietgone');
  // The laptop closes: the console is gone, past the presence TTL (5 s) the
  // agent is offline. Nobody writes again.
  await sa.close();
  const moved = await sb.next(isStatus(c, 'assigned', (f) => f.assignee === b.id), 25000);
  assert.equal(moved.reason, 'assignee_offline');
  assert.equal(moved.previous_assignee, a.id);
  assert.equal(cli('SISMEMBER', `pasokh:agent:${a.id}:convs`, c), '0', 'off the gone agent\'s load');

  // b answers, the customer writes back, b signs out: nobody of the team is
  // left, so it waits in the queue, unassigned.
  sb.send({ type: 'reply', conv: c, client_id: 'quietgone-r2', text: 'looking at 7788' });
  await sb.next((f) => f.type === 'ack' && f.client_id === 'quietgone-r2');
  await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'any news?' });
  await sb.next((f) => f.type === 'event' && f.conv === c && f.message?.text === 'any news?');
  assert.equal(cli('ZSCORE', 'pasokh:timers:reassign', c) !== '', true, 'the customer\'s message armed the timer');
  assert.equal((await api(gw2, 'POST', '/api/v1/auth/logout', b.token)).status < 300, true);
  await waitFor(async () => (await conv(c)).status === 'queued', 'requeued', 8000);
  await assertRequeued(c, 'gone_quiet', 'assignee_offline', b.id);
  await sb.close();
});

test('an online agent who is slow to answer keeps the conversation; away, it moves on', async () => {
  const { a, sa, b, sb, c } = await answeredAndWaiting('slow_answer', 'slowans');
  const armed = Number(cli('ZSCORE', 'pasokh:timers:reassign', c) || NaN);
  assert.ok(armed > 0, 'the customer\'s message armed the timer');
  // Past reassign_after_s (2 s): still a's, who is online (answered conversations are never taken from one).
  await sleep(3500);
  assert.deepEqual([(await conv(c)).status, (await conv(c)).assignee], ['assigned', a.id]);
  // Re-armed when it came due: looked at again reassign_after_s later while the customer waits.
  const rearmed = Number(cli('ZSCORE', 'pasokh:timers:reassign', c) || NaN);
  assert.ok(rearmed >= armed + 2000, `looked at again while the customer waits: due ${armed}, then ${rearmed}`);
  // a steps away: the waiting customer goes to b.
  await setPresence(sa, 'away');
  const moved = await sb.next(isStatus(c, 'assigned', (f) => f.assignee === b.id), 8000);
  assert.equal(moved.reason, 'assignee_away');
  assert.equal(moved.previous_assignee, a.id);
  // b answers: the timer is disarmed, nothing moves it any more.
  sb.send({ type: 'reply', conv: c, client_id: 'slowans-r2', text: 'here' });
  await sb.next((f) => f.type === 'ack' && f.client_id === 'slowans-r2');
  assert.equal(cli('ZSCORE', 'pasokh:timers:reassign', c), '');
  await sa.close(); await sb.close();
});

// (Both agents hear it through the team it left; the routing to the previous
// assignee alone is LiveHub.AMovedConversationReachesTheTeamAndAssigneeItLeft.)
test('a transfer to another team reaches the team it left, its assignee included, on either instance', async () => {
  const a = await newAgent('leaver1', { teams: ['support'], capacity: 5 });
  const mate = await newAgent('leaver2', { teams: ['support'] });
  const sa = await agentSocket(gw1, a.token);
  await setPresence(sa, 'online');
  const sm = await agentSocket(gw2, mate.token);  // away: given nothing
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'my warranty card is lost' });
  const c = p.json.conversation_id;
  await api(gw1, 'POST', `/api/v1/conversations/${c}/assign`, a.token, {});
  await sa.next(isStatus(c, 'assigned', (f) => f.assignee === a.id));
  // The boss moves it to warranty (neither is in it) through the other instance.
  await api(gw2, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team: 'warranty' });
  const moved = (f) => f.reason === 'transfer' && f.conversation.team === 'warranty';
  const [toA, toMate] = await Promise.all([sa.next(isStatus(c, 'queued', moved)), sm.next(isStatus(c, 'queued', moved))]);
  assert.equal(toA.conversation.assignee, '');
  assert.equal(toMate.from_team, 'support');
  await sa.close(); await sm.close();
});

test('transfer to a team with a note, snooze wakes up, a customer writing after resolve reopens', async () => {
  const a = await newAgent('flow1', { teams: ['support', 'warranty'], capacity: 5 });
  const s = await agentSocket(gw1, a.token);
  await setPresence(s, 'online');
  const customer = newCustomer();
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'help' });
  const c = p.json.conversation_id;
  await api(gw1, 'POST', `/api/v1/conversations/${c}/assign`, a.token, {});
  s.send({ type: 'transfer', conv: c, team: 'warranty', note: 'warranty case', client_id: 't1' });
  await s.next((f) => f.type === 'ack' && f.client_id === 't1');
  const tr = await s.next(isStatus(c, 'queued', (f) => f.reason === 'transfer'));
  assert.equal(tr.note, 'warranty case');
  assert.equal(tr.team, 'warranty');
  await s.next(isStatus(c, 'assigned'));                   // drained to a (member of warranty)
  // Snooze for 1 s: it leaves the agent's load and comes back.
  s.send({ type: 'snooze', conv: c, until: Date.now() + 1000, client_id: 'z' });
  await s.next((f) => f.type === 'ack' && f.client_id === 'z');
  await s.next(isStatus(c, 'snoozed'));
  const woke = await s.next(isStatus(c, 'assigned', (f) => f.reason === 'snooze_ended'), 5000);
  assert.equal(woke.assignee, a.id);
  // Resolve, then the customer writes within the window: the same conversation reopens.
  s.send({ type: 'resolve', conv: c, client_id: 'r' });
  await s.next((f) => f.type === 'ack' && f.client_id === 'r');
  const again = await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: 'it broke again' });
  assert.equal(again.json.conversation_id, c);
  const reopened = await s.next(isStatus(c, 'assigned', (f) => f.reason === 'reopened_by_customer'));
  assert.equal(reopened.assignee, a.id);
  // Open again: listed with the team's open conversations, no longer with its resolved ones.
  assert.equal(cli('ZSCORE', 'pasokh:team:warranty:resolved', c), '');
  assert.notEqual(cli('ZSCORE', 'pasokh:team:warranty:open', c), '');
  // Errors: bad snooze, unknown team, unknown action target.
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/snooze`, a.token, { until: 5 })).status, 400);
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, a.token, { team: 'nope' })).json.error.code, 'team_not_found');
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/cv_999999/resolve`, a.token, {})).status, 404);
  // The WebSocket frame's field name on REST is refused, not ignored (ignored,
  // the conversation would go to the caller instead).
  const misspelt = await api(gw1, 'POST', `/api/v1/conversations/${c}/assign`, a.token, { agent: 'ag_someone' });
  assert.equal(misspelt.status, 400);
  assert.match(misspelt.json.error.message, /unknown field agent for assign \(it takes agent_id, force, note\)/);
  assert.equal((await conv(c)).assignee, a.id);
  await s.close();
});

test('a merge keeps the reopen window of a resolved conversation, and an undo gives it back', async () => {
  const write = async (customer, channel) => {
    const r = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'my charger is broken' }, { channel });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const a = await write(newCustomer(), 'api'), b = await write(newCustomer(), 'night');
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${b.conversation_id}/resolve`, await boss(), {})).status, 200);
  const pointer = (c) => `pasokh:cust:${c}:open:night`;
  const window = Number(cli('PTTL', pointer(b.customer_id)));
  assert.ok(window > 3500e3, `the customer's next message reopens it within the window (PTTL ${window})`);

  const merged = await api(gw1, 'POST', `/api/v1/customers/${a.customer_id}/merge`, await boss(), { from: b.customer_id });
  assert.equal(merged.status, 200, merged.text);
  assert.equal(cli('GET', pointer(a.customer_id)), b.conversation_id);
  const moved = Number(cli('PTTL', pointer(a.customer_id)));
  assert.ok(moved > 0 && moved <= window, `after the window a new conversation opens (PTTL ${moved})`);

  const undo = await api(gw1, 'POST', `/api/v1/customers/${a.customer_id}/merges/${merged.json.merge_id}/undo`, await boss());
  assert.equal(undo.status, 200, undo.text);
  assert.equal(cli('GET', pointer(b.customer_id)), b.conversation_id, 'within the window it goes back');
  const back = Number(cli('PTTL', pointer(b.customer_id)));
  assert.ok(back > 0 && back <= moved, `and its window still ends (PTTL ${back})`);
  assert.equal(cli('EXISTS', pointer(a.customer_id)), '0');
});

test('a reply that crosses the resolve goes out and leaves the conversation resolved, off the agent\'s load', async () => {
  const a = await newAgent('crossing1', { capacity: 5 });
  const sa = await agentSocket(gw1, a.token);
  await setPresence(sa, 'online');
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'is it fixed?' });
  const c = p.json.conversation_id;
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/assign`, a.token, {})).status, 200);
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/resolve`, await boss(), {})).status, 200);
  sa.send({ type: 'reply', conv: c, client_id: 'late-1', text: 'Yes, and here is your tracking number.' });
  await sa.next((f) => f.type === 'ack' && f.client_id === 'late-1');
  const st = await conv(c);
  assert.equal(st.status, 'resolved');
  assert.equal(cli('SISMEMBER', `pasokh:agent:${a.id}:convs`, c), '0', 'not on the agent\'s load');
  assert.equal(cli('ZSCORE', 'pasokh:team:support:open', c), '', 'not among the open ones');
  assert.match(cli('XRANGE', `pasokh:outbox:api`, '-', '+'), /tracking number/, 'the follow-up goes out');
  await sa.close();
});

test('rules pick the team: VIP customers to the VIP desk with high priority; a bot handoff is routed', async () => {
  // VIP flag on the customer file before the first message routes.
  const customer = newCustomer();
  const first = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'hi' });
  cli('HSET', `pasokh:cust:${first.json.customer_id}`, 'vip', '1');
  cli('DEL', `pasokh:cust:${first.json.customer_id}:open:api`);
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'VIP here' });
  const st = await conv(p.json.conversation_id);
  assert.equal(st.team, 'vip');
  assert.equal(st.priority, 'high');
  // A bot handoff tagged "warranty" goes to the warranty team.
  const b = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'I want to talk to a human agent please', language: 'en' }, { channel: 'botch' });
  const bs = await conv(b.json.conversation_id);
  assert.ok(['queued', 'assigned'].includes(bs.status), `the bot handed off and routing took it (${bs.status})`);
  assert.equal(bs.routed, '1');
  // On a bot channel, a VIP customer's new conversation goes to a person, not the bot.
  const regular = newCustomer();
  const earlier = await postMessage(gw1, { message_id: uid(), customer: { id: regular }, text: 'hi' }, { channel: 'botch' });
  assert.equal((await conv(earlier.json.conversation_id)).status, 'bot');
  cli('HSET', `pasokh:cust:${earlier.json.customer_id}`, 'vip', '1');
  cli('DEL', `pasokh:cust:${earlier.json.customer_id}:open:botch`);
  const vip = await conv((await postMessage(gw1, { message_id: uid(), customer: { id: regular }, text: 'how long does delivery take?' },
    { channel: 'botch' })).json.conversation_id);
  assert.ok(['queued', 'assigned'].includes(vip.status), `not the bot's (${vip.status})`);
  assert.equal(vip.team, 'vip');

  // A support agent's returning customer who became VIP goes to the VIP desk,
  // not back to that agent (who is not on it).
  const agent = await newAgent('sticky-vip', { capacity: 5 });
  const sa = await agentSocket(gw1, agent.token);
  await setPresence(sa, 'online');
  const known = newCustomer();
  const before = await postMessage(gw1, { message_id: uid(), customer: { id: known }, text: 'my order?' });
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${before.json.conversation_id}/assign`, agent.token, {})).status, 200);
  sa.send({ type: 'reply', conv: before.json.conversation_id, client_id: 'sv1', text: 'on its way' });
  await sa.next((f) => f.type === 'ack' && f.client_id === 'sv1');
  assert.equal(cli('HGET', `pasokh:cust:${before.json.customer_id}`, 'last_agent'), agent.id);
  cli('HSET', `pasokh:cust:${before.json.customer_id}`, 'vip', '1');
  cli('DEL', `pasokh:cust:${before.json.customer_id}:open:api`);
  const later = await conv((await postMessage(gw1, { message_id: uid(), customer: { id: known }, text: 'me again' })).json.conversation_id);
  assert.equal(later.team, 'vip');
  assert.notEqual(later.assignee, agent.id, 'the support agent is not on the VIP desk');
  await sa.close();
});

// What a gateway that died between storing a new conversation and routing it
// leaves behind: queued, the rules not applied, in no team's queue (so no
// agent gets it before the rules do). The timers route it; a conversation
// that moved on meanwhile (resolved) is left alone.
test('a conversation its gateway never routed is routed by the timers, VIP rule included; nothing else is touched', async () => {
  const agent = await newAgent('unrouted-support', { capacity: 5 });
  const socket = await agentSocket(gw1, agent.token);
  await setPresence(socket, 'online');
  // Stored and routed normally, then set back to what a dead gateway leaves.
  const vipCustomer = newCustomer();
  const stored = await postMessage(gw1, { message_id: uid(), customer: { id: vipCustomer }, text: 'my order is late' });
  const c = stored.json.conversation_id;
  assert.equal(cli('ZSCORE', 'pasokh:routing:unrouted', c), '', 'routed at once: not waiting');
  const first = await conv(c);
  if (first.assignee) cli('SREM', `pasokh:agent:${first.assignee}:convs`, c);
  cli('HSET', `pasokh:cust:${stored.json.customer_id}`, 'vip', '1');
  cli('HSET', `pasokh:conv:${c}`, 'status', 'queued', 'assignee', '', 'team', 'support', 'priority', 'normal');
  cli('HDEL', `pasokh:conv:${c}`, 'routed');
  cli('ZREM', 'pasokh:queue:support', c);
  cli('ZADD', 'pasokh:routing:unrouted', String(Date.now() + 300), c);
  // One that was resolved before the sweep came.
  const other = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'thanks, solved' });
  const r = other.json.conversation_id;
  await api(gw1, 'POST', `/api/v1/conversations/${r}/resolve`, await boss(), {});
  cli('HDEL', `pasokh:conv:${r}`, 'routed');
  cli('ZADD', 'pasokh:routing:unrouted', String(Date.now() + 300), r);

  await sleep(400);
  const deadline = Date.now() + 5000;
  while ((await conv(c)).routed !== '1') {
    assert.ok(Date.now() < deadline, 'never routed');
    await sleep(50);
  }
  const st = await conv(c);
  assert.equal(st.team, 'vip');
  assert.equal(st.priority, 'high');
  assert.notEqual(st.assignee, agent.id, 'the support agent is not on the VIP desk');
  assert.equal(cli('ZSCORE', 'pasokh:routing:unrouted', c), '');
  assert.equal((await conv(r)).status, 'resolved', 'the sweep does not reopen');
  await waitFor(() => cli('ZSCORE', 'pasokh:routing:unrouted', r) === '', 'the resolved one dropped from the sweep');
  await socket.close();
});

test('outside business hours the customer gets one automatic message in their language and waits', async () => {
  const customer = newCustomer();
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'سلام، کسی هست؟', language: 'fa' }, { channel: 'night' });
  const c = p.json.conversation_id;
  const res = await fetch(`${gw1.base}/api/v1/channels/night/conversations/${c}/messages`, { headers: { authorization: 'Bearer test-api-key-0123456789' } });
  const msgs = (await res.json()).messages;
  const auto = msgs.filter((m) => m.author === 'system');
  assert.equal(auto.length, 1);
  assert.match(auto[0].text, /ساعت کاری/);
  await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'hello?' }, { channel: 'night' });
  const res2 = await fetch(`${gw1.base}/api/v1/channels/night/conversations/${c}/messages`, { headers: { authorization: 'Bearer test-api-key-0123456789' } });
  assert.equal((await res2.json()).messages.filter((m) => m.author === 'system').length, 1, 'only once');
  const st = await conv(c);
  assert.equal(st.team, 'night');
  assert.equal(st.status, 'queued');
  const teams = await api(gw1, 'GET', '/api/v1/teams', await boss());
  assert.equal(teams.json.teams.find((t) => t.id === 'night').open_now, false);
});

test('SLA: a warning before and a breach event after the first-response target', async () => {
  const watcher = await agentSocket(gw2, await boss());
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'waiting...' }, { channel: 'slach' });
  const c = p.json.conversation_id;
  const warn = await watcher.next((f) => f.type === 'event' && f.conv === c && f.event === 'sla' && f.state === 'warning', 6000);
  assert.equal(warn.sla, 'first_response');
  const breach = await watcher.next((f) => f.type === 'event' && f.conv === c && f.event === 'sla' && f.state === 'breached', 6000);
  assert.equal(breach.sla, 'first_response');
  assert.equal(breach.conversation.sla_breached, true);
  assert.ok(breach.seq > warn.seq);
  // The event is published from inside the timer script, so it can reach the
  // watcher before the gateway that ran the script has counted it.
  const metrics = async () => await (await fetch(`${gw1.base}/metrics`)).text() + await (await fetch(`${gw2.base}/metrics`)).text();
  await waitFor(async () => /pasokh_routing_events_total\{kind="sla_breach"\} [1-9]/.test(await metrics()), 'the breach counted');
  await watcher.close();
});

test('SLA: a reopen starts it again (breach cleared, new timers); a transfer takes the new team\'s', async () => {
  const watcher = await agentSocket(gw2, await boss());
  const slaEvent = (c, state, after) => (f) => f.type === 'event' && f.conv === c && f.event === 'sla' && f.state === state && f.seq > after;
  const customer = newCustomer();
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'waiting...' }, { channel: 'slach' });
  const c = p.json.conversation_id;
  await watcher.next(slaEvent(c, 'breached', 0), 6000);
  assert.equal((await conv(c)).sla_breached, '1');
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/resolve`, await boss(), {})).status, 200);
  assert.equal(cli('ZSCORE', 'pasokh:timers:sla', `first_breach|${c}`), '');

  // Reopened by an agent: a new segment, not breached, due again from now.
  const reopened = await api(gw1, 'POST', `/api/v1/conversations/${c}/reopen`, await boss(), {});
  assert.equal(reopened.status, 200, reopened.text);
  const st = await conv(c);
  assert.equal(st.sla_breached, undefined, 'the old breach no longer counts');
  assert.ok(Number(st.sla_first_due) > Date.now(), 'due again, from the reopen');
  assert.notEqual(cli('ZSCORE', 'pasokh:timers:sla', `first_breach|${c}`), '');
  const again = await watcher.next(slaEvent(c, 'breached', reopened.json.seq), 6000);
  assert.equal(again.sla, 'first_response');

  // Reopened by the customer's message: the same.
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/resolve`, await boss(), {})).status, 200);
  const resolvedSeq = Number((await conv(c)).seq);
  const back = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'still broken' }, { channel: 'slach' });
  assert.equal(back.json.conversation_id, c);
  await watcher.next(slaEvent(c, 'breached', resolvedSeq), 6000);

  // Moved to a team without an SLA: the breach and the old due times go.
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team: 'warranty' })).status, 200);
  const moved = await conv(c);
  assert.deepEqual([moved.sla_breached, moved.sla_first_due, cli('ZSCORE', 'pasokh:timers:sla', `resolve_breach|${c}`)], [undefined, undefined, '']);
  // A conversation moved into the SLA team gets its targets from the transfer on.
  const other = (await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'hi' })).json.conversation_id;
  const tr = await api(gw1, 'POST', `/api/v1/conversations/${other}/transfer`, await boss(), { team: 'sla' });
  assert.equal(tr.status, 200, tr.text);
  await watcher.next(slaEvent(other, 'breached', tr.json.seq), 6000);
  await watcher.close();
});

test('once a human has written the bot stays silent', async () => {
  const a = await newAgent('human1', { capacity: 5 });
  const s = await agentSocket(gw1, a.token);
  const customer = newCustomer();
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'what is the warranty period?', language: 'en' }, { channel: 'botch' });
  const c = p.json.conversation_id;
  assert.ok(logEvents(c).some((e) => e.message?.author === 'bot'), 'the bot answered before the human wrote');
  s.send({ type: 'reply', conv: c, client_id: 'h1', text: 'I am a person, how can I help?' });
  await s.next((f) => f.type === 'ack' && f.client_id === 'h1');
  const before = Number((await conv(c)).seq);
  await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'what is the warranty period?', language: 'en' }, { channel: 'botch' });
  const customerMsg = await s.next((f) => f.type === 'event' && f.conv === c && f.seq === before + 1);
  assert.equal(customerMsg.message.author, 'customer');
  // Anything after the customer's message would be the bot's; the log ends here.
  assert.equal(Number((await conv(c)).seq), before + 1);
  assert.equal(logEvents(c).filter((e) => e.seq > before && e.message?.author === 'bot').length, 0);
  await s.close();
});

test('the client ids kept to spot a resent reply or note expire a week after the conversation\'s last one', async () => {
  const a = await newAgent('retrier1', { capacity: 5 });
  const s = await agentSocket(gw1, a.token);
  const c = (await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'hello?' })).json.conversation_id;
  s.send({ type: 'reply', conv: c, client_id: 'once-1', text: 'Hello, how can I help?' });
  const first = await s.next((f) => f.type === 'ack' && f.client_id === 'once-1');
  const ttl = Number(cli('TTL', `pasokh:conv:${c}:clients`));
  assert.ok(ttl > 7 * 24 * 3600 - 60 && ttl <= 7 * 24 * 3600, `TTL ${ttl}`);
  s.send({ type: 'reply', conv: c, client_id: 'once-1', text: 'Hello, how can I help?' });
  const again = await s.next((f) => f.type === 'ack' && f.client_id === 'once-1');
  assert.equal(again.seq, first.seq, 'a resend within it is still the same reply');
  cli('EXPIRE', `pasokh:conv:${c}:clients`, '100');
  const note = await api(gw1, 'POST', `/api/v1/conversations/${c}/notes`, a.token, { text: 'checked the order', client_id: 'note-1' });
  assert.equal(note.status, 201, note.text);
  assert.ok(Number(cli('TTL', `pasokh:conv:${c}:clients`)) > 7 * 24 * 3600 - 60, 'each new one starts the week again');
  await s.close();
});

test('every admin route refuses agents (403) and anonymous callers (401) with a JSON error, counted', async () => {
  const a = await newAgent('plain1');
  const routes = [
    ['POST', '/api/v1/admin/agents'], ['PATCH', '/api/v1/admin/agents/ag_boss'], ['DELETE', '/api/v1/admin/agents/ag_boss'],
    ['POST', '/api/v1/admin/teams'], ['PUT', '/api/v1/admin/teams/support'], ['DELETE', '/api/v1/admin/teams/support'],
    ['GET', '/api/v1/admin/teams/support/hours'], ['PUT', '/api/v1/admin/teams/support/hours'],
    ['GET', '/api/v1/admin/teams/support/sla'], ['PUT', '/api/v1/admin/teams/support/sla'],
  ];
  const metric = async () => {
    const text = await (await fetch(`${gw1.base}/metrics`)).text();
    const row = text.split('\n').find((l) => l.startsWith('pasokh_errors_total{kind="forbidden"}'));
    return row ? Number(row.split(' ').pop()) : 0;
  };
  const forbiddenBefore = await metric();
  for (const [method, path] of routes) {
    const body = method === 'GET' ? undefined : {};
    const anon = await api(gw1, method, path, null, body);
    assert.equal(anon.status, 401, `${method} ${path} anonymous`);
    assert.equal(anon.json.error.code, 'unauthorized');
    const agent = await api(gw1, method, path, a.token, body);
    assert.equal(agent.status, 403, `${method} ${path} as agent`);
    assert.equal(agent.json.error.code, 'forbidden');
  }
  assert.equal(await metric(), forbiddenBefore + routes.length);
  // Non-admin routes still need a session.
  for (const [method, path] of [['GET', '/api/v1/conversations'], ['GET', '/api/v1/agents'], ['GET', '/api/v1/teams'],
    ['PUT', '/api/v1/presence'], ['POST', '/api/v1/conversations/cv_1/resolve']]) {
    assert.equal((await api(gw1, method, path, null, method === 'GET' ? undefined : {})).status, 401, `${method} ${path}`);
  }
  // Admin: bad input gets a clear 4xx.
  const bad = await api(gw1, 'PUT', '/api/v1/admin/teams/support/hours', await boss(), { timezone: 'Mars/Olympus', weekly: {} });
  assert.equal(bad.status, 422);
  assert.match(bad.json.error.message, /unknown time zone/);
  const ok = await api(gw1, 'PUT', '/api/v1/admin/teams/support/hours', await boss(),
    { timezone: 'Asia/Tehran', weekly: { sat: ['00:00-24:00'], sun: ['00:00-24:00'], mon: ['00:00-24:00'], tue: ['00:00-24:00'], wed: ['00:00-24:00'], thu: ['00:00-24:00'], fri: ['00:00-24:00'] }, holidays: ['2027-03-21'] });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await api(gw1, 'GET', '/api/v1/admin/teams/support/hours', await boss())).json.hours.timezone, 'Asia/Tehran');
  // null: open around the clock again.
  const always = await api(gw1, 'PUT', '/api/v1/admin/teams/support/hours', await boss(), null);
  assert.equal(always.status, 200, always.text);
  const now = (await api(gw1, 'GET', '/api/v1/admin/teams/support/hours', await boss())).json;
  assert.equal(now.hours, null);
  assert.equal(now.open_now, true);
  // A warning as long as its target could never come first.
  const never = await api(gw1, 'PUT', '/api/v1/admin/teams/support/sla', await boss(), { first_response_s: 900, warn_before_s: 900 });
  assert.equal(never.status, 422);
  assert.match(never.json.error.message, /warn_before_s" must be shorter than a target/);
});

test('a reply resent after its conversation moved to another team is acknowledged as stored, not refused', async () => {
  const a = await newAgent('resender1', { teams: ['support'], capacity: 5 });
  const mate = await newAgent('resender2', { teams: ['support'] });
  const s = await agentSocket(gw1, a.token);
  const c = (await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'where is my refund?' })).json.conversation_id;
  s.send({ type: 'reply', conv: c, client_id: 'lost-ack-1', text: 'your refund is on its way' });
  const first = await s.next((f) => f.type === 'ack' && f.client_id === 'lost-ack-1');
  const moved = await api(gw1, 'POST', `/api/v1/conversations/${c}/transfer`, await boss(), { team: 'warranty' });
  assert.equal(moved.status, 200, moved.text);
  // The console never saw the ack (the connection dropped) and resends after reconnecting.
  s.send({ type: 'reply', conv: c, client_id: 'lost-ack-1', text: 'your refund is on its way' });
  const again = await s.next((f) => (f.type === 'ack' || f.type === 'error') && f.client_id === 'lost-ack-1');
  assert.deepEqual([again.type, again.seq, again.duplicate], ['ack', first.seq, true]);
  // The same client id from someone else of the team it left is still refused.
  const sm = await agentSocket(gw2, mate.token);
  sm.send({ type: 'reply', conv: c, client_id: 'lost-ack-1', text: 'your refund is on its way' });
  assert.equal((await sm.next((f) => f.client_id === 'lost-ack-1')).code, 'forbidden');
  assert.equal(logEvents(c).filter((e) => e.message?.author === 'agent').length, 1, 'stored once');
  await s.close(); await sm.close();
});

test('agents act only on their teams\' conversations; refusals come back as WebSocket errors too', async () => {
  const outsider = await newAgent('outsider1', { teams: ['warranty'] });
  const insider = await newAgent('insider1', { teams: ['support'] });
  const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'mine?' });
  const c = p.json.conversation_id;
  const r = await api(gw1, 'POST', `/api/v1/conversations/${c}/resolve`, outsider.token, {});
  assert.equal(r.status, 403);
  assert.equal(r.json.error.code, 'forbidden');
  const s = await agentSocket(gw2, insider.token);
  s.send({ type: 'assign', conv: c, agent: outsider.id, client_id: 'a1' });   // outsider has no session: offline
  const err = await s.next((f) => f.type === 'error' && f.client_id === 'a1');
  assert.equal(err.code, 'agent_offline');
  s.send({ type: 'assign', conv: c, client_id: 'a2', force: true });            // force is for admins
  assert.equal((await s.next((f) => f.type === 'error' && f.client_id === 'a2')).code, 'forbidden');
  s.send({ type: 'snooze', conv: c, client_id: 'a3' });
  assert.equal((await s.next((f) => f.type === 'error' && f.client_id === 'a3')).code, 'invalid_field');
  s.send({ type: 'transfer', conv: c, client_id: 'a4', note: 'x'.repeat(3000), team: 'warranty' });
  assert.equal((await s.next((f) => f.type === 'error' && f.client_id === 'a4')).code, 'invalid_field');
  await s.close();

  // Over its socket the outsider can neither read the conversation (history,
  // resume) nor answer it: conversation ids are sequential.
  const spy = await agentSocket(gw1, outsider.token, { [c]: 0 });
  spy.send({ type: 'reply', conv: c, client_id: 'spy-1', text: 'hello from another team' });
  assert.equal((await spy.next((f) => f.type === 'error' && f.client_id === 'spy-1')).code, 'forbidden');
  spy.send({ type: 'history', conv: c });
  assert.equal((await spy.next((f) => f.type === 'error')).code, 'forbidden');
  await sleep(300);
  assert.deepEqual(spy.frames.filter((f) => f.conv === c && f.type !== 'error'), [], 'nothing of it reached the outsider');
  assert.doesNotMatch(cli('XRANGE', `pasokh:conv:${c}:log`, '-', '+'), /hello from another team/, 'no reply was stored');
  assert.notEqual(cli('HGET', `pasokh:conv:${c}`, 'assignee'), outsider.id);
  await spy.close();
});

// A rating lands in the resolved conversation (within the reopen window) and
// leaves it resolved: it must not stay in the team's open list, where enough
// of them crowded the waiting customers out of the console's newest 400.
test('a rating after resolve keeps the conversation out of the open list; an ended one left there is dropped', async () => {
  // Room for whatever waits in the support queue too: its own conversation is assigned at once.
  const a = await newAgent('rated1', { capacity: 100 });
  const s = await agentSocket(gw1, a.token);
  await setPresence(s, 'online');
  const customer = newCustomer();
  const c = (await postMessage(gw1, { message_id: uid(), customer: { id: customer }, text: 'my phone does not charge' })).json.conversation_id;
  await s.next(isStatus(c, 'assigned'));
  s.send({ type: 'reply', conv: c, client_id: 'rr1', text: 'Try another cable' });
  await s.next((f) => f.type === 'ack' && f.client_id === 'rr1');
  assert.equal((await api(gw1, 'POST', `/api/v1/conversations/${c}/resolve`, a.token, {})).status, 200);
  const rated = await postMessage(gw2, { message_id: uid(), customer: { id: customer }, text: '5' });
  assert.equal(rated.json.conversation_id, c);
  assert.equal((await conv(c)).csat_rating, '5');
  assert.equal((await conv(c)).status, 'resolved');
  assert.equal(cli('ZSCORE', 'pasokh:team:support:open', c), '');
  // As an earlier version left it: listed nowhere, and taken out of the list.
  cli('ZADD', 'pasokh:team:support:open', String(Date.now()), c);
  const all = await api(gw1, 'GET', '/api/v1/conversations?view=all&limit=500', await boss());
  assert.ok(!all.json.conversations.some((v) => v.id === c));
  assert.equal(cli('ZSCORE', 'pasokh:team:support:open', c), '');
  await setPresence(s, 'away');
  await s.close();
});

test('inbox views list conversations with counts; the OpenAPI document is served', async () => {
  const a = await newAgent('view1', { capacity: 5 });
  const r = await api(gw1, 'GET', '/api/v1/conversations?view=unassigned', a.token);
  assert.equal(r.status, 200, r.text);
  assert.ok(Array.isArray(r.json.conversations));
  assert.equal(typeof r.json.counts.mine, 'number');
  assert.ok(r.json.conversations.every((c) => c.status === 'queued' && c.team === 'support'), 'waiting for a person');
  const mine = await api(gw1, 'GET', '/api/v1/conversations?view=mine', a.token);
  assert.equal(mine.json.conversations.length, 0);
  assert.equal((await api(gw1, 'GET', '/api/v1/conversations?view=bogus', a.token)).status, 400);
  assert.equal((await api(gw1, 'GET', '/api/v1/conversations?team=vip', a.token)).status, 403);
  const all = await api(gw1, 'GET', '/api/v1/conversations?view=all&limit=500', await boss());
  assert.ok(all.json.counts.all >= all.json.conversations.length);
  const doc = await api(gw1, 'GET', '/api/v1/openapi.json');
  assert.equal(doc.status, 200);
  assert.equal(doc.json.openapi.slice(0, 2), '3.');
  assert.ok(doc.json.paths['/api/v1/conversations/{conv}/transfer']);
});

// A badge says how many rows its view lists: "unassigned" waits for a
// person (not the bot), "mine" keeps the agent's snoozed ones.
test('each inbox view counts what it lists: the bot\'s are not unassigned, a snoozed one of mine is mine', async () => {
  const a = await newAgent('views2', { capacity: 5 });
  const s = await agentSocket(gw1, a.token);
  await setPresence(s, 'online');
  for (let i = 0; i < 3; i++) {
    const b = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'hi' }, { channel: 'botch' });
    assert.equal((await conv(b.json.conversation_id)).status, 'bot');
  }
  const mine = [];
  for (let i = 0; i < 2; i++) {
    const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'my order?' });
    const c = p.json.conversation_id;
    if ((await conv(c)).assignee !== a.id) {
      const r = await api(gw1, 'POST', `/api/v1/conversations/${c}/assign`, a.token, {});
      assert.equal(r.status, 200, r.text);
    }
    mine.push(c);
  }
  const z = await api(gw1, 'POST', `/api/v1/conversations/${mine[0]}/snooze`, a.token, { minutes: 30 });
  assert.equal(z.status, 200, z.text);
  const views = {};
  for (const view of ['mine', 'unassigned', 'team', 'all']) {
    const r = await api(gw1, 'GET', `/api/v1/conversations?view=${view}&status=open&limit=500`, a.token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.counts[view], r.json.total, `${view}: the count is what the view lists`);
    views[view] = r.json;
  }
  assert.ok(views.unassigned.conversations.every((c) => c.status === 'queued'));
  assert.ok(views.all.conversations.some((c) => c.status === 'bot'), 'the bot\'s are under status bot');
  assert.deepEqual(views.mine.conversations.map((c) => c.id).sort(), [...mine].sort());
  assert.equal(views.mine.conversations.find((c) => c.id === mine[0]).status, 'snoozed');
  await setPresence(s, 'away');
  await s.close();
});

// A backlog longer than a welcome's page: the console's badge is the queue's
// size, and the next to be assigned (the longest waiting) are listed.
test('an agent connecting to a backlog of 250 queued gets the counts of every view and the queue head', async () => {
  await api(gw1, 'POST', '/api/v1/admin/teams', await boss(), { id: 'backlog', name: 'backlog' });
  const agent = await newAgent('backlogger', { teams: ['backlog'] });  // away: nothing is assigned
  const queued = [];
  for (let round = 0; round < 10; round++) {
    queued.push(...await Promise.all(Array.from({ length: 25 }, async () => {
      const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'still waiting' });
      const t = await api(gw1, 'POST', `/api/v1/conversations/${p.json.conversation_id}/transfer`, await boss(), { team: 'backlog' });
      assert.equal(t.status, 200, t.text);
      return p.json.conversation_id;
    })));
  }
  assert.equal(Number(cli('ZCARD', 'pasokh:queue:backlog')), 250);
  const head = cli('ZRANGE', 'pasokh:queue:backlog', '0', '24').split('\n');
  const s = await agentSocket(gw1, agent.token);
  const w = s.welcome;
  assert.deepEqual(w.counts, { mine: 0, unassigned: 250, team: 250, all: 250 });
  assert.equal(w.open_total, 250);
  const ids = new Set(w.conversations.map((c) => c.id));
  assert.ok(head.every((id) => ids.has(id)), 'the 25 first in the queue are listed');
  assert.ok(ids.has(queued.at(-1)), 'and the newest');
  assert.ok(ids.size <= 200 + 25, `the newest 200 and the queue head: ${ids.size}`);
  assert.ok(w.conversations.every((c) => Number.isFinite(c.queued_at)), 'each says since when it waits');
  await s.close();
});

// The console gets the newest 200 open conversations on connect; the agent's
// own conversations come too however old, and the total says how many more
// there are.
test('an agent whose team has more than 200 open conversations still gets its own on connect, and the total', async () => {
  const { agent, socket, c } = await assignedInTeam('crowd', 'crowdy');
  await socket.close();
  const newer = [];
  for (let round = 0; round < 11; round++) {
    newer.push(...await Promise.all(Array.from({ length: 20 }, async () => {
      const p = await postMessage(gw1, { message_id: uid(), customer: { id: newCustomer() }, text: 'any news?' });
      const t = await api(gw1, 'POST', `/api/v1/conversations/${p.json.conversation_id}/transfer`, await boss(), { team: 'crowd' });
      assert.equal(t.status, 200, t.text);
      return p.json.conversation_id;
    })));
  }
  const again = await agentSocket(gw1, agent.token);
  const ids = again.welcome.conversations.map((v) => v.id);
  assert.ok(ids.includes(c), 'the agent’s own, oldest conversation is listed');
  assert.ok(ids.includes(newer.at(-1)), 'the newest is listed');
  assert.ok(ids.length <= 200 + 2 + 25, `at most the newest 200, the agent's own and the queue head: ${ids.length}`);
  assert.ok(again.welcome.open_total >= 221, `open_total ${again.welcome.open_total}`);
  await again.close();
});

test('an instance stopped (SIGTERM) gives the timer lease up on its way out: the other takes over at its next tick', async () => {
  const lease = () => cli('GET', 'pasokh:routing:timer_lease');
  await waitFor(async () => lease() !== '', 'a timer lease holder', 3000);
  const leader = lease().includes(`-${gw1.proc.pid}-`) ? gw1 : gw2;
  const pid = leader.proc.pid;
  assert.ok(lease().includes(`-${pid}-`), lease());
  await leader.stop('SIGTERM');
  // Left held, it would name the stopped process for lease_ms (2 s here).
  assert.ok(!lease().includes(`-${pid}-`), `still held by the stopped instance: ${lease()}`);
  await leader.start();
});

test('the timers keep running when the instance holding their lease dies', async () => {
  const watcher = await agentSocket(gw2, (await login(gw2, 'boss', 'boss-secret-1')).json.token);
  await gw1.stop('SIGKILL');  // whoever held the lease, only gw2 is left
  const p = await postMessage(gw2, { message_id: uid(), customer: { id: newCustomer() }, text: 'still there?' }, { channel: 'slach' });
  const c = p.json.conversation_id;
  const breach = await watcher.next((f) => f.type === 'event' && f.conv === c && f.event === 'sla' && f.state === 'breached', 10000);
  assert.equal(breach.sla, 'first_response');
  await watcher.close();
});

