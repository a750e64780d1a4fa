// "End chat" in the widget on a shared computer: the browser forgets the
// visitor, and DELETE /api/v1/webchat/sessions makes their token worthless to
// anyone who copied it, on every instance. The conversation stays with the agents.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pasokh, RedisServer, WsClient, defaultConfig } from '../support/harness.mjs';
import { redisCli as cli } from './messenger_support.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'end-test-webchat-secret-0123456789' };
const SHOP = 'https://shop.example.com';  // the page the widget is on
let redis, gw, other;

before(async () => {
  redis = await new RedisServer().start();
  const config = defaultConfig(redis, {
    channels: [{ id: 'web', kind: 'webchat', team: 'support', provider: { allowed_origins: [SHOP] } }],
  });
  [gw, other] = await Promise.all([new Pasokh(config, SECRET).start(), new Pasokh(config, SECRET).start()]);
});

after(async () => {
  await Promise.all([gw?.cleanup(), other?.cleanup()]);
  await redis?.cleanup();
});

function session(body, g = gw) {
  return fetch(`${g.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json', origin: SHOP }, body: JSON.stringify({ channel: 'web', ...body }),
  });
}

function endChat(token) {
  return fetch(`${gw.base}/api/v1/webchat/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, origin: SHOP } });
}

async function chatSocket(token, g = gw) {
  const c = new WsClient(`${g.wsBase}/ws/chat?channel=web`);
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
