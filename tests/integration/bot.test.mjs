// The FAQ bot inside the routing flow: a new conversation on a channel with
// the bot goes to it first; a confident answer is sent back; "اپراتور" hands
// off to the queue, where an agent sees it; once a person writes, the bot is silent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { RedisServer, Pasokh, defaultConfig, postMessage, login, agentSocket, API_KEY, sleep } from '../support/harness.mjs';
import { SECRETS, FakeProvider, newChatId, postWebhook, redisCli, telegramHeaders, tgText, waitUntil } from './messenger_support.mjs';

let redis, gw, fake;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;

before(async () => {
  redis = await new RedisServer().start();
  const config = defaultConfig(redis);
  fake = await new FakeProvider().start();
  config.channels = [
    { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support', bot: true },
    // For photos: the API channel takes text only.
    { id: 'tg-bot', kind: 'telegram', team: 'support', bot: true,
      provider: { api_base: fake.base, token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET' } },
  ];
  // The bot's name in each customer's language.
  config.bot = { ...config.bot, name: { fa: 'دستیار پاسخ', ar: 'مساعد پاسخ', en: 'Pasokh assistant' } };
  gw = await new Pasokh(config, SECRETS).start();
  await gw.createAgent('reza', 'reza-secret-1', { name: 'Reza' });
});
after(async () => { await gw?.cleanup(); fake?.stop(); await redis?.cleanup(); });

async function messages(conv) {
  const res = await fetch(`${gw.base}/api/v1/channels/api/conversations/${conv}/messages?after=0`,
    { headers: { authorization: `Bearer ${API_KEY}` } });
  return (await res.json()).messages;
}

async function conversationStatus(conv) {
  return execFileSync('redis-cli', ['-p', String(redis.port), 'HGET', `pasokh:conv:${conv}`, 'status']).toString().trim();
}

// What the bot wrote in a conversation of any channel, from its log.
const botMessages = (conv) => redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  .filter((e) => e.event === 'message' && e.message.author === 'bot').map((e) => e.message);

test('a Persian warranty question gets the warranty answer in Persian, asking whether it helped', async () => {
  const r = await postMessage(gw, { message_id: uid(), customer: { id: 'fa-1' }, text: 'سلام، این یخچال چند ماه گارانتی داره؟' });
  assert.equal(r.status, 201);
  const stored = await messages(r.json.conversation_id);
  assert.equal(stored.length, 2);
  const reply = stored[1];
  assert.equal(reply.author, 'bot');
  assert.equal(reply.author_name, 'دستیار پاسخ');
  assert.match(reply.text, /گارانتی/);
  assert.ok(reply.buttons?.length >= 2, 'did this help? buttons');
  assert.equal(await conversationStatus(r.json.conversation_id), 'bot');
});

test('"اپراتور" hands the conversation to a person: queued, visible to the agent', async () => {
  const token = (await login(gw, 'reza', 'reza-secret-1')).json.token;
  const agent = await agentSocket(gw, token);
  const first = await postMessage(gw, { message_id: uid(), customer: { id: 'fa-2' }, text: 'اپراتور' });
  const conv = first.json.conversation_id;
  const handoff = await agent.next((f) => f.type === 'event' && f.conv === conv && f.event === 'status');
  assert.equal(handoff.status, 'queued');
  assert.equal(handoff.conversation.status, 'queued');
  assert.equal(await conversationStatus(conv), 'queued');

  // Once an agent has written, the bot stays silent even for FAQ-like questions.
  agent.send({ type: 'reply', conv, client_id: 'c1', text: 'سلام، در خدمتم' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'c1');
  const botMessages = async () => (await messages(conv)).filter((m) => m.author === 'bot').length;
  const before = await botMessages();
  await postMessage(gw, { message_id: uid(), customer: { id: 'fa-2' }, text: 'گارانتی یخچال چند ماهه؟' });
  await sleep(200);
  assert.equal(await botMessages(), before);
  assert.equal((await messages(conv)).at(-1).author, 'customer');
  await agent.close();
});

test('Arabic and English questions are answered in their language; out-of-scope is not answered from the KB', async () => {
  const ar = await postMessage(gw, { message_id: uid(), customer: { id: 'ar-1' }, text: 'كيف أتتبع طلبي؟ أين الشحنة الآن' });
  const arReply = (await messages(ar.json.conversation_id))[1];
  assert.equal(arReply.author, 'bot');
  assert.equal(arReply.author_name, 'مساعد پاسخ');
  assert.match(arReply.text, /[\u0600-\u06FF]/);

  const en = await postMessage(gw, { message_id: uid(), customer: { id: 'en-1' }, text: 'how long does delivery take?' });
  const enReply = (await messages(en.json.conversation_id))[1];
  assert.equal(enReply.author_name, 'Pasokh assistant');
  assert.match(enReply.text, /[a-z]/i);
  assert.doesNotMatch(enReply.text, /[\u0600-\u06FF]/);

  const off = await postMessage(gw, { message_id: uid(), customer: { id: 'en-2' }, text: 'what is the capital of Australia?' });
  await sleep(100);
  assert.equal(await conversationStatus(off.json.conversation_id), 'queued');
});

test('an emoji is a reaction, not a question: «🙏» is greeted, «👍» after an answer is a thank-you, not a handoff', async () => {
  const say = (text) => postMessage(gw, { message_id: uid(), customer: { id: 'fa-emoji' }, text });
  const conv = (await say('🙏')).json.conversation_id;
  assert.match((await messages(conv)).at(-1).text, /دستیار پشتیبانی/);  // the greeting
  await say('گارانتی یخچال چند ماهه؟');
  assert.ok((await messages(conv)).at(-1).buttons?.length >= 2, 'answered, asking whether it helped');
  await say('👍');
  const reply = (await messages(conv)).at(-1);
  assert.equal(reply.author, 'bot');
  assert.match(reply.text, /خواهش می‌کنم/);
  assert.equal(await conversationStatus(conv), 'bot');
});

test('a photo whose caption is only «👍» still goes to a person', async () => {
  const chat = newChatId();
  const photo = tgText(chat, 'سلام');
  delete photo.message.text;
  Object.assign(photo.message, { caption: '👍', photo: [{ file_id: 'AgACAgQAAxkBAAIC', file_unique_id: 'p1', width: 800, height: 600 }] });
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-bot', photo, telegramHeaders())).status, 200);
  const customer = await waitUntil(() => redisCli(redis, 'GET', `pasokh:ident:tg-bot:${chat}`), 'the customer');
  const conv = await waitUntil(() => redisCli(redis, 'GET', `pasokh:cust:${customer}:open:tg-bot`), 'the conversation');
  await waitUntil(async () => (await conversationStatus(conv)) === 'queued', 'the handoff');
});

test('a dice (a type Pasokh cannot show) goes to a person; the bot does not read its placeholder as a question', async () => {
  const chat = newChatId();
  const dice = tgText(chat, '');
  delete dice.message.text;
  dice.message.dice = { emoji: '🎲', value: 3 };
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-bot', dice, telegramHeaders())).status, 200);
  const customer = await waitUntil(() => redisCli(redis, 'GET', `pasokh:ident:tg-bot:${chat}`), 'the customer');
  const conv = await waitUntil(() => redisCli(redis, 'GET', `pasokh:cust:${customer}:open:tg-bot`), 'the conversation');
  await waitUntil(async () => (await conversationStatus(conv)) === 'queued', 'the handoff');
  // No answer from the knowledge base and no choices: only the line that hands it over.
  const written = botMessages(conv);
  assert.equal(written.length, 1, JSON.stringify(written));
  assert.match(written[0].text, /نمی‌توانم عکس یا فایل را ببینم/, 'the line for what the bot cannot read, not "I do not know the answer"');
  assert.equal(written[0].buttons, undefined, 'no "did this help?" and no choices');
});

test('an angry customer gets an apology and a person at once; a broken phone is still answered by the bot', async () => {
  const angry = await postMessage(gw, { message_id: uid(), customer: { id: 'fa-angry' }, text: 'افتضاحه! سه هفته است سفارشم نرسیده' });
  const reply = (await messages(angry.json.conversation_id)).at(-1);
  assert.equal(reply.author, 'bot');
  assert.match(reply.text, /حق دارید ناراحت باشید/, 'the apology for the upset, not the "I do not know" handoff');
  assert.equal(await conversationStatus(angry.json.conversation_id), 'queued');

  const broken = await postMessage(gw, { message_id: uid(), customer: { id: 'fa-broken' }, text: 'گوشیم خراب شده، گارانتی رو چطور درخواست بدم؟' });
  assert.equal(await conversationStatus(broken.json.conversation_id), 'bot');
});
