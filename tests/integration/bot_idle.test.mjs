// A conversation the customer left with the bot ends: after
// routing.bot_idle_resolve_s without a customer message the timers resolve it
// as the bot (reason bot_idle; the reports count it deflected then). Within
// the reopen window the customer's next message goes on with the bot; later
// it opens a new conversation. A conversation handed to a person is never
// resolved by this timer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, Pasokh, defaultConfig, postMessage, waitFor } from '../support/harness.mjs';
import { redisCli } from './messenger_support.mjs';

let redis, gw;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;
const QUESTION = 'سلام، این یخچال چند ماه گارانتی داره؟';

before(async () => {
  redis = await new RedisServer().start();
  const config = defaultConfig(redis, { routing: { bot_idle_resolve_s: 1, reopen_window_s: 2, tick_interval_ms: 100 } });
  config.channels = [{ id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support', bot: true }];
  gw = await new Pasokh(config).start();
});
after(async () => { await gw?.cleanup(); await redis?.cleanup(); });

const cli = (...args) => redisCli(redis, ...args);
const status = (conv) => cli('HGET', `pasokh:conv:${conv}`, 'status');
// The conversation's log frames, oldest first.
const log = (conv) => cli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
const statusEvents = (conv) => log(conv).filter((f) => f.event === 'status');

async function write(customer, text = QUESTION) {
  const r = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text });
  assert.equal(r.status, 201);
  return r.json;
}

async function leftWithTheBot(customer) {
  const first = await write(customer);
  const conv = first.conversation_id;
  assert.equal(await status(conv), 'bot');
  await waitFor(async () => (await status(conv)) === 'resolved', 'the idle bot conversation resolved', 5000);
  const resolve = statusEvents(conv).at(-1);
  assert.equal(resolve.status, 'resolved');
  assert.equal(resolve.from, 'bot');
  assert.equal(resolve.actor, 'bot');
  assert.equal(resolve.reason, 'bot_idle');
  return first;
}

test('an idle bot conversation is resolved by the bot; after the reopen window the customer opens a new one', async () => {
  const first = await leftWithTheBot('idle-1');
  // No survey for a conversation the customer walked away from.
  assert.equal(cli('HGET', `pasokh:conv:${first.conversation_id}`, 'csat_asked'), '');
  await waitFor(() => cli('EXISTS', `pasokh:cust:${first.customer_id}:open:api`) === '0', 'the reopen window over', 5000);

  const again = await write('idle-1', 'اپراتور');
  assert.notEqual(again.conversation_id, first.conversation_id);
  assert.equal(again.seq, 1);
  assert.equal(await status(first.conversation_id), 'resolved', 'the old conversation stays as it ended');
});

test('within the reopen window the customer goes on with the bot in the same conversation', async () => {
  const first = await leftWithTheBot('idle-2');
  const conv = first.conversation_id;
  const again = await write('idle-2');
  assert.equal(again.conversation_id, conv);
  assert.equal(await status(conv), 'bot');
  const reopen = statusEvents(conv).at(-1);
  assert.equal(reopen.status, 'bot');
  assert.equal(reopen.from, 'resolved');
  assert.equal(reopen.reason, 'reopened_by_customer');
  const last = log(conv).at(-1);
  assert.equal(last.message?.author, 'bot', 'the bot answered the returning customer');
});

test('a conversation handed to a person is not resolved by the idle timer', async () => {
  const r = await write('idle-3', 'اپراتور');
  const conv = r.conversation_id;
  assert.equal(await status(conv), 'queued');
  assert.notEqual(cli('ZSCORE', 'pasokh:timers:bot_idle', conv), '', 'it was with the bot when the customer wrote');
  // Its idle entry falls due and is dropped, the conversation untouched.
  await waitFor(() => cli('ZSCORE', 'pasokh:timers:bot_idle', conv) === '', 'the idle entry dropped', 5000);
  assert.equal(await status(conv), 'queued');
  assert.ok(!statusEvents(conv).some((f) => f.status === 'resolved'));
});

test('a conversation left with the bot before the idle timer existed is resolved too', async () => {
  const r = await write('idle-4');
  const conv = r.conversation_id;
  // As an older version left it: never on the timer, which was never seeded;
  // then this version starts.
  await gw.stop();
  assert.equal(await status(conv), 'bot');
  cli('ZREM', 'pasokh:timers:bot_idle', conv);
  cli('DEL', 'pasokh:timers:bot_idle:seeded');
  await gw.start();
  await waitFor(async () => (await status(conv)) === 'resolved', 'resolved after the seeding', 5000);
  assert.equal(statusEvents(conv).at(-1).reason, 'bot_idle');
});
