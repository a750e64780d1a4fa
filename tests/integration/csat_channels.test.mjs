// The CSAT survey on each messenger channel (issue 8) against the fake
// provider: what the customer actually receives when an agent resolves
// (Telegram inline keyboard, WhatsApp list, Messenger quick replies, the
// configured WhatsApp template outside the 24-hour window, nothing and a count
// without one), and the pressed button landing on the conversation and the
// agent. The API channel's number reply: aftersales.test.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pasokh, RedisServer, login } from '../support/harness.mjs';
import {
  FB_PAGE_ID, FakeProvider, SECRETS, WA_PHONE_ID, agentFor, messengerConfig, metaMessaging, metaText, metric, newChatId,
  newPhone, newPsid, postMeta, postWebhook, postWhatsApp, redisCli as cli, telegramHeaders, tgCallback, tgText,
  waText, waitUntil, wamid,
} from './messenger_support.mjs';

let redis, fake, gw, agent, ali, aliId, sara, saraId, saraAgent;
const TEMPLATE = { whatsapp_template: 'csat_survey', whatsapp_template_language: 'fa' };

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  gw = await new Pasokh(messengerConfig(redis, fake, { csat: TEMPLATE }), SECRETS).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  const a = (await login(gw, 'ali', 'ali-secret-1')).json;
  ali = a.token;
  aliId = a.agent.id;
  agent = await agentFor(gw, 'ali', 'ali-secret-1');
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  const b = (await login(gw, 'sara', 'sara-secret-1')).json;
  sara = b.token;
  saraId = b.agent.id;
  saraAgent = await agentFor(gw, 'sara', 'sara-secret-1');
});

after(async () => {
  agent?.close();
  saraAgent?.close();
  await gw?.cleanup();
  fake?.stop();
  await redis?.cleanup();
});

const redisCli = (...args) => cli(redis, ...args);
const firstMessage = (channel, text) => (f) => f.type === 'event' && f.event === 'message' && f.conversation?.channel === channel &&
  f.message?.author === 'customer' && f.message.text === text;

// An agent (Ali unless told) answers and resolves: the survey goes out.
async function answerAndResolve(conv, g = gw, { socket = agent, token = ali } = {}) {
  socket.send({ type: 'reply', conv, client_id: `r-${conv}`, text: 'Done, anything else?' });
  await socket.next((f) => f.type === 'ack' && f.client_id === `r-${conv}`);
  const res = await fetch(`${g.base}/api/v1/conversations/${conv}/resolve`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 200, await res.text());
}

function ratedBy(conv, rating, agentId = aliId) {
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), String(rating));
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'csat_agent'), agentId);
}

const surveyIds = (conv) => [1, 2, 3, 4, 5].map((n) => `csat:${conv}:${n}`);

function waEnvelope(message, name = 'مریم') {
  return { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: WA_PHONE_ID },
    contacts: [{ profile: { name }, wa_id: message.from }], messages: [message] } }] }] };
}

test('Telegram: an inline keyboard of 1–5; the pressed button is the rating', async () => {
  await fake.clear();
  const chat = newChatId();
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام، سفارشم نرسیده'), telegramHeaders())).status, 200);
  const conv = (await agent.next(firstMessage('tg', 'سلام، سفارشم نرسیده'))).conv;
  await answerAndResolve(conv);
  const ask = await waitUntil(async () => (await fake.requests('/sendMessage')).find((r) => r.json.reply_markup), 'the survey');
  assert.equal(String(ask.json.chat_id), String(chat));
  assert.match(ask.json.text, /۱.*۵|1.*5/);
  assert.deepEqual(ask.json.reply_markup.inline_keyboard.flat().map((b) => b.callback_data), surveyIds(conv));
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', tgCallback(chat, `csat:${conv}:4`), telegramHeaders())).status, 200);
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), 'the rating');
  ratedBy(conv, 4);
  assert.equal(redisCli('HGET', `pasokh:csat:agent:${aliId}`, 'r4'), '1');
});

test('Telegram: two cases resolved one after the other; a button of the first survey rates the first case and its agent', async () => {
  await fake.clear();
  const chat = newChatId();
  const tg = async (update) => assert.equal((await postWebhook(gw, '/webhooks/telegram/tg', update, telegramHeaders())).status, 200);
  const lastConv = async () => {
    const cust = await waitUntil(() => redisCli('GET', `pasokh:ident:tg:${chat}`), 'the customer');
    return redisCli('LINDEX', `pasokh:cust:${cust}:conversations`, '-1');
  };
  // Gone to the queue: the gateway has looked at the message (not a rating).
  const routed = (conv) => waitUntil(() => redisCli('HGET', `pasokh:conv:${conv}`, 'routed') === '1', 'routed');
  await tg(tgText(chat, 'ماشین لباسشویی آب نشتی دارد'));
  const first = (await agent.next(firstMessage('tg', 'ماشین لباسشویی آب نشتی دارد'))).conv;
  await answerAndResolve(first);
  // A second case on the same channel, answered and resolved by Sara, while the first survey is unanswered.
  await tg(tgText(chat, 'و یخچال هم صدا می‌دهد'));
  const second = (await saraAgent.next(firstMessage('tg', 'و یخچال هم صدا می‌دهد'))).conv;
  assert.notEqual(second, first);
  await answerAndResolve(second, gw, { socket: saraAgent, token: sara });
  const surveys = await waitUntil(async () => {
    const sent = (await fake.requests('/sendMessage')).filter((r) => String(r.json.chat_id) === String(chat) && r.json.reply_markup);
    return sent.length === 2 && sent;
  }, 'both surveys');
  const ids = surveys.map((r) => r.json.reply_markup.inline_keyboard.flat().map((b) => b.callback_data));
  assert.deepEqual(ids, [surveyIds(first), surveyIds(second)]);

  // The customer answers the first survey: the first case and Ali are rated, not Sara's.
  await tg(tgCallback(chat, ids[0][1]));
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${first}`, 'csat_rating'), 'the rating');
  ratedBy(first, 2, aliId);
  assert.equal(redisCli('HGET', `pasokh:conv:${second}`, 'csat_rating'), '');
  assert.equal(redisCli('HGET', `pasokh:csat:agent:${saraId}`, 'count'), '');
  // A button of a survey sent before buttons named their case rates the latest asked, as it did.
  await tg(tgCallback(chat, 'csat:5'));
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${second}`, 'csat_rating'), 'the second rating');
  ratedBy(second, 5, saraId);
  ratedBy(first, 2, aliId);

  // A button naming a case not asked (the customer's own rating message), or
  // another customer's case, rates nothing: it goes on as a message.
  const side = await lastConv();
  assert.equal(redisCli('HGET', `pasokh:conv:${side}`, 'csat_asked'), '');
  await tg(tgCallback(chat, `csat:${side}:1`));
  const opened = await waitUntil(async () => { const c = await lastConv(); return c !== side && c; }, 'a conversation for the press');
  await routed(opened);
  assert.equal(redisCli('HGET', `pasokh:conv:${side}`, 'csat_rating'), '');
  assert.equal(redisCli('HGET', `pasokh:conv:${opened}`, 'side'), '', 'no rating: not closed as one');
  const res = await fetch(`${gw.base}/api/v1/conversations/${opened}/resolve`, {
    method: 'POST', headers: { authorization: `Bearer ${ali}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 200, await res.text());
  const other = newChatId();
  await tg(tgText(other, 'سلام، من مشتری دیگری هستم'));
  const theirs = (await agent.next(firstMessage('tg', 'سلام، من مشتری دیگری هستم'))).conv;
  await answerAndResolve(theirs);
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${theirs}`, 'csat_asked'), 'their survey');
  await tg(tgCallback(chat, `csat:${theirs}:1`));
  await routed(await waitUntil(async () => { const c = await lastConv(); return c !== opened && c; }, 'a conversation for the press'));
  assert.equal(redisCli('HGET', `pasokh:conv:${theirs}`, 'csat_rating'), '', 'another customer\'s case');
  ratedBy(first, 2, aliId);
  ratedBy(second, 5, saraId);
});

test('WhatsApp in the window: a list of 1–5; the chosen row is the rating', async () => {
  await fake.clear();
  const phone = newPhone();
  await postWhatsApp(gw, waText(phone, 'سلام، گارانتی دارم؟'));
  const conv = (await agent.next(firstMessage('wa', 'سلام، گارانتی دارم؟'))).conv;
  await answerAndResolve(conv);
  const ask = await waitUntil(async () => (await fake.requests('/messages')).find((r) => r.json.type === 'interactive'), 'the survey');
  assert.equal(ask.json.to, phone);
  assert.equal(ask.json.interactive.type, 'list');
  assert.deepEqual(ask.json.interactive.action.sections[0].rows.map((r) => r.id), surveyIds(conv));
  const pressed = { from: phone, id: wamid(), timestamp: String(Math.floor(Date.now() / 1000)), type: 'interactive',
    interactive: { type: 'list_reply', list_reply: { id: `csat:${conv}:5`, title: '5' } } };
  assert.equal((await postWhatsApp(gw, waEnvelope(pressed))).status, 200);
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), 'the rating');
  ratedBy(conv, 5);
});

test('WhatsApp after 24 hours: the configured template; without one, no survey and a count', async () => {
  await fake.clear();
  const phone = newPhone();
  await postWhatsApp(gw, waText(phone, 'سلام، پیگیری'));
  const conv = (await agent.next(firstMessage('wa', 'سلام، پیگیری'))).conv;
  agent.send({ type: 'reply', conv, client_id: `r-${conv}`, text: 'بررسی می‌کنیم' });
  await agent.next((f) => f.type === 'ack' && f.client_id === `r-${conv}`);
  // The customer wrote a day and a minute ago.
  redisCli('HSET', `pasokh:conv:${conv}`, 'last_customer_message_at', String(Date.now() - 24 * 3600_000 - 60_000));
  await fake.clear();
  const res = await fetch(`${gw.base}/api/v1/conversations/${conv}/resolve`, {
    method: 'POST', headers: { authorization: `Bearer ${ali}`, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(res.status, 200);
  const ask = await waitUntil(async () => (await fake.requests('/messages')).find((r) => r.json.type === 'template'), 'the template');
  assert.equal(ask.json.to, phone);
  assert.equal(ask.json.template.name, 'csat_survey');
  assert.equal(ask.json.template.language.code, 'fa');
  // The template's quick reply comes back as a button message.
  const pressed = { from: phone, id: wamid(), timestamp: String(Math.floor(Date.now() / 1000)), type: 'button',
    button: { payload: 'csat:3', text: '۳' } };
  assert.equal((await postWhatsApp(gw, waEnvelope(pressed))).status, 200);
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), 'the rating');
  ratedBy(conv, 3);
  // The rating opened a new 24-hour window: the thanks is sent, not refused.
  await waitUntil(async () => (await fake.requests('/messages')).find((r) => r.json.to === phone && r.json.type === 'text'), 'the thanks');

  // A second instance on the same Redis without a template: skipped and counted.
  const plain = await new Pasokh(messengerConfig(redis, fake), SECRETS).start();
  try {
    const other = newPhone();
    const r = await postWhatsApp(plain, waText(other, 'hello'));
    assert.equal(r.status, 200, r.text);
    const cust = await waitUntil(() => redisCli('GET', `pasokh:ident:wa:${other}`), 'the customer');
    const conv2 = await waitUntil(() => redisCli('LINDEX', `pasokh:cust:${cust}:conversations`, '-1'), 'the conversation');
    redisCli('HSET', `pasokh:conv:${conv2}`, 'last_customer_message_at', String(Date.now() - 25 * 3600_000));
    await fake.clear();
    await answerAndResolve(conv2, plain);
    await waitUntil(async () => (await metric(plain, 'pasokh_routing_events_total{kind="csat_skipped_outside_window"}')) === 1, 'the count');
    assert.equal(redisCli('HGET', `pasokh:conv:${conv2}`, 'csat_asked'), '');
    const surveys = (await fake.requests('/messages')).filter((r) => r.json.to === other && r.json.type !== 'text');
    assert.deepEqual(surveys, [], 'no survey reached the customer');
  } finally {
    await plain.cleanup();
  }
});

test('Messenger: quick replies 1–5; the tapped one is the rating', async () => {
  await fake.clear();
  const psid = newPsid();
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(psid, FB_PAGE_ID, 'hello, my order?')]))).status, 200);
  const conv = (await agent.next(firstMessage('fb', 'hello, my order?'))).conv;
  await answerAndResolve(conv);
  const ask = await waitUntil(async () => (await fake.requests('/me/messages')).find((r) => r.json.message?.quick_replies), 'the survey');
  assert.equal(ask.json.recipient.id, psid);
  assert.deepEqual(ask.json.message.quick_replies.map((q) => q.payload), surveyIds(conv));
  const tap = metaText(psid, FB_PAGE_ID, '2');
  tap.message.quick_reply = { payload: `csat:${conv}:2` };
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [tap]))).status, 200);
  await waitUntil(() => redisCli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), 'the rating');
  ratedBy(conv, 2);

  // After 24 hours Messenger takes no automatic message: no survey, counted.
  const late = newPsid();
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [metaText(late, FB_PAGE_ID, 'where is my parcel?')]))).status, 200);
  const conv2 = (await agent.next(firstMessage('fb', 'where is my parcel?'))).conv;
  redisCli('HSET', `pasokh:conv:${conv2}`, 'last_customer_message_at', String(Date.now() - 25 * 3600_000));
  const skipped = await metric(gw, 'pasokh_routing_events_total{kind="csat_skipped_outside_window"}');
  await answerAndResolve(conv2);
  await waitUntil(async () => (await metric(gw, 'pasokh_routing_events_total{kind="csat_skipped_outside_window"}')) === skipped + 1, 'the count');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv2}`, 'csat_asked'), '');
});
