// Messenger channels end to end with real processes: provider webhooks (signed
// as Telegram / Meta sign them) → Redis → agent WebSocket; agent replies →
// outbox → the fake provider API, with its scripted failures.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisServer, Pasokh, sleep, pasokhBin, apiCall, login, reply, repoRoot, TEAMS_WITH_VIP } from '../support/harness.mjs';
import {
  SECRETS, FB_PAGE_ID, IG_ACCOUNT_ID, FakeProvider, messengerConfig, postWebhook, telegramHeaders, postWhatsApp, postMeta,
  hubSignature, tgText, tgEdit, tgCallback, waText, waStatuses, metaMessaging, metaText, metaEcho, metaUnsend, newChatId, newPhone,
  newPsid, wamid, mid, agentFor, redisCli, fcall, metric, waitUntil, monitored,
} from './messenger_support.mjs';

let redis, fake, files, echoFirst, gw, agent;
const ECHO_PAGE_ID = '105943900000002';

// A Meta Send API that delivers the echo webhook before it answers the send,
// as Meta may; `answers` keeps each early echo and the gateway's status for it.
function startEchoFirstSendApi() {
  const answers = [];
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const id = mid();
    if (body.message) {
      const echo = metaMessaging('page', ECHO_PAGE_ID, [metaEcho(body.recipient.id, ECHO_PAGE_ID, body.message.text, { id })]);
      answers.push({ echo, early: (await postMeta(gw, 'fb-echo', echo)).status });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ recipient_id: body.recipient.id, message_id: id }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, answers, base: `http://127.0.0.1:${server.address().port}` })));
}

// Telegram getFile + file download and WhatsApp media lookup + download, which
// the fake provider does not offer.
// A customer's 6 MB video: over the 4 MB the provider client takes for API answers.
const LARGE_VIDEO_BYTES = 6 * 1024 * 1024;
// A file over the 20 MB Telegram hands bots: getFile refuses it.
const TOO_BIG_FILE = 'BQACAgQAAxkBAAIBig';

function startFileServer() {
  const seen = [];
  const slow = { started: 0, release: null };
  slow.released = new Promise((resolve) => { slow.release = resolve; });
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const base = `http://127.0.0.1:${server.address().port}`;
    if (req.url === `/bot${SECRETS.PASOKH_TG_TOKEN}/getFile?file_id=AgACAgQAAxkBAAIB`) return json(200, { ok: true, result: { file_id: 'AgACAgQAAxkBAAIB', file_path: 'photos/file_1.jpg' } });
    if (req.url === `/bot${SECRETS.PASOKH_TG_TOKEN}/getFile?file_id=${TOO_BIG_FILE}`) return json(400, { ok: false, error_code: 400, description: 'Bad Request: file is too big' });
    if (req.url.startsWith(`/bot${SECRETS.PASOKH_TG_TOKEN}/getFile`)) return json(400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
    if (req.url === `/file/bot${SECRETS.PASOKH_TG_TOKEN}/photos/file_1.jpg`) { res.writeHead(200, { 'content-type': 'image/jpeg' }); return res.end(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])); }
    if (req.url === '/v23.0/1234567890' && req.headers.authorization === `Bearer ${SECRETS.PASOKH_WA_TOKEN}`) return json(200, { url: `${base}/download/1234567890`, mime_type: 'audio/ogg', id: '1234567890' });
    if (req.url === '/download/1234567890' && req.headers.authorization === `Bearer ${SECRETS.PASOKH_WA_TOKEN}`) { res.writeHead(200, { 'content-type': 'audio/ogg' }); return res.end('OggS-voice'); }
    if (req.url === '/v23.0/2345678901' && req.headers.authorization === `Bearer ${SECRETS.PASOKH_WA_TOKEN}`) return json(200, { url: `${base}/download/2345678901`, mime_type: 'video/mp4', id: '2345678901' });
    if (req.url === '/download/2345678901' && req.headers.authorization === `Bearer ${SECRETS.PASOKH_WA_TOKEN}`) { res.writeHead(200, { 'content-type': 'video/mp4' }); return res.end(Buffer.alloc(LARGE_VIDEO_BYTES, 7)); }
    // A download that goes on until the test releases it.
    if (req.url === '/v23.0/3456789012') return json(200, { url: `${base}/download/slow`, mime_type: 'video/mp4', id: '3456789012' });
    if (req.url === '/download/slow') {
      slow.started++;
      return slow.released.then(() => { res.writeHead(200, { 'content-type': 'video/mp4' }); res.end(Buffer.alloc(1024, 1)); });
    }
    return json(404, { error: { message: 'Unsupported get request', code: 100 } });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, slow, base: `http://127.0.0.1:${server.address().port}` })));
}

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  files = await startFileServer();
  echoFirst = await startEchoFirstSendApi();
  // The files' copies are meta_media.test's, with a CDN of its own: no download here reaches Meta.
  const config = messengerConfig(redis, fake, { meta_media: { enabled: false } });
  config.routing = { ...config.routing, teams: TEAMS_WITH_VIP };
  config.channels.push(
    { id: 'fb-echo', kind: 'messenger', team: 'support', provider: { account_id: ECHO_PAGE_ID, api_base: echoFirst.base,
      token_env: 'PASOKH_FB_TOKEN', app_secret_env: 'PASOKH_META_APP_SECRET', verify_token_env: 'PASOKH_META_VERIFY' } },
    { id: 'tg-files', kind: 'telegram', provider: { api_base: files.base, token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET' } },
    { id: 'wa-files', kind: 'whatsapp', provider: { phone_number_id: '999', api_base: files.base, token_env: 'PASOKH_WA_TOKEN',
      app_secret_env: 'PASOKH_WA_APP_SECRET', verify_token_env: 'PASOKH_WA_VERIFY' } });
  gw = await new Pasokh(config, SECRETS).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  agent = await agentFor(gw);
});
after(async () => {
  if (process.env.PASOKH_TEST_LOG) console.log(gw?.output);
  await agent?.close();
  await gw?.cleanup();
  fake?.stop();
  files?.server.close();
  echoFirst?.server.close();
  await redis?.cleanup();
});
beforeEach(async () => {
  await fake.clear();
  agent.frames.length = 0;  // each test waits only for its own frames
});

const messageEvent = (conv) => (f) => f.type === 'event' && f.event === 'message' && (!conv || f.conv === conv);
const deliveryEvent = (conv, status) => (f) => f.event === 'delivery' && f.conv === conv && (!status || f.status === status);
// The note that a reply waits out a provider's limit: the outbox pauses what the limit holds back before it.
const retryNoted = (conv, seq) => (f) => deliveryEvent(conv, 'pending')(f) && f.message_seq === seq && !!f.retrying;

async function telegramConversation(chatId, text = 'سلام') {
  const res = await postWebhook(gw, '/webhooks/telegram/tg', tgText(chatId, text), telegramHeaders());
  assert.equal(res.status, 200, res.text);
  return (await agent.next((f) => messageEvent()(f) && f.message.text === text)).conv;
}

async function whatsappConversation(phone, text) {
  const res = await postWhatsApp(gw, waText(phone, text));
  assert.equal(res.status, 200, res.text);
  return (await agent.next((f) => messageEvent()(f) && f.message.text === text)).conv;
}

async function metaConversation(psid, text) {
  const res = await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, text)]));
  assert.equal(res.status, 200, res.text);
  return (await agent.next((f) => messageEvent()(f) && f.message.text === text)).conv;
}

// --- inbound ---------------------------------------------------------------------

test('a Persian Telegram message reaches the agent with the customer name', async () => {
  const chat = newChatId();
  const res = await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام، گارانتی گوشی من کی تموم می‌شه؟', { name: 'سارا' }), telegramHeaders());
  assert.equal(res.status, 200);
  const live = await agent.next(messageEvent());
  assert.equal(live.message.text, 'سلام، گارانتی گوشی من کی تموم می‌شه؟');
  assert.equal(live.message.channel, 'tg');
  assert.equal(live.message.provider_message_id.split(':')[0], String(chat));
  assert.equal(live.conversation.customer_name, 'سارا');
  assert.equal(live.conversation.kind, 'telegram');
});

test('an Arabic WhatsApp message (body signed with escaped non-ASCII) reaches the agent', async () => {
  const res = await postWhatsApp(gw, waText(newPhone(), 'مرحبا، أريد إصلاح هاتفي', { name: 'عمر' }), { asciiOnly: true });
  assert.equal(res.status, 200, res.text);
  const live = await agent.next(messageEvent());
  assert.equal(live.message.text, 'مرحبا، أريد إصلاح هاتفي');
  assert.equal(live.conversation.customer_name, 'عمر');
  assert.equal(live.conversation.channel, 'wa');
});

test('Messenger (Persian) and Instagram (Arabic) messages reach the agent on their own channels', async () => {
  const fb = await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(newPsid(), FB_PAGE_ID, 'سفارش من کی می‌رسه؟')]));
  assert.equal(fb.status, 200, fb.text);
  const fbLive = await agent.next(messageEvent());
  assert.deepEqual([fbLive.message.text, fbLive.conversation.channel, fbLive.conversation.kind], ['سفارش من کی می‌رسه؟', 'fb', 'messenger']);
  const ig = await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaText(newPsid(), IG_ACCOUNT_ID, 'هل يمكنني استبدال المقاس؟')]));
  assert.equal(ig.status, 200, ig.text);
  const igLive = await agent.next(messageEvent());
  assert.deepEqual([igLive.message.text, igLive.conversation.channel, igLive.conversation.kind], ['هل يمكنني استبدال المقاس؟', 'ig', 'instagram']);
});

test('one item we cannot read in a Meta or WhatsApp batch is left out alone: 200, the good messages stored, the bad ones counted, their place logged', async () => {
  const fbBefore = await metric(gw, 'pasokh_webhook_items_total{channel="fb",what="ignored_malformed"}');
  const waBefore = await metric(gw, 'pasokh_webhook_items_total{channel="wa",what="ignored_malformed"}');
  const dedupBefore = await metric(gw, 'pasokh_dedup_hits_total{channel="fb"}');
  // Messenger's policy-enforcement item has no sender; a message without a mid cannot be deduplicated.
  const policy = { recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), 'policy-enforcement': { action: 'warning', reason: 'The bot violated our Platform Policies' } };
  const noMid = { sender: { id: newPsid() }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), message: { text: 'شماره کارت من ۶۰۳۷' } };
  const batch = metaMessaging('page', FB_PAGE_ID, [metaText(newPsid(), FB_PAGE_ID, 'اول دسته'), policy, noMid, metaText(newPsid(), FB_PAGE_ID, 'آخر دسته')]);
  for (let delivery = 0; delivery < 2; delivery++) {  // Meta's redelivery is answered the same and stores nothing twice
    const res = await postMeta(gw, 'fb', batch);
    assert.equal(res.status, 200, res.text);
  }
  await agent.next((f) => messageEvent()(f) && f.message.text === 'اول دسته');
  await agent.next((f) => messageEvent()(f) && f.message.text === 'آخر دسته');
  assert.equal(await metric(gw, 'pasokh_webhook_items_total{channel="fb",what="ignored_malformed"}'), fbBefore + 4);
  assert.match(gw.output, /warning.*channel=fb webhook item left out \(ignored_malformed\): entry\[0\]\.messaging\[1\]\.sender must be an object/);
  assert.ok(!gw.output.includes('شماره کارت'), 'the text of an item left out is never logged');

  // WhatsApp: a location without longitude in the batch's second entry.
  const wa = waText(newPhone(), 'واتساپ در دسته');
  const badLocation = waText(newPhone(), 'x');
  badLocation.entry[0].changes[0].value.messages[0] = { ...badLocation.entry[0].changes[0].value.messages[0], type: 'location', text: undefined, location: { latitude: 35.7 } };
  wa.entry.push(badLocation.entry[0]);
  const res = await postWhatsApp(gw, wa);
  assert.equal(res.status, 200, res.text);
  await agent.next((f) => messageEvent()(f) && f.message.text === 'واتساپ در دسته');
  assert.equal(await metric(gw, 'pasokh_webhook_items_total{channel="wa",what="ignored_malformed"}'), waBefore + 1);
  assert.equal(await metric(gw, 'pasokh_dedup_hits_total{channel="fb"}'), dedupBefore + 2, 'the redelivery\'s good messages are known');
});

test('an Instagram webhook posted to the Messenger channel\'s URL is stored on the Instagram channel; one for an account no channel has is counted and logged with the setting to fix', async () => {
  const res = await postMeta(gw, 'fb', metaMessaging('instagram', IG_ACCOUNT_ID, [metaText(newPsid(), IG_ACCOUNT_ID, 'اینستاگرام از نشانی مسنجر')]));
  assert.equal(res.status, 200, res.text);
  const live = await agent.next((f) => messageEvent()(f) && f.message.text === 'اینستاگرام از نشانی مسنجر');
  assert.deepEqual([live.conversation.channel, live.conversation.kind], ['ig', 'instagram']);

  const before = await metric(gw, 'pasokh_webhook_items_total{channel="fb",what="ignored_object"}');
  const strangerAccount = '17841499999999999';
  const lost = await postMeta(gw, 'fb', metaMessaging('instagram', strangerAccount, [metaText(newPsid(), strangerAccount, 'حساب ناشناس')]));
  assert.equal(lost.status, 200, lost.text);
  assert.equal(await metric(gw, 'pasokh_webhook_items_total{channel="fb",what="ignored_object"}'), before + 1);
  assert.match(gw.output, /warning.*channel=fb webhook item left out \(ignored_object\): entry\[0\]: object "instagram" for account 17841499999999999 .*provider\.account_id/);
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.message?.text === 'حساب ناشناس').length, 0);
});

test('a message type Pasokh cannot show (WhatsApp unsupported, Telegram poll and dice) opens the conversation with a placeholder naming it', async () => {
  const placeholder = (f) => messageEvent()(f) && f.message.attachments?.[0]?.kind === 'unsupported';
  const phone = newPhone();
  const wa = waText(phone, '');
  const m = wa.entry[0].changes[0].value.messages[0];
  delete m.text;
  Object.assign(m, { type: 'unsupported', unsupported: { type: 'poll_creation' },
    errors: [{ code: 131051, title: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }] });
  assert.equal((await postWhatsApp(gw, wa)).status, 200);
  const fromWhatsApp = await agent.next(placeholder);
  assert.deepEqual(fromWhatsApp.message.attachments, [{ kind: 'unsupported', name: 'poll_creation' }]);
  assert.equal(fromWhatsApp.message.text, '');
  assert.equal(fromWhatsApp.conversation.channel, 'wa');
  assert.equal(fromWhatsApp.conversation.status, 'queued', 'routed to the team like any message');

  const chat = newChatId();
  const poll = tgText(chat, '');
  delete poll.message.text;
  poll.message.poll = { id: '5', question: 'کدام رنگ؟', options: [{ text: 'سیاه', voter_count: 0 }], total_voter_count: 0, is_closed: false,
    is_anonymous: true, type: 'regular', allows_multiple_answers: false };
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', poll, telegramHeaders())).status, 200);
  const fromPoll = await agent.next(placeholder);
  assert.deepEqual(fromPoll.message.attachments, [{ kind: 'unsupported', name: 'poll', caption: 'کدام رنگ؟' }]);
  const dice = tgText(chat, '');
  delete dice.message.text;
  dice.message.dice = { emoji: '🎲', value: 3 };
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', dice, telegramHeaders())).status, 200);
  const fromDice = await agent.next((f) => placeholder(f) && f.conv === fromPoll.conv);
  assert.deepEqual(fromDice.message.attachments, [{ kind: 'unsupported', name: 'dice', caption: '🎲 3' }]);
  assert.equal(await metric(gw, 'pasokh_webhook_items_total{channel="tg",what="ignored_unsupported"}'), 0);
});

test('wrong secrets and signatures are refused with 401 and store nothing; unknown channels 404', async () => {
  const body = tgText(newChatId(), 'forged');
  const badTg = await postWebhook(gw, '/webhooks/telegram/tg', body, telegramHeaders('wrong-secret'));
  assert.equal(badTg.status, 401);
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', body)).status, 401);
  const wa = waText(newPhone(), 'forged');
  assert.equal((await postWhatsApp(gw, wa, { signature: hubSignature(JSON.stringify(wa), 'not-the-secret') })).status, 401);
  const fb = metaMessaging('page', FB_PAGE_ID, [metaText(newPsid(), FB_PAGE_ID, 'forged')]);
  assert.equal((await postWebhook(gw, '/webhooks/meta/fb', fb)).status, 401);
  const unknown = await postWebhook(gw, '/webhooks/telegram/nope', body, telegramHeaders());
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'unknown_channel');
  // A channel of another provider is unknown on this URL too.
  assert.equal((await postWebhook(gw, '/webhooks/meta/tg', body)).status, 404);
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.message?.text === 'forged').length, 0);
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="webhook_bad_signature"}') >= 2);
});

test('the WhatsApp and Meta GET handshakes echo the challenge only for the right verify token', async () => {
  const ok = await fetch(`${gw.base}/webhooks/whatsapp/wa?hub.mode=subscribe&hub.verify_token=${SECRETS.PASOKH_WA_VERIFY}&hub.challenge=1158201444`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), '1158201444');
  const bad = await fetch(`${gw.base}/webhooks/meta/fb?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42`);
  assert.equal(bad.status, 403);
});

test('a replayed webhook is stored once', async () => {
  const update = tgText(newChatId(), 'دوبار فرستاده شد');
  const before = await metric(gw, 'pasokh_dedup_hits_total{channel="tg"}');
  for (let i = 0; i < 3; ++i) assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', update, telegramHeaders())).status, 200);
  const wa = waText(newPhone(), 'مكرر');
  for (let i = 0; i < 2; ++i) assert.equal((await postWhatsApp(gw, wa)).status, 200);
  await agent.next((f) => messageEvent()(f) && f.message.text === 'مكرر');
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.message?.text === 'دوبار فرستاده شد').length, 1);
  assert.equal(agent.frames.filter((f) => f.message?.text === 'مكرر').length, 0);
  assert.equal(await metric(gw, 'pasokh_dedup_hits_total{channel="tg"}'), before + 2);
});

test('a WhatsApp customer first seen by user id and later by phone stays one customer', async () => {
  const userId = `IR.${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const phone = newPhone();
  await postWhatsApp(gw, waText(null, 'سلام', { userId }));
  const first = await agent.next(messageEvent());
  await postWhatsApp(gw, waText(phone, 'شماره‌ام را هم دادم', { userId }));
  const second = await agent.next((f) => messageEvent()(f) && f.message.text === 'شماره‌ام را هم دادم');
  assert.equal(second.conv, first.conv);
  assert.equal(second.conversation.customer_id, first.conversation.customer_id);
  // And by phone alone afterwards.
  await postWhatsApp(gw, waText(phone, 'فقط با شماره'));
  const third = await agent.next((f) => messageEvent()(f) && f.message.text === 'فقط با شماره');
  assert.equal(third.conv, first.conv);
});

test('an edited Telegram message is logged again with its new text and edited_at; a late older edit is ignored', async () => {
  const chat = newChatId();
  const original = tgText(chat, 'ساعت ۵ میام');
  await postWebhook(gw, '/webhooks/telegram/tg', original, telegramHeaders());
  const msg = await agent.next((f) => messageEvent()(f) && f.message.text === 'ساعت ۵ میام');
  const edit = tgEdit(chat, original.message.message_id, 'ساعت ۶ میام');
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', edit, telegramHeaders())).status, 200);
  const edited = await agent.next((f) => f.edit === true && f.conv === msg.conv);
  assert.equal(edited.event, 'message');
  assert.equal(edited.seq, msg.seq + 1);
  assert.deepEqual([edited.message.id, edited.message.seq, edited.message.text], [msg.message.id, msg.seq, 'ساعت ۶ میام']);
  assert.equal(edited.message.edited_at, edit.edited_message.edit_date * 1000);
  assert.equal(edited.message.author, 'customer');
  const older = tgEdit(chat, original.message.message_id, 'ساعت ۵:۳۰');
  older.edited_message.edit_date -= 60;
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', older, telegramHeaders())).status, 200);
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${msg.conv}:edits`, String(msg.seq))).text, 'ساعت ۶ میام');
  // An edit of a message we never stored is acknowledged and counted.
  await postWebhook(gw, '/webhooks/telegram/tg', tgEdit(chat, 999999, 'x'), telegramHeaders());
  assert.ok(await metric(gw, 'pasokh_webhook_items_total{channel="tg",what="edit_unknown"}') >= 1);
});

// A conversation from before the list kept its newest message: the preview
// read from its log skips the edit events and shows the newest text.
test('the newest message read from an older conversation\'s log is the newest one, not an edit of an earlier one', async () => {
  const chat = newChatId();
  const first = tgText(chat, 'اولی');
  await postWebhook(gw, '/webhooks/telegram/tg', first, telegramHeaders());
  const a = await agent.next((f) => messageEvent()(f) && f.message.text === 'اولی');
  const second = tgText(chat, 'دومی');
  await postWebhook(gw, '/webhooks/telegram/tg', second, telegramHeaders());
  const b = await agent.next((f) => messageEvent()(f) && f.message.text === 'دومی');
  await postWebhook(gw, '/webhooks/telegram/tg', tgEdit(chat, first.message.message_id, 'اولی ویرایش شده'), telegramHeaders());
  await agent.next((f) => f.edit === true && f.conv === a.conv && f.message.seq === a.seq);
  const { token } = (await login(gw, 'sara', 'sara-secret-1')).json;
  const preview = async () => {
    redisCli(redis, 'HDEL', `pasokh:conv:${a.conv}`, 'last_message');
    const list = (await apiCall(gw, 'GET', '/api/v1/conversations?view=all&limit=500', { token })).json;
    const m = list.conversations.find((c) => c.id === a.conv).last_message;
    return [m.seq, m.text];
  };
  assert.deepEqual(await preview(), [b.seq, 'دومی']);
  await postWebhook(gw, '/webhooks/telegram/tg', tgEdit(chat, second.message.message_id, 'دومی ویرایش شده'), telegramHeaders());
  await agent.next((f) => f.edit === true && f.conv === a.conv && f.message.seq === b.seq);
  assert.deepEqual(await preview(), [b.seq, 'دومی ویرایش شده']);
});

// Sara's search: the result row for `conv`, or undefined. One login for all
// (a login hashes the password: polls would each pay for it).
let searchToken;
async function searchRow(q, conv) {
  searchToken ??= (await login(gw, 'sara', 'sara-secret-1')).json.token;
  const token = searchToken;
  const found = (await apiCall(gw, 'GET', `/api/v1/search?q=${encodeURIComponent(q)}`, { token })).json;
  return found.conversations.find((r) => r.conversation.id === conv);
}

test('search follows an edit: the words it took out no longer find the conversation, the new ones do', async () => {
  const chat = newChatId();
  const original = tgText(chat, 'رنگ زرشکی رسید');
  await postWebhook(gw, '/webhooks/telegram/tg', original, telegramHeaders());
  const msg = await agent.next((f) => messageEvent()(f) && f.message.text === 'رنگ زرشکی رسید');
  await waitUntil(() => searchRow('زرشکی', msg.conv), 'the original words indexed');
  assert.equal(redisCli(redis, 'ZSCORE', 'pasokh:search:vocab', 'زرشکی'), '0', 'a word being typed finds it');
  await postWebhook(gw, '/webhooks/telegram/tg', tgEdit(chat, original.message.message_id, 'رنگ نارنجی رسید'), telegramHeaders());
  const hit = await waitUntil(() => searchRow('نارنجی', msg.conv), 'the edited words indexed');
  assert.equal(hit.match.text, 'رنگ نارنجی رسید');
  assert.equal(await searchRow('زرشکی', msg.conv), undefined, 'the edited-out word no longer finds it');
  // Words the edit kept still find it, quoting the message as it reads now.
  const kept = await searchRow('رسید', msg.conv);
  assert.equal(kept?.match.text, 'رنگ نارنجی رسید');
  // A word nothing uses any more leaves the suggestions for a word being typed.
  assert.equal(redisCli(redis, 'ZSCORE', 'pasokh:search:vocab', 'زرشکی'), '');
});

test('an edit in a long conversation (2,500 words) keeps the words of its newest messages', async () => {
  const finds = async (q, conv) => !!(await searchRow(q, conv));
  const chat = newChatId();
  const words = (i) => Array.from({ length: 25 }, (_, j) => `lw${i}x${j}`).join(' ');
  const first = tgText(chat, words(0));
  await postWebhook(gw, '/webhooks/telegram/tg', first, telegramHeaders());
  const conv = (await agent.next((f) => messageEvent()(f) && f.message.text === words(0))).conv;
  // In two rounds, each indexed before the next: 100 messages of 25 words.
  for (const [from, to] of [[1, 60], [60, 100]]) {
    for (let i = from; i < to; ++i) await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, words(i)), telegramHeaders());
    await waitUntil(() => finds(`lw${to - 1}x24`, conv), `messages up to ${to - 1} indexed`);
  }
  await postWebhook(gw, '/webhooks/telegram/tg', tgEdit(chat, first.message.message_id, 'lwedited'), telegramHeaders());
  await waitUntil(() => finds('lwedited', conv), 'the edit indexed');
  assert.equal(await finds('lw0x3', conv), false, 'the edited-out word no longer finds it');
  for (const i of [1, 50, 99]) assert.equal(await finds(`lw${i}x24`, conv), true, `message ${i}'s words still find it`);
});

// What an Instagram customer unsends is deleted: its text and files leave the
// log (the entry and its seq stay), the list, the search index; the agents
// see it go live and after a reload.
test('an Instagram message the customer unsends loses its text and files for agents, the list and search, live and after a reload; a redelivery or an unknown one is counted, 200', async () => {
  const psid = newPsid();
  const gone = mid();
  const secret = 'کارت فیروزه‌نشان ۶۰۳۷';
  const photo = 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=unsent-photo';
  const kept = metaText(psid, IG_ACCOUNT_ID, 'سلام اینستاگرام');
  const unsent = metaText(psid, IG_ACCOUNT_ID, secret, { id: gone });
  unsent.message.attachments = [{ type: 'image', payload: { url: photo } }];
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [kept, unsent]))).status, 200);
  const msg = await agent.next((f) => messageEvent()(f) && f.message.text === secret);
  const conv = msg.conv;
  await waitUntil(() => searchRow('فیروزه‌نشان', conv), 'the words indexed');
  const seqBefore = Number(redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'seq'));

  const unsend = metaUnsend(psid, IG_ACCOUNT_ID, gone);
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [unsend]))).status, 200);
  // Live: the message again, without text or files, with deleted_at (the console shows "unsent").
  const live = await agent.next((f) => f.edit === true && f.conv === conv);
  assert.equal(live.seq, seqBefore + 1);
  assert.deepEqual([live.message.id, live.message.seq, live.message.text, live.message.deleted_at, live.message.attachments],
    [msg.message.id, msg.seq, '', unsend.timestamp, undefined]);

  // A reload: the entry keeps its seq, time, author and direction (reports and read marks count it as before).
  agent.send({ type: 'history', conv, after: 0 });
  const history = await agent.next((f) => f.type === 'history' && f.conv === conv);
  const versions = history.events.filter((e) => e.message?.id === msg.message.id);
  assert.deepEqual(versions.map((e) => e.seq), [msg.seq, live.seq]);
  for (const e of versions) {
    assert.deepEqual([e.message.text, e.message.attachments, e.message.deleted_at], ['', undefined, unsend.timestamp]);
    assert.deepEqual([e.message.created_at, e.message.author, e.message.direction], [msg.message.created_at, 'customer', 'in']);
  }
  assert.equal(history.events.find((e) => e.seq === msg.seq - 1).message.text, 'سلام اینستاگرام', 'the other message stays');
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+');
  assert.doesNotMatch(log, /فیروزه|unsent-photo/, 'nothing of it is left in the log');
  // The list's preview, and search: the words no longer find it, the others still do.
  const { token } = (await login(gw, 'sara', 'sara-secret-1')).json;
  const list = (await apiCall(gw, 'GET', '/api/v1/conversations?view=all&limit=500', { token })).json;
  const row = list.conversations.find((c) => c.id === conv).last_message;
  assert.deepEqual([row.text, row.deleted_at, row.attachment], ['', unsend.timestamp, undefined], 'the row says it was unsent after a reload too');
  assert.equal(await searchRow('فیروزه‌نشان', conv), undefined);
  await waitUntil(() => searchRow('اینستاگرام', conv), 'the rest indexed again');
  assert.equal(await searchRow('فیروزه‌نشان', conv), undefined, 'not indexed again from the log');

  // Meta's redelivery changes nothing; an unsend of a message we never stored is counted; both answered 200.
  const unknownBefore = await metric(gw, 'pasokh_webhook_items_total{channel="ig",what="unsent_unknown"}');
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [unsend]))).status, 200);
  const stranger = metaUnsend(psid, IG_ACCOUNT_ID, mid());
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [stranger]))).status, 200);
  assert.equal(await metric(gw, 'pasokh_webhook_items_total{channel="ig",what="unsent_unknown"}'), unknownBefore + 1);
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.edit === true && f.conv === conv).length, 0, 'no second event');
  assert.equal(Number(redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'seq')), live.seq);
});

// A long conversation's log is rewritten in bounded script calls (unsend_message.lua),
// so an unsend never holds Redis for the whole log; the result is the one call's.
test('an unsend in a conversation of 5,000 messages rewrites its log in calls of at most 500 entries, with the same result', async () => {
  const psid = newPsid();
  const gone = mid();
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID,
    [metaText(psid, IG_ACCOUNT_ID, 'پیام پس‌گرفته ۷۷۱', { id: gone })]))).status, 200);
  const msg = await agent.next((f) => messageEvent()(f) && f.message.provider_message_id === gone);
  const conv = msg.conv;
  const log = `pasokh:conv:${conv}:log`;
  // 5,000 more messages after it, and its edit at the end (a frame holding it again).
  const filled = redisCli(redis, 'EVAL', `
    local vkey, conv = KEYS[1], ARGV[1]
    local seq = tonumber(redis.call('HGET', vkey, 'seq'))
    for i = 1, 5000 do
      seq = seq + 1
      redis.call('XADD', vkey .. ':log', seq .. '-1', 'f', cjson.encode({ type = 'event', conv = conv, seq = seq,
        event = 'message', message = { id = conv .. ':' .. seq, seq = seq, direction = 'out', author = 'agent',
        text = 'پاسخ ' .. i } }))
    end
    seq = seq + 1
    local m = cjson.decode(redis.call('XRANGE', vkey .. ':log', ARGV[2] .. '-1', ARGV[2] .. '-1')[1][2][2]).message
    m.text, m.edited_at = 'پیام پس‌گرفته ویرایش‌شده', 1
    redis.call('XADD', vkey .. ':log', seq .. '-1', 'f', cjson.encode({ type = 'event', conv = conv, seq = seq,
      event = 'message', edit = true, message = m }))
    redis.call('HSET', vkey, 'seq', seq)
    return seq`, '1', `pasokh:conv:${conv}`, conv, String(msg.seq));
  const last = Number(filled);
  // The log but the unsent message's frames, as one digest.
  const digest = () => redisCli(redis, 'EVAL', `
    local out = {}
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', ARGV[1] .. '-1')) do
      if not string.find(e[2][2], ARGV[2], 1, true) then out[#out + 1] = e[1] .. ' ' .. e[2][2] end
    end
    return redis.sha1hex(table.concat(out, '\n')) .. ' ' .. #out`, '1', log, String(last), `"id":"${msg.message.id}"`);
  const before = digest();
  const entries = Number(redisCli(redis, 'XLEN', log));
  assert.ok(entries >= 5002);

  const lines = await monitored(redis, async () => {
    assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaUnsend(psid, IG_ACCOUNT_ID, gone)]))).status, 200);
  });
  // Each call's copying: the XADDs to the copy after its FCALL line.
  const calls = [];
  for (const l of lines) {
    if (/"FCALL" "unsend_message_[0-9a-f]+"/.test(l)) calls.push(0);
    else if (calls.length && l.includes(`"XADD" "pasokh:conv:${conv}:unsend:log"`)) calls[calls.length - 1]++;
  }
  assert.equal(calls.length, Math.floor(entries / 500) + 1, `${entries} entries in calls of 500: ${calls}`);
  assert.ok(Math.max(...calls) <= 500, `at most 500 entries a call: ${calls}`);
  assert.equal(calls.reduce((a, b) => a + b, 0), entries, 'each entry copied once');

  // (The console may be sent the padding it missed too: the unsend's own event comes after it.)
  const live = await agent.next((f) => f.edit === true && f.conv === conv && f.seq > last);
  assert.deepEqual([live.message.id, live.message.text, live.message.deleted_at > 0], [msg.message.id, '', true]);
  assert.equal(digest(), before, 'every other entry as it was');
  const frames = redisCli(redis, 'XRANGE', log, `${msg.seq}-1`, `${msg.seq}-1`) + redisCli(redis, 'XRANGE', log, `${last}-1`, `${last}-1`);
  assert.doesNotMatch(frames, /پس‌گرفته/, 'the message and its edit taken back');
  assert.equal((frames.match(/"deleted_at":/g) ?? []).length, 2);
  assert.equal(redisCli(redis, 'XLEN', log), String(entries + 1));
  assert.deepEqual([redisCli(redis, 'EXISTS', `pasokh:conv:${conv}:unsend:log`, `pasokh:conv:${conv}:unsend`),
    redisCli(redis, 'HEXISTS', `pasokh:conv:${conv}`, 'unsend_pass_at'), redisCli(redis, 'XINFO', 'GROUPS', log)],
    ['0', '0', ''], 'no trace of the pass');
});

// Two unsends in one conversation share the rewrite of its log: one coming
// after the pass copied its message starts the pass over; the call that ends
// it finishes both, and the other's next call learns its unsend is done.
test('an unsend coming while another one\'s rewrite of the log is past its message starts the pass over; one pass takes both back', async () => {
  const psid = newPsid();
  const [a, b] = [mid(), mid()];
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaText(psid, IG_ACCOUNT_ID, 'اولی پس‌گرفته', { id: a }),
    metaText(psid, IG_ACCOUNT_ID, 'بمانَد'), metaText(psid, IG_ACCOUNT_ID, 'دومی پس‌گرفته', { id: b })]))).status, 200);
  const msgB = await agent.next((f) => messageEvent()(f) && f.message.provider_message_id === b);
  const conv = msgB.conv;
  const unsendAt = () => Number(redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'unsend_pass_at'));
  // One log entry a call.
  const unsend = (id, goingOn = '') => fcall(redis, 'unsend_message', 'ig', id, String(Date.now()), String(Date.now()),
    `unsend:${id}`, '86400', '1', goingOn).split('\n');
  const [more, moreConv, seqA] = unsend(a);
  assert.deepEqual([more, moreConv], ['more', conv]);
  while (unsendAt() < msgB.seq) assert.equal(unsend(a, `${conv}:${seqA}`)[0], 'more');
  // b's frame was copied as it was: b's unsend starts the pass over.
  const [moreB, , seqB] = unsend(b);
  assert.equal(moreB, 'more');
  assert.equal(redisCli(redis, 'XLEN', `pasokh:conv:${conv}:unsend:log`), '1', 'copied again from the start');
  let answer;
  do answer = unsend(b, `${conv}:${seqB}`); while (answer[0] === 'more');
  assert.equal(answer[0], 'stored');
  assert.deepEqual(unsend(a, `${conv}:${seqA}`).slice(0, 2), ['stored', conv], 'a was finished by b\'s last call');
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+');
  assert.doesNotMatch(log, /پس‌گرفته/);
  assert.match(log, /بمانَد/);
  assert.equal(unsend(a)[0], 'duplicate', 'a redelivery is a duplicate');
  await waitUntil(() => agent.frames.filter((f) => f.edit === true && f.conv === conv && f.message?.deleted_at).length === 2,
    'both shown unsent');
});

// An erasure's scrub and an unsend both rewrite the log through a copy:
// whichever replaces the log first makes the other start over, so neither
// brings back what the other removed.
test('an unsend ending while an erasure\'s scrub is under way starts the scrub over: nothing comes back, each message counted once', async () => {
  const psid = newPsid();
  const gone = mid();
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaText(psid, IG_ACCOUNT_ID, 'نخست'),
    metaText(psid, IG_ACCOUNT_ID, 'پس‌گرفته در پاکسازی', { id: gone }), metaText(psid, IG_ACCOUNT_ID, 'سوم')]))).status, 200);
  const msg = await agent.next((f) => messageEvent()(f) && f.message.provider_message_id === gone);
  const { conv } = msg;
  const cust = msg.conversation.customer_id;
  const log = `pasokh:conv:${conv}:log`;
  const messages = redisCli(redis, 'EVAL', `local n = 0
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
      local f = cjson.decode(e[2][2])
      if f.event == 'message' and not f.edit then n = n + 1 end
    end
    return n`, '1', log);
  const now = () => String(Date.now());
  const unsend = (budget, goingOn = '') => fcall(redis, 'unsend_message', 'ig', gone, now(), now(), `unsend:${gone}`, '86400',
    budget, goingOn).split('\n');
  // The unsend under way (one entry a call), then the erasure's scrub too.
  const [more, , seq] = unsend('1');
  assert.equal(more, 'more');
  assert.equal(fcall(redis, 'erase', 'begin', now(), cust, 'test', '', '').split('\n')[0], 'erasing');
  assert.equal(fcall(redis, 'erase', 'step', now(), cust, '2'), 'more', 'the scrub under way');
  assert.equal(redisCli(redis, 'XLEN', `${log}:scrub`), '2');
  assert.equal(unsend('1000', `${conv}:${seq}`)[0], 'stored', 'the unsend replaces the log first');
  assert.deepEqual([redisCli(redis, 'EXISTS', `${log}:scrub`), redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'scrub_at')], ['0', '0'],
    'the scrub starts over');
  assert.deepEqual(fcall(redis, 'erase', 'step', now(), cust, '1000').split('\n'), ['erased', '1', messages]);
  const frames = redisCli(redis, 'XRANGE', log, '-', '+');
  assert.doesNotMatch(frames, /پس‌گرفته|نخست|سوم/);
  const first = JSON.parse(redisCli(redis, 'XRANGE', log, `${msg.seq}-1`, `${msg.seq}-1`).split('\n')[2]).message;
  assert.deepEqual([first.erased, first.deleted_at > 0, first.text], ['customer', true, '']);
});

// During a rolling upgrade a gateway of the version before may unsend (its
// single call rewrote the log through <log>:unsend) or scrub (its <log>:scrub
// RENAMEd over the log) in the middle of a pass; and a copy may be evicted.
// The pass never renames a copy that lacks entries or holds scrubbed words.
async function conversationOfThree(first, gone, third) {
  const psid = newPsid();
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaText(psid, IG_ACCOUNT_ID, first),
    metaText(psid, IG_ACCOUNT_ID, 'پس‌گرفته', { id: gone }), metaText(psid, IG_ACCOUNT_ID, third)]))).status, 200);
  return agent.next((f) => messageEvent()(f) && f.message.provider_message_id === gone);
}
const unsendCall = (gone, budget, goingOn = '') => fcall(redis, 'unsend_message', 'ig', gone, String(Date.now()),
  String(Date.now()), `unsend:${gone}`, '86400', budget, goingOn).split('\n');
// The old unsend_message.lua's rewrite, by hand: DEL, copy every entry, RENAME.
const oldVersionRewrite = (log, copy) => redisCli(redis, 'EVAL', `redis.call('DEL', KEYS[2])
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do redis.call('XADD', KEYS[2], e[1], e[2][1], e[2][2]) end
  redis.call('RENAME', KEYS[2], KEYS[1])`, '2', log, copy);

test('an unsend pass keeps every log entry when its copy is deleted or replaced, or an older gateway\'s unsend rewrites the log mid-pass', async () => {
  for (const meddle of ['old unsend', 'copy deleted', 'copy replaced']) {
    const gone = mid();
    const msg = await conversationOfThree('یکم', gone, 'سوم');
    const { conv } = msg;
    const log = `pasokh:conv:${conv}:log`;
    const entries = Number(redisCli(redis, 'XLEN', log));
    const [more, , seq] = unsendCall(gone, '3');
    assert.equal(more, 'more', meddle);
    if (meddle === 'old unsend') oldVersionRewrite(log, `${log}:unsend`);
    else if (meddle === 'copy deleted') redisCli(redis, 'DEL', `pasokh:conv:${conv}:unsend:log`);
    else {
      redisCli(redis, 'DEL', `pasokh:conv:${conv}:unsend:log`);
      redisCli(redis, 'XADD', `pasokh:conv:${conv}:unsend:log`, '1-1', 'f', '"stranger"');
    }
    let answer;
    do {
      answer = unsendCall(gone, '3', `${conv}:${seq}`);
      assert.ok(Number(redisCli(redis, 'XLEN', log)) >= entries, `${meddle}: the log never shrinks`);
    } while (answer[0] === 'more');
    assert.equal(answer[0], 'stored', meddle);
    const frames = redisCli(redis, 'XRANGE', log, '-', '+');
    assert.equal(Number(redisCli(redis, 'XLEN', log)), entries + 1, `${meddle}: every entry and the unsend's event`);
    assert.match(frames, /یکم/, `${meddle}: the first entries stay`);
    assert.doesNotMatch(frames, /پس‌گرفته|stranger/, meddle);
  }
});

test('an older gateway\'s scrub finishing in the middle of an unsend pass makes the pass start over: the erased words do not come back', async () => {
  const gone = mid();
  const msg = await conversationOfThree('نخستینِ پاک‌شده', gone, 'سومینِ پاک‌شده');
  const { conv } = msg;
  const log = `pasokh:conv:${conv}:log`;
  const [more, , seq] = unsendCall(gone, '3');
  assert.equal(more, 'more');
  // The old erase.lua's scrub, ended by hand: its copy (texts gone) RENAMEd
  // over the log, the unsend's copy untouched.
  redisCli(redis, 'EVAL', `redis.call('DEL', KEYS[2])
    for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
      redis.call('XADD', KEYS[2], e[1], e[2][1], (string.gsub(e[2][2], 'پاک‌شده', 'ـــ')))
    end
    redis.call('RENAME', KEYS[2], KEYS[1])`, '2', log, `${log}:scrub`);
  let answer;
  do answer = unsendCall(gone, '3', `${conv}:${seq}`); while (answer[0] === 'more');
  assert.equal(answer[0], 'stored');
  const frames = redisCli(redis, 'XRANGE', log, '-', '+');
  assert.doesNotMatch(frames, /پاک‌شده|پس‌گرفته/, 'nothing scrubbed or unsent comes back');
  assert.match(frames, /نخستینِ ـــ/);
});

// A pass given up (its gateway gone, Meta no longer retrying) does not leave its copy for ever.
test('an unsend pass given up leaves its copy and pending unsends only for the dedup time', async () => {
  const gone = mid();
  const { conv } = await conversationOfThree('یک', gone, 'سه');
  assert.equal(unsendCall(gone, '2')[0], 'more');
  const ttl = (key) => Number(redisCli(redis, 'TTL', key));
  for (const key of [`pasokh:conv:${conv}:unsend:log`, `pasokh:conv:${conv}:unsend`]) {
    assert.ok(ttl(key) > 0 && ttl(key) <= 86400, `${key} expires: ${ttl(key)}`);
  }
});

// The unsend handled before the message itself (the two webhooks at once, or
// the message's failed and Meta sent it again): the message is stored unsent.
test('an Instagram message unsent before it is stored is stored without its text and files, and shown unsent (its file never copied: meta_media.test)', async () => {
  const psid = newPsid();
  const gone = mid();
  const secret = 'رمز یکبار مصرف ۴۴۱۹';
  const photo = 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=early-unsent-photo';
  const unsend = metaUnsend(psid, IG_ACCOUNT_ID, gone);
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [unsend]))).status, 200);
  assert.equal(redisCli(redis, 'GET', `pasokh:unsent:ig:${gone}`), String(unsend.timestamp), 'the marker waits for it');

  const late = metaText(psid, IG_ACCOUNT_ID, secret, { id: gone });
  late.message.attachments = [{ type: 'image', payload: { url: photo } }];
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [late]))).status, 200);
  const live = await agent.next((f) => messageEvent()(f) && f.message.provider_message_id === gone);
  assert.deepEqual([live.message.text, live.message.attachments, live.message.deleted_at, live.message.direction],
    ['', undefined, unsend.timestamp, 'in']);
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${live.conv}:log`, '-', '+');
  assert.match(log, /"deleted_at":/);
  assert.doesNotMatch(log, /یکبار|early-unsent-photo/, 'nothing of it in the log');
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:unsent:ig:${gone}`), '0', 'the marker is gone');
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:provider_msg:ig:${gone}`), '0', 'a late edit of it is unknown');
  // Meta's redelivery of the message is a duplicate: still unsent.
  assert.equal((await postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [late]))).status, 200);
  await sleep(200);
  assert.doesNotMatch(redisCli(redis, 'XRANGE', `pasokh:conv:${live.conv}:log`, '-', '+'), /یکبار/);
  const { token } = (await login(gw, 'sara', 'sara-secret-1')).json;
  const list = (await apiCall(gw, 'GET', '/api/v1/conversations?view=all&limit=500', { token })).json;
  assert.equal(list.conversations.find((c) => c.id === live.conv).last_message.text, '');
});

test('a Telegram button press is stored with its payload and the callback is answered', async () => {
  const chat = newChatId();
  const conv = await telegramConversation(chat, 'موضوع؟');
  const press = tgCallback(chat, 'topic:warranty');
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', press, telegramHeaders())).status, 200);
  const live = await agent.next((f) => messageEvent(conv)(f) && f.message.button_payload === 'topic:warranty');
  assert.equal(live.message.text, 'گارانتی');
  const answered = await waitUntil(async () => (await fake.requests('answerCallbackQuery')).at(0), 'answerCallbackQuery');
  assert.equal(answered.json.callback_query_id, press.callback_query.id);
});

test('a webhook answers 503 while Redis is down, and the retried webhook is stored after', async () => {
  const update = tgText(newChatId(), 'Redis رفت');
  await redis.stop();
  try {
    const down = await postWebhook(gw, '/webhooks/telegram/tg', update, telegramHeaders());
    assert.equal(down.status, 503);
  } finally {
    await redis.start();
  }
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  await agent.close();
  agent = await agentFor(gw);
  await waitUntil(async () => (await postWebhook(gw, '/webhooks/telegram/tg', update, telegramHeaders())).status === 200, 'a stored retry');
  await agent.next((f) => messageEvent()(f) && f.message.text === 'Redis رفت');
});

// --- outbound ------------------------------------------------------------------------

test('an agent reply on Telegram is sent with sendMessage and marked sent', async () => {
  const chat = newChatId();
  const conv = await telegramConversation(chat);
  const seq = await reply(agent, conv, 'سلام! چطور می‌تونم کمک کنم؟');
  const sent = await agent.next(deliveryEvent(conv, 'sent'));
  assert.equal(sent.message_seq, seq);
  assert.match(sent.provider_message_id, new RegExp(`^${chat}:\\d+$`));
  const [request] = await fake.requests('/sendMessage');
  assert.equal(request.path, `/bot${SECRETS.PASOKH_TG_TOKEN}/sendMessage`);
  assert.equal(String(request.json.chat_id), String(chat));
  assert.equal(request.json.text, 'سلام! چطور می‌تونم کمک کنم؟');
});

test('an agent reply on WhatsApp carries the right body and statuses never move backwards', async () => {
  const phone = newPhone();
  await postWhatsApp(gw, waText(phone, 'سلام'));
  const conv = (await agent.next((f) => messageEvent()(f) && f.conversation.channel === 'wa')).conv;
  const seq = await reply(agent, conv, 'مرحباً، كيف نساعدك؟');
  const sent = await agent.next(deliveryEvent(conv, 'sent'));
  const [request] = await fake.requests('/messages');
  assert.equal(request.headers.authorization, `Bearer ${SECRETS.PASOKH_WA_TOKEN}`);
  assert.deepEqual(request.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: phone, type: 'text',
    text: { body: 'مرحباً، كيف نساعدك؟', preview_url: false } });

  const id = sent.provider_message_id;
  await postWhatsApp(gw, waStatuses(phone, [[id, 'read'], [id, 'delivered'], [id, 'sent']]));
  const read = await agent.next(deliveryEvent(conv, 'read'));
  assert.equal(read.message_seq, seq);
  await postWhatsApp(gw, waStatuses(phone, [[id, 'delivered']]));  // late and repeated
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.event === 'delivery' && f.conv === conv).length, 0);
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(seq))).status, 'read');
});

// A customer's reaction to a reply: shown to the agents on that message, and nothing else moves.
function waReaction(phone, messageId, emoji, { id = wamid() } = {}) {
  const body = waText(phone, 'unused');
  const message = body.entry[0].changes[0].value.messages[0];
  delete message.text;
  Object.assign(message, { id, type: 'reaction', reaction: { message_id: messageId, ...(emoji ? { emoji } : {}) } });
  return body;
}
const reactionEvent = (conv) => (f) => f.type === 'event' && f.event === 'reaction' && f.conv === conv;

test('a WhatsApp reaction to a reply reaches the agent on that message, once, and taking it back too; the conversation stays as it was', async () => {
  const phone = newPhone();
  const conv = await whatsappConversation(phone, 'کی ارسال می‌شه؟');
  const seq = await reply(agent, conv, 'فردا ارسال می‌شود');
  const id = (await agent.next(deliveryEvent(conv, 'sent'))).provider_message_id;
  const before = redisCli(redis, 'HMGET', `pasokh:conv:${conv}`, 'status', 'updated_at', 'last_message');

  const heart = waReaction(phone, id, '❤️');
  assert.equal((await postWhatsApp(gw, heart)).status, 200);
  const reacted = await agent.next(reactionEvent(conv));
  assert.deepEqual(reacted.reaction, { message_seq: seq, message_id: `${conv}:${seq}`, emoji: '❤️' });
  assert.equal(reacted.actor, 'customer');
  assert.equal(reacted.seq, seq + 1, 'an event of the conversation\'s log');
  assert.equal(redisCli(redis, 'HMGET', `pasokh:conv:${conv}`, 'status', 'updated_at', 'last_message'), before,
    'no new message: the list, the queue and the bot do not move');

  assert.equal((await postWhatsApp(gw, heart)).status, 200);  // redelivered
  const gone = waReaction(phone, id, '');
  assert.equal((await postWhatsApp(gw, gone)).status, 200);
  const takenBack = await agent.next(reactionEvent(conv));
  assert.deepEqual([takenBack.reaction.emoji, takenBack.reaction.previous, takenBack.seq], ['', '❤️', seq + 2],
    'the redelivery added nothing');
  // The history an agent opening the conversation reads has both.
  agent.send({ type: 'history', conv, after: seq });
  const history = await agent.next((f) => f.type === 'history' && f.conv === conv);
  assert.deepEqual(history.events.map((e) => [e.event, e.reaction?.emoji]), [['reaction', '❤️'], ['reaction', '']]);

  // A reaction to a message we never sent is acknowledged and counted.
  assert.equal((await postWhatsApp(gw, waReaction(phone, wamid(), '👍'))).status, 200);
  assert.ok(await metric(gw, 'pasokh_webhook_items_total{channel="wa",what="reaction_unknown"}') >= 1);
  assert.ok(await metric(gw, 'pasokh_webhook_items_total{channel="wa",what="reaction"}') >= 2);
});

test('a Telegram reaction to a reply reaches the agent; an empty one takes it back', async () => {
  const chat = newChatId();
  const conv = await telegramConversation(chat, 'reaction on telegram');
  const seq = await reply(agent, conv, 'Delivered tomorrow.');
  const id = (await agent.next(deliveryEvent(conv, 'sent'))).provider_message_id;  // "<chat>:<message_id>"
  const update = (updateId, emoji) => ({ update_id: updateId, message_reaction: { chat: { id: chat, type: 'private' },
    message_id: Number(id.split(':')[1]), user: { id: chat, first_name: 'سارا' }, date: Math.floor(Date.now() / 1000),
    old_reaction: [], new_reaction: emoji ? [{ type: 'emoji', emoji }] : [] } });
  const updateId = 900000000 + Math.floor(Math.random() * 1e8);
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', update(updateId, '🙏'), telegramHeaders())).status, 200);
  assert.deepEqual((await agent.next(reactionEvent(conv))).reaction, { message_seq: seq, message_id: `${conv}:${seq}`, emoji: '🙏' });
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', update(updateId + 1, ''), telegramHeaders())).status, 200);
  assert.equal((await agent.next(reactionEvent(conv))).reaction.emoji, '');
});

test('a Messenger reaction and its unreact reach the agent; an older one redelivered late changes nothing', async () => {
  const psid = newPsid();
  const conv = await metaConversation(psid, 'reaction test');
  const seq = await reply(agent, conv, 'Your refund was issued today.');
  const id = (await agent.next(deliveryEvent(conv, 'sent'))).provider_message_id;
  const item = (action, emoji, timestamp) => ({ sender: { id: psid }, recipient: { id: FB_PAGE_ID }, timestamp,
    reaction: { mid: id, action, ...(emoji ? { reaction: 'love', emoji } : {}) } });
  const t0 = Date.now();
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [item('react', '👍', t0)]))).status, 200);
  assert.equal((await agent.next(reactionEvent(conv))).reaction.emoji, '👍');
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [item('unreact', '', t0 + 2000)]))).status, 200);
  assert.equal((await agent.next(reactionEvent(conv))).reaction.emoji, '');
  // A react from before the unreact, delivered after it: the customer's reaction stays taken back.
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [item('react', '😡', t0 + 1000)]))).status, 200);
  await sleep(200);
  assert.equal(agent.frames.filter(reactionEvent(conv)).length, 0);
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:reactions`, String(seq))).emoji, '');
});

test('a WhatsApp status that comes before the send\'s answer is applied once the message id is recorded', async () => {
  const phone = newPhone();
  const conv = await whatsappConversation(phone, 'وضعیت زودرس');
  const id = wamid();
  await fake.script({ action: 'delay', delay_ms: 800, path: '/messages', message_id: id });
  const seq = await reply(agent, conv, 'read before the answer');
  await waitUntil(async () => (await fake.requests('/messages')).length > 0, 'the send');
  assert.equal((await postWhatsApp(gw, waStatuses(phone, [[id, 'delivered'], [id, 'read']]))).status, 200);
  const read = await agent.next(deliveryEvent(conv, 'read'), 5000);
  assert.equal(read.message_seq, seq);
  await sleep(300);  // the outbox's own "sent" comes after and changes nothing
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(seq))).status, 'read');
});

test('Messenger replies use RESPONSE inside 24 h and the HUMAN_AGENT tag up to 7 days; later they fail', async () => {
  const psid = newPsid();
  await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, 'سلام')]));
  const conv = (await agent.next((f) => messageEvent()(f) && f.conversation.channel === 'fb')).conv;
  await reply(agent, conv, 'جواب اول');
  await agent.next(deliveryEvent(conv, 'sent'));
  const day = 24 * 3600 * 1000;
  redisCli(redis, 'HSET', `pasokh:conv:${conv}`, 'last_customer_message_at', String(Date.now() - 3 * day));
  await reply(agent, conv, 'جواب بعد از سه روز');
  await agent.next(deliveryEvent(conv, 'sent'));
  const bodies = (await fake.requests('/me/messages')).map((r) => r.json);
  assert.deepEqual(bodies.map((b) => [b.recipient.id, b.messaging_type, b.tag, b.message.text]),
    [[psid, 'RESPONSE', undefined, 'جواب اول'], [psid, 'MESSAGE_TAG', 'HUMAN_AGENT', 'جواب بعد از سه روز']]);
  assert.equal(bodies[0].recipient.id, psid);
  redisCli(redis, 'HSET', `pasokh:conv:${conv}`, 'last_customer_message_at', String(Date.now() - 8 * day));
  await reply(agent, conv, 'خیلی دیر');
  const failed = await agent.next(deliveryEvent(conv, 'failed'));
  assert.match(failed.reason, /^outside the messaging window/);
  assert.equal((await fake.requests('/me/messages')).length, 2);
});

test('429 with retry_after is retried after the wait and delivered once; for a quiet chat the channel waits', async () => {
  const [chat, other] = [newChatId(), newChatId()];
  const conv = await telegramConversation(chat);
  const otherConv = await telegramConversation(other, 'من هم هستم');
  await fake.script({ action: 'rate_limit', retry_after: 1, path: '/sendMessage' });
  const waiting = await reply(agent, conv, 'بعد از صبر');
  await agent.next(retryNoted(conv, waiting));  // the channel is paused by then
  await reply(agent, otherConv, 'من هم صبر کردم');
  await agent.next(deliveryEvent(conv, 'sent'), 8000);
  await agent.next(deliveryEvent(otherConv, 'sent'), 8000);
  const sends = await fake.requests('/sendMessage');
  assert.deepEqual(sends.map((r) => [String(r.json.chat_id), r.status]).sort(),
    [[String(chat), 200], [String(chat), 429], [String(other), 200]].sort());
  const [limited, resent] = sends.filter((r) => String(r.json.chat_id) === String(chat));
  assert.ok(resent.time - limited.time >= 950, `resent after ${resent.time - limited.time} ms`);
  // Nothing went to this chat in the second before: the 429 is the channel's.
  const toOther = sends.find((r) => String(r.json.chat_id) === String(other));
  assert.ok(toOther.time - limited.time >= 950, `the other chat was sent to ${toOther.time - limited.time} ms after the 429`);
  await sleep(500);
  assert.equal((await fake.requests('/sendMessage')).length, 3);
});

test('a reply waiting out a 429 shows the agent why and when it goes again, until sent', async () => {
  const conv = await telegramConversation(newChatId(), 'صبر کن');
  await fake.script({ action: 'rate_limit', retry_after: 1, path: '/sendMessage' });
  const seq = await reply(agent, conv, 'after the rate limit');
  const noted = await agent.next((f) => deliveryEvent(conv, 'pending')(f) && f.retrying);
  assert.equal(noted.message_seq, seq);
  assert.match(noted.retrying.reason, /^rate limited by the provider: /);
  assert.equal(noted.retrying.attempt, 1);
  const [limited] = await fake.requests('/sendMessage');
  assert.equal(limited.status, 429);
  // Against the time of the 429, not of the note's arrival (which a slow machine delays).
  assert.ok(noted.retrying.next_at >= limited.time + 950, `goes again ${noted.retrying.next_at - limited.time} ms after the 429, not after the provider's retry_after`);
  const sent = await agent.next(deliveryEvent(conv, 'sent'), 5000);
  assert.equal(sent.retrying, undefined);
});

test('a Telegram 429 after sends in a row to one chat holds back only that chat', async () => {
  const [busy, other] = [newChatId(), newChatId()];
  const busyConv = await telegramConversation(busy, 'پشت سر هم');
  const otherConv = await telegramConversation(other, 'من منتظر نمی‌مانم');
  await fake.script([{ action: 'delay', to: String(busy) }, { action: 'rate_limit', to: String(busy), retry_after: 2 }]);
  await reply(agent, busyConv, 'یک');
  await reply(agent, busyConv, 'دو');  // paced a second after the first, then refused
  const limited = await waitUntil(async () => (await fake.requests('/sendMessage')).find((r) => r.status === 429), 'the 429', 4000);
  await reply(agent, otherConv, 'بدون صبر');
  await agent.next(deliveryEvent(otherConv, 'sent'), 8000);
  const toOther = (await fake.requests('/sendMessage')).find((r) => String(r.json.chat_id) === String(other));
  // Held back with the busy chat, it would go 2 s after the 429 at the soonest.
  assert.ok(toOther.time - limited.time < 1500, `the other chat was sent to ${toOther.time - limited.time} ms after the 429`);
  await agent.next(deliveryEvent(busyConv, 'sent'), 8000);
  await agent.next(deliveryEvent(busyConv, 'sent'), 8000);
  const toBusy = (await fake.requests('/sendMessage')).filter((r) => String(r.json.chat_id) === String(busy));
  assert.deepEqual(toBusy.map((r) => [r.json.text, r.status]), [['یک', 200], ['دو', 429], ['دو', 200]]);
  assert.ok(toBusy[2].time - limited.time >= 1950, `resent after ${toBusy[2].time - limited.time} ms`);
});

test('WhatsApp 131056 (too many messages to one customer) defers only that customer; 130429 still pauses the number', async () => {
  const [phoneA, phoneB] = [newPhone(), newPhone()];
  const convA = await whatsappConversation(phoneA, 'سلام از الف');
  const convB = await whatsappConversation(phoneB, 'سلام از ب');
  const sendsTo = async (phone) => (await fake.requests('/messages')).filter((r) => r.json.to === phone);
  await fake.script({ action: 'pair_rate_limit', to: phoneA, retry_after: 2 });
  await reply(agent, convA, 'اول به الف');
  await reply(agent, convA, 'دوم به الف');
  const pair = await waitUntil(async () => (await sendsTo(phoneA)).find((r) => r.scripted), 'the 131056');
  await reply(agent, convB, 'به ب');
  await agent.next(deliveryEvent(convB, 'sent'), 8000);
  const [toB] = await sendsTo(phoneB);
  // Held back with A, B would go 2 s after the 131056 at the soonest.
  assert.ok(toB.time - pair.time < 1500, `B was sent ${toB.time - pair.time} ms after A's 131056`);
  await agent.next(deliveryEvent(convA, 'sent'), 8000);
  await agent.next(deliveryEvent(convA, 'sent'), 8000);
  const toA = await sendsTo(phoneA);
  assert.deepEqual(toA.map((r) => [r.json.text.body, r.status]), [['اول به الف', 400], ['اول به الف', 200], ['دوم به الف', 200]]);
  assert.ok(toA[1].time - pair.time >= 1950, `A's reply was resent ${toA[1].time - pair.time} ms after the 131056`);

  await fake.clear();
  await fake.script({ action: 'rate_limit', to: phoneA, retry_after: 1 });
  const third = await reply(agent, convA, 'سوم به الف');
  await agent.next(retryNoted(convA, third));  // the number is paused by then
  const throughput = (await sendsTo(phoneA)).find((r) => r.scripted);
  await reply(agent, convB, 'دوباره به ب');
  await agent.next(deliveryEvent(convB, 'sent'), 8000);
  const [again] = await sendsTo(phoneB);
  assert.ok(again.time - throughput.time >= 950, `B was sent ${again.time - throughput.time} ms after the 130429`);
  await agent.next(deliveryEvent(convA, 'sent'), 8000);
});

test('a customer deferred by 131056 with more replies queued than the outbox sends at once holds up no other customer', async () => {
  const [phoneA, phoneB] = [newPhone(), newPhone()];
  const convA = await whatsappConversation(phoneA, 'سلام، چند سؤال دارم');
  const convB = await whatsappConversation(phoneB, 'سلام، سفارشم کجاست؟');
  const sendsTo = async (phone) => (await fake.requests('/messages')).filter((r) => r.json.to === phone);
  await fake.script({ action: 'pair_rate_limit', to: phoneA, retry_after: 3 });
  const answers = Array.from({ length: 20 }, (_, i) => `پاسخ ${i + 1}`);  // more than the 16 sent at once
  for (const text of answers) await reply(agent, convA, text);
  const pair = await waitUntil(async () => (await sendsTo(phoneA)).find((r) => r.scripted), 'the 131056');
  await reply(agent, convB, 'فردا می‌رسد');
  await agent.next(deliveryEvent(convB, 'sent'), 8000);
  const [toB] = await sendsTo(phoneB);
  assert.ok(toB.time - pair.time < 2500, `B was sent ${toB.time - pair.time} ms after A's 131056, not while A waited (3 s)`);
  for (let i = 0; i < answers.length; ++i) await agent.next(deliveryEvent(convA, 'sent'), 8000);
  const delivered = (await sendsTo(phoneA)).filter((r) => r.status === 200);
  assert.deepEqual(delivered.map((r) => r.json.text.body), answers);  // in order, each once
  assert.ok(delivered[0].time - pair.time >= 2950, `A was sent to again ${delivered[0].time - pair.time} ms after the 131056`);
});

test('a Messenger rate limit (613) holds back the other replies of the channel, which paces only per chat', async () => {
  const [psidA, psidB] = [newPsid(), newPsid()];
  const convA = await metaConversation(psidA, 'سلام از الف');
  const convB = await metaConversation(psidB, 'سلام از ب');
  await fake.script({ action: 'rate_limit', to: psidA, retry_after: 1 });
  const waiting = await reply(agent, convA, 'جواب الف');
  await agent.next(retryNoted(convA, waiting));  // the page is paused by then
  const limited = (await fake.requests('/me/messages')).find((r) => r.scripted);
  await reply(agent, convB, 'جواب ب');
  await agent.next(deliveryEvent(convB, 'sent'), 8000);
  await agent.next(deliveryEvent(convA, 'sent'), 8000);
  const sends = await fake.requests('/me/messages');
  const toB = sends.filter((r) => r.json.recipient.id === psidB);
  assert.equal(toB.length, 1);
  assert.ok(toB[0].time - limited.time >= 950, `B was sent ${toB[0].time - limited.time} ms after the 613`);
  assert.deepEqual(sends.filter((r) => r.json.recipient.id === psidA).map((r) => r.status), [400, 200]);
});

test('a 500 is retried until it goes through', async () => {
  const psid = newPsid();
  await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, 'hi')]));
  const conv = (await agent.next((f) => messageEvent()(f) && f.message.text === 'hi')).conv;
  await fake.script({ action: 'error_500', count: 2, path: '/me/messages' });
  await reply(agent, conv, 'retried');
  await agent.next(deliveryEvent(conv, 'sent'), 8000);
  assert.deepEqual((await fake.requests('/me/messages')).map((r) => r.status), [500, 500, 200]);
});

test('an expired page token (Graph error 190) holds replies with a reason and a retry until it works again; logged once, counted', async () => {
  const psid = newPsid();
  const conv = await metaConversation(psid, 'token test');
  const other = await metaConversation(newPsid(), 'token test 2');
  const before = await metric(gw, 'pasokh_provider_token_refused_total{channel="fb"}');
  await fake.script({ action: 'invalid_token', count: 3, path: '/me/messages' });
  await reply(agent, conv, 'after the token is renewed');
  await reply(agent, other, 'this one too');
  const noted = await agent.next((f) => deliveryEvent(conv, 'pending')(f) && f.retrying, 5000);
  assert.match(noted.retrying.reason, /access token is expired or revoked.*invalid_token: Error validating access token/);
  assert.ok(noted.retrying.next_at > Date.now() - 1000);
  await agent.next(deliveryEvent(conv, 'sent'), 10000);
  await agent.next(deliveryEvent(other, 'sent'), 10000);
  assert.equal(await metric(gw, 'pasokh_provider_token_refused_total{channel="fb"}') - before, 3);
  const logged = gw.output.split('\n').filter((l) => l.includes('refuses the access token'));
  assert.equal(logged.length, 1, logged.join('\n'));
  assert.match(logged[0], /error/);
});

test('a revoked Telegram bot token (401) holds replies with a reason and a retry until it works again; logged once, counted', async () => {
  const conv = await telegramConversation(newChatId(), 'token test telegram');
  const before = await metric(gw, 'pasokh_provider_token_refused_total{channel="tg"}');
  await fake.script({ action: 'invalid_token', count: 2, path: '/sendMessage' });
  const seq = await reply(agent, conv, 'after the bot token is renewed');
  const noted = await agent.next((f) => retryNoted(conv, seq)(f), 5000);
  assert.match(noted.retrying.reason, /access token is expired or revoked.*invalid_token: Unauthorized/);
  assert.ok(!noted.retrying.reason.includes(SECRETS.PASOKH_TG_TOKEN));
  await agent.next((f) => deliveryEvent(conv, 'sent')(f) && f.message_seq === seq, 10000);
  assert.deepEqual((await fake.requests('/sendMessage')).map((r) => r.status), [401, 401, 200]);
  assert.equal(await metric(gw, 'pasokh_provider_token_refused_total{channel="tg"}') - before, 2);
  const logged = gw.output.split('\n').filter((l) => l.includes('channel=tg ') && l.includes('refuses the access token'));
  assert.equal(logged.length, 1, logged.join('\n'));
  assert.match(logged[0], /error/);
});

test('a split reply that fails for good after its first part tells the agent which parts the customer has', async () => {
  const conv = await telegramConversation(newChatId());
  const long = `${'الف '.repeat(1000)}\n${'ب ج '.repeat(1000)}\n${'پ ت '.repeat(1000)}`;  // three parts of 4000 UTF-16 units
  await fake.script([{ action: 'delay', count: 1, path: '/sendMessage' }, { action: 'blocked', count: 1, path: '/sendMessage' }]);
  const seq = await reply(agent, conv, long);
  const failed = await agent.next((f) => deliveryEvent(conv, 'failed')(f) && f.message_seq === seq, 8000);
  assert.equal(failed.reason, 'part 2 of 3 failed, part 1 was delivered: blocked: Forbidden: bot was blocked by the user');
  assert.deepEqual((await fake.requests('/sendMessage')).map((r) => r.status), [200, 403]);
});

test('a split text whose second part fails is resumed without sending the first part again', async () => {
  const conv = await telegramConversation(newChatId());
  const long = `${'الف '.repeat(1000)}\n${'ب '.repeat(1000)}`;  // 6001 UTF-16 units: two parts
  await fake.script([{ action: 'delay', count: 1, path: '/sendMessage' }, { action: 'error_500', count: 1, path: '/sendMessage' }]);
  await reply(agent, conv, long);
  const sent = await agent.next(deliveryEvent(conv, 'sent'), 8000);
  const sends = await fake.requests('/sendMessage');
  assert.deepEqual(sends.map((r) => r.status), [200, 500, 200]);
  assert.equal(sends[0].json.text, 'الف '.repeat(1000).trim());
  assert.equal(sends[1].json.text, 'ب '.repeat(1000).trim());
  assert.equal(sends[2].json.text, sends[1].json.text);
  // The message's provider id is its first part's.
  assert.equal(sent.provider_message_id.split(':')[1], '1');
});

test('each part of a split reply is paced as a message of its own (Telegram: one a second per chat)', async () => {
  const conv = await telegramConversation(newChatId());
  await reply(agent, conv, `${'الف '.repeat(1000)}\n${'ب '.repeat(1000)}`);  // two parts
  await agent.next(deliveryEvent(conv, 'sent'), 8000);
  const sends = await fake.requests('/sendMessage');
  assert.deepEqual(sends.map((r) => r.status), [200, 200]);
  assert.ok(sends[1].time - sends[0].time >= 950, `the second part went ${sends[1].time - sends[0].time} ms after the first`);
});

test('WhatsApp window closed: the provider error and the 24-hour rule both fail with a reason for the agent', async () => {
  const phone = newPhone();
  await postWhatsApp(gw, waText(phone, 'سلام'));
  const conv = (await agent.next((f) => messageEvent()(f) && f.conversation.channel === 'wa')).conv;
  await fake.script({ action: 'window_closed', path: '/messages' });
  await reply(agent, conv, 'دیر شد؟');
  const refused = await agent.next(deliveryEvent(conv, 'failed'));
  assert.match(refused.reason, /^outside the 24-hour window: send a template \(.*131047/);
  assert.equal((await fake.requests('/messages')).length, 1);

  redisCli(redis, 'HSET', `pasokh:conv:${conv}`, 'last_customer_message_at', String(Date.now() - 25 * 3600 * 1000));
  await reply(agent, conv, 'بعد از ۲۵ ساعت');
  const failed = await agent.next(deliveryEvent(conv, 'failed'));
  assert.equal(failed.reason, 'outside the 24-hour window: send a template');
  assert.equal((await fake.requests('/messages')).length, 1);  // nothing sent
});

test('the 24-hour window counts from when the customer wrote, not from a webhook redelivered hours later', async () => {
  const phone = newPhone();
  const hour = 3600;
  const waAt = (text, ageS) => {
    const body = waText(phone, text);
    body.entry[0].changes[0].value.messages[0].timestamp = String(Math.floor(Date.now() / 1000) - ageS);
    return body;
  };
  const lastAt = (conv) => Number(redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'last_customer_message_at'));
  const late = waAt('دیروز نوشتم', 25 * hour);  // Meta kept retrying it for a day
  assert.equal((await postWhatsApp(gw, late)).status, 200);
  const conv = (await agent.next((f) => messageEvent()(f) && f.message.text === 'دیروز نوشتم')).conv;
  assert.equal(lastAt(conv), Number(late.entry[0].changes[0].value.messages[0].timestamp) * 1000);
  await reply(agent, conv, 'دیر است');
  const failed = await agent.next(deliveryEvent(conv, 'failed'));
  assert.equal(failed.reason, 'outside the 24-hour window: send a template');
  assert.equal((await fake.requests('/messages')).length, 0);

  // A newer message opens the window; an older one redelivered after it does
  // not move it back, and a time ahead of ours counts as now.
  await postWhatsApp(gw, waAt('الان نوشتم', 0));
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'الان نوشتم');
  const opened = lastAt(conv);
  assert.ok(Date.now() - opened < 5000);
  await postWhatsApp(gw, waAt('دو ساعت پیش', 2 * hour));
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'دو ساعت پیش');
  assert.equal(lastAt(conv), opened);
  const before = Date.now();
  await postWhatsApp(gw, waAt('از آینده', -hour));
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'از آینده');
  assert.ok(lastAt(conv) >= before && lastAt(conv) <= Date.now(), `last_customer_message_at ${lastAt(conv) - before} ms after the post`);
  await reply(agent, conv, 'حالا می‌رسد');
  await agent.next(deliveryEvent(conv, 'sent'));
});

test('a follow-up in a resolved WhatsApp conversation goes out while the customer is writing in a newer one (the window is theirs)', async () => {
  const phone = newPhone();
  const old = await whatsappConversation(phone, 'گارانتی لپ‌تاپ');
  agent.send({ type: 'resolve', conv: old, client_id: `res-${phone}` });
  await agent.next((f) => f.type === 'ack' && f.client_id === `res-${phone}`);
  // Days later (the reopen window long gone) the customer writes about something else.
  const customer = redisCli(redis, 'HGET', `pasokh:conv:${old}`, 'customer_id');
  redisCli(redis, 'HSET', `pasokh:conv:${old}`, 'last_customer_message_at', String(Date.now() - 3 * 24 * 3600 * 1000));
  redisCli(redis, 'DEL', `pasokh:cust:${customer}:open:wa`);
  const fresh = await whatsappConversation(phone, 'یک سؤال تازه');
  assert.notEqual(fresh, old);
  await reply(agent, old, 'تعمیر لپ‌تاپ شما تمام شد');
  const outcome = await agent.next((f) => deliveryEvent(old)(f) && f.status !== 'pending');
  assert.equal(outcome.status, 'sent', outcome.reason);
  const sent = (await fake.requests('/messages')).map((r) => r.json);
  assert.deepEqual(sent.map((b) => [b.to, b.type, b.text?.body]), [[phone, 'text', 'تعمیر لپ‌تاپ شما تمام شد']]);
});

test('a WhatsApp "failed" status with 131047 shows the window reason', async () => {
  const phone = newPhone();
  await postWhatsApp(gw, waText(phone, 'سلام'));
  const conv = (await agent.next((f) => messageEvent()(f) && f.conversation.channel === 'wa')).conv;
  await reply(agent, conv, 'این نمی‌رسد');
  const sent = await agent.next(deliveryEvent(conv, 'sent'));
  await postWhatsApp(gw, waStatuses(phone, [[sent.provider_message_id, 'failed', { errors: [{ code: 131047, title: 'Re-engagement message' }] }]]));
  const failed = await agent.next(deliveryEvent(conv, 'failed'));
  assert.match(failed.reason, /^outside the 24-hour window: send a template \(131047/);
});

test('Messenger echoes: our own sends are not recorded twice, inbox replies are, and no conversation is opened', async () => {
  const psid = newPsid();
  await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, 'echo test')]));
  const conv = (await agent.next((f) => messageEvent()(f) && f.message.text === 'echo test')).conv;
  await reply(agent, conv, 'from pasokh');
  const sent = await agent.next(deliveryEvent(conv, 'sent'));
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'from pasokh');
  const own = metaEcho(psid, FB_PAGE_ID, 'from pasokh', { id: sent.provider_message_id });
  const inbox = metaEcho(psid, FB_PAGE_ID, 'از صندوق پیام صفحه');
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [own, inbox]))).status, 200);
  const recorded = await agent.next(messageEvent(conv));
  assert.equal(recorded.message.text, 'از صندوق پیام صفحه');
  assert.equal(recorded.message.direction, 'out');
  assert.equal(recorded.message.status, 'sent');
  await sleep(200);
  assert.equal(agent.frames.filter((f) => messageEvent(conv)(f)).length, 0);
  // An echo to someone without an open conversation stores nothing.
  const stranger = metaEcho(newPsid(), FB_PAGE_ID, 'to a stranger');
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [stranger]))).status, 200);
  await sleep(200);
  assert.equal(agent.frames.filter((f) => f.message?.text === 'to a stranger').length, 0);
  assert.ok(await metric(gw, 'pasokh_webhook_items_total{channel="fb",what="echo_no_conversation"}') >= 1);
});

test('a Messenger read watermark marks read our replies sent up to it, not those sent after', async () => {
  const psid = newPsid();
  const conv = await metaConversation(psid, 'watermark');
  const first = await reply(agent, conv, 'one');
  await agent.next(deliveryEvent(conv, 'sent'));
  const second = await reply(agent, conv, 'two');
  await agent.next(deliveryEvent(conv, 'sent'), 5000);  // paced a second after the first
  const watermark = Date.now();
  await sleep(20);
  const third = await reply(agent, conv, 'three, after the watermark');
  await agent.next(deliveryEvent(conv, 'sent'), 5000);
  const read = { sender: { id: psid }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), read: { watermark } };
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [read]))).status, 200);
  const marked = [await agent.next(deliveryEvent(conv, 'read')), await agent.next(deliveryEvent(conv, 'read'))];
  assert.deepEqual(marked.map((f) => f.message_seq).sort((a, b) => a - b), [first, second]);
  await sleep(200);
  const status = (seq) => JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(seq))).status;
  assert.equal(status(third), 'sent');
});

test('a read watermark marks the replies to the person who read them, when a merged file holds two people on one page', async () => {
  const [psidA, psidB] = [newPsid(), newPsid()];
  const convA = await metaConversation(psidA, 'watermark, person A');
  const toA = await reply(agent, convA, 'for A');
  await agent.next(deliveryEvent(convA, 'sent'));
  const convB = await metaConversation(psidB, 'watermark, person B');
  const toB = await reply(agent, convB, 'for B');
  await agent.next(deliveryEvent(convB, 'sent'), 5000);
  const customer = (conv) => redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'customer_id');
  const { json: { token } } = await login(gw, 'sara', 'sara-secret-1');
  const merged = await apiCall(gw, 'POST', `/api/v1/customers/${customer(convA)}/merge`, { token, body: { from: customer(convB) } });
  assert.equal(merged.status, 200, merged.text);

  const read = { sender: { id: psidA }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), read: { watermark: Date.now() } };
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [read]))).status, 200);
  assert.equal((await agent.next(deliveryEvent(convA, 'read'))).message_seq, toA);
  await sleep(200);
  const status = (conv, seq) => JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(seq))).status;
  assert.equal(status(convB, toB), 'sent', 'B has not read it');
});

test('a webhook batch over the API\'s 1 MiB body limit is taken (Meta batches reach 3 MB)', async () => {
  const psid = newPsid();
  const batch = { ...metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, 'in a big batch')]), padding: 'x'.repeat(1_500_000) };
  assert.equal((await postMeta(gw, 'fb', batch)).status, 200);
  await agent.next((f) => messageEvent()(f) && f.message.text === 'in a big batch');
});

test('Messenger: an echo that overtakes the send\'s answer waits (503), then Meta\'s redelivery is known as ours', async () => {
  const psid = newPsid();
  await postMeta(gw, 'fb-echo', metaMessaging('page', ECHO_PAGE_ID, [metaText(psid, ECHO_PAGE_ID, 'echo race')]));
  const conv = (await agent.next((f) => messageEvent()(f) && f.message.text === 'echo race')).conv;
  await reply(agent, conv, 'from pasokh, echoed early');
  await agent.next(deliveryEvent(conv, 'sent'));
  const [{ echo, early }] = echoFirst.answers;
  assert.equal(early, 503, 'deferred while the send is under way');
  assert.equal((await postMeta(gw, 'fb-echo', echo)).status, 200);
  await sleep(200);
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+');
  assert.equal(log.split('from pasokh, echoed early').length - 1, 1, 'one copy of the reply');
  assert.ok(!log.includes('"echo":true'), 'not taken for a reply from the Page inbox');
});

test('a deferred echo (503) does not hold back the customer\'s messages after it in the batch; the redelivery stores each once', async () => {
  const psid = newPsid();
  const conv = await metaConversation(psid, 'before the batch');
  // A send under way in the conversation: an echo of unknown id waits for it.
  redisCli(redis, 'ZADD', `pasokh:conv:${conv}:sending`, String(Date.now() + 60000), 'a-send');
  const batch = metaMessaging('page', FB_PAGE_ID, [metaEcho(psid, FB_PAGE_ID, 'echo that waits'), metaText(psid, FB_PAGE_ID, 'after the echo')]);
  assert.equal((await postMeta(gw, 'fb', batch)).status, 503, 'the echo is deferred');
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'after the echo');
  redisCli(redis, 'DEL', `pasokh:conv:${conv}:sending`);
  assert.equal((await postMeta(gw, 'fb', batch)).status, 200);
  await agent.next((f) => messageEvent(conv)(f) && f.message.text === 'echo that waits');
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+');
  assert.equal(log.split('after the echo').length - 1, 1, 'the customer\'s message once');
  assert.equal(log.split('echo that waits').length - 1, 1, 'the echo once');
});

// --- media and config ----------------------------------------------------------------

test('agents fetch inbound attachments through the gateway; the provider credentials never leave it', async () => {
  const unauthenticated = await fetch(`${gw.base}/api/v1/media/tg-files/AgACAgQAAxkBAAIB`);
  assert.equal(unauthenticated.status, 401);
  const { json } = await (async () => {
    const r = await fetch(`${gw.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'sara', password: 'sara-secret-1' }) });
    return { json: await r.json() };
  })();
  const auth = { authorization: `Bearer ${json.token}` };
  const photo = await fetch(`${gw.base}/api/v1/media/tg-files/AgACAgQAAxkBAAIB`, { headers: auth });
  assert.equal(photo.status, 200);
  assert.equal(photo.headers.get('content-type'), 'image/jpeg');
  assert.equal(photo.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual([...new Uint8Array(await photo.arrayBuffer())], [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const voice = await fetch(`${gw.base}/api/v1/media/wa-files/1234567890`, { headers: auth });
  assert.equal(voice.status, 200);
  assert.equal(await voice.text(), 'OggS-voice');
  assert.ok(files.seen.some((r) => r.url === '/download/1234567890' && r.authorization === `Bearer ${SECRETS.PASOKH_WA_TOKEN}`));
  assert.equal((await fetch(`${gw.base}/api/v1/media/tg-files/no-such-file`, { headers: auth })).status, 404);
  assert.equal((await fetch(`${gw.base}/api/v1/media/fb/123`, { headers: auth })).status, 404);
  assert.equal((await fetch(`${gw.base}/api/v1/media/tg-files/a%20b%3F`, { headers: auth })).status, 400);

  // Once a customer sent it in a conversation, only agents who may see that conversation get it.
  const update = tgText(newChatId(), '');
  delete update.message.text;
  update.message.caption = 'عکس فاکتور';
  update.message.photo = [{ file_id: 'AgACAgQAAxkBAAIB', file_unique_id: 'AQADf1', file_size: 7, width: 90, height: 67 }];
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-files', update, telegramHeaders())).status, 200);
  const sent = await agent.next((f) => messageEvent()(f) && f.message.text === 'عکس فاکتور');
  assert.equal(await redisCli(redis, 'SMEMBERS', 'pasokh:media:tg-files:AgACAgQAAxkBAAIB'), sent.conv);
  const ttl = Number(await redisCli(redis, 'TTL', 'pasokh:media:tg-files:AgACAgQAAxkBAAIB'));
  assert.ok(ttl > 364 * 86400 && ttl <= 365 * 86400, `the file's record lives a year after it came, not for ever (TTL ${ttl})`);
  await gw.createAgent('vida', 'vida-secret-1', { name: 'Vida', team: 'vip' });
  const outsider = { authorization: `Bearer ${(await login(gw, 'vida', 'vida-secret-1')).json.token}` };
  const refused = await fetch(`${gw.base}/api/v1/media/tg-files/AgACAgQAAxkBAAIB`, { headers: outsider });
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, 'forbidden');
  const again = await fetch(`${gw.base}/api/v1/media/tg-files/AgACAgQAAxkBAAIB`, { headers: auth });
  assert.equal(again.status, 200);
  assert.deepEqual([...new Uint8Array(await again.arrayBuffer())], [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
});

test('a Telegram file over 20 MB: the agent is told it is too big for a bot to fetch, not that the provider does not know it', async () => {
  const auth = { authorization: `Bearer ${(await login(gw, 'sara', 'sara-secret-1')).json.token}` };
  const big = await fetch(`${gw.base}/api/v1/media/tg-files/${TOO_BIG_FILE}`, { headers: auth });
  assert.equal(big.status, 502);
  const { error } = await big.json();
  assert.equal(error.code, 'file_too_big');
  assert.match(error.message, /over 20 MB/);
});

test('a customer\'s 6 MB WhatsApp video opens for the agent (files are not held to the 4 MB of API answers)', async () => {
  const auth = { authorization: `Bearer ${(await login(gw, 'sara', 'sara-secret-1')).json.token}` };
  const video = await fetch(`${gw.base}/api/v1/media/wa-files/2345678901`, { headers: auth });
  assert.equal(video.status, 200, await video.clone().text());
  assert.equal(video.headers.get('content-type'), 'video/mp4');
  assert.equal((await video.arrayBuffer()).byteLength, LARGE_VIDEO_BYTES);
});

test('files pass a few at a time: with eight downloads under way the ninth is told to wait (503, Retry-After), and goes once they are done', async () => {
  const auth = { authorization: `Bearer ${(await login(gw, 'sara', 'sara-secret-1')).json.token}` };
  const get = () => fetch(`${gw.base}/api/v1/media/wa-files/3456789012`, { headers: auth });
  const first = Array.from({ length: 8 }, get);
  await waitUntil(async () => files.slow.started === 8, 'eight downloads under way');
  const ninth = await get();
  assert.equal(ninth.status, 503);
  assert.equal(ninth.headers.get('retry-after'), '2');
  assert.equal((await ninth.json()).error.code, 'busy');
  files.slow.release();
  for (const r of await Promise.all(first)) assert.equal(r.status, 200);
  assert.equal((await get()).status, 200);
  assert.ok(await metric(gw, 'pasokh_errors_total{kind="media_busy"}') >= 1);
});

test('a sticker sent in many conversations: opened through the message it came in, refused to another team with one lookup; its record stays small', async () => {
  const ref = 'AgACAgQAAxkBAAIB';
  const record = `pasokh:media:tg-files:${ref}`;
  const sticker = (caption) => {
    const update = tgText(newChatId(), '');
    delete update.message.text;
    update.message.caption = caption;
    update.message.photo = [{ file_id: ref, file_unique_id: 'AQADf1', file_size: 7, width: 90, height: 67 }];
    return update;
  };
  const sent = [];
  for (let i = 0; i < 20; i++) {
    assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-files', sticker(`استیکر ${i}`), telegramHeaders())).status, 200);
    sent.push(await agent.next((f) => messageEvent()(f) && f.message.text === `استیکر ${i}`));
  }
  const size = Number(redisCli(redis, 'SCARD', record));
  assert.ok(size > 0 && size <= 16, `one file id's record grows with every conversation it comes in (${size})`);

  await gw.createAgent('nima', 'nima-secret-1', { name: 'Nima', team: 'vip' });
  const as = async (name, password) => ({ authorization: `Bearer ${(await login(gw, name, password)).json.token}` });
  const sara = await as('sara', 'sara-secret-1'), nima = await as('nima', 'nima-secret-1');
  const inMessage = (conv, seq) => `${gw.base}/api/v1/media/tg-files/${ref}?conversation=${encodeURIComponent(conv)}&seq=${seq}`;
  const last = sent.at(-1);
  const opened = await fetch(inMessage(last.conv, last.seq), { headers: sara });
  assert.equal(opened.status, 200, 'the team opens it in a conversation beyond the record');
  assert.deepEqual([...new Uint8Array(await opened.arrayBuffer())], [0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);

  // Another team: refused after one look at the conversation, not one per conversation the file came in.
  // The count is the server's: the search pass reads the 20 new customers with HMGET too, so it
  // must be done first, and the fewest of three refusals is the one without other work in it.
  await waitUntil(() => ['pasokh:search:dirty', 'pasokh:search:dirty:cust'].every((key) => redisCli(redis, 'ZCARD', key) === '0'),
    'the search index caught up');
  const lookups = () => Number(/cmdstat_hmget:calls=(\d+)/.exec(redisCli(redis, 'INFO', 'commandstats'))?.[1] ?? 0);
  const perRefusal = [];
  for (let i = 0; i < 3; i++) {
    const before = lookups();
    const refused = await fetch(inMessage(last.conv, last.seq), { headers: nima });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, 'forbidden');
    perRefusal.push(lookups() - before);
  }
  assert.ok(Math.min(...perRefusal) <= 3, `conversations looked up for one refusal: ${perRefusal}`);
  assert.equal((await fetch(`${gw.base}/api/v1/media/tg-files/${ref}`, { headers: nima })).status, 403, 'without a message named');
  assert.equal((await fetch(`${gw.base}/api/v1/media/tg-files/${ref}`, { headers: sara })).status, 200, 'a URL without a message still opens');

  // A message that does not carry the file opens nothing, in a conversation the agent may see too.
  const chat = newChatId();
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-files', tgText(chat, 'فقط متن'), telegramHeaders())).status, 200);
  const text = await agent.next((f) => messageEvent()(f) && f.message.text === 'فقط متن');
  assert.equal((await fetch(inMessage(text.conv, text.seq), { headers: sara })).status, 403);
  assert.equal((await fetch(inMessage(last.conv, last.seq + 1), { headers: sara })).status, 403, 'another entry of its log');
  assert.equal((await fetch(inMessage('cv_nope', 1), { headers: sara })).status, 403);
  assert.equal((await fetch(`${gw.base}/api/v1/media/tg-files/${ref}?conversation=${last.conv}`, { headers: sara })).status, 400);
  assert.equal((await fetch(inMessage(last.conv, 'x'), { headers: sara })).status, 400);
});

test('a messenger channel with a bad provider section stops the start with the key named', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pasokh-cfg-'));
  try {
    const check = (provider, kind = 'telegram') => {
      const file = path.join(dir, 'pasokh.json');
      writeFileSync(file, JSON.stringify({ channels: [{ id: 'x', kind, provider }] }));
      // From the checkout, as the scripts start it: the default knowledge base path is relative to it.
      return spawnSync(pasokhBin, ['--config', file, '--check-config'],
        { cwd: repoRoot, env: { ...process.env, ...SECRETS }, encoding: 'utf8' });
    };
    const typo = check({ token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET', api_bse: 'https://x' });
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /channels\[0\].*api_bse/);
    const unset = check({ token_env: 'PASOKH_NOT_SET', secret_env: 'PASOKH_TG_SECRET' });
    assert.equal(unset.status, 2);
    assert.match(unset.stderr, /token_env/);
    assert.doesNotMatch(unset.stderr + typo.stderr, new RegExp(SECRETS.PASOKH_TG_SECRET));
    const whatsapp = check({ phone_number_id: '1', token_env: 'PASOKH_WA_TOKEN', app_secret_env: 'PASOKH_WA_APP_SECRET',
      verify_token_env: 'PASOKH_WA_VERIFY', window_template: 'follow_up', window_template_text_param: true }, 'whatsapp');
    assert.equal(whatsapp.status, 0, whatsapp.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
