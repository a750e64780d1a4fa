// "End chat" in the widget on a shared computer: the browser forgets the
// visitor, and DELETE /api/v1/webchat/sessions makes their token worthless to
// anyone who copied it, on every instance. The conversation stays with the
// agents, who are told in it that the customer left (visitor_left) and
// whether their replies can still reach them by email.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, freePort, login, sleep } from '../support/harness.mjs';
import { MailDev } from '../support/maildev.mjs';
import { fcall, redisCli as cli } from './messenger_support.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'end-test-webchat-secret-0123456789' };
const SHOP = 'https://shop.example.com';  // the page the widget is on
let redis, sink, gw, other, agentToken;

before(async () => {
  redis = await new RedisServer().start();
  sink = await new MailDev().start();
  const smtpPort = await freePort();
  const config = (smtp) => defaultConfig(redis, {
    channels: [
      { id: 'web', kind: 'webchat', team: 'support', provider: { allowed_origins: [SHOP] } },
      // Replies the customer has not read go to their proved email.
      { id: 'web-mail', kind: 'webchat', team: 'support',
        provider: { allowed_origins: [SHOP], email_fallback_channel: 'mail', email_fallback_after_s: 600 } },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], from_address: 'support@shop.example',
        smtp: { address: '127.0.0.1', port: smtp }, relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none' } } },
    ],
  });
  [gw, other] = await Promise.all([new Pasokh(config(smtpPort), SECRET).start(),
    new Pasokh(config(await freePort()), SECRET).start()]);
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  agentToken = (await login(gw, 'sara', 'sara-secret-1')).json.token;
});

after(async () => {
  await Promise.all([gw?.cleanup(), other?.cleanup()]);
  await sink?.stop();
  await redis?.cleanup();
});

function session(body, g = gw) {
  return fetch(`${g.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: SHOP }, body: JSON.stringify({ channel: 'web', ...body }),
  });
}

function endChat(token, g = gw, query = '') {
  return fetch(`${g.base}/api/v1/webchat/sessions${query}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, origin: SHOP } });
}

async function chatSocket(token, g = gw, channel = 'web') {
  const c = new WsClient(`${g.wsBase}/ws/chat?channel=${channel}`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, lang: 'en' });
  return c;
}

test('after End chat the old token gets 401 on the API and 1008 on the socket, open sockets close on every instance; the conversation stays', async () => {
  const first = await (await session({})).json();
  const renewed = await (await session({ token: first.token })).json();  // another token of the same visitor
  assert.equal(renewed.visitor_id, first.visitor_id);

  const here = await chatSocket(first.token);
  await here.next((f) => f.type === 'synced');
  here.send({ type: 'message', client_id: 'c-1', text: 'where is my order 4412?' });
  const { conv } = await here.next((f) => f.type === 'ack');
  const status = await cli(redis, 'HGET', `pasokh:conv:${conv}`, 'status');
  const there = await chatSocket(renewed.token, other);  // a tab on another instance
  await there.next((f) => f.type === 'synced');

  const ended = await endChat(first.token);
  assert.equal(ended.status, 204);
  assert.equal(ended.headers.get('access-control-allow-origin'), SHOP);

  for (const c of [here, there]) {
    assert.equal((await c.next((f) => f.type === 'error')).code, 'token_invalid');
    assert.deepEqual(await c.closed, { code: 1008, reason: 'token_invalid' });
  }
  for (const token of [first.token, renewed.token]) {
    const renew = await session({ token });
    assert.equal(renew.status, 401);
    assert.equal((await renew.json()).error.code, 'token_invalid');
    assert.equal(renew.headers.get('access-control-allow-origin'), SHOP);
    const upload = await fetch(`${gw.base}/api/v1/webchat/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '%PDF-1.7' });
    assert.equal(upload.status, 401);
    const late = await chatSocket(token, other);
    assert.equal((await late.next((f) => f.type === 'error')).code, 'token_invalid');
    assert.equal((await late.closed).code, 1008);
  }
  // Nothing happened to the conversation; the next person is a new visitor.
  assert.equal(await cli(redis, 'HGET', `pasokh:conv:${conv}`, 'status'), status);
  const next = await (await session({})).json();
  assert.notEqual(next.visitor_id, first.visitor_id);
  const ttl = Number(await cli(redis, 'TTL', `pasokh:webchat:ended:web:${first.visitor_id}`));
  assert.ok(ttl > 30 * 86400 && ttl <= 30 * 86400 + 60, `ttl ${ttl}`);
});

test('End chat needs the visitor token; the widget\'s preflight allows DELETE with it', async () => {
  const none = await fetch(`${gw.base}/api/v1/webchat/sessions`, { method: 'DELETE', headers: { origin: SHOP } });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('access-control-allow-origin'), SHOP);
  const pre = await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'OPTIONS', headers: { origin: SHOP, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(pre.status, 204);
  assert.match(pre.headers.get('access-control-allow-methods'), /DELETE/);
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/i);
});

// A visitor of `channel` who wrote once: their token and conversation.
async function writingVisitor(channel, text) {
  const { token, visitor_id } = await (await session({ channel })).json();
  const c = await chatSocket(token, gw, channel);
  await c.next((f) => f.type === 'synced');
  c.send({ type: 'message', client_id: 'c-1', text });
  const { conv } = await c.next((f) => f.type === 'ack');
  return { c, token, visitor_id, conv };
}

const leftEvents = (agent, conv) => agent.frames.filter((f) => f.type === 'event' && f.conv === conv && f.event === 'visitor_left');

test('End chat tells the agents in the conversation, once, live and in its history; nothing else about it changes', async () => {
  const agent = await agentSocket(gw, agentToken);
  const { c, token, visitor_id, conv } = await writingVisitor('web', 'is my parcel on the way?');
  await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'message');
  const fields = ['status', 'assignee', 'team', 'updated_at', 'sla_first_due'];
  const before = await cli(redis, 'HMGET', `pasokh:conv:${conv}`, ...fields);
  // Another tab's token of the same visitor, ended at the same moment on the other instance.
  const { token: renewed } = await (await session({ channel: 'web', token })).json();
  const ended = await Promise.all([endChat(token), endChat(renewed, other)]);
  assert.ok(ended.some((r) => r.status === 204), ended.map((r) => r.status).join());
  assert.equal((await c.closed).code, 1008);

  const left = await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'visitor_left');
  assert.equal(left.channel, 'web');
  assert.equal(left.by_email, false, 'no email to mail replies to');
  assert.equal(typeof left.at, 'number');
  assert.equal(left.conversation.status, await cli(redis, 'HGET', `pasokh:conv:${conv}`, 'status'));
  assert.equal((await endChat(token)).status, 401, 'a repeat finds the token refused');
  // One that passed the token check before the end was stored (a retry racing it).
  assert.equal(fcall(redis, 'webchat_end', 'web', visitor_id, String(Date.now()), '60', ''), 'already');
  await sleep(300);
  assert.equal(leftEvents(agent, conv).length, 0, 'told once');
  assert.deepEqual(await cli(redis, 'HMGET', `pasokh:conv:${conv}`, ...fields), before, 'status, SLA and list order stay');

  agent.send({ type: 'history', conv, after: 0 });
  const h = await agent.next((f) => f.type === 'history');
  assert.deepEqual(h.events.map((e) => e.event), ['message', 'visitor_left']);
  assert.equal(h.events[1].seq, left.seq);
  await agent.close();
});

test('the agents learn whether replies still reach the customer who left: by email only to an address they proved', async () => {
  const agent = await agentSocket(gw, agentToken);
  const { token, visitor_id, conv } = await writingVisitor('web-mail', 'please mail me the invoice');
  const cust = await cli(redis, 'GET', `pasokh:ident:web-mail:${visitor_id}`);
  // As a confirmed link leaves the file (customer_merge.lua 'verify').
  await cli(redis, 'HSET', `pasokh:cust:${cust}`, 'email', 'reza@example.com');
  await cli(redis, 'SADD', `pasokh:cust:${cust}:keys`, 'email:reza@example.com');
  assert.equal((await endChat(token)).status, 204);
  const left = await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'visitor_left');
  assert.equal(left.by_email, true);

  // An address only typed into the form is no way to reach them.
  const typed = await writingVisitor('web-mail', 'hello?');
  const typedCust = await cli(redis, 'GET', `pasokh:ident:web-mail:${typed.visitor_id}`);
  await cli(redis, 'HSET', `pasokh:cust:${typedCust}`, 'email', 'someone@example.com');
  assert.equal((await endChat(typed.token)).status, 204);
  const unproved = await agent.next((f) => f.type === 'event' && f.conv === typed.conv && f.event === 'visitor_left');
  assert.equal(unproved.by_email, false);
  await agent.close();
});

// The customer's file has `address` as a proved key (as a confirmed code leaves it: customer_merge.lua 'verify').
async function proveEmail(channel, visitorId, address) {
  const cust = await cli(redis, 'GET', `pasokh:ident:${channel}:${visitorId}`);
  await cli(redis, 'HSET', `pasokh:cust:${cust}`, 'email', address);
  await cli(redis, 'SADD', `pasokh:cust:${cust}:keys`, `email:${address}`);
}

test('"Email me a copy" at End chat mails what the customer saw, in their language, only to a proved address', async () => {
  const agent = await agentSocket(gw, agentToken);
  const { token, visitor_id, conv } = await writingVisitor('web-mail', 'فاکتور سفارش ۴۴۱۲ را می‌خواهم');
  await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'message');
  agent.send({ type: 'reply', conv, client_id: 'r-1', text: 'فاکتور را همین حالا فرستادیم.' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'r-1');
  const note = await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/notes`, { token: agentToken, body: { text: 'PRIVATE: refund flagged', client_id: 'n-1' } });
  assert.equal(note.status < 300, true, `note: ${note.status}`);
  await proveEmail('web-mail', visitor_id, 'mina@example.com');

  // The answer says it was mailed, for the widget to tell the customer.
  const ended = await endChat(token, gw, '?transcript=1&lang=fa');
  assert.equal(ended.status, 200);
  assert.deepEqual(await ended.json(), { mailed: true });
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'mina@example.com', 'the copy');
  assert.equal(mail.subject, 'رونوشت گفتگوی شما');
  assert.match(mail.text, /فاکتور سفارش ۴۴۱۲ را می‌خواهم/);
  assert.match(mail.text, /Sara:\s*\n?فاکتور را همین حالا فرستادیم/);
  assert.doesNotMatch(mail.text, /PRIVATE|refund/, 'no internal note');
  assert.ok(mail.text.indexOf('۴۴۱۲') < mail.text.indexOf('همین حالا'), 'in order');
  await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'visitor_left');

  // An address only typed into the form gets no copy; nor does a visitor who did not ask.
  const typed = await writingVisitor('web-mail', 'copy please');
  const typedCust = await cli(redis, 'GET', `pasokh:ident:web-mail:${typed.visitor_id}`);
  await cli(redis, 'HSET', `pasokh:cust:${typedCust}`, 'email', 'stranger@example.com');
  const refused = await endChat(typed.token, gw, '?transcript=1');
  assert.equal(refused.status, 200);
  assert.deepEqual(await refused.json(), { mailed: false }, 'the widget promises no copy');
  const quiet = await writingVisitor('web-mail', 'no copy');
  await proveEmail('web-mail', quiet.visitor_id, 'quiet@example.com');
  assert.equal((await endChat(quiet.token)).status, 204);
  await agent.next((f) => f.type === 'event' && f.conv === quiet.conv && f.event === 'visitor_left');
  await sleep(1500);
  const to = (await sink.emails()).map((m) => m.to?.[0]?.address);
  assert.ok(!to.includes('stranger@example.com') && !to.includes('quiet@example.com'), to.join());
  await agent.close();
});

// As many of the newest messages as the copy holds: a chat longer than the log
// read for it (5,000 entries) loses its beginning, and the copy says so.
test('the copy of a very long chat has its newest messages and says the earlier ones are left out', { timeout: 60000 }, async () => {
  const { token, visitor_id, conv } = await writingVisitor('web-mail', 'the very first message');
  await proveEmail('web-mail', visitor_id, 'long@example.com');
  // 5,100 more messages of the customer's, as the log keeps them (the first one's frame, renumbered).
  await cli(redis, 'EVAL', `
    local first
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
      local f = cjson.decode(e[2][2])
      if f.event == 'message' then first = f end
    end
    local seq0 = tonumber(redis.call('HGET', KEYS[2], 'seq'))
    for i = 1, 5100 do
      local seq = seq0 + i
      first.seq = seq
      first.message.seq = seq
      first.message.id = ARGV[1] .. ':' .. seq
      first.message.client_id = 'long-' .. seq
      first.message.text = 'message ' .. seq
      redis.call('XADD', KEYS[1], seq .. '-1', 'f', cjson.encode(first))
    end
    redis.call('HSET', KEYS[2], 'seq', seq0 + 5100)
    return seq0 + 5100`, '2', `pasokh:conv:${conv}:log`, `pasokh:conv:${conv}`, conv);
  const last = Number(await cli(redis, 'HGET', `pasokh:conv:${conv}`, 'seq'));
  const ended = await endChat(token, gw, '?transcript=1&lang=en');
  assert.equal(ended.status, 200);
  assert.deepEqual(await ended.json(), { mailed: true });
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'long@example.com', 'the copy');
  assert.match(mail.text, /\(Earlier messages are left out of this copy\.\)/);
  assert.match(mail.text, new RegExp(`message ${last}\\s*$`), 'the newest message last');
  assert.doesNotMatch(mail.text, /the very first message/);
});
