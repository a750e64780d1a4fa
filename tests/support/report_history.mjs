// A scripted support history for the report tests (integration and browser):
// conversation logs written as the conversation scripts write them, at known
// times in Tehran (+03:30 in February 2020), so every figure is known by hand.
//
// Team "support": Saturday–Wednesday 09:00–17:00, Thursday 09:00–13:00,
// Friday closed, 2020-02-11 (22 Bahman) a holiday; first response SLA 1 h.
// Team "vip": always open; first response SLA 1 h.
//
// Before the period (CRR's S is January 3–31):
//   sara 01-10, lost 01-15, reza 01-20, omid 01-25; old 2019-12-01
// February 2020:
//   A  sara  api  Wed 02-05 16:30 → Ali Thu 09:10 (night: 30+10 = 40 min),
//      customer 09:20 → Ali 09:25 (5 min), resolved 09:30 (60 min), rated 5
//      (the rating arrived as a side conversation, closed: not a contact)
//   B  reza  web  Thu 02-06 12:00 → SLA breached Thu 13:00 → Maryam Sat 10:00
//      (weekend: 60+60 = 120 min), resolved 10:30 (150 min), rated 3
//   C  negar api  the bot Mon 02-10 16:00–16:10, handoff 16:10 → SLA breached
//      Wed 09:10 → Maryam Wed 02-12 09:20 (holiday: 50+20 = 70 min; 80 if bot
//      time counted), resolved 10:00 (110 min), rated 4; the customer reopens
//      14:00 → Maryam 14:30 (30 min), resolved 15:00 (60 min)
//   D  layla api  the bot Sat 02-15 11:00, never handed off, resolved by the
//      bot when she left it (Sun 11:00): deflected
//   E  layla api  team vip Sun 02-16 20:00 → Ali 20:30 (30 min, always open),
//      resolved 21:00 (60 min)
//   F  old   web  Tue 02-18 10:00 → Ali 10:02 (2 min), resolved 10:10 (10 min)
// After: sara 03-05.
import { execFileSync } from 'node:child_process';
import { Pasokh, RedisServer, defaultConfig, login } from './harness.mjs';

export const TEAMS = [
  { id: 'support', name: 'Support',
    hours: { timezone: 'Asia/Tehran',
      weekly: { sat: ['09:00-17:00'], sun: ['09:00-17:00'], mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-13:00'] },
      holidays: ['2020-02-11'] },
    sla: { first_response_s: 3600 } },
  { id: 'vip', name: 'VIP', sla: { first_response_s: 3600 } },
];

export const tehran = (local) => Date.parse(`${local}+03:30`);
const MIN = 60_000;

export const EXPECTED = {
  conversations: { total: 6, by_channel: { api: 4, web: 2 }, by_team: { support: 5, vip: 1 } },
  first_response: { count: 5, median_ms: 40 * MIN, p90_ms: 120 * MIN, average_ms: (2 + 30 + 40 + 70 + 120) * MIN / 5 },
  resolution: { count: 6, median_ms: 60 * MIN, p90_ms: 150 * MIN, average_ms: (10 + 60 + 60 + 60 + 110 + 150) * MIN / 6, reopened: 1 },
  responses: { count: 7, median_ms: 30 * MIN, p90_ms: 120 * MIN, average_ms: Math.floor((2 + 5 + 30 + 30 + 40 + 70 + 120) * MIN / 7) },
  csat: { asked: 3, asked_rated: 3, responses: 3, average: 4, complaints: 0, distribution: { 1: 0, 2: 0, 3: 1, 4: 1, 5: 1 } },
  bot: { conversations: 2, deflected: 1, deflection_rate: 50 },
  sla: { conversations: 5, met: 3, breached: 2, pending: 0, first_response_breached: 2, resolution_breached: 0, met_rate: 60 },
  repeat_contacts: { customers: 1, rate: 20 },
  // S = sara lost reza omid (January), E = sara reza negar layla old; sara and reza
  // came back: 2 of 4. (It was 75 with N = "never wrote before", which left old,
  // dormant since December and not in S, in E - N: a CRR that could pass 100%.)
  retention: { customers_at_start: 4, customers_at_end: 5, retained_customers: 2, new_customers: 2, reactivated_customers: 1, crr: 50 },
};

// Ali: A (40, 5), E (30), F (2). Maryam: B (120), C (70, 30).
export function expectedAgents(ali, maryam) {
  return {
    [ali]: { name: 'علی رضایی', conversations: 3, replies: 4, resolved: 3, first_response_median_ms: 30 * MIN,
      response_median_ms: 5 * MIN, response_p90_ms: 40 * MIN, csat_responses: 1, csat_average: 5 },
    [maryam]: { name: 'مریم احمدی', conversations: 2, replies: 3, resolved: 3, first_response_median_ms: 70 * MIN,
      response_median_ms: 70 * MIN, response_p90_ms: 120 * MIN, csat_responses: 2, csat_average: 3.5 },
  };
}

// Runs commands through one redis-cli process (its stdin, arguments quoted).
export function redisPipe(port) {
  const quote = (a) => `"${String(a).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  return (commands) => execFileSync('redis-cli', ['-p', String(port)],
    { input: commands.map((c) => c.map(quote).join(' ')).join('\n') + '\n' }).toString();
}

// Writes the history into the Redis on `port`; returns the conversation ids by name.
export function writeHistory(port, { ali, maryam, prefix = 'pasokh:' }) {
  const commands = [];
  const redis = (...args) => { commands.push(args); };
  let next = Number(execFileSync('redis-cli', ['-p', String(port), 'GET', `${prefix}next:conversation`]).toString().trim() || 0);
  const ids = {};
  const conversation = (name, customer, channel, team, opened, { bot = false } = {}) => {
    const id = `cv_${++next}`;
    ids[name] = id;
    const c = { id, channel, team, customer, status: bot ? 'bot' : 'queued', assignee: '', created: tehran(opened), seq: 0, sla: false };
    const push = (fields) => {
      c.seq += 1;
      const view = { id, channel, kind: 'api', customer_id: customer, status: c.status, priority: 'normal', assignee: c.assignee,
        team, seq: c.seq, created_at: c.created, updated_at: fields.at ?? fields.message?.created_at ?? c.created };
      if (c.sla) view.sla_first_due = c.created + 3_600_000;
      const frame = { type: 'event', conv: id, seq: c.seq, event: fields.event, conversation: view, ...fields };
      redis('XADD', `${prefix}conv:${id}:log`, `${c.seq}-1`, 'f', JSON.stringify(frame));
      redis('HSET', `${prefix}conv:${id}`, 'id', id, 'channel', channel, 'kind', 'api', 'customer_id', customer, 'status', c.status,
        'team', team, 'assignee', c.assignee, 'seq', String(c.seq), 'created_at', String(c.created));
    };
    const message = (direction, author, at, extra = {}) => push({ event: 'message',
      message: { id: `${id}:${c.seq + 1}`, conversation_id: id, seq: c.seq + 1, direction, author, text: 'متن', channel,
        created_at: at, status: direction === 'in' ? 'delivered' : 'pending', ...extra } });
    const api = {
      customer: (local) => { message('in', 'customer', tehran(local)); return api; },
      bot: (local) => { message('out', 'bot', tehran(local) + 5000, { author_name: 'Pasokh' }); return api; },
      agent: (local, who) => { c.status = 'assigned'; c.assignee = who; message('out', 'agent', tehran(local), { author_id: who }); return api; },
      status: (local, status, extra = {}) => {
        const from = c.status;
        c.status = status;
        push({ event: 'status', status, from, actor: 'system', at: tehran(local), ...extra });
        return api;
      },
      sla: () => { c.sla = true; return api; },
      breach: (local) => { push({ event: 'sla', sla: 'first_response', state: 'breached', due: tehran(local), at: tehran(local) }); return api; },
      ask: (local) => {
        message('out', 'system', tehran(local), { buttons: [1, 2, 3, 4, 5].map((n) => ({ id: `csat:${n}`, title: String(n) })) });
        return api;
      },
      rate: (local, rating, agent) => { push({ event: 'csat', rating, agent, at: tehran(local), via: id }); return api; },
    };
    redis('RPUSH', `${prefix}cust:${customer}:conversations`, id);
    return api.customer(opened);
  };
  const simple = (name, customer, opened, replied, resolved) =>
    conversation(name, customer, 'api', 'support', opened).agent(replied, ali).status(resolved, 'resolved');

  simple('P0', 'c_old', '2019-12-01T10:00', '2019-12-01T10:05', '2019-12-01T10:30');
  simple('P1', 'c_sara', '2020-01-10T10:00', '2020-01-10T10:05', '2020-01-10T10:30');
  simple('P2', 'c_lost', '2020-01-15T10:00', '2020-01-15T10:05', '2020-01-15T10:30');
  simple('P3', 'c_reza', '2020-01-20T10:00', '2020-01-20T10:05', '2020-01-20T10:30');
  simple('P4', 'c_omid', '2020-01-25T10:00', '2020-01-25T10:05', '2020-01-25T10:30');

  conversation('A', 'c_sara', 'api', 'support', '2020-02-05T16:30').sla()
    .agent('2020-02-06T09:10', ali).customer('2020-02-06T09:20').agent('2020-02-06T09:25', ali)
    .status('2020-02-06T09:30', 'resolved').ask('2020-02-06T09:30').rate('2020-02-06T09:40', 5, ali);
  conversation('A_rating', 'c_sara', 'api', 'support', '2020-02-06T09:40')
    .status('2020-02-06T09:40', 'closed', { reason: 'csat', side_of: 'A' });
  conversation('B', 'c_reza', 'web', 'support', '2020-02-06T12:00').sla().breach('2020-02-06T13:00')
    .agent('2020-02-08T10:00', maryam).status('2020-02-08T10:30', 'resolved').ask('2020-02-08T10:30').rate('2020-02-08T10:45', 3, maryam);
  conversation('C', 'c_negar', 'api', 'support', '2020-02-10T16:00', { bot: true }).bot('2020-02-10T16:00')
    .customer('2020-02-10T16:05').status('2020-02-10T16:10', 'queued', { actor: 'bot', tags: 'repair' }).sla()
    .breach('2020-02-12T09:10').agent('2020-02-12T09:20', maryam).status('2020-02-12T10:00', 'resolved')
    .ask('2020-02-12T10:00').rate('2020-02-12T10:05', 4, maryam)
    .customer('2020-02-12T14:00').status('2020-02-12T14:00', 'queued', { actor: 'customer', reason: 'reopened_by_customer' })
    .agent('2020-02-12T14:30', maryam).status('2020-02-12T15:00', 'resolved');
  conversation('D', 'c_layla', 'api', 'support', '2020-02-15T11:00', { bot: true }).bot('2020-02-15T11:00')
    .status('2020-02-16T11:00', 'resolved', { actor: 'bot', reason: 'bot_idle' });
  conversation('E', 'c_layla', 'api', 'vip', '2020-02-16T20:00').sla().agent('2020-02-16T20:30', ali)
    .status('2020-02-16T21:00', 'resolved');
  conversation('F', 'c_old', 'web', 'support', '2020-02-18T10:00').sla().agent('2020-02-18T10:02', ali)
    .status('2020-02-18T10:10', 'resolved');
  conversation('after', 'c_sara', 'api', 'support', '2020-03-05T10:00');
  redis('SET', `${prefix}next:conversation`, String(next));
  redisPipe(port)(commands);
  return ids;
}

// A Redis and a gateway with the history's teams and agents (Ali, Maryam and
// the admin Boss, plus `more` as [login, password, name]), signed in.
export async function startReportsGateway(more = []) {
  const redis = await new RedisServer().start();
  const gw = await new Pasokh(defaultConfig(redis, { routing: { teams: TEAMS } })).start();
  const agents = [['ali', 'ali-secret-1', 'علی رضایی'], ['maryam', 'maryam-secret-2', 'مریم احمدی'], ...more];
  for (const [name, password, displayName] of agents) await gw.createAgent(name, password, { name: displayName });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  const ali = (await login(gw, 'ali', 'ali-secret-1')).json;
  return {
    redis, gw, ali: ali.token, aliId: ali.agent.id,
    maryamId: (await login(gw, 'maryam', 'maryam-secret-2')).json.agent.id,
    boss: (await login(gw, 'boss', 'boss-secret-3')).json.token,
  };
}
