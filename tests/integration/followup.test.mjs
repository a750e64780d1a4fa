// A stored customer message always gets its follow-up (mentions, CSAT, the
// bot's turn, routing), once, even when the gateway that stored it never
// learned it did: Redis ran the ingest script but its answer was lost (a
// dropped connection, a timeout, a gateway killed). The tests store a message
// the way the gateway does, with the same FCALL, and drop the answer: the
// sender's retry (a dedup hit) runs the follow-up, and without a retry the
// routing timer's sweep does after routing.followup_grace_s. A follow-up run
// twice (a retry while the first run goes on, a run whose end was never
// recorded) does nothing twice: every step answers a message once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisServer, Pasokh, TcpProxy, defaultConfig, postMessage, apiCall, login, agentSocket, waitFor, sleep } from '../support/harness.mjs';
import { SECRETS, FakeProvider, newChatId, postWebhook, redisCli, fcall, telegramHeaders, tgText, waitUntil } from './messenger_support.mjs';

let redis, gw, fake, token, ali, aliSocket;
const uid = () => `m-${Math.random().toString(36).slice(2)}`;
const QUESTION = 'سلام، این یخچال چند ماه گارانتی داره؟';
// Long enough that a sender's retry, which must come after RETRY_AFTER_MS to
// run the follow-up, still comes before the sweep's on a slow machine (2 s
// more, where 2 s of grace left 0.9 s).
const GRACE_S = 4;
// A retry takes over a follow-up nobody claimed once it is this old (a few
// seconds, at most half the grace): a sooner one is most likely the sender's
// while the first run goes on.
const RETRY_AFTER_MS = Math.min(3000, GRACE_S * 500);
const senderRetriesLater = () => sleep(RETRY_AFTER_MS + 100);

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  const config = defaultConfig(redis, { routing: { reopen_window_s: 600, tick_interval_ms: 100, followup_grace_s: GRACE_S } });
  config.channels = [
    { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support', bot: true },
    { id: 'desk', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'tg-bot', kind: 'telegram', team: 'support', bot: true,
      provider: { api_base: fake.base, token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET' } },
  ];
  gw = await new Pasokh(config, SECRETS).start();
  await gw.createAgent('boss', 'boss-secret-1', { role: 'admin' });
  token = (await login(gw, 'boss', 'boss-secret-1')).json.token;
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  ali = (await login(gw, 'ali', 'ali-secret-1')).json.token;
  aliSocket = await agentSocket(gw, ali);
  aliSocket.send({ type: 'presence', status: 'online', client_id: 'p1' });
  await aliSocket.next((f) => f.type === 'ack' && f.client_id === 'p1');
});
after(async () => { aliSocket?.close(); await gw?.cleanup(); fake?.stop(); await redis?.cleanup(); });

const cli = (...args) => redisCli(redis, ...args);
const status = (conv) => cli('HGET', `pasokh:conv:${conv}`, 'status');
const messages = (conv) => cli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
  .filter((f) => f.event === 'message').map((f) => f.message);
const botAnswers = (conv) => messages(conv).filter((m) => m.author === 'bot');

// Stores the message as POST /api/v1/channels/{channel}/messages would
// (ingest.lua, one message in the batch), and throws the answer away: the
// gateway never runs its follow-up.
function storedAnswerLost(channel, customer, messageId, text,
  { bot = true, kind = 'api', name = '', dedup = `${customer.length}:${customer}:${messageId}` } = {}) {
  const now = String(Date.now());
  const message = JSON.stringify({ text, provider_message_id: messageId, sent_at: Number(now), language: 'fa' });
  const args = [channel, kind, customer, name, dedup, '86400', now, message,
    'support', bot ? '1' : '0', 'fa', customer, '', '0', '', messageId, '', '', now, text, '0', '0'];
  const answer = fcall(redis, 'ingest', '1', String(args.length), ...args).split('\n');
  assert.equal(answer[0], 'stored');
  return { conv: answer[1], seq: Number(answer[2]) };
}

test('a first bot-channel message whose answer was lost gets the bot answer on the retry', async () => {
  const id = uid();
  const { conv } = storedAnswerLost('api', 'lost-1', id, QUESTION);
  assert.equal(botAnswers(conv).length, 0);
  await senderRetriesLater();

  const retry = await postMessage(gw, { message_id: id, customer: { id: 'lost-1' }, text: QUESTION, language: 'fa' });
  assert.equal(retry.status, 200);
  assert.equal(retry.json.duplicate, true);
  assert.equal(retry.json.conversation_id, conv);
  const answers = botAnswers(conv);
  assert.equal(answers.length, 1, 'the bot answered on the retry');
  assert.match(answers[0].text, /گارانتی/);
  assert.equal(cli('ZSCORE', 'pasokh:followup:due', `${conv}|1`), '', 'no longer due');
  assert.equal(await status(conv), 'bot');
});

test('without a retry the sweep runs the follow-up once the grace is over', async () => {
  const { conv } = storedAnswerLost('api', 'lost-2', uid(), QUESTION);
  await sleep(GRACE_S * 500);
  assert.equal(botAnswers(conv).length, 0, 'not within the grace: the gateway that stored it may still run it');
  await waitFor(() => botAnswers(conv).length === 1, 'the bot answer from the sweep', GRACE_S * 1000 + 5000);
  await waitFor(() => cli('ZSCORE', 'pasokh:followup:due', `${conv}|1`) === '', 'no longer due');
  await sleep(500);
  assert.equal(botAnswers(conv).length, 1);
});

test('a message the customer unsent (Instagram) before its follow-up ran is not answered by the bot', async () => {
  const id = uid();
  const { conv, seq } = storedAnswerLost('api', 'lost-unsent', id, QUESTION, { kind: 'instagram' });
  const now = String(Date.now());
  assert.equal(fcall(redis, 'unsend_message', 'api', id, now, now, '', '86400', '1000').split('\n')[0], 'stored');
  await waitFor(() => cli('ZSCORE', 'pasokh:followup:due', `${conv}|${seq}`) === '', 'the sweep passed it', GRACE_S * 1000 + 5000);
  await sleep(300);
  assert.equal(botAnswers(conv).length, 0, 'nothing to answer');
});

test('a follow-up run again after it ran (its end was never recorded) does not answer twice', async () => {
  const id = uid();
  const { conv } = storedAnswerLost('api', 'lost-3', id, QUESTION);
  const body = { message_id: id, customer: { id: 'lost-3' }, text: QUESTION, language: 'fa' };
  await senderRetriesLater();
  assert.equal((await postMessage(gw, body)).status, 200);
  assert.equal(botAnswers(conv).length, 1);
  // As if the gateway died after the bot answered, before it marked the
  // follow-up done: due again, unclaimed.
  cli('ZADD', 'pasokh:followup:due', String(Date.now() - 60000), `${conv}|1`);
  assert.equal((await postMessage(gw, body)).status, 200);
  await waitFor(() => cli('ZSCORE', 'pasokh:followup:due', `${conv}|1`) === '', 'the follow-up run again and done');
  assert.equal(botAnswers(conv).length, 1, 'one bot answer');

  // A later message is answered as usual.
  const next = await postMessage(gw, { message_id: uid(), customer: { id: 'lost-3' }, text: QUESTION, language: 'fa' });
  assert.equal(next.status, 201);
  assert.equal(botAnswers(conv).length, 2);
});

test("a Telegram update redelivered after the gateway lost the ingest's answer gets the bot answer", async () => {
  const chat = newChatId();
  const update = tgText(chat, QUESTION);
  const storedAt = Date.now();
  const { conv } = storedAnswerLost('tg-bot', String(chat), String(update.message.message_id), QUESTION,
    { kind: 'telegram', name: 'سارا', dedup: `tg:${update.update_id}` });
  // Telegram sends the update again until it gets a 200.
  await senderRetriesLater();
  assert.equal((await postWebhook(gw, '/webhooks/telegram/tg-bot', update, telegramHeaders())).status, 200);
  // Before the grace ends: the redelivery ran it, not the sweep.
  await waitUntil(() => botAnswers(conv).length === 1, 'the bot answer', storedAt + GRACE_S * 1000 - 200 - Date.now());
  assert.equal(messages(conv).filter((m) => m.author === 'customer').length, 1, 'stored once');
});

async function resolvedConversation(customer) {
  const first = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'my washing machine leaks' },
    { channel: 'desk' });
  assert.equal(first.status, 201);
  const conv = first.json.conversation_id;
  const resolved = await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token, body: {} });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal(await status(conv), 'resolved');
  return conv;
}

test('a message into a resolved conversation whose answer was lost reopens it on the retry', async () => {
  const conv = await resolvedConversation('reopen-1');
  const id = uid();
  const text = 'it leaks again';
  const stored = storedAnswerLost('desk', 'reopen-1', id, text, { bot: false });
  assert.equal(stored.conv, conv, 'within the reopen window: the same conversation');
  assert.equal(await status(conv), 'resolved');

  await senderRetriesLater();
  const retry = await postMessage(gw, { message_id: id, customer: { id: 'reopen-1' }, text }, { channel: 'desk' });
  assert.equal(retry.status, 200);
  assert.equal(retry.json.duplicate, true);
  assert.match(await status(conv), /^(queued|assigned)$/, 'reopened, for an agent');
  assert.notEqual(cli('ZSCORE', 'pasokh:team:support:open', conv), '', "in the team's open list");
});

test('a message into a resolved conversation whose gateway died is reopened by the sweep', async () => {
  const conv = await resolvedConversation('reopen-2');
  const stored = storedAnswerLost('desk', 'reopen-2', uid(), 'still broken', { bot: false });
  assert.equal(stored.conv, conv);
  await waitFor(async () => /^(queued|assigned)$/.test(await status(conv)), 'reopened by the sweep', GRACE_S * 1000 + 5000);
  assert.notEqual(cli('ZSCORE', 'pasokh:team:support:open', conv), '');
});

test('the gateway that stored a message marks its follow-up done; the message keeps its language for a later run', async () => {
  const r = await postMessage(gw, { message_id: uid(), customer: { id: 'plain-1' }, text: QUESTION });
  assert.equal(r.status, 201);
  assert.equal(cli('ZSCORE', 'pasokh:followup:due', `${r.json.conversation_id}|1`), '');
  assert.equal(botAnswers(r.json.conversation_id).length, 1);
  assert.equal(messages(r.json.conversation_id)[0].language, 'fa', 'guessed from the text');
});

// ---- a follow-up run twice does nothing twice ----------------------------

const events = (conv) => cli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n')
  .filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
const outTexts = (conv) => messages(conv).filter((m) => m.direction === 'out').map((m) => m.text);
const due = (conv, seq) => cli('ZSCORE', 'pasokh:followup:due', `${conv}|${seq}`);
// As if the gateway died after the follow-up ran, before it marked it done
// (or its ZREM was lost): due again, nobody's, long ago.
const dueAgain = (conv, seq) => cli('ZADD', 'pasokh:followup:due', String(Date.now() - 60000), `${conv}|${seq}`);
const sweptAgain = (conv, seq) => waitFor(() => due(conv, seq) === '', 'the follow-up run again', GRACE_S * 1000 + 5000);

// An agent answered and resolved: the customer is asked for a rating.
async function resolvedAndAsked(customer) {
  const first = await postMessage(gw, { message_id: uid(), customer: { id: customer }, text: 'my phone does not charge' },
    { channel: 'desk' });
  const conv = first.json.conversation_id;
  aliSocket.send({ type: 'reply', conv, client_id: `r-${customer}`, text: 'Please try another cable.' });
  await aliSocket.next((f) => f.type === 'ack' && f.client_id === `r-${customer}`);
  assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token: ali, body: {} })).status, 200);
  assert.notEqual(cli('GET', `pasokh:csat:pending:${first.json.customer_id}:desk`), '', 'asked');
  return conv;
}

test('a rating and its comment followed up again leave the rated conversation resolved, thanked once', async () => {
  const conv = await resolvedAndAsked('rater-1');
  const rating = await postMessage(gw, { message_id: uid(), customer: { id: 'rater-1' }, text: '5' }, { channel: 'desk' });
  assert.equal(rating.json.conversation_id, conv);
  const comment = await postMessage(gw, { message_id: uid(), customer: { id: 'rater-1' }, text: 'quick and kind, thanks' },
    { channel: 'desk' });
  assert.equal(comment.json.conversation_id, conv);
  assert.equal(cli('HGET', `pasokh:conv:${conv}`, 'csat_rating'), '5');
  assert.equal(cli('HGET', `pasokh:conv:${conv}`, 'csat_comment'), 'quick and kind, thanks');
  const thanks = outTexts(conv).length;

  dueAgain(conv, rating.json.seq);
  dueAgain(conv, comment.json.seq);
  await sweptAgain(conv, rating.json.seq);
  await sweptAgain(conv, comment.json.seq);
  assert.equal(await status(conv), 'resolved', 'not reopened');
  assert.equal(outTexts(conv).length, thanks, 'no second thanks');
  assert.equal(events(conv).filter((e) => e.event === 'csat').length, 1);
  assert.equal(events(conv).filter((e) => e.event === 'csat_comment').length, 1);
});

// Within the reopen window the comment lands in the rated conversation
// itself: feedback leaves it resolved (above); a request reopens it, once,
// however often its follow-up runs (it used to be kept as the comment only,
// the case staying resolved and nobody answering).
test('a request sent as the comment in the rated conversation reopens it for the team', async () => {
  const conv = await resolvedAndAsked('rater-asks');
  await postMessage(gw, { message_id: uid(), customer: { id: 'rater-asks' }, text: '5' }, { channel: 'desk' });
  const text = 'thanks! my other order never arrived, where is it?';
  const comment = await postMessage(gw, { message_id: uid(), customer: { id: 'rater-asks' }, text }, { channel: 'desk' });
  assert.equal(comment.json.conversation_id, conv);
  assert.equal(cli('HGET', `pasokh:conv:${conv}`, 'csat_comment'), text);
  assert.equal(cli('HGET', `pasokh:conv:${conv}`, 'csat_comment_kind'), 'request');
  assert.equal(await status(conv), 'assigned', 'reopened, for Ali (online)');
  const thanks = outTexts(conv).filter((t) => t === 'Thank you for your feedback.').length;
  assert.equal(thanks, 1);
  dueAgain(conv, comment.json.seq);
  await sweptAgain(conv, comment.json.seq);
  assert.equal(await status(conv), 'assigned', 'still open');
  assert.equal(outTexts(conv).filter((t) => t === 'Thank you for your feedback.').length, 1, 'thanked once');
  assert.equal(events(conv).filter((e) => e.event === 'csat_comment').length, 1);
});

test('the same rating sent twice at once (a client retrying on its timeout) rates once and reopens nothing', async () => {
  for (let i = 0; i < 4; i++) {
    const customer = `rater-twice-${i}`;
    const conv = await resolvedAndAsked(customer);
    const body = { message_id: uid(), customer: { id: customer }, text: '5' };
    const answers = await Promise.all([postMessage(gw, body, { channel: 'desk' }), postMessage(gw, body, { channel: 'desk' })]);
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 201]);
    await sleep(200);
    assert.equal(await status(conv), 'resolved', `pair ${i}: not reopened`);
    assert.equal(events(conv).filter((e) => e.event === 'csat').length, 1);
  }
});

test('a Telegram rating redelivered while its first run goes on (Redis slow) rates once and reopens nothing', async () => {
  const delay = 40;
  const proxy = await new TcpProxy({ lateBy: delay }).start(redis.port);  // a slow Redis
  const config = defaultConfig(redis, { routing: { reopen_window_s: 600, tick_interval_ms: 500, followup_grace_s: 30 } });
  config.redis.url = `redis://127.0.0.1:${proxy.port}`;
  config.channels = [{ id: 'tg-slow', kind: 'telegram', team: 'support',
    provider: { api_base: fake.base, token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET' } }];
  const slow = await new Pasokh(config, SECRETS).start();
  try {
    for (let i = 0; i < 3; i++) {
      const chat = newChatId();
      assert.equal((await postWebhook(slow, '/webhooks/telegram/tg-slow', tgText(chat, 'my phone is broken'), telegramHeaders())).status, 200);
      const conv = await waitUntil(() => cli('GET', `pasokh:cust:${cli('GET', `pasokh:ident:tg-slow:${chat}`)}:open:tg-slow`),
        'the conversation');
      aliSocket.send({ type: 'reply', conv, client_id: `r-slow-${i}`, text: 'Fixed now?' });
      await aliSocket.next((f) => f.type === 'ack' && f.client_id === `r-slow-${i}`);
      assert.equal((await apiCall(gw, 'POST', `/api/v1/conversations/${conv}/resolve`, { token: ali, body: {} })).status, 200);
      await waitUntil(() => cli('HGET', `pasokh:conv:${conv}`, 'csat_asked'), 'the survey');

      const update = tgText(chat, '5');
      const first = postWebhook(slow, '/webhooks/telegram/tg-slow', update, telegramHeaders());
      await sleep(delay * 0.4);
      const again = postWebhook(slow, '/webhooks/telegram/tg-slow', update, telegramHeaders());
      assert.deepEqual((await Promise.all([first, again])).map((r) => r.status), [200, 200]);
      await waitUntil(() => cli('HGET', `pasokh:conv:${conv}`, 'csat_rating') === '5', 'the rating');
      await sleep(500);
      assert.equal(await status(conv), 'resolved', `try ${i}: not reopened`);
      assert.equal(events(conv).filter((e) => e.event === 'csat').length, 1);
    }
  } finally {
    await slow.cleanup();
    proxy.close();
  }
});

test('an opt-out followed up again confirms it to the customer once', async () => {
  await postMessage(gw, { message_id: uid(), customer: { id: 'stopper-1' }, text: 'hello' }, { channel: 'desk' });
  const stop = await postMessage(gw, { message_id: uid(), customer: { id: 'stopper-1' }, text: 'stop' }, { channel: 'desk' });
  assert.equal(stop.status, 201);
  const conv = stop.json.conversation_id;
  const confirmations = () => outTexts(conv).filter((t) => /no longer receive/.test(t)).length;
  assert.equal(confirmations(), 1);
  dueAgain(conv, stop.json.seq);
  await sweptAgain(conv, stop.json.seq);
  assert.equal(confirmations(), 1, 'confirmed once');
  assert.equal(events(conv).filter((e) => e.event === 'opt_out').length, 1);
});

test('a message followed up again after an agent snoozed the conversation leaves the snooze alone', async () => {
  const first = await postMessage(gw, { message_id: uid(), customer: { id: 'snoozer-1' }, text: 'my order is late' },
    { channel: 'desk' });
  const conv = first.json.conversation_id;
  aliSocket.send({ type: 'reply', conv, client_id: 'r-snoozer', text: 'Looking into it.' });
  await aliSocket.next((f) => f.type === 'ack' && f.client_id === 'r-snoozer');
  const again = await postMessage(gw, { message_id: uid(), customer: { id: 'snoozer-1' }, text: 'hello?' }, { channel: 'desk' });
  aliSocket.send({ type: 'snooze', conv, until: Date.now() + 3600_000, client_id: 'z-snoozer' });
  await aliSocket.next((f) => f.type === 'ack' && f.client_id === 'z-snoozer');
  assert.equal(await status(conv), 'snoozed');

  dueAgain(conv, again.json.seq);
  await sweptAgain(conv, again.json.seq);
  await sleep(300);
  assert.equal(await status(conv), 'snoozed', 'still snoozed for the hour');
});

test('a rating whose after-sales step fails for Redis is run again later, never taken for a new request', async () => {
  const conv = await resolvedAndAsked('rater-broken');
  const pending = `pasokh:csat:pending:${cli('HGET', `pasokh:conv:${conv}`, 'customer_id')}:desk`;
  // The step fails in Redis: the pending rating's key has the wrong type.
  cli('DEL', pending);
  cli('HSET', pending, 'broken', '1');
  const rating = await postMessage(gw, { message_id: uid(), customer: { id: 'rater-broken' }, text: '4' }, { channel: 'desk' });
  assert.equal(rating.status, 201, 'stored');
  assert.equal(rating.json.conversation_id, conv);
  assert.equal(await status(conv), 'resolved', 'not reopened as a new request');
  assert.notEqual(due(conv, rating.json.seq), '', 'still due: run again later');

  // Redis is well again: the sweep rates.
  cli('DEL', pending);
  cli('SET', pending, conv);
  await waitFor(() => cli('HGET', `pasokh:conv:${conv}`, 'csat_rating') === '4', 'the rating, by the sweep', GRACE_S * 1000 + 5000);
  await sweptAgain(conv, rating.json.seq);
  assert.equal(await status(conv), 'resolved');
});

// ---- a follow-up that keeps failing ----------------------------------------

// A follow-up that fails every time: its conversation's log has the wrong
// type, so followup.lua's XRANGE fails.
function poisoned(conv) {
  cli('HSET', `pasokh:conv:${conv}`, 'status', 'bot', 'customer_id', 'cu_900', 'channel', 'api', 'kind', 'api');
  cli('SET', `pasokh:conv:${conv}:log`, 'not a stream');
  cli('ZADD', 'pasokh:followup:due', String(Date.now() - 120000), `${conv}|1`);
}

test('a follow-up that fails every time holds up no other: it waits longer each time', async () => {
  const start = Date.now();
  poisoned('cv_900');
  const { conv } = storedAnswerLost('api', 'behind-poison', uid(), QUESTION);
  await waitFor(() => botAnswers(conv).length === 1, 'the bot answer from the sweep', GRACE_S * 1000 + 5000);
  assert.equal(cli('HGET', 'pasokh:followup:tries', 'cv_900|1'), '1', 'tried once');
  // Taken again 2 × grace after its first try (the score is a grace before that).
  assert.ok(Number(cli('ZSCORE', 'pasokh:followup:due', 'cv_900|1')) >= start + GRACE_S * 1000, 'it waits its backoff');
  // Its fourth try is taken 2^4 graces later: 15 graces past its score.
  cli('HSET', 'pasokh:followup:tries', 'cv_900|1', '3');
  cli('ZADD', 'pasokh:followup:due', String(Date.now() - 120000), 'cv_900|1');
  const fourth = Date.now();
  await waitFor(() => cli('HGET', 'pasokh:followup:tries', 'cv_900|1') === '4', 'a fourth try', GRACE_S * 1000 + 5000);
  assert.ok(Number(cli('ZSCORE', 'pasokh:followup:due', 'cv_900|1')) >= fourth + 15 * GRACE_S * 1000, 'a later try waits longer');
  cli('DEL', 'pasokh:conv:cv_900', 'pasokh:conv:cv_900:log');
  cli('ZREM', 'pasokh:followup:due', 'cv_900|1');
});

test('a follow-up that failed 8 times is given up: kept in followup:dead, logged as an error, counted', async () => {
  poisoned('cv_901');
  cli('HSET', 'pasokh:followup:tries', 'cv_901|1', '8');
  await waitFor(() => cli('ZSCORE', 'pasokh:followup:dead', 'cv_901|1') !== '', 'given up', GRACE_S * 1000 + 5000);
  assert.equal(cli('ZSCORE', 'pasokh:followup:due', 'cv_901|1'), '', 'no longer due');
  assert.equal(cli('HGET', 'pasokh:followup:tries', 'cv_901|1'), '');
  await waitFor(() => /error.*conv=cv_901 seq=1 follow-up given up after 8 runs/.test(gw.output), 'the error in the log');
  const metrics = await apiCall(gw, 'GET', '/metrics');
  assert.match(metrics.text, /pasokh_followup_abandoned_total\{by="sweep"\} 1/);
});
