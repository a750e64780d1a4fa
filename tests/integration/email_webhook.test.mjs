// The Mailgun-style inbound webhook (POST /webhooks/email/{channel}): signed
// form posts become mail in the same parse → thread → ingest path as SMTP mail;
// bad or stale signatures get 401, a reused token 409, each with a JSON error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { RedisServer, Pasokh, defaultConfig, login, agentSocket, freePort, sleep } from '../support/harness.mjs';

const SIGNING_KEY = 'key-mailgun-test-0123456789abcdef';
let redis, gw, token;

before(async () => {
  redis = await new RedisServer().start();
  const config = defaultConfig(redis);
  config.channels.push({
    id: 'mail', kind: 'email', team: 'support', bot: false,
    provider: {
      support_addresses: ['support@shop.example'], reply_domain: 'shop.example',
      from_address: 'support@shop.example',
      smtp: { address: '127.0.0.1', port: await freePort() },
      relay: { host: '127.0.0.1', port: await freePort(), tls: 'none' },
      webhook: { signing_key_env: 'PASOKH_TEST_MAILGUN_KEY', max_age_s: 300 },
    },
  });
  gw = await new Pasokh(config, { PASOKH_TEST_MAILGUN_KEY: SIGNING_KEY }).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  token = (await login(gw, 'sara', 'sara-secret-1')).json.token;
});
after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

function signed(fields, { key = SIGNING_KEY, timestamp = Math.floor(Date.now() / 1000), tok = crypto.randomBytes(25).toString('hex') } = {}) {
  const signature = crypto.createHmac('sha256', key).update(`${timestamp}${tok}`).digest('hex');
  return { ...fields, timestamp: String(timestamp), token: tok, signature };
}

// multipart/form-data (what Mailgun sends when there are attachments).
function multipart(fields, files = []) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.field, new Blob([f.content], { type: f.type }), f.name);
  return form;
}

const post = (body, channel = 'mail', headers = {}) =>
  fetch(`${gw.base}/webhooks/email/${channel}`, { method: 'POST', body, headers });
const urlencoded = (fields) => new URLSearchParams(fields);

async function metric(kind) {
  const text = await (await fetch(`${gw.base}/metrics`)).text();
  const m = new RegExp(`pasokh_errors_total\\{kind="${kind}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

const customerEvent = (pred) => (f) => f.type === 'event' && f.event === 'message' && f.message?.author === 'customer' && pred(f);

function redisGet(key) {
  return new Promise((resolve, reject) => execFile('redis-cli', ['-p', String(redis.port), 'GET', key],
    (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));
}

test('a signed Mailgun post becomes a message with its attachment; later mail threads into it', async () => {
  const ws = await agentSocket(gw, token);
  const text = 'سلام، فاکتور خرید ماشین لباسشویی پیوست است. گارانتی آن چند سال است؟';
  const fields = signed({
    sender: 'maryam@example.net', recipient: 'support@shop.example',
    from: '=?UTF-8?B?' + Buffer.from('مریم').toString('base64') + '?= <maryam@example.net>',
    subject: 'گارانتی لباسشویی', 'body-plain': `${text}\r\n\r\nOn Mon, support wrote:\r\n> old text\r\n`,
    'body-html': `<p>${text}</p>`, 'Message-Id': '<wh-1@example.net>', 'attachment-count': '1',
    'message-headers': JSON.stringify([['Received', 'by mx.example.net'], ['Content-Type', 'multipart/mixed; boundary="x"'],
      ['X-Mailer', 'Thunderbird']]),
  });
  const res = await post(multipart(fields, [{ field: 'attachment-1', name: 'invoice.txt', type: 'text/plain',
    content: 'invoice 1403-88: 31,000,000 IRR' }]));
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { ok: true });

  const ev = await ws.next(customerEvent((f) => f.message.text.includes('لباسشویی')), 10000);
  assert.equal(ev.message.text.trim(), text, 'quoted history stripped from the shown text');
  assert.equal(ev.message.channel, 'mail');
  assert.equal(ev.conversation.customer_name, 'مریم');
  const att = ev.message.attachments?.find((a) => a.name === 'invoice.txt');
  assert.ok(att?.provider_ref, JSON.stringify(ev.message));
  const blob = await fetch(`${gw.base}/api/v1/attachments/${att.provider_ref}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(await blob.text(), 'invoice 1403-88: 31,000,000 IRR');
  const conv = ev.conv;

  // The customer's next mail names the first one in In-Reply-To (urlencoded this time).
  const second = await post(urlencoded(signed({
    sender: 'maryam@example.net', recipient: 'support@shop.example', from: 'maryam@example.net',
    subject: 'Re: گارانتی لباسشویی', 'body-plain': 'یک سؤال دیگر: نصب رایگان است؟',
    'Message-Id': '<wh-2@example.net>', 'In-Reply-To': '<wh-1@example.net>', References: '<wh-1@example.net>',
  })));
  assert.equal(second.status, 200, await second.clone().text());
  const ev2 = await ws.next(customerEvent((f) => f.message.text.includes('نصب رایگان')), 10000);
  assert.equal(ev2.conv, conv);

  // Mail to the conversation's reply+<token>@ address threads by the envelope recipient.
  const thread = JSON.parse(await redisGet(`pasokh:conv:${conv}:email`));
  assert.ok(thread.reply_token);
  const third = await post(urlencoded(signed({
    sender: 'ali@example.org', recipient: `reply+${thread.reply_token}@shop.example`, from: 'ali@example.org',
    subject: 'Re: گارانتی لباسشویی', 'body-plain': 'من همسر مریم هستم.', 'Message-Id': '<wh-3@example.org>',
  })));
  assert.equal(third.status, 200, await third.clone().text());
  const ev3 = await ws.next(customerEvent((f) => f.message.text.includes('همسر')), 10000);
  assert.equal(ev3.conv, conv);

  // Mailgun may name the message and its thread only in message-headers.
  const headersOnly = () => urlencoded(signed({
    sender: 'maryam@example.net', recipient: 'support@shop.example', from: 'maryam@example.net',
    subject: 'رسید پرداخت', 'body-plain': 'رسید پرداخت را هم دارم.',
    'message-headers': JSON.stringify([['Message-Id', '<wh-4@example.net>'], ['In-Reply-To', '<wh-2@example.net>']]),
  }));
  assert.equal((await post(headersOnly())).status, 200);
  const firstSecond = Math.floor(Date.now() / 1000);
  const ev4 = await ws.next(customerEvent((f) => f.message.text.includes('رسید پرداخت')), 10000);
  assert.equal(ev4.conv, conv);

  // A provider retry with a fresh token but the same Message-Id is stored once.
  const dup = await post(urlencoded(signed({
    sender: 'maryam@example.net', recipient: 'support@shop.example', from: 'maryam@example.net',
    subject: 'Re: گارانتی لباسشویی', 'body-plain': 'یک سؤال دیگر: نصب رایگان است؟', 'Message-Id': '<wh-2@example.net>',
  })));
  assert.equal(dup.status, 200);
  // In a later second: a message rebuilt without its Message-ID would differ in Date.
  while (Math.floor(Date.now() / 1000) <= firstSecond) await sleep(50);
  assert.equal((await post(headersOnly())).status, 200);
  await sleep(500);
  assert.equal(ws.frames.filter(customerEvent((f) => f.message.text.includes('نصب رایگان'))).length, 0);
  assert.equal(ws.frames.filter(customerEvent((f) => f.message.text.includes('رسید پرداخت'))).length, 0);
  await ws.close();
});

test('raw MIME in body-mime is parsed as is (automatic mail stays automatic)', async () => {
  const ws = await agentSocket(gw, token);
  // Neda writes, then her out-of-office answers in that thread.
  const asked = await post(urlencoded(signed({ sender: 'neda@example.net', recipient: 'support@shop.example',
    from: 'neda@example.net', subject: 'Invoice', 'body-plain': 'Where is my invoice?', 'Message-Id': '<ask-wh@example.net>' })));
  assert.equal(asked.status, 200, await asked.clone().text());
  const question = await ws.next(customerEvent((f) => f.message.text.includes('my invoice')), 10000);
  const mime = [
    'From: Neda <neda@example.net>', 'To: support@shop.example', 'Subject: Out of office',
    'Message-ID: <ooo-wh@example.net>', 'In-Reply-To: <ask-wh@example.net>', 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=windows-1256', 'Content-Transfer-Encoding: 8bit', '', '',
  ].join('\r\n');
  // "سلام" in windows-1256.
  const body = Buffer.concat([Buffer.from(mime, 'latin1'), Buffer.from([0xd3, 0xe1, 0xc7, 0xe3]), Buffer.from(' - back on Monday\r\n')]);
  const form = multipart(signed({ sender: 'neda@example.net', recipient: 'support@shop.example' }),
    [{ field: 'body-mime', name: 'message.mime', type: 'message/rfc822', content: body }]);
  const res = await post(form);
  assert.equal(res.status, 200, await res.clone().text());
  const ev = await ws.next(customerEvent((f) => f.message.text.includes('back on Monday')), 10000);
  assert.ok(ev.message.text.startsWith('سلام'), ev.message.text);
  assert.equal(ev.message.automatic, true);
  assert.equal(ev.conv, question.conv);
  await ws.close();
});

test('bad signature, stale timestamp and a replayed token are refused with JSON errors and counted', async () => {
  const base = { sender: 'x@example.net', recipient: 'support@shop.example', 'body-plain': 'hi', 'Message-Id': '<r-1@example.net>' };

  const badBefore = await metric('email_webhook_bad_signature');
  const bad = await post(urlencoded(signed(base, { key: 'not-the-key' })));
  assert.equal(bad.status, 401);
  assert.equal((await bad.json()).error.code, 'bad_signature');
  assert.equal(await metric('email_webhook_bad_signature'), badBefore + 1);

  const missing = await post(urlencoded(base));
  assert.equal(missing.status, 401);
  assert.equal((await missing.json()).error.code, 'missing_signature');

  const stale = await post(urlencoded(signed(base, { timestamp: Math.floor(Date.now() / 1000) - 3600 })));
  assert.equal(stale.status, 401);
  assert.equal((await stale.json()).error.code, 'stale_timestamp');
  const future = await post(urlencoded(signed(base, { timestamp: Math.floor(Date.now() / 1000) + 3600 })));
  assert.equal(future.status, 401);

  const once = signed(base);
  assert.equal((await post(urlencoded(once))).status, 200);
  const replay = await post(urlencoded(once));
  assert.equal(replay.status, 409);
  assert.equal((await replay.json()).error.code, 'replayed_token');
  assert.ok(await metric('email_webhook_replayed_token') >= 1);
});

test('wrong channel, content type, recipient and malformed forms get a clear 4xx', async () => {
  const base = { sender: 'x@example.net', recipient: 'support@shop.example', 'body-plain': 'hi' };
  const unknown = await post(urlencoded(signed(base)), 'nope');
  assert.equal(unknown.status, 404);
  // The API channel exists but is no email channel with a webhook.
  assert.equal((await post(urlencoded(signed(base)), 'api')).status, 404);

  const json = await post(JSON.stringify(signed(base)), 'mail', { 'content-type': 'application/json' });
  assert.equal(json.status, 415);
  assert.equal((await json.json()).error.code, 'unsupported_media_type');

  const truncated = await post('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', 'mail',
    { 'content-type': 'multipart/form-data; boundary=b' });
  assert.equal(truncated.status, 400);
  assert.equal((await truncated.json()).error.code, 'invalid_form');

  const stranger = await post(urlencoded(signed({ ...base, recipient: 'someone@elsewhere.example' })));
  assert.equal(stranger.status, 406);
  assert.equal((await stranger.json()).error.code, 'unknown_recipient');
});

test('while Redis is down the webhook answers 503, and the provider retry of the same post is taken', async () => {
  const fields = signed({ sender: 'late@example.net', recipient: 'support@shop.example', from: 'late@example.net',
    'body-plain': 'are you there? (webhook)', 'Message-Id': '<late-wh@example.net>' });
  await redis.stop();
  try {
    const r = await post(urlencoded(fields));
    assert.equal(r.status, 503);
  } finally {
    await redis.start();
  }
  const deadline = Date.now() + 15000;
  for (;;) {
    const r = await post(urlencoded(fields));
    if (r.status === 200) break;
    assert.notEqual(r.status, 409, 'a post that was not stored must not count as used');
    if (Date.now() > deadline) throw new Error(`still ${r.status} after Redis came back`);
    await sleep(300);
  }
});
