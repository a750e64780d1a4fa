// Many agent consoles resyncing at once after the gateway's pub/sub link
// dropped: each gets exactly the events it missed (none lost, none twice, in
// order) and a snapshot like the one a lone console would read, its own
// conversations included, while Redis reads the team's open conversations
// once for all of them (routing/team_scans.hpp) instead of once per agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, apiCall, WsClient, eventsUntil, sleep, waitFor,
  monitorCounts, withPubSubDown,
} from '../support/harness.mjs';

const AGENTS = 12;
const OPEN = 230;  // more than a welcome's 200: the agents' own older ones come after the page

let redis, gw, boss;
const agents = [];  // { id, token }
const uid = () => `m-${Math.random().toString(36).slice(2)}`;
const post = async (customer, text) => {
  const r = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text });
  assert.equal(r.status, 201, r.text);
  return r.json;
};

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis)).start();
  await gw.createAgent('boss', 'boss-secret-1', { role: 'admin' });
  boss = (await login(gw, 'boss', 'boss-secret-1')).json.token;
  for (let i = 0; i < AGENTS; i++) {
    await gw.createAgent(`agent${i}`, `agent${i}-secret-1`);
    const signedIn = (await login(gw, `agent${i}`, `agent${i}-secret-1`)).json;
    agents.push({ id: signedIn.agent?.id, token: signedIn.token });
  }
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

// An agent console, away (routing assigns it nothing meanwhile).
async function console_(token) {
  const c = new WsClient(`${gw.wsBase}/ws/agent`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, presence: 'away' });
  c.welcome = await c.next((f) => f.type === 'welcome');
  return c;
}

// Counts the team scans Redis is sent (the gateway's own ZREVRANGE of the
// team's open list, from a client's address: not a script's, "[0 lua]")
// while it watches; total() once Redis has printed all it ran until then.
async function watchTeamScans() {
  const m = await monitorCounts(redis, /:\d+\] "ZREVRANGE" "(pasokh:team:support:open)"/);
  return { total: async () => (await m.stop()).get('pasokh:team:support:open') ?? 0, close: () => m.kill() };
}

const seqsOf = (events) => events.map((f) => f.seq);
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ids = (list) => list.map((c) => c.id);

test(`${AGENTS} agents resyncing together get every missed event once and one team scan serves them all`, async () => {
  // The oldest conversations first: each of the first four agents is given two of them (once present).
  const customers = Array.from({ length: OPEN }, (_, i) => `cu-${process.pid}-${i}`);
  const convs = [];
  for (const c of customers) convs.push((await post(c, `hello from ${c}`)).conversation_id);
  const consoles = [];
  for (const a of agents) consoles.push(await console_(a.token));
  for (let i = 0; i < 4; i++)
    for (const conv of [convs[2 * i], convs[2 * i + 1]]) {
      const r = await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/assign`, { token: boss, body: { agent_id: agents[i].id, force: true } });
      assert.equal(r.status, 200, r.text);
    }
  // Every console follows five busy conversations from a live message on.
  const busy = customers.slice(OPEN - 5);
  const busyConvs = convs.slice(OPEN - 5);
  const firstSeen = {};
  for (let k = 0; k < busy.length; k++) firstSeen[busyConvs[k]] = (await post(busy[k], 'live before the drop')).seq;
  await Promise.all(consoles.map((c) => eventsUntil(c, firstSeen)));

  const scans = await watchTeamScans();
  let fresh;
  try {
    await withPubSubDown(redis, async () => {
      for (let round = 0; round < 3; round++)
        for (const customer of busy) await post(customer, `missed ${round}`);
      // A new conversation while the link is down: only the snapshot tells of it.
      fresh = (await post(`cu-${process.pid}-new`, 'a new one meanwhile')).conversation_id;
    });
    // Live again: one more message of each.
    const last = {};
    for (let k = 0; k < busy.length; k++) last[busyConvs[k]] = (await post(busy[k], 'live after')).seq;
    const snapshots = await Promise.all(consoles.map((c) => c.next((f) => f.type === 'snapshot', 15000)));
    const seen = await Promise.all(consoles.map((c) => eventsUntil(c, last)));

    for (let a = 0; a < AGENTS; a++) {
      for (const conv of busyConvs)
        assert.deepEqual(seqsOf(seen[a][conv]), range(firstSeen[conv], last[conv]), `agent${a} ${conv}: every event once, in order`);
      assert.equal(consoles[a].frames.filter((f) => f.type === 'snapshot').length, 0, `agent${a}: one snapshot`);
      const snapshot = snapshots[a];
      assert.ok(ids(snapshot.conversations).includes(fresh), `agent${a}: the conversation opened meanwhile is listed`);
      assert.equal(snapshot.open_total, OPEN + 1);
      // Its own old ones, beyond the page, and nobody else's.
      const mine = a < 4 ? [convs[2 * a], convs[2 * a + 1]] : [];
      const old = new Set(convs.slice(0, 8));
      assert.deepEqual(ids(snapshot.conversations).filter((id) => old.has(id)).sort(), [...mine].sort(), `agent${a}'s own`);
      assert.equal(snapshot.counts.mine, mine.length);
    }
    assert.equal(await scans.total(), 1, `one team scan for ${AGENTS} agents`);

    // Once nothing changes, a shared snapshot is exactly what a console
    // connecting alone reads: rows, totals and counts.
    await withPubSubDown(redis, async () => {});
    const quiet = await Promise.all(consoles.map((c) => c.next((f) => f.type === 'snapshot', 15000)));
    for (const a of [0, 5]) {
      const lone = await console_(agents[a].token);
      assert.deepEqual(lone.welcome.conversations, quiet[a].conversations, `agent${a}: the same rows`);
      assert.equal(lone.welcome.open_total, quiet[a].open_total);
      assert.deepEqual(lone.welcome.counts, quiet[a].counts);
      await lone.close();
    }
  } finally {
    scans.close();
    await Promise.all(consoles.map((c) => c.close()));
  }
});
