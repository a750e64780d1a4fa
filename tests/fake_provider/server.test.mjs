// node --test tests/fake_provider/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let child;
let base;

before(async () => {
  child = spawn(process.execPath, [fileURLToPath(new URL('./server.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^LISTENING (\d+)$/m);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`fake provider exited with ${code}`)));
  });
});

after(() => child.kill('SIGTERM'));

const post = (path, body, headers = {}) =>
  fetch(base + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
const bearer = { Authorization: 'Bearer test-token' };

test('telegram sendMessage answers like the Bot API and numbers messages per chat', async () => {
  await fetch(base + '/_requests', { method: 'DELETE' });
  const first = await (await post('/bot123:abc/sendMessage', { chat_id: 5123456789, text: 'سلام' })).json();
  const second = await (await post('/bot123:abc/sendMessage', { chat_id: 5123456789, text: 'دوباره' })).json();
  const other = await (await post('/bot123:abc/sendMessage', { chat_id: 42, text: 'x' })).json();
  assert.equal(first.ok, true);
  assert.equal(first.result.chat.id, 5123456789);
  assert.equal(first.result.text, 'سلام');
  assert.equal(second.result.message_id, first.result.message_id + 1);
  assert.equal(other.result.message_id, 1);
  const tooLong = await post('/bot123:abc/sendMessage', { chat_id: 1, text: 'x'.repeat(4097) });
  assert.equal(tooLong.status, 400);
  assert.equal((await tooLong.json()).description, 'Bad Request: message is too long');
  const answered = await (await post('/bot123:abc/answerCallbackQuery', { callback_query_id: 'abc' })).json();
  assert.deepEqual(answered, { ok: true, result: true });

  const recorded = await (await fetch(base + '/_requests?path=sendMessage')).json();
  assert.equal(recorded.length, 4);
  assert.equal(recorded[0].provider, 'telegram');
  assert.equal(recorded[0].json.text, 'سلام');
  assert.equal(recorded[0].headers['content-type'], 'application/json');
});

test('whatsapp returns a wamid and checks the token and limits', async () => {
  const ok = await post('/v23.0/106540352242922/messages', { messaging_product: 'whatsapp', to: '989121234567', type: 'text', text: { body: 'سلام' } }, bearer);
  assert.equal(ok.status, 200);
  const body = await ok.json();
  assert.match(body.messages[0].id, /^wamid\./);
  assert.equal(body.contacts[0].wa_id, '989121234567');
  const noToken = await post('/v23.0/106540352242922/messages', { messaging_product: 'whatsapp', to: '1', type: 'text', text: { body: 'x' } });
  assert.equal(noToken.status, 401);
  assert.equal((await noToken.json()).error.code, 190);
  const fourButtons = await post('/v23.0/1/messages', { messaging_product: 'whatsapp', to: '1', type: 'interactive',
    interactive: { type: 'button', body: { text: 'x' }, action: { buttons: [1, 2, 3, 4].map((i) => ({ type: 'reply', reply: { id: `${i}`, title: `${i}` } })) } } }, bearer);
  assert.equal((await fourButtons.json()).error.code, 131009);
});

test('meta send api returns a mid and enforces the text limit in characters', async () => {
  const ok = await (await post('/v23.0/me/messages', { recipient: { id: '678' }, messaging_type: 'RESPONSE', message: { text: 'س'.repeat(1999) } }, bearer)).json();
  assert.equal(ok.recipient_id, '678');
  assert.match(ok.message_id, /^m_/);
  const long = await post('/v23.0/me/messages', { recipient: { id: '678' }, messaging_type: 'RESPONSE', message: { text: 'س'.repeat(2000) } }, bearer);
  assert.equal(long.status, 400);
  const tagless = await post('/v23.0/me/messages', { recipient: { id: '678' }, messaging_type: 'MESSAGE_TAG', message: { text: 'x' } }, bearer);
  assert.equal(tagless.status, 400);
});

test('scripts answer the next matching requests with provider-shaped failures', async () => {
  await fetch(base + '/_script', { method: 'DELETE' });
  const queued = await post('/_script', [
    { action: 'rate_limit', count: 2, path: '/sendMessage', retry_after: 3 },
    { action: 'window_closed', path: '/106540352242922/messages' },
    { action: 'window_closed', path: '/me/messages' },
    { action: 'error_500', path: '/me/messages' },
  ]);
  assert.deepEqual(await queued.json(), { ok: true, pending: 4 });

  for (let i = 0; i < 2; i++) {
    const r = await post('/bot1:a/sendMessage', { chat_id: 1, text: 'x' });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '3');
    assert.deepEqual((await r.json()).parameters, { retry_after: 3 });
  }
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 1, text: 'x' })).status, 200);

  const wa = await post('/v23.0/106540352242922/messages', { messaging_product: 'whatsapp', to: '1', type: 'text', text: { body: 'x' } }, bearer);
  assert.equal(wa.status, 400);
  assert.equal((await wa.json()).error.code, 131047);

  const fb = await (await post('/v23.0/me/messages', { recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x' } }, bearer)).json();
  assert.equal(fb.error.code, 10);
  assert.equal(fb.error.error_subcode, 2018278);
  const fb500 = await post('/v23.0/me/messages', { recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x' } }, bearer);
  assert.equal(fb500.status, 500);
  assert.deepEqual(await (await fetch(base + '/_script')).json(), []);
});

test('a script with `to` answers only sends to that recipient', async () => {
  await post('/_script', [{ action: 'pair_rate_limit', to: '989120000001', retry_after: 2 }, { action: 'rate_limit', to: '77' }]);
  const send = (to) => post('/v23.0/106540352242922/messages', { messaging_product: 'whatsapp', to, type: 'text', text: { body: 'x' } }, bearer);
  assert.equal((await send('989120000002')).status, 200);
  const pair = await send('989120000001');
  assert.equal(pair.status, 400);
  assert.equal(pair.headers.get('retry-after'), '2');
  assert.equal((await pair.json()).error.code, 131056);
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 76, text: 'x' })).status, 200);
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 77, text: 'x' })).status, 429);
  assert.deepEqual(await (await fetch(base + '/_script')).json(), []);
});

test('delay, drop and unknown actions', async () => {
  await post('/_script', { action: 'delay', delay_ms: 150, path: 'getMe' });
  const t0 = Date.now();
  assert.equal((await post('/bot1:a/getMe', {})).status, 200);
  assert.ok(Date.now() - t0 >= 140);

  await post('/_script', { action: 'drop', path: 'getMe' });
  await assert.rejects(post('/bot1:a/getMe', {}));

  assert.equal((await post('/_script', { action: 'explode' })).status, 400);
});

test('a per-chat limit answers a send too soon after the chat\'s last accepted one as Telegram does', async () => {
  assert.equal((await post('/_chat_limit', { min_interval_ms: 300 })).status, 200);
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 501, text: 'x' })).status, 200);
  const soon = await post('/bot1:a/sendMessage', { chat_id: 501, text: 'y' });
  assert.equal(soon.status, 429);
  assert.deepEqual(await soon.json(),
    { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 502, text: 'x' })).status, 200, 'another chat is not held');
  await new Promise((r) => setTimeout(r, 320));
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 501, text: 'y' })).status, 200);
  const recorded = (await (await fetch(base + '/_requests?path=sendMessage')).json()).filter((r) => r.json?.chat_id === 501);
  assert.deepEqual(recorded.map((r) => [r.status, !!r.chat_limited]), [[200, false], [429, true], [200, false]]);
  assert.equal((await fetch(base + '/_chat_limit', { method: 'DELETE' })).status, 200);
  assert.equal((await post('/bot1:a/sendMessage', { chat_id: 501, text: 'z' })).status, 200, 'no limit after DELETE');
});
