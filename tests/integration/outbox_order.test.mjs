// Two gateways on one Redis, as in production, both sending one channel's
// outbox: a customer gets an agent's replies in order, once each, even while
// the first one waits out a rate limit on one gateway and the next ones were
// read by the other; and replies queued behind one customer, however many,
// hold up no other customer. One chat's pacing (Telegram: about 1 message/s
// per chat) holds across the gateways too, and so does a channel's limit
// for all its sends, and a pause the provider asks of the whole account.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, Pasokh, reply } from '../support/harness.mjs';
import {
  SECRETS, FakeProvider, messengerConfig, postWhatsApp, waText, newPhone, agentFor, redisCli, waitUntil,
  postWebhook, tgText, telegramHeaders, newChatId,
} from './messenger_support.mjs';

let redis, fake, agent;
const gateways = [];

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  const config = messengerConfig(redis, fake);
  // Few held entries, so a handful of replies is "more than a gateway holds";
  // a claim time far beyond the tests, so what a gateway lets go of comes back
  // through its chat's order, not through the claim of abandoned entries.
  config.outbox = { ...config.outbox, concurrency: 2, max_held: 3, claim_idle_ms: 30000 };
  // A channel capped at 5 sends a second (Telegram's default is 30).
  config.channels.find((c) => c.id === 'tg').sends_per_second = 5;
  for (let i = 0; i < 2; ++i) gateways.push(await new Pasokh(config, SECRETS).start());
  await gateways[0].createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  agent = await agentFor(gateways[0]);
  // Every outbox worker of both is reading (they start a little after the gateway is ready).
  const blocked = () => redisCli(redis, 'CLIENT', 'LIST').split('\n').filter((l) => l.includes('cmd=xreadgroup')).length;
  await waitUntil(() => blocked() === 2 * config.channels.length, 'both gateways reading their outboxes');
});
after(async () => {
  await agent?.close();
  for (const gw of gateways) await gw.cleanup();
  fake?.stop();
  await redis?.cleanup();
});
beforeEach(async () => {
  await fake.clear();
  agent.frames.length = 0;
});

async function conversation(phone, text) {
  assert.equal((await postWhatsApp(gateways[0], waText(phone, text))).status, 200);
  return (await agent.next((f) => f.event === 'message' && f.message?.text === text)).conv;
}

const sendsTo = async (phone) => (await fake.requests('/messages')).filter((r) => r.json?.to === phone);
const delivered = async (phone) => (await sendsTo(phone)).filter((r) => r.status === 200);
// The consumers (gateways) that have read entries of the outbox.
const readers = () => redisCli(redis, 'XINFO', 'CONSUMERS', 'pasokh:outbox:wa', 'senders').split('\n')
  .filter((line) => line === 'name').length;

// One customer's replies, the first deferred by 131056 (too many messages to
// them) for 2 s; meanwhile another customer's reply: it goes out at once.
async function pausedCustomerAndAnother(count) {
  const [busy, other] = [newPhone(), newPhone()];
  const busyConv = await conversation(busy, 'سلام، چند سؤال دارم');
  const otherConv = await conversation(other, 'سفارشم کجاست؟');
  await fake.script({ action: 'pair_rate_limit', to: busy, retry_after: 2 });
  const answers = Array.from({ length: count }, (_, i) => `پاسخ ${i + 1}`);
  for (const text of answers) await reply(agent, busyConv, text);
  const pause = await waitUntil(async () => (await sendsTo(busy)).find((r) => r.scripted), 'the 131056');
  await reply(agent, otherConv, 'فردا می‌رسد');
  await agent.next((f) => f.event === 'delivery' && f.conv === otherConv && f.status === 'sent', 8000);
  const [toOther] = await delivered(other);
  // Held back with the busy customer, it would go 2 s after the 131056 at the soonest.
  assert.ok(toOther.time - pause.time < 1500, `the other customer was sent to ${toOther.time - pause.time} ms after the 131056`);
  return { busy, answers, pause };
}

// Every reply went out once, in the order written, none while the first waited.
async function assertInOrder({ busy, answers, pause }) {
  await waitUntil(async () => (await delivered(busy)).length >= answers.length, 'every reply delivered');
  const sends = await sendsTo(busy);
  assert.deepEqual(sends.filter((r) => r.status === 200).map((r) => r.json.text.body), answers);
  assert.equal(sends.length, answers.length + 1, 'one refused send, then each reply once');
  assert.ok(sends[1].time - pause.time >= 1950, `sent to again ${sends[1].time - pause.time} ms after the 131056`);
  // Done: nothing pending, and the chat's order list is gone with its last entry.
  await waitUntil(() => redisCli(redis, 'XPENDING', 'pasokh:outbox:wa', 'senders').split('\n')[0] === '0', 'all acknowledged');
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:outbox:wa:chat:${busy}`), '0');
}

test('a customer gets the replies two gateways read in order, while the first waits out a rate limit on one of them', async () => {
  await assertInOrder(await pausedCustomerAndAnother(6));
  assert.equal(readers(), 2, 'both gateways read some of the replies');
});

test('more replies queued behind a paused customer than the gateways hold keep no other customer waiting', async () => {
  // 10 replies; each gateway holds 3: the rest wait in Redis for their turn.
  await assertInOrder(await pausedCustomerAndAnother(10));
});

test('a chat whose order still names an entry already done (acknowledged by an older gateway) is not held up by it', async () => {
  const phone = newPhone();
  const conv = await conversation(phone, 'سلام');
  // An entry id that is nobody's pending entry, at the head of the chat's order.
  redisCli(redis, 'RPUSH', `pasokh:outbox:wa:chat:${phone}`, '1-1');
  await reply(agent, conv, 'بفرمایید');
  await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'sent', 3000);
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:outbox:wa:chat:${phone}`), '0');
});

// The gateways that hold (have read and not finished) the chat's entries now.
function holdersOfChat(order) {
  const ids = new Set(redisCli(redis, 'LRANGE', order, '0', '-1').split('\n').filter(Boolean));
  const rows = redisCli(redis, 'XPENDING', 'pasokh:outbox:tg', 'senders', '-', '+', '100').split('\n');
  const holders = new Set();
  for (let i = 0; i + 3 < rows.length; i += 4) if (ids.has(rows[i])) holders.add(rows[i + 1]);
  return holders;
}

test('one Telegram chat\'s replies, sent by both gateways, keep Telegram\'s pace for the chat: no 429', async () => {
  const chat = newChatId();
  assert.equal((await postWebhook(gateways[0], '/webhooks/telegram/tg', tgText(chat, 'سلام، گارانتی دارم؟'), telegramHeaders())).status, 200);
  const conv = (await agent.next((f) => f.event === 'message' && f.message?.text === 'سلام، گارانتی دارم؟')).conv;
  // Telegram: about one message a second to one chat; faster gets a 429.
  await fake.chatLimit(1000);
  // More than a gateway holds (3): the other one reads some, however fast the first one reads.
  const answers = ['بله', 'دو سال', 'کارت گارانتی در جعبه است', 'از تاریخ خرید', 'در همه شعبه‌ها'];
  for (const text of answers) await reply(agent, conv, text);

  const sendsToChat = async () => (await fake.requests('/sendMessage')).filter((r) => r.json?.chat_id === chat);
  const holders = new Set();
  await waitUntil(async () => {
    for (const h of holdersOfChat(`pasokh:outbox:tg:chat:${chat}`)) holders.add(h);
    return (await sendsToChat()).filter((r) => r.status === 200).length >= answers.length;
  }, 'every reply delivered', 15000);
  assert.equal(holders.size, 2, 'both gateways sent some of the replies');
  const sends = await sendsToChat();
  assert.deepEqual(sends.map((r) => [r.json.text, r.status]), answers.map((text) => [text, 200]), 'each once, in order, none refused');
  for (let i = 1; i < sends.length; ++i)
    assert.ok(sends[i].time - sends[i - 1].time >= 1000, `reply ${i + 1} came ${sends[i].time - sends[i - 1].time} ms after reply ${i}`);
});

test('a channel\'s limit for all its sends (sends_per_second) holds for both gateways together', async () => {
  const convs = [];
  for (let i = 1; i <= 12; ++i) {
    const text = `سفارش ${i} کجاست؟`;
    assert.equal((await postWebhook(gateways[0], '/webhooks/telegram/tg', tgText(newChatId(), text), telegramHeaders())).status, 200);
    convs.push((await agent.next((f) => f.event === 'message' && f.message?.text === text)).conv);
  }
  for (const conv of convs) await reply(agent, conv, 'در راه است');
  const sent = async () => (await fake.requests('/sendMessage')).filter((r) => r.json?.text === 'در راه است');
  const holders = new Set();
  await waitUntil(async () => {
    const rows = redisCli(redis, 'XPENDING', 'pasokh:outbox:tg', 'senders', '-', '+', '100').split('\n');
    for (let i = 1; i + 2 < rows.length; i += 4) holders.add(rows[i]);
    return (await sent()).length >= convs.length;
  }, 'every reply sent', 6000);
  assert.equal(holders.size, 2, 'both gateways sent some of the replies');
  // 5 at once, then one every 200 ms: the twelfth 1.4 s after the first
  // (each gateway on its own would send 10 at once).
  const times = (await sent()).map((r) => r.time).sort((a, b) => a - b);
  assert.equal(times.length, convs.length, 'each once');
  assert.ok(times.at(-1) - times[0] >= 1300, `all ${times.length} within ${times.at(-1) - times[0]} ms`);
  for (const t of times) {
    const inASecond = times.filter((u) => u >= t && u < t + 1000).length;
    assert.ok(inASecond <= 10, `${inASecond} sends in the second from ${t - times[0]} ms`);
  }
});

test('a rate limit answer for the whole account (Telegram\'s 429 with retry_after) holds back both gateways\' sends until it ends', async () => {
  const convs = [];
  for (let i = 1; i <= 8; ++i) {
    const text = `گارانتی ${i} چقدر است؟`;
    assert.equal((await postWebhook(gateways[0], '/webhooks/telegram/tg', tgText(newChatId(), text), telegramHeaders())).status, 200);
    convs.push((await agent.next((f) => f.event === 'message' && f.message?.text === text)).conv);
  }
  // The first send is refused for 2 s. Its chat had no sends before: the 429 is the account's, not the chat's.
  await fake.script({ action: 'rate_limit', path: '/sendMessage', retry_after: 2 });
  await reply(agent, convs[0], 'دو سال');
  const limited = await waitUntil(async () => (await fake.requests('/sendMessage')).find((r) => r.status === 429), 'the 429');
  await new Promise((r) => setTimeout(r, 200));  // the answer reached the gateway

  // Replies to the other customers, read by both gateways while the pause lasts.
  for (const conv of convs.slice(1)) await reply(agent, conv, 'یک سال');
  const sent = async () => (await fake.requests('/sendMessage')).filter((r) => r.json?.text === 'یک سال');
  const holders = new Set();
  await waitUntil(async () => {
    const rows = redisCli(redis, 'XPENDING', 'pasokh:outbox:tg', 'senders', '-', '+', '100').split('\n');
    for (let i = 1; i + 2 < rows.length; i += 4) holders.add(rows[i]);
    return (await sent()).length >= convs.length - 1;
  }, 'every reply sent', 10000);
  assert.equal(holders.size, 2, 'both gateways held some of the replies');
  const early = (await sent()).map((r) => r.time - limited.time).filter((after) => after < 1950);
  assert.deepEqual(early, [], 'sent while the account was paused (ms after the 429)');
});
