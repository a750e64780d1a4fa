// A gateway killed (SIGKILL) in the middle of delivering a messenger reply:
// another instance takes the outbox entry over and finishes it. A gateway
// stopped (SIGTERM) mid-send finishes and records the send before it exits.
// A reply whose sends fail for now tells the agent why while it waits. A
// gateway cut off from Redis in the middle of a split reply sends no more of
// it: the gateway that takes the reply over sends each remaining part once;
// back before anyone took it, it sends the rest once the part sent during
// the cut is recorded, as it does when Redis refused only that record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, Pasokh, TcpProxy, sleep, waitFor } from '../support/harness.mjs';
import {
  SECRETS, FakeProvider, messengerConfig, postWebhook, telegramHeaders, tgText, newChatId, agentFor, redisCli, waitUntil,
  postWhatsApp, waText, newPhone, fcall,
} from './messenger_support.mjs';

let redis, fake;
const instances = [];

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  const admin = new Pasokh(messengerConfig(redis, fake), SECRETS);
  instances.push(admin);
  await admin.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
});
after(async () => {
  for (const gw of instances) await gw.cleanup();
  fake?.stop();
  await redis?.cleanup();
});

// Slow retries on purpose: a retry must come from the second instance, not the first.
// `redisVia`: a TcpProxy in front of Redis for this gateway alone.
async function startGateway(outbox = { retry_initial_ms: 20000, retry_max_ms: 20000 }, redisVia = null) {
  const config = messengerConfig(redis, fake);
  config.outbox = { ...config.outbox, ...outbox };
  if (redisVia) config.redis = { ...config.redis, url: `redis://127.0.0.1:${redisVia.port}` };
  const gw = await new Pasokh(config, SECRETS).start();
  instances.push(gw);
  return gw;
}

// A conversation on the first instance and an agent reply in it.
async function replyOn(gw, text) {
  const agent = await agentFor(gw);
  const chat = newChatId();
  await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام'), telegramHeaders());
  const conv = (await agent.next((f) => f.event === 'message' && f.message?.text === 'سلام')).conv;
  agent.send({ type: 'reply', conv, client_id: `r-${chat}`, text });
  await agent.next((f) => f.type === 'ack');
  await agent.close();
  return { conv, chat };
}

const sendsOf = async (text) => (await fake.requests('/sendMessage')).filter((r) => r.json?.text === text);

// A reply on a fresh gateway whose send the provider holds for `delayMs`;
// answers once that send is in flight, with the provider's record of it.
async function replyInFlight(text, delayMs) {
  await fake.clear();
  const gw = await startGateway();
  await fake.script({ action: 'delay', delay_ms: delayMs, path: '/sendMessage' });
  const { conv } = await replyOn(gw, text);
  const [send] = await waitUntil(async () => { const sends = await sendsOf(text); return sends.length === 1 && sends; },
    'the send in flight');
  return { gw, conv, send };
}
const pending = () => Number(redisCli(redis, 'XPENDING', 'pasokh:outbox:tg', 'senders').split('\n')[0]);

test('killed while waiting to retry: the next instance delivers the message exactly once', async () => {
  await fake.clear();
  const first = await startGateway();
  await fake.script({ action: 'error_500', path: '/sendMessage' });
  const text = 'پاسخ بعد از خرابی';
  const { conv } = await replyOn(first, text);
  await waitUntil(async () => (await sendsOf(text)).length === 1, 'the failed first send');
  await first.stop('SIGKILL');

  const second = await startGateway();
  const agent = await agentFor(second);
  const sent = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'sent', 10000);
  assert.ok(sent.provider_message_id);
  await sleep(2000);
  assert.deepEqual((await sendsOf(text)).map((r) => r.status), [500, 200]);
  assert.equal(pending(), 0);
  await agent.close();
  await second.stop();  // the next test needs the stream to itself
});

test('a provider failing for more tries than max_attempts is tried again within outbox.retry_for_ms, and the reply goes once', async () => {
  await fake.clear();
  const gw = await startGateway({ retry_initial_ms: 100, retry_max_ms: 200, max_attempts: 2, retry_for_ms: 60000 });
  await fake.script({ action: 'error_500', count: 6, path: '/sendMessage' });
  const text = 'پاسخ پس از قطعی طولانی';
  await replyOn(gw, text);
  await waitUntil(async () => (await sendsOf(text)).some((r) => r.status === 200), 'the send after the outage');
  const statuses = (await sendsOf(text)).map((r) => r.status);
  assert.ok(statuses.filter((s) => s === 500).length > 2, `failed ${statuses.length - 1} times: more than max_attempts`);
  assert.deepEqual(statuses.filter((s) => s !== 500), [200]);
  await waitUntil(async () => pending() === 0, 'the entry acknowledged');
  await gw.stop();
});

test('a reply the provider refuses for now stays pending with why and when it goes again, live and in the history, until sent', async () => {
  await fake.clear();
  const gw = await startGateway({ retry_initial_ms: 1500, retry_max_ms: 1500 });
  await fake.script({ action: 'error_500', path: '/sendMessage' });
  const agent = await agentFor(gw);
  try {
    await repliedAndRetried(gw, agent);
  } finally {  // a failure here leaves the stream to the next test
    await agent.close();
    await gw.stop();
  }
});

async function repliedAndRetried(gw, agent) {
  const chat = newChatId();
  await postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, 'سلام'), telegramHeaders());
  const conv = (await agent.next((f) => f.event === 'message' && f.message?.text === 'سلام')).conv;
  agent.send({ type: 'reply', conv, client_id: `r-${chat}`, text: 'پاسخ در راه' });

  const noted = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.retrying);
  assert.equal(noted.status, 'pending');
  assert.match(noted.retrying.reason, /^http 500/);
  assert.equal(noted.retrying.attempt, 1);
  assert.ok(noted.retrying.next_at > Date.now(), 'goes again later');
  // A console opened now learns it from the stored record.
  agent.send({ type: 'history', conv, after: 0 });
  const stored = (await agent.next((f) => f.type === 'history' && f.conv === conv)).deliveries[noted.message_seq];
  assert.equal(stored.status, 'pending');
  assert.deepEqual(stored.retrying, noted.retrying);

  const sent = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'sent', 5000);
  assert.equal(sent.retrying, undefined);
  const record = JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(noted.message_seq)));
  assert.equal(record.status, 'sent');
  assert.equal(record.retrying, undefined);

  // A reason quoting Telegram's API URL (its path holds the bot token) is shown without the token.
  const secret = SECRETS.PASOKH_TG_TOKEN.split(':')[1];
  fcall(redis, 'delivery', 'tg', conv, String(noted.message_seq), 'failed', '',
    `transport: https://api.telegram.org/bot${SECRETS.PASOKH_TG_TOKEN}/sendMessage`, String(Date.now()), '60', '', '', '', '0');
  const failed = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'failed');
  assert.ok(!failed.reason.includes(secret), failed.reason);
  assert.ok(!redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, String(noted.message_seq)).includes(secret));
}

test('killed while the provider is answering: the message is not lost, is marked sent once and resent at most once', async () => {
  const text = 'در حال ارسال کشته شد';
  const { gw: first, conv } = await replyInFlight(text, 4000);
  await first.stop('SIGKILL');

  const second = await startGateway();
  const agent = await agentFor(second);
  const sent = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.status === 'sent', 10000);
  assert.ok(sent.provider_message_id);
  await sleep(3000);
  // The provider cannot tell us whether the abandoned request went through,
  // so delivery is at least once: the second instance sends it again, once.
  assert.equal((await sendsOf(text)).length, 2);
  assert.equal(agent.frames.filter((f) => f.event === 'delivery' && f.conv === conv).length, 0);
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, '2')).status, 'sent');
  assert.equal(pending(), 0);
  await agent.close();
  await second.stop();
});

test('stopped (SIGTERM) while the provider is answering: the send finishes and is recorded, and nobody sends it again', async () => {
  const text = 'در حال ارسال متوقف شد';
  const answerAfter = 2000;
  const { gw: first, conv, send } = await replyInFlight(text, answerAfter);
  const exit = await first.stop('SIGTERM');
  assert.equal(exit.code, 0);
  // From when the provider got the send, not when the test saw it (a slow machine sees it late).
  const exitedAfter = Date.now() - send.time;
  assert.ok(exitedAfter >= answerAfter - 100, `the process waited for the provider's answer: gone ${exitedAfter} ms after the send`);
  // Recorded and acknowledged before the process went.
  assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, '2')).status, 'sent');
  assert.equal(pending(), 0);

  // The next instance finds nothing left to claim.
  const second = await startGateway();
  await sleep(2500);
  assert.equal((await sendsOf(text)).length, 1);
  await second.stop();
});

test('killed while a customer deferred by 131056 has more replies queued than are sent at once: the next instance sends them all, in order, once each', async () => {
  await fake.clear();
  const first = await startGateway();
  const agent = await agentFor(first);
  const phone = newPhone();
  await postWhatsApp(first, waText(phone, 'سلام، چند سؤال دارم'));
  const conv = (await agent.next((f) => f.event === 'message' && f.message?.text === 'سلام، چند سؤال دارم')).conv;
  await fake.script({ action: 'pair_rate_limit', to: phone, retry_after: 60 });
  const answers = Array.from({ length: 20 }, (_, i) => `پاسخ ${i + 1}`);
  for (const [i, text] of answers.entries()) {
    agent.send({ type: 'reply', conv, client_id: `q-${i}`, text });
    await agent.next((f) => f.type === 'ack' && f.client_id === `q-${i}`);
  }
  const pendingWa = () => Number(redisCli(redis, 'XPENDING', 'pasokh:outbox:wa', 'senders').split('\n')[0]);
  await waitUntil(async () => pendingWa() === answers.length, 'every reply held by the first instance');
  await agent.close();
  await first.stop('SIGKILL');

  const second = await startGateway();
  const sendsTo = async () => (await fake.requests('/messages')).filter((r) => r.json?.to === phone && r.status === 200);
  await waitUntil(async () => (await sendsTo()).length >= answers.length, 'the replies from the second instance', 8000);
  await sleep(500);
  assert.deepEqual((await sendsTo()).map((r) => r.json.text.body), answers);
  assert.equal(pendingWa(), 0);
  await second.stop();
});

// Three parts of Telegram's 4096 characters at most, one line each, told
// apart from another test's (whose leftovers a failure may leave) by `tag`.
const splitReply = (tag) => ['ا', 'ب', 'پ'].map((letter) => `${tag} ${letter.repeat(3000)}`);
const sendsPerPart = (parts) => Promise.all(parts.map(async (part) => (await sendsOf(part)).length));

// A split reply on `gw` whose part 2 the provider answers `lateBy` ms late;
// answers its parts once part 2 is in flight.
async function splitReplyWithPart2InFlight(gw, tag, lateBy) {
  const parts = splitReply(tag);
  await fake.script([{ action: 'delay', delay_ms: 1, path: '/sendMessage' }, { action: 'delay', delay_ms: lateBy, path: '/sendMessage' }]);
  await replyOn(gw, parts.join('\n'));
  await waitUntil(async () => (await sendsOf(parts[1])).length === 1, 'part 2 in flight');
  return parts;
}

test('a gateway cut off from Redis between the parts of a split reply sends no more of it; the gateway that takes it over sends the rest: each part once', async () => {
  await fake.clear();
  const proxy = await new TcpProxy().start(redis.port);
  const cutOff = await startGateway(undefined, proxy);
  let taker;
  try {
    const parts = splitReply('واگذار');
    const { conv } = await replyOn(cutOff, parts.join('\n'));
    // Part 1 went and is recorded; part 2 waits out the chat's pace (Telegram:
    // about 1 message/s per chat), and meanwhile Redis becomes unreachable.
    const progress = await waitUntil(() => redisCli(redis, 'KEYS', `pasokh:send_parts:tg:${conv}:*`), 'the split reply under way');
    await waitUntil(() => redisCli(redis, 'HGET', progress, 'done') === '1', 'part 1 recorded', 5000);
    proxy.down();
    // The other gateway claims the entry once the hold lapses (claim_idle 1.5 s) and sends what is left.
    taker = await startGateway();
    await waitUntil(async () => (await sendsOf(parts[2])).some((r) => r.status === 200) && pending() === 0,
      'the rest sent and the entry acknowledged', 15000);
    proxy.up();
    // Back on Redis, the cut-off gateway's turn check (asked each second while
    // Redis was unreachable) finds the reply is not its own any more. Had it
    // found it still its own, part 2 would have gone within a pace (1 s).
    await waitFor(async () => (await fetch(`${cutOff.base}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200,
      'the cut-off gateway back on Redis');
    await sleep(2000);
    assert.deepEqual(await sendsPerPart(parts), [1, 1, 1], 'each part sent once');
    assert.equal(JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, '2')).status, 'sent');
  } finally {
    proxy.up();
    await cutOff.stop();
    await taker?.stop();
    await proxy.close();
  }
});

test('a gateway that loses Redis while part 2 of a split reply is in flight sends part 3 only once Redis is back and part 2 is recorded: each part once', async () => {
  await fake.clear();
  const proxy = await new TcpProxy().start(redis.port);
  const gw = await startGateway(undefined, proxy);
  try {
    // Part 2 is answered 2 s late; Redis goes away while it is in flight, so it cannot be recorded.
    const parts = await splitReplyWithPart2InFlight(gw, 'قطع', 2000);
    proxy.down();
    await sleep(3500);  // part 2 answered, and part 3's pace long past
    assert.equal((await sendsOf(parts[2])).length, 0, 'part 3 waits while part 2 is not recorded');
    proxy.up();
    const back = Date.now();
    await waitUntil(async () => (await sendsOf(parts[2])).some((r) => r.status === 200) && pending() === 0,
      'the rest sent and the entry acknowledged', 10000);
    assert.deepEqual(await sendsPerPart(parts), [1, 1, 1], 'each part sent once');
    assert.ok((await sendsOf(parts[2]))[0].time >= back, 'part 3 went once Redis was back');
  } finally {
    proxy.up();
    await gw.stop();
    await proxy.close();
  }
});

test('a part whose record Redis refuses holds the next part back until it is recorded, though Redis answers meanwhile: each part once', async () => {
  await fake.clear();
  const gw = await startGateway();
  try {
    const parts = await splitReplyWithPart2InFlight(gw, 'رد', 1500);
    // The record of part 2 (an HSET) is refused; the turns of the parts (no HSET) still work.
    redisCli(redis, 'ACL', 'SETUSER', 'default', '-hset');
    try {
      await sleep(3000);  // part 2 answered, and part 3's pace long past
      assert.equal((await sendsOf(parts[2])).length, 0, 'part 3 waits while part 2 is not recorded');
    } finally {
      redisCli(redis, 'ACL', 'SETUSER', 'default', '+hset');
    }
    await waitUntil(async () => (await sendsOf(parts[2])).some((r) => r.status === 200) && pending() === 0,
      'the rest sent and the entry acknowledged', 10000);
    assert.deepEqual(await sendsPerPart(parts), [1, 1, 1], 'each part sent once');
  } finally {
    await gw.stop();
  }
});
