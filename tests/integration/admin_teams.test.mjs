// What an administrator can do to teams, agents and channels without
// stranding customers or locking themselves out: a team still in use is not
// deleted, a conversation for a team that is gone goes where someone sees it.
// Real Redis and pasokh processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  RedisServer, Pasokh, defaultConfig, postMessage, login, apiCall, agentSocket, waitFor, pasokhBin, monitored,
} from '../support/harness.mjs';
import { fcallIn, metric, redisCli } from './messenger_support.mjs';

let redis, gw, boss;
let seq = 0;
const uid = () => `at-${process.pid}-${++seq}`;

// `shop` routes to sales, a rule sends VIPs to vip; support is the first team.
function config(extra = {}) {
  const c = defaultConfig(redis, {
    routing: {
      tick_interval_ms: 100,
      teams: [{ id: 'support', name: 'Support' }, { id: 'sales', name: 'Sales' }, { id: 'vip', name: 'VIP' },
        { id: 'spare', name: 'Spare' }],
      rules: [{ vip: true, team: 'vip' }],
    },
    ...extra,
  });
  c.channels = [
    { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'shop', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'sales' },
  ];
  return c;
}

const cli = (...args) => redisCli(redis, ...args);

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(config()).start();
  await gw.createAgent('boss', 'boss-secret-1', { role: 'admin', team: 'support' });
  boss = (await login(gw, 'boss', 'boss-secret-1')).json.token;
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

test('a team a channel, a rule or an open conversation still uses is not deleted (409 naming them)', async () => {
  const sales = await apiCall(gw, 'DELETE', '/api/v1/admin/teams/sales', { token: boss });
  assert.equal(sales.status, 409, sales.text);
  assert.equal(sales.json.error.code, 'team_in_use');
  assert.deepEqual(sales.json.error.channels, ['shop']);
  assert.match(sales.json.error.message, /team sales is still in use: channel shop routes to it/);

  const vip = await apiCall(gw, 'DELETE', '/api/v1/admin/teams/vip', { token: boss });
  assert.equal(vip.status, 409, vip.text);
  assert.deepEqual(vip.json.error.rules, [1]);
  assert.match(vip.json.error.message, /routing rule 1 names it/);

  // An assigned (not queued) conversation of the team holds it too.
  const p = await postMessage(gw, { message_id: uid(), customer: { id: uid() }, text: 'hello' });
  const c = p.json.conversation_id;
  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${c}/transfer`, { token: boss, body: { team: 'spare' } })).status, 200);
  const me = (await apiCall(gw, 'GET', '/api/v1/agents', { token: boss })).json.agents.find((a) => a.login === 'boss');
  const sock = await agentSocket(gw, boss);  // signed in (away): an admin may force it on them
  const assigned = await apiCall(gw, 'POST', `/api/v1/conversations/${c}/assign`,
    { token: boss, body: { agent_id: me.id, force: true } });
  assert.equal(assigned.status, 200, assigned.text);
  await sock.close();
  assert.equal(cli('ZCARD', 'pasokh:queue:spare'), '0');
  const spare = await apiCall(gw, 'DELETE', '/api/v1/admin/teams/spare', { token: boss });
  assert.equal(spare.status, 409, spare.text);
  assert.equal(spare.json.error.open_conversations, 1);
  assert.match(spare.json.error.message, /it has 1 open conversations \(0 queued\): transfer them first/);

  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${c}/resolve`, { token: boss })).status, 200);
  assert.equal((await apiCall(gw, 'DELETE', '/api/v1/admin/teams/spare', { token: boss })).status, 200);
});

test('a new conversation for a team that is gone goes to the first configured team, with a warning and a metric', async () => {
  // Deleted behind the gateway's back (an older version allowed it).
  cli('HDEL', 'pasokh:teams', 'sales');
  await waitFor(async () => !(await apiCall(gw, 'GET', '/api/v1/teams', { token: boss })).json.teams.some((t) => t.id === 'sales'),
    'the team cache without sales');
  const before = await metric(gw, 'pasokh_errors_total{kind="route_unknown_team"} ');
  const p = await postMessage(gw, { message_id: uid(), customer: { id: uid() }, text: 'is this on sale?' }, { channel: 'shop' });
  assert.equal(p.status, 201, p.text);
  assert.equal(cli('HGET', `pasokh:conv:${p.json.conversation_id}`, 'team'), 'support');
  assert.equal(cli('ZSCORE', 'pasokh:queue:sales', p.json.conversation_id), '');
  assert.equal(await metric(gw, 'pasokh_errors_total{kind="route_unknown_team"} '), before + 1);
  await waitFor(() => /channel=shop routes to team sales, which does not exist .*put in team support/.test(gw.output),
    'the warning in the log');
  const all = await apiCall(gw, 'GET', '/api/v1/conversations?view=all', { token: boss });
  assert.ok(all.json.conversations.some((x) => x.id === p.json.conversation_id), 'the admin sees it');
});

test('a team edited in the config file after its first start: the stored team is kept, and a warning names the fields', async () => {
  const c = config();
  c.routing.teams[0] = { id: 'support', name: 'Customer care',
    hours: { timezone: 'Asia/Tehran', weekly: { sat: ['09:00-17:00'] }, holidays: [] } };
  const again = new Pasokh(c);
  try {
    await again.start();
    await waitFor(() => /team support: the config file's hours,name not applied: .*Admin > Teams.*PUT \/api\/v1\/admin\/teams\/support/
      .test(again.output), 'the warning naming support, name and hours');
    assert.doesNotMatch(again.output, /team (vip|spare):/, 'teams as configured get no warning');
    const support = (await apiCall(again, 'GET', '/api/v1/admin/teams/support/hours', { token: boss })).json;
    assert.equal(support.hours, null, 'the stored hours (none) are used');
    const teams = (await apiCall(again, 'GET', '/api/v1/teams', { token: boss })).json.teams;
    assert.equal(teams.find((t) => t.id === 'support')?.name, 'Support', 'the stored name is used');
  } finally {
    await again.cleanup();
  }
});

test('--check-config warns of a channel whose team is not among routing.teams (a typo), and still passes', async () => {
  const c = config();
  c.channels[1].team = 'slaes';
  const g = new Pasokh(c);
  try {
    const r = spawnSync(pasokhBin, ['--config', g.configPath, '--check-config'], { env: g.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: channels\[1\] \("shop"\): team "slaes" is not in routing.teams \(support, sales, vip, spare\)/);
  } finally {
    await g.cleanup();
  }
});

test('an admin cannot take away their own admin role; another admin can be made an agent', async () => {
  const me = (await apiCall(gw, 'GET', '/api/v1/agents', { token: boss })).json.agents.find((a) => a.login === 'boss');
  const self = await apiCall(gw, 'PATCH', `/api/v1/admin/agents/${me.id}`, { token: boss, body: { role: 'agent' } });
  assert.equal(self.status, 409, self.text);
  assert.equal(self.json.error.code, 'self');
  assert.equal(cli('HGET', `pasokh:agent:${me.id}`, 'role'), 'admin');
  assert.equal((await apiCall(gw, 'PATCH', `/api/v1/admin/agents/${me.id}`, { token: boss, body: { name: 'The boss' } })).status, 200,
    'other changes to oneself still go');

  const made = await apiCall(gw, 'POST', '/api/v1/admin/agents',
    { token: boss, body: { login: 'deputy', password: 'deputy-secret-1', role: 'admin' } });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(made.json.teams, ['support'], 'no teams named: the first configured team, as --create-agent');
  const demoted = await apiCall(gw, 'PATCH', `/api/v1/admin/agents/${made.json.id}`, { token: boss, body: { role: 'agent' } });
  assert.equal(demoted.status, 200, demoted.text);
  assert.equal(cli('HGET', `pasokh:agent:${made.json.id}`, 'role'), 'agent');
});

test('the removed agents come with /api/v1/agents, not with the polled /api/v1/presence', async () => {
  const made = await apiCall(gw, 'POST', '/api/v1/admin/agents', { token: boss, body: { login: 'leaver', password: 'leaver-secret-1' } });
  assert.equal(made.status, 201, made.text);
  assert.equal((await apiCall(gw, 'DELETE', `/api/v1/admin/agents/${made.json.id}`, { token: boss })).status, 200);
  const agents = await apiCall(gw, 'GET', '/api/v1/agents', { token: boss });
  assert.deepEqual(agents.json.removed.find((a) => a.id === made.json.id), { id: made.json.id, name: 'leaver' });
  const presence = await apiCall(gw, 'GET', '/api/v1/presence', { token: boss });
  assert.equal(presence.status, 200, presence.text);
  assert.equal(presence.json.removed, undefined);
  assert.ok(presence.json.agents.some((a) => a.login === 'boss'));
});

test('/api/v1/agents reads the removed agents only after one more was removed, from any instance', async () => {
  const other = await new Pasokh(config()).start();
  try {
    const remove = async (login) => {
      const made = await apiCall(gw, 'POST', '/api/v1/admin/agents', { token: boss, body: { login, password: `${login}-secret-1` } });
      assert.equal(made.status, 201, made.text);
      assert.equal((await apiCall(other, 'DELETE', `/api/v1/admin/agents/${made.json.id}`, { token: boss })).status, 200);
      return made.json.id;
    };
    const removedIds = async () => {
      const r = await apiCall(gw, 'GET', '/api/v1/agents', { token: boss });
      assert.equal(r.status, 200, r.text);
      return r.json.removed.map((a) => a.id);
    };
    let first, second;
    const seen = await monitored(redis, async () => {
      first = await remove(uid());
      assert.ok((await removedIds()).includes(first));
      assert.ok((await removedIds()).includes(first), 'still listed when not read again');
      second = await remove(uid());  // on the other instance
      assert.ok((await removedIds()).includes(second));
    });
    const reads = seen.filter((l) => l.includes('"HGETALL" "pasokh:agents_removed"'));
    assert.equal(reads.length, 2, `once after each removal, not on every call:\n${reads.join('\n')}`);
  } finally {
    await other.cleanup();
  }
});

test('two admins demoting each other at the same moment: one of them stays admin (every round of 20)', async () => {
  // Its own key prefix, so the two are the only admins.
  const c = config();
  c.redis.prefix = 'duel:';
  const g = new Pasokh(c);
  try {
    await g.start();
    await g.createAgent('ana', 'ana-secret-1', { role: 'admin' });
    await g.createAgent('ben', 'ben-secret-1', { role: 'admin' });
    const [ana, ben] = [(await login(g, 'ana', 'ana-secret-1')).json, (await login(g, 'ben', 'ben-secret-1')).json];
    const admins = () => [ana, ben].filter((a) => cli('HGET', `duel:agent:${a.agent.id}`, 'role') === 'admin');
    for (let round = 0; round < 20; round++) {
      const [byAna, byBen] = await Promise.all([
        apiCall(g, 'PATCH', `/api/v1/admin/agents/${ben.agent.id}`, { token: ana.token, body: { role: 'agent' } }),
        apiCall(g, 'PATCH', `/api/v1/admin/agents/${ana.agent.id}`, { token: ben.token, body: { role: 'agent' } }),
      ]);
      const left = admins();
      assert.equal(left.length, 1, `round ${round}: ${byAna.status} ${byAna.text} / ${byBen.status} ${byBen.text}`);
      // The other request is turned away: as the last admin's, or as no admin's any more.
      assert.deepEqual([byAna.status, byBen.status].filter((st) => st === 200), [200], 'one demotion went through');
      // Both admins again (a promotion needs no check), for the next round.
      const back = await apiCall(g, 'PATCH', `/api/v1/admin/agents/${left[0] === ana ? ben.agent.id : ana.agent.id}`,
        { token: left[0].token, body: { role: 'admin' } });
      assert.equal(back.status, 200, back.text);
    }
  } finally {
    await g.cleanup();
  }
});

test('two admins removing each other at the same moment: one of them stays admin (every round of 20)', async () => {
  // Its own key prefix, so the two are the only admins; each request to its own gateway.
  const c = config();
  c.redis.prefix = 'purge:';
  const [g1, g2] = [new Pasokh(c), new Pasokh(c)];
  try {
    await Promise.all([g1.start(), g2.start()]);
    await g1.createAgent('ana', 'ana-secret-1', { role: 'admin' });
    let survivor = (await login(g1, 'ana', 'ana-secret-1')).json;
    for (let round = 0; round < 20; round++) {
      const made = await apiCall(g1, 'POST', '/api/v1/admin/agents',
        { token: survivor.token, body: { login: `rival${round}`, password: 'rival-secret-1', role: 'admin' } });
      assert.equal(made.status, 201, made.text);
      const rival = (await login(g2, `rival${round}`, 'rival-secret-1')).json;
      const [bySurvivor, byRival] = await Promise.all([
        apiCall(g1, 'DELETE', `/api/v1/admin/agents/${rival.agent.id}`, { token: survivor.token }),
        apiCall(g2, 'DELETE', `/api/v1/admin/agents/${survivor.agent.id}`, { token: rival.token }),
      ]);
      const said = `round ${round}: ${bySurvivor.status} ${bySurvivor.text} / ${byRival.status} ${byRival.text}`;
      const left = [survivor, rival].filter((a) => cli('HGET', `purge:agent:${a.agent.id}`, 'role') === 'admin');
      assert.equal(left.length, 1, said);
      // The other is turned away: as the last admin's (409 last_admin), or,
      // when it came a moment later, as no admin's any more (its session ended: 401).
      const [won, lost] = bySurvivor.status === 200 ? [bySurvivor, byRival] : [byRival, bySurvivor];
      assert.equal(won.status, 200, said);
      assert.ok(lost.status === 401 || (lost.status === 409 && lost.json.error.code === 'last_admin'), said);
      survivor = left[0];
    }
  } finally {
    await g1.cleanup();
    await g2.cleanup();
  }
});

test('a removal or demotion asked by an admin removed or demoted meanwhile is refused, in the same step', async () => {
  const c = config();
  c.redis.prefix = 'late:';
  const g = new Pasokh(c);
  try {
    await g.start();
    for (const name of ['ana', 'ben', 'cyrus']) await g.createAgent(name, `${name}-secret-1`, { role: 'admin' });
    await g.createAgent('dara', 'dara-secret-1');
    const [ana, ben] = [(await login(g, 'ana', 'ana-secret-1')).json.token, (await login(g, 'ben', 'ben-secret-1')).json.token];
    // Over REST: ben, signed in as an admin, is demoted behind his session's
    // back; what he asks next is refused and changes nothing. (Each request
    // reads the role afresh, so it is turned away before the script; the
    // script's own check is for a request let in just before.)
    cli('HSET', 'late:agent:ag_ben', 'role', 'agent');
    const removal = await apiCall(g, 'DELETE', '/api/v1/admin/agents/ag_dara', { token: ben });
    assert.equal(removal.status, 403, removal.text);
    assert.equal(removal.json.error.code, 'forbidden');
    assert.match(removal.json.error.message, /needs the admin role/);
    const demotion = await apiCall(g, 'PATCH', '/api/v1/admin/agents/ag_cyrus', { token: ben, body: { role: 'agent' } });
    assert.equal(demotion.status, 403, demotion.text);
    assert.equal(demotion.json.error.code, 'forbidden');
    assert.equal(cli('EXISTS', 'late:agent:ag_dara'), '1');
    assert.equal(cli('HGET', 'late:agent:ag_cyrus', 'role'), 'admin');
    // The gateway hands the script the acting admin, for it to check in the
    // same step (a request let in just before a demotion).
    const calls = await monitored(redis, async () => {
      const demoted = await apiCall(g, 'PATCH', '/api/v1/admin/agents/ag_cyrus', { token: ana, body: { role: 'agent' } });
      assert.equal(demoted.status, 200, demoted.text);
    });
    const demoteCall = calls.find((l) => /"FCALL" "agent_admin_[0-9a-f]+" "0" "late:" "demote" "ag_cyrus"/.test(l));
    assert.ok(demoteCall, `the script's call:\n${calls.join('\n')}`);
    assert.match(demoteCall, /"ag_ana"$/, 'the acting admin is its last argument');
    cli('HSET', 'late:agent:ag_cyrus', 'role', 'admin');

    // The script as the gateway calls it once ben's request was let in (his role checked).
    const fcall = (...args) => fcallIn(redis, 'late:', 'agent_admin', ...args);
    assert.equal(fcall('delete', 'ag_dara', String(Date.now()), '', 'ag_ben'), 'not_admin');
    assert.equal(fcall('demote', 'ag_cyrus', String(Date.now()), '', 'ag_ben'), 'not_admin');
    assert.equal(cli('EXISTS', 'late:agent:ag_dara'), '1');
    assert.equal(cli('HGET', 'late:agent:ag_cyrus', 'role'), 'admin');
    // Removed meanwhile: the same.
    assert.equal(fcall('delete', 'ag_ben', String(Date.now()), '', 'ag_ana'), 'ok');
    assert.equal(fcall('delete', 'ag_dara', String(Date.now()), '', 'ag_ben'), 'not_admin');
    assert.equal(fcall('delete', 'ag_dara', String(Date.now()), '', 'ag_ana'), 'ok');
    assert.equal(fcall('delete', 'ag_dara', String(Date.now()), '', 'ag_ana'), 'not_found');
    // The last admin stays, whoever asks.
    assert.equal(fcall('delete', 'ag_cyrus', String(Date.now()), '', 'ag_ana'), 'ok');
    assert.equal(fcall('delete', 'ag_ana', String(Date.now()), '', ''), 'last_admin');
    assert.equal(cli('HGET', 'late:agent:ag_ana', 'role'), 'admin');
  } finally {
    await g.cleanup();
  }
});

test('--create-agent checks the agent as the REST API does and says what it did', async () => {
  const create = (spec, password = 'cli-secret-1') => spawnSync(pasokhBin, ['--config', gw.configPath, '--create-agent', spec],
    { env: { ...gw.env, PASOKH_NEW_AGENT_PASSWORD: password }, encoding: 'utf8', timeout: 30000 });
  const superuser = create('root,Root,superuser,support');
  assert.equal(superuser.status, 2, superuser.stderr);
  assert.match(superuser.stderr, /--create-agent root,Root,superuser,support: role: agent or admin/);
  const typo = create('lina,Lina,agent,suport');
  assert.equal(typo.status, 2, typo.stderr);
  assert.match(typo.stderr, /teams: unknown team "suport"/);
  assert.match(create('lina,Lina,agent,support', 'short').stderr, /password: 8 to 1024 bytes/);
  assert.equal(cli('EXISTS', 'pasokh:agent_login:root', 'pasokh:agent_login:lina'), '0', 'nothing was created');

  const made = create('lina,Lina,admin,support+sales');
  assert.equal(made.status, 0, made.stderr);
  assert.equal(made.stdout.trim(), 'created ag_lina (admin, teams support,sales)');
  assert.match(made.stderr, /\[audit\] \[info\] admin=cli action=agent\.create target=ag_lina login=lina role=admin teams=support,sales$/m);
  assert.equal((await login(gw, 'lina', 'cli-secret-1')).status, 200);
  const again = create('lina,Lina,agent,support');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /login lina already exists/);
  const plain = create('omid');
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.trim(), 'created ag_omid (agent, teams support)', 'an agent of the first configured team');
});
