// Rotating the API key and the web chat secret without an outage: gateways
// restarted one by one with the new key and the old one as previous_*_env
// take both (the old counted in pasokh_auth_previous_key_total), a visitor's
// token signed with the old secret keeps its chat and is signed again with the
// new one at its renewal, a verification code mailed before the rotation
// still proves the address, and once the old ones are removed they are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { RedisServer, Pasokh, defaultConfig, postMessage } from '../support/harness.mjs';
import { chatSocket, newVisitor, typesCode } from './webchat_support.mjs';
import {
  FakeProvider, SECRETS, FB_PAGE_ID, IG_ACCOUNT_ID, messengerConfig, metaMessaging, metaText, metric, newChatId, newPhone,
  newPsid, postSigned, postWebhook, redisCli, telegramHeaders, tgText, waText,
} from './messenger_support.mjs';

const OLD_KEY = 'old-api-key-0123456789';
const NEW_KEY = 'new-api-key-9876543210';
const OLD_SECRET = 'old-webchat-secret-0123456789';
const NEW_SECRET = 'new-webchat-secret-9876543210';

// One gateway of the rolling restart: `previous` names the old key and secret
// beside the current ones.
function gateway(redis, { key, secret, previous }) {
  const config = defaultConfig(redis, {
    webchat: { secret_env: 'PASOKH_TEST_WEBCHAT_SECRET', ...(previous && { previous_secret_env: 'PASOKH_TEST_OLD_WEBCHAT_SECRET' }) },
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support',
        ...(previous && { previous_api_key_env: 'PASOKH_TEST_OLD_API_KEY' }) },
      { id: 'web', kind: 'webchat', team: 'support' },
    ],
  });
  return new Pasokh(config, {
    PASOKH_TEST_API_KEY: key, PASOKH_TEST_WEBCHAT_SECRET: secret,
    ...(previous && { PASOKH_TEST_OLD_API_KEY: previous.key, PASOKH_TEST_OLD_WEBCHAT_SECRET: previous.secret }),
  }).start();
}

let redis, before_, during, after_;

before(async () => {
  redis = await new RedisServer().start();
  before_ = await gateway(redis, { key: OLD_KEY, secret: OLD_SECRET });
  during = await gateway(redis, { key: NEW_KEY, secret: NEW_SECRET, previous: { key: OLD_KEY, secret: OLD_SECRET } });
  after_ = await gateway(redis, { key: NEW_KEY, secret: NEW_SECRET });
});
after(async () => {
  for (const g of [before_, during, after_]) await g?.cleanup();
  await redis?.cleanup();
});

const previousKeyCount = (gw, channel) => metric(gw, `pasokh_auth_previous_key_total{channel="${channel}"} `);

const message = (id) => ({ message_id: id, customer: { id: 'cust-rotation' }, text: `hello ${id}` });

test('during an API key rotation both keys work, the old one is counted; after it only the new one', async () => {
  const scrape = await (await fetch(`${during.base}/metrics`)).text();
  for (const channel of ['api', 'web'])  // shown from the start, so "flat" is seen from the first scrape
    assert.match(scrape, new RegExp(`^pasokh_auth_previous_key_total\\{channel="${channel}"\\} 0$`, 'm'));
  assert.doesNotMatch((await (await fetch(`${after_.base}/metrics`)).text()), /pasokh_auth_previous_key_total\{/);
  assert.equal((await postMessage(during, message('m-new'), { key: NEW_KEY })).status, 201);
  assert.equal(await previousKeyCount(during, 'api'), 0, 'the new key is not counted');
  assert.equal((await postMessage(during, message('m-old-1'), { key: OLD_KEY })).status, 201);
  assert.equal((await postMessage(during, message('m-old-2'), { key: OLD_KEY })).status, 201);
  assert.equal(await previousKeyCount(during, 'api'), 2);
  assert.equal((await postMessage(during, message('m-wrong'), { key: 'wrong-api-key-0123456789' })).status, 401);
  assert.equal((await postMessage(during, message('m-empty'), { key: '' })).status, 401);
  // Not yet restarted: the old key only. Done: the new key only.
  assert.equal((await postMessage(before_, message('m-before'), { key: OLD_KEY })).status, 201);
  assert.equal((await postMessage(after_, message('m-after-old'), { key: OLD_KEY })).status, 401);
  assert.equal((await postMessage(after_, message('m-after-new'), { key: NEW_KEY })).status, 201);
});

test('a visitor token signed with the previous web chat secret keeps its chat and is renewed with the new one', async () => {
  const oldToken = await newVisitor(before_);
  assert.ok(oldToken);
  const counted = await previousKeyCount(during, 'web');
  const socket = await chatSocket(during, oldToken);  // a welcome, not a 1008
  socket.ws.close();
  assert.equal(await previousKeyCount(during, 'web'), counted + 1);

  const renew = await fetch(`${during.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', token: oldToken }),
  });
  assert.equal(renew.status, 200);
  const renewed = await renew.json();
  assert.notEqual(renewed.token, oldToken);
  // The renewed token is the new secret's: a gateway without the old one takes it, and refuses the old token.
  const resume = (gw, token) => fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', token }),
  });
  assert.equal((await resume(after_, renewed.token)).status, 200);
  assert.equal((await resume(after_, oldToken)).status, 401);
  const again = await chatSocket(after_, renewed.token);
  again.ws.close();
});

// A code mailed by a gateway still on the old secret is kept as its HMAC
// under that secret (webchat_verify.cpp code_hash, stored by
// webchat_verify.lua as here): a gateway with the old secret as previous
// takes it, a wrong code costs one try; without the old secret it is wrong.
test('a verification code mailed under the previous web chat secret still proves the address during the rotation', async () => {
  // A visitor of `gw` (its token signed with that gateway's secret).
  async function mailedUnderOldSecret(gw, address, code) {
    const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web' }),
    })).json();
    const hash = createHmac('sha256', OLD_SECRET).update(`verify_code\nweb\n${session.visitor_id}\n${code}`).digest('hex');
    redisCli(redis, 'HSET', `pasokh:webchat:verify_code:web:${session.visitor_id}`, 'code', hash, 'key', address,
      'language', 'en', 'at', String(Date.now()), 'tries', '0');
    return session;
  }
  const early = await mailedUnderOldSecret(before_, 'rotation@example.org', '314159');
  const c = await chatSocket(during, early.token);
  const wrong = await typesCode(c, '271828');
  assert.deepEqual([wrong.code, wrong.tries_left], ['wrong_code', 4], 'one try, not two');
  assert.equal((await typesCode(c, '314159')).type, 'email_verified');
  c.ws.close();

  const late = await mailedUnderOldSecret(after_, 'late@example.org', '141421');
  const after = await chatSocket(after_, late.token);
  assert.equal((await typesCode(after, '141421')).code, 'wrong_code', 'the old secret removed: no longer');
  after.ws.close();
});

// Telegram's secret token, Meta's app secret and the metrics token: while the
// old value is configured as previous_*_env, a webhook or scrape with it is
// taken and counted, so the provider side (setWebhook, the app dashboard,
// Prometheus) can be switched after the gateways without refusing anything.
test('webhooks signed with the previous Telegram or Meta secret and scrapes with the previous metrics token are taken and counted', async () => {
  const fake = await new FakeProvider().start();
  const OLD_TG = 'old-tg-webhook-secret_0123';
  const OLD_APP = 'old-app-secret-0123456789';
  const METRICS = 'new-metrics-token-0123456789';
  const OLD_METRICS = 'old-metrics-token-0123456789';
  const config = messengerConfig(redis, fake, { metrics: { token_env: 'PASOKH_TEST_METRICS', previous_token_env: 'PASOKH_TEST_OLD_METRICS' } });
  for (const ch of config.channels) {
    if (ch.kind === 'telegram') ch.provider.previous_secret_env = 'PASOKH_TEST_OLD_TG';
    if (ch.kind === 'whatsapp' || ch.kind === 'messenger' || ch.kind === 'instagram') ch.provider.previous_app_secret_env = 'PASOKH_TEST_OLD_APP';
  }
  const gw = await new Pasokh(config, {
    ...SECRETS, PASOKH_TEST_OLD_TG: OLD_TG, PASOKH_TEST_OLD_APP: OLD_APP,
    PASOKH_TEST_METRICS: METRICS, PASOKH_TEST_OLD_METRICS: OLD_METRICS,
  }).start();
  try {
    const scrape = async (token) => fetch(`${gw.base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const series = (line) => metric(gw, line, { token: METRICS, absent: null });
    const counted = (channel) => series(`pasokh_auth_previous_key_total{channel="${channel}"} `);
    for (const channel of ['tg', 'wa', 'fb', 'ig', '/metrics']) assert.equal(await counted(channel), 0, `${channel} shown from the start`);
    assert.equal(await counted('api'), null, 'a channel with no previous secret has no series');

    const chat = newChatId();
    assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام'), telegramHeaders())).status, 200);
    assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام دوباره'), telegramHeaders(OLD_TG))).status, 200);
    assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'x'), telegramHeaders('wrong-secret_0123'))).status, 401);
    const phone = newPhone();
    assert.equal((await postSigned(gw, '/webhooks/whatsapp/wa', waText(phone, 'hi'), SECRETS.PASOKH_WA_APP_SECRET)).status, 200);
    assert.equal((await postSigned(gw, '/webhooks/whatsapp/wa', waText(phone, 'hi again'), OLD_APP)).status, 200);
    assert.equal((await postSigned(gw, '/webhooks/whatsapp/wa', waText(phone, 'x'), 'some-other-secret-0123')).status, 401);
    // Messenger and Instagram share the Meta app's secret, and its previous one.
    for (const [channel, object, account] of [['fb', 'page', FB_PAGE_ID], ['ig', 'instagram', IG_ACCOUNT_ID]]) {
      const psid = newPsid();
      const post = (text, secret) => postSigned(gw, `/webhooks/meta/${channel}`,
        metaMessaging(object, account, [metaText(psid, account, text)]), secret);
      assert.equal((await post('hi', SECRETS.PASOKH_META_APP_SECRET)).status, 200, channel);
      assert.equal((await post('hi again', OLD_APP)).status, 200, `${channel}: the previous secret`);
      assert.equal((await post('x', 'some-other-secret-0123')).status, 401, `${channel}: a wrong secret`);
    }

    assert.equal((await scrape(OLD_METRICS)).status, 200);
    assert.equal((await scrape('wrong-metrics-token-0123456789')).status, 401);
    assert.equal(await counted('tg'), 1);
    assert.equal(await counted('wa'), 1);
    assert.equal(await counted('fb'), 1);
    assert.equal(await counted('ig'), 1);
    assert.equal(await counted('/metrics'), 1);
    // What the old secrets let in was stored like the rest.
    assert.equal(await series('pasokh_inbound_messages_total{channel="tg"} '), 2);
    assert.equal(await series('pasokh_inbound_messages_total{channel="wa"} '), 2);
    assert.equal(await series('pasokh_inbound_messages_total{channel="fb"} '), 2);
    assert.equal(await series('pasokh_inbound_messages_total{channel="ig"} '), 2);
  } finally {
    await gw.cleanup();
    fake.stop();
  }
});
