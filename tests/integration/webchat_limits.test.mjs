// Limits on what one web chat visitor, or one client address, can hold: the
// customer sockets of one visitor token; new visitors per client address behind a proxy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pasokh, RedisServer, WsClient, defaultConfig, waitFor } from '../support/harness.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'limits-test-webchat-secret-0123456789' };
let redis, gw;

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    webchat: { max_sockets_per_visitor: 2 },
    channels: [{ id: 'web', kind: 'webchat', team: 'support' }],
  }), SECRET).start();
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

async function newVisitor(g = gw, headers = {}) {
  return fetch(`${g.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ channel: 'web' }),
  });
}

// A customer socket past its hello.
async function chatSocket(token) {
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token, lang: 'en' });
  await c.next((f) => f.type === 'welcome');
  return c;
}

async function stillOpen(c) {
  c.send({ type: 'ping' });
  await c.next((f) => f.type === 'pong');
}

async function errorCount(kind) {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  return Number(text.match(new RegExp(`pasokh_errors_total\\{kind="${kind}"\\} (\\d+)`))?.[1] ?? 0);
}

// The gateway's open WebSocket sessions: one leaves the count after the socket's end was handled.
async function openSessions() {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  return Number(text.match(/^pasokh_websocket_sessions (\d+)$/m)[1]);
}

test('one visitor token holds at most max_sockets_per_visitor chat sockets: a new one closes the oldest', async () => {
  const { token } = await (await newVisitor()).json();
  const { token: otherToken } = await (await newVisitor()).json();
  const counted = await errorCount('webchat_too_many_sockets');
  const sessionsBefore = await openSessions();
  const [first, second] = [await chatSocket(token), await chatSocket(token)];
  const other = await chatSocket(otherToken);

  const third = await chatSocket(token);
  const error = await first.next((f) => f.type === 'error');
  assert.equal(error.code, 'too_many_sockets');
  assert.deepEqual(await first.closed, { code: 1008, reason: 'too_many_sockets' });
  for (const c of [second, third, other]) await stillOpen(c);
  assert.equal(await errorCount('webchat_too_many_sockets'), counted + 1);

  // A closed socket frees its place.
  second.ws.close();
  await second.closed;
  // The gateway lets go of it once the connection is gone, just after the close handshake: open are the third and the other.
  await waitFor(async () => await openSessions() === sessionsBefore + 2, 'the closed sockets let go of');
  const fourth = await chatSocket(token);
  await stillOpen(third);
  await stillOpen(fourth);
  assert.equal(await errorCount('webchat_too_many_sockets'), counted + 1);
  for (const c of [third, fourth, other]) c.ws.close();
});

test('behind a proxy set by the old auth.trust_forwarded_for, new web chat visitors count by X-Forwarded-For too, with a warning', async () => {
  const proxied = await new Pasokh(defaultConfig(redis, {
    redis: { url: redis.url, prefix: 'proxied:' },
    auth: { trust_forwarded_for: true },
    webchat: { sessions_per_ip_per_hour: 2 },
    channels: [{ id: 'web', kind: 'webchat', team: 'support' }],
  }), SECRET).start();
  try {
    assert.match(proxied.output, /auth\.trust_forwarded_for is deprecated: set proxy\.trust_forwarded_for instead/);
    const from = (address) => newVisitor(proxied, { 'x-forwarded-for': `203.0.113.77, ${address}` });
    // Three clients behind the one proxy address: each its own count.
    for (const address of ['198.51.100.21', '198.51.100.22', '198.51.100.23']) assert.equal((await from(address)).status, 201);
    assert.equal((await from('198.51.100.21')).status, 201);
    assert.equal((await from('198.51.100.21')).status, 429);
  } finally {
    await proxied.cleanup();
  }
});
