// "Leave your email and we will answer you there": agent replies a web chat
// customer has not read in time go to the email they left and proved theirs
// (they confirmed the link mailed to it), as one mail through the email
// channel's relay (maildev), and the customer's answer to that mail
// continues the chat conversation. Two gateways share Redis: nothing twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, freePort, login, reply, sleep, waitFor } from '../support/harness.mjs';
import { MailDev, RefusingRelay, deliveryReport } from '../support/maildev.mjs';
import { chatSocket, isVerificationMail, mailedCode, typesCode } from './webchat_support.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'fallback-test-webchat-secret-0123456789' };
const tmp = mkdtempSync(path.join(tmpdir(), 'pasokh-fallback-'));
let redis, sink, refusing, gw, second, smtpPort, token;

before(async () => {
  redis = await new RedisServer().start();
  sink = await new MailDev().start();
  refusing = await new RefusingRelay().start();
  smtpPort = await freePort();
  const config = (port) => defaultConfig(redis, {
    routing: { reopen_window_s: 3600 },  // a customer writing after a resolve reopens
    channels: [
      { id: 'web', kind: 'webchat', team: 'support',
        provider: { email_fallback_channel: 'mail', email_fallback_after_s: 1 } },
      // Room for a reader on a slow machine to see a reply and say so before it is due.
      { id: 'web-3s', kind: 'webchat', team: 'support',
        provider: { email_fallback_channel: 'mail', email_fallback_after_s: 3 } },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], reply_domain: 'shop.example',
        from_address: 'support@shop.example', from_name: 'Shop support',
        smtp: { address: '127.0.0.1', port }, relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none' } } },
      // A web chat whose mails the relay refuses.
      { id: 'web-refused', kind: 'webchat', team: 'support',
        provider: { email_fallback_channel: 'mail-refused', email_fallback_after_s: 1 } },
      { id: 'mail-refused', kind: 'email', team: 'support', provider: {
        support_addresses: ['help@refused.example'], from_address: 'help@refused.example',
        smtp: { address: '127.0.0.1', port: 0 }, relay: { host: '127.0.0.1', port: refusing.port, tls: 'none' } } },
    ],
  });
  gw = await new Pasokh(config(smtpPort), SECRET).start();
  second = await new Pasokh(config(await freePort()), SECRET).start();  // sweeps the same due set
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  token = (await login(gw, 'sara', 'sara-secret-1')).json.token;
});

after(async () => {
  await second?.cleanup();
  await gw?.cleanup();
  await sink?.stop();
  await refusing?.stop();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

// A visitor who writes once (in `lang`); `email` given in the session, or later by `contact`.
async function visitor(text, { email, lang = 'en', channel = 'web' } = {}) {
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel, email }),
  })).json();
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=${channel}`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token: session.token, lang });
  await c.next((f) => f.type === 'welcome');
  c.send({ type: 'message', client_id: 'm-1', text, lang });
  const ack = await c.next((f) => f.type === 'ack' && f.client_id === 'm-1');
  return { c, conv: ack.conv, token: session.token, channel };
}

// The address proved the visitor's: the code mailed to it, typed into their
// chat (a tab of theirs opened for it: `visitor` is {token, channel}).
async function confirmAddress(address, { token, channel = 'web' }) {
  const { code } = await mailedCode(sink, address);
  const c = await chatSocket(gw, token, { channel });
  assert.equal((await typesCode(c, code)).type, 'email_verified');
  await c.close();
}

// The replies mailed to an address (not the link that proves it).
const mailsTo = async (address) => (await sink.emails()).filter((m) => m.to?.some((t) => t.address === address) &&
  !isVerificationMail(m));
const mailWith = (address, text) => sink.waitFor((m) => m.to?.[0]?.address === address && m.text?.includes(text),
  `the mail to ${address}`, 10000);

const redisCli = (...args) => new Promise((resolve, reject) => execFile('redis-cli', ['-p', String(redis.port), ...args],
  (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))));
const conversationLog = async (conv) => (await redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+')).split('\n')
  .filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
const deliveryRecord = async (conv, seq) => JSON.parse(await redisCli('HGET', `pasokh:conv:${conv}:delivery`, String(seq)));

// The console's "failed" delivery events for these replies, by seq.
async function failedEvents(agent, conv, seqs) {
  const failed = new Map();
  while (failed.size < seqs.length) {
    const f = await agent.next((e) => e.event === 'delivery' && e.conv === conv && e.status === 'failed' &&
      seqs.includes(e.message_seq) && !failed.has(e.message_seq), 10000);
    failed.set(f.message_seq, f);
  }
  return failed;
}

test('replies left unread go to the customer\'s email as one mail, and the answer continues the chat', async () => {
  const agent = await agentSocket(gw, token);
  const web = await visitor('سلام، سفارشم کی می‌رسد؟', { lang: 'fa' });
  web.c.send({ type: 'contact', email: 'Maryam@Example.net' });
  await web.c.next((f) => f.type === 'contact_saved');
  await confirmAddress('maryam@example.net', web);
  await web.c.close();  // the customer closed the tab

  const first = await reply(agent, web.conv, 'سلام مریم خانم، سفارش شما فردا می‌رسد.');
  const secondReply = await reply(agent, web.conv, 'کد رهگیری: 12345');
  const mail = await mailWith('maryam@example.net', 'کد رهگیری');
  await sleep(800);  // a few sweeps later (every 250 ms), on both gateways
  assert.equal((await mailsTo('maryam@example.net')).length, 1, 'one mail for both replies');
  const a = mail.text.indexOf('سفارش شما فردا می‌رسد'), b = mail.text.indexOf('کد رهگیری: 12345');
  assert.ok(a > 0 && b > a, `both replies, in order: ${mail.text}`);
  assert.ok(mail.text.includes('گفتگوی وب‌سایت'), 'in the customer\'s language');
  assert.equal(mail.from[0].address, 'support@shop.example');
  assert.equal(mail.headers['auto-submitted'], undefined, 'a person wrote these');

  // The console learns both went out by email.
  const mailed = [];
  while (mailed.length < 2) {
    const d = await agent.next((f) => f.event === 'delivery' && f.conv === web.conv && f.emailed_at);
    mailed.push(d.message_seq);
  }
  assert.deepEqual(mailed.sort((x, y) => x - y), [first, secondReply]);
  // Once the mail went out (the newest reply keeps its Message-ID), both stay sent.
  await waitFor(async () => (await deliveryRecord(web.conv, secondReply)).provider_message_id, 'the mail marked sent');
  for (const seq of [first, secondReply]) assert.equal((await deliveryRecord(web.conv, seq)).status, 'sent');
  const metrics = await (await fetch(`${gw.base}/metrics`)).text() + await (await fetch(`${second.base}/metrics`)).text();
  const counted = metrics.split('\n').filter((l) => l.startsWith('pasokh_webchat_replies_mailed_total{channel="web"} '))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  assert.equal(counted, 2);

  // The customer answers the mail: it continues the same conversation.
  const body = path.join(tmp, 'answer.txt');
  writeFileSync(body, 'ممنونم، منتظرم.\r\n');
  const sent = await new Promise((resolve) => execFile('swaks', ['--server', `127.0.0.1:${smtpPort}`,
    '--from', 'maryam@example.net', '--to', 'support@shop.example', '--header', `Subject: Re: ${mail.subject}`,
    '--header', `In-Reply-To: <${mail.messageId}>`, '--header', 'Message-Id: <answer-1@example.net>',
    '--header', 'Content-Type: text/plain; charset=utf-8', '--body', `@${body}`], { timeout: 20000 },
  (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr })));
  assert.equal(sent.code, 0, sent.out);
  const answer = await agent.next((f) => f.event === 'message' && f.message?.author === 'customer' &&
    f.message.text.includes('منتظرم'), 10000);
  assert.equal(answer.conv, web.conv);
  assert.equal(answer.message.channel, 'mail');
  agent.close();
});

test('a reply read in the widget in time is not mailed; a visitor without an email gets none', async () => {
  const agent = await agentSocket(gw, token);
  const reader = await visitor('Is my repair done?', { email: 'reader@example.net', channel: 'web-3s' });
  await confirmAddress('reader@example.net', reader);
  const anonymous = await visitor('Hello, anyone?');
  await anonymous.c.close();

  const seq = await reply(agent, reader.conv, 'Yes, you can pick it up today.');
  await reply(agent, anonymous.conv, 'Hello! How can we help?');
  await reader.c.next((f) => f.type === 'event' && f.seq === seq);
  reader.c.send({ type: 'seen', conv: reader.conv, seq, read: true });

  await sleep(3800);  // past the delay and a few sweeps
  assert.equal((await mailsTo('reader@example.net')).length, 0, 'read in time: no mail');
  assert.equal((await sink.emails()).filter((m) => m.text?.includes('How can we help')).length, 0, 'no email: no mail');
  reader.c.close();
  agent.close();
});

test('an address only typed into the form gets no replies by mail; once the visitor confirms it, the unread ones go', async () => {
  const agent = await agentSocket(gw, token);
  // Anyone can type anyone's address: it is only mailed the link that proves it.
  const { conv, visitor: typer } = await leftEmail('Is my parcel insured?', 'typed@example.net', { confirmed: false });
  const seq = await reply(agent, conv, 'Yes, up to 500 euros.');
  // Due a second after the reply; the sweep looks at it and mails nothing.
  const due = () => redisCli('ZSCORE', 'pasokh:webchat:mail_due', conv);
  await waitFor(async () => (await due()) !== '', 'the reply scheduled');
  await waitFor(async () => (await due()) === '', 'the sweep past it', 5000);
  assert.equal(await redisCli('HGET', `pasokh:conv:${conv}`, 'mail_fallback_seq'), '', 'nothing mailed');
  // The console shows it sent, neither read nor sent by email.
  const record = await deliveryRecord(conv, seq);
  assert.equal(record.status, 'sent');
  assert.equal(record.emailed_at, undefined);

  await confirmAddress('typed@example.net', typer);
  const mail = await mailWith('typed@example.net', 'up to 500 euros');
  assert.equal(mail.headers['auto-submitted'], undefined, 'the replies, not another automatic mail');
  await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === seq && f.emailed_at);
  assert.equal((await mailsTo('typed@example.net')).length, 1);
  agent.close();
});

test('confirming the address mails the unread replies of each of the visitor\'s chats, an older resolved one too', async () => {
  const agent = await agentSocket(gw, token);
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web' }) })).json();
  // The same visitor (their token) writing in a tab they then close.
  async function writesOnce(text, clientId) {
    const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
    await c.opened();
    c.send({ type: 'hello', v: 1, token: session.token, lang: 'en' });
    await c.next((f) => f.type === 'welcome');
    c.send({ type: 'message', client_id: clientId, text, lang: 'en' });
    const { conv } = await c.next((f) => f.type === 'ack' && f.client_id === clientId);
    if (clientId === 'first') {
      c.send({ type: 'contact', email: 'twochats@example.net' });
      await c.next((f) => f.type === 'contact_saved');
    }
    await c.close();
    return conv;
  }
  // Due a second after its reply; the sweep mails nothing then (not proved yet).
  const due = (conv) => redisCli('ZSCORE', 'pasokh:webchat:mail_due', conv);
  const older = await writesOnce('Has my refund been sent?', 'first');
  await reply(agent, older, 'Your refund went out on Monday.');
  await waitFor(async () => (await due(older)) !== '', 'the older reply scheduled');
  agent.send({ type: 'resolve', conv: older, client_id: 'resolve-older' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'resolve-older');
  // Past the reopen window (its pointer gone): the next message opens a new chat.
  const cust = await redisCli('HGET', `pasokh:conv:${older}`, 'customer_id');
  await redisCli('DEL', `pasokh:cust:${cust}:open:web`);
  const newer = await writesOnce('And can I order the blue one?', 'second');
  assert.notEqual(newer, older);
  await reply(agent, newer, 'Yes, the blue one is back in stock.');
  await waitFor(async () => (await due(newer)) !== '', 'the newer reply scheduled');
  await waitFor(async () => (await due(older)) === '' && (await due(newer)) === '', 'the sweep past both', 5000);
  assert.equal((await mailsTo('twochats@example.net')).length, 0);

  await confirmAddress('twochats@example.net', session);
  await mailWith('twochats@example.net', 'back in stock');
  const mail = await mailWith('twochats@example.net', 'refund went out on Monday');
  assert.ok(!mail.text.includes('back in stock'), 'a mail a chat');
  assert.equal((await mailsTo('twochats@example.net')).length, 2);
  agent.close();
});

test('a visitor who read the older replies gets only the newest by mail, a delay after it was written', async () => {
  const agent = await agentSocket(gw, token);
  const web = await visitor('Which colours are in stock?');
  web.c.send({ type: 'contact', email: 'partly@example.net' });
  await web.c.next((f) => f.type === 'contact_saved');
  await confirmAddress('partly@example.net', web);
  const older = await reply(agent, web.conv, 'Blue and grey are in stock.');
  await web.c.next((f) => f.type === 'event' && f.seq === older);
  web.c.send({ type: 'seen', conv: web.conv, seq: older, read: true });
  await waitFor(async () => (await redisCli('HGET', `pasokh:conv:${web.conv}`, 'customer_read_seq')) === String(older),
    'the older reply read');
  await web.c.close();
  const writtenAt = Date.now();
  const newest = await reply(agent, web.conv, 'Grey sells out this week.');
  // As if the older reply had opened the batch nearly three delays ago: the
  // batch is due at its limit in 0.1 s. Read, the older reply holds the
  // newest to that limit no longer: the newest waits its own delay.
  await redisCli('HSET', 'pasokh:webchat:mail_since', web.conv, String(Date.now() - 2900));
  await redisCli('ZADD', 'pasokh:webchat:mail_due', String(Date.now() + 100), web.conv);

  const mail = await mailWith('partly@example.net', 'Grey sells out');
  assert.ok(!mail.text.includes('Blue and grey'), `the read reply is not in it: ${mail.text}`);
  const mailed = await agent.next((f) => f.event === 'delivery' && f.conv === web.conv && f.emailed_at);
  assert.equal(mailed.message_seq, newest);
  assert.ok(mailed.emailed_at - writtenAt >= 1000, `mailed ${mailed.emailed_at - writtenAt} ms after it was written`);
  assert.equal((await deliveryRecord(web.conv, older)).emailed_at, undefined);
  assert.deepEqual((await deliveryRecord(web.conv, newest)).mail_carried, [newest]);
  assert.equal((await mailsTo('partly@example.net')).length, 1);
  agent.close();
});

function swaks(args) {
  return new Promise((resolve) => execFile('swaks', ['--server', `127.0.0.1:${smtpPort}`, ...args], { timeout: 20000 },
    (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr })));
}

async function answerMail(from, mail, text, id) {
  const body = path.join(tmp, `${id}.txt`);
  writeFileSync(body, `${text}\r\n`);
  return swaks(['--from', from, '--to', 'support@shop.example', '--header', `Subject: Re: ${mail.subject}`,
    '--header', `In-Reply-To: <${mail.messageId}>`, '--header', `Message-Id: <${id}@example.net>`, '--body', `@${body}`]);
}

// A visitor who wrote, left their email and (unless `confirmed` is false)
// typed the code mailed to it, then closed the tab. With `confirmed` false:
// the conversation and the visitor, to confirm later.
async function leftEmail(text, email, { channel = 'web', confirmed = true } = {}) {
  const web = await visitor(text, { channel });
  web.c.send({ type: 'contact', email });
  await web.c.next((f) => f.type === 'contact_saved');
  if (confirmed) await confirmAddress(email, web);
  await web.c.close();
  return confirmed ? web.conv : { conv: web.conv, visitor: web };
}

test('the answer to the mail reopens a chat the agent resolved, the chat joined by the confirmed address to the file that held it', async () => {
  const agent = await agentSocket(gw, token);
  // Someone who mailed before (their own file) now chats, leaves that address and confirms it.
  assert.equal((await swaks(['--from', 'returning@example.net', '--to', 'support@shop.example',
    '--header', 'Subject: an older question', '--body', 'old question'])).code, 0);
  await agent.next((f) => f.event === 'message' && f.message?.text?.includes('old question'), 10000);
  const conv = await leftEmail('Where is my order?', 'returning@example.net');
  await reply(agent, conv, 'It arrives tomorrow.');
  agent.send({ type: 'resolve', conv, client_id: 'resolve-1' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'resolve-1');
  const mail = await mailWith('returning@example.net', 'It arrives tomorrow.');

  assert.equal((await answerMail('returning@example.net', mail, 'Thanks, and the invoice?', 'answer-2')).code, 0);
  const answer = await agent.next((f) => f.event === 'message' && f.message?.text?.includes('invoice'), 10000);
  assert.equal(answer.conv, conv, 'the chat goes on, not a new mail conversation');
  await agent.next((f) => f.event === 'status' && f.conv === conv && f.status !== 'resolved', 5000);
  agent.close();
});

test('a bounce of the mail marks every reply it carried not delivered', async () => {
  const agent = await agentSocket(gw, token);
  // Confirmed once; the mailbox is gone since.
  const conv = await leftEmail('Hello?', 'closed@example.net');
  const seqs = [await reply(agent, conv, 'Hi, your repair is done.'), await reply(agent, conv, 'You can pick it up today.')];
  const mail = await mailWith('closed@example.net', 'pick it up');
  assert.ok(mail.text.includes('repair is done') && mail.text.includes('pick it up'), 'one mail for both');
  const dsn = deliveryReport({ recipient: 'closed@example.net', returned: [`Message-ID: <${mail.messageId}>`] });
  const file = path.join(tmp, 'dsn.eml');
  writeFileSync(file, dsn);
  // The mail's own delivery lands first (its id is what the bounce names).
  await waitFor(async () => (await deliveryRecord(conv, seqs[1])).provider_message_id, 'the mail marked sent');
  assert.equal((await swaks(['--from', '<>', '--to', 'support@shop.example', '--data', `@${file}`])).code, 0);
  const failed = await failedEvents(agent, conv, seqs);
  for (const seq of seqs) assert.match(failed.get(seq).reason, /5\.1\.1/, `reply ${seq}`);
  for (const seq of seqs) assert.equal((await deliveryRecord(conv, seq)).status, 'failed');
  agent.close();
});

test('a mail the relay refuses for good marks every reply it carried failed', async () => {
  const agent = await agentSocket(gw, token);
  // The relay refuses the code too: the address is proved by the customer's
  // own mail to us, and an agent merges the chat into that mail's file.
  assert.equal((await swaks(['--from', 'nobody@refused.example.net', '--to', 'support@shop.example',
    '--header', 'Subject: my order', '--body', 'where is my order?'])).code, 0);
  const mailed = await agent.next((f) => f.event === 'message' && f.message?.text?.includes('where is my order?'), 10000);
  const { conv } = await leftEmail('Anyone?', 'nobody@refused.example.net', { channel: 'web-refused', confirmed: false });
  const merged = await apiCall(gw, 'POST', `/api/v1/customers/${mailed.conversation.customer_id}/merge`,
    { token, body: { from: await redisCli('HGET', `pasokh:conv:${conv}`, 'customer_id') } });
  assert.equal(merged.status, 200, merged.text);
  const seqs = [await reply(agent, conv, 'Hello! Which order is it?'), await reply(agent, conv, 'We can help by phone too.')];
  const failed = await failedEvents(agent, conv, seqs);
  for (const seq of seqs) assert.match(failed.get(seq).reason, /550/, `reply ${seq}`);
  agent.close();
});

test('an agent who keeps writing does not hold the mail back: it goes at most three delays after the first unread reply', async () => {
  const agent = await agentSocket(gw, token);
  const conv = await leftEmail('Is my order lost?', 'waiting@example.net');
  // A reply every 200 ms, the delay is 1 s: each one alone would push the mail on.
  const started = Date.now();
  let steps = 0, mail, first;
  while (!mail && Date.now() - started < 8000) {
    const seq = await reply(agent, conv, `Still looking, step ${++steps}.`);
    first ??= seq;
    await sleep(200);
    [mail] = await mailsTo('waiting@example.net');
  }
  assert.ok(mail, `no mail while the agent kept writing (${steps} replies)`);
  // Timed by the gateway's clock, from the first reply's time to the mail's: due three delays
  // after it, then a sweep (every quarter delay) takes it. Four delays would be a limit too late.
  const writtenAt = (await conversationLog(conv)).find((f) => f.event === 'message' && f.seq === first).message.created_at;
  const mailedAt = (await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === first && f.emailed_at)).emailed_at;
  assert.ok(mailedAt - writtenAt < 4000, `the mail came ${mailedAt - writtenAt} ms after the first reply`);
  const a = mail.text.indexOf('step 1.'), b = mail.text.indexOf('step 2.');
  assert.ok(a > 0 && b > a, `the burst so far in one mail, in order: ${mail.text}`);
  // A reply after that mail waits its own delay, not the old burst's limit.
  const replyAt = Date.now();
  await reply(agent, conv, 'Found it: it ships today.');
  await waitFor(async () => Number(await redisCli('ZSCORE', 'pasokh:webchat:mail_due', conv)) > replyAt,
    'the next reply scheduled after the mail');
  agent.close();
});
