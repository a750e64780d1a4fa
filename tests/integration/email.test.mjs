// The email channel with real SMTP on both sides: swaks delivers mail to
// pasokh's listener, agents see it live, their replies go through the relay
// (a real SMTP sink, maildev) in the customer's thread, and the customer's
// answer threads back into the same conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  API_KEY, RedisServer, Pasokh, defaultConfig, login, agentSocket, freePort, sleep, repoRoot, pasokhBin, TEAMS_WITH_VIP,
  connectionReset, monitorCounts, overSlowLink, postsWhile, waitFor,
} from '../support/harness.mjs';
import { MailDev, deliveryReport } from '../support/maildev.mjs';
import { customerEvent, encodedWord, metricOf, redisCliAt, sendMail } from './email_support.mjs';

let redis, gw, sink, smtpPort, botSmtpPort, token;
const tmp = mkdtempSync(path.join(tmpdir(), 'pasokh-email-'));

// --- sending mail to pasokh with swaks ------------------------------------------

const swaks = (mail) => sendMail(tmp, { port: smtpPort, ...mail });

// --- setup ---------------------------------------------------------------------

function emailChannel(id, port, bot) {
  return {
    id, kind: 'email', team: 'support', bot,
    provider: {
      support_addresses: ['support@shop.example'], reply_domain: 'shop.example',
      from_address: 'support@shop.example', from_name: 'Shop support', trusted_authserv_id: 'mx.shop.example',
      smtp: { address: '127.0.0.1', port, hostname: 'mx.shop.example' },
      relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none', helo_name: 'mx.shop.example' },
    },
  };
}

before(async () => {
  redis = await new RedisServer().start();
  sink = await new MailDev().start();
  smtpPort = await freePort();
  botSmtpPort = await freePort();
  const config = defaultConfig(redis, {
    bot: { knowledge_base: path.join(repoRoot, 'bot', 'data', 'demo-kb.json'), watch_interval_ms: 0 },
    routing: { teams: TEAMS_WITH_VIP },
  });
  config.channels.push(emailChannel('mail', smtpPort, false), emailChannel('mailbot', botSmtpPort, true));
  gw = await new Pasokh(config).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  token = (await login(gw, 'sara', 'sara-secret-1')).json.token;
});
after(async () => {
  await gw?.cleanup();
  await sink?.stop();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const redisCli = (...args) => redisCliAt(redis.port, ...args);

const metric = (name, labels) => metricOf(gw, name, labels);


test('a Persian mail reaches the agent; the reply goes out in the thread; the answer threads back', async () => {
  const ws = await agentSocket(gw, token);
  const subject = 'گارانتی یخچال';
  const text = 'سلام، یخچال من خراب شده. هنوز گارانتی دارد؟';
  const sent = await swaks({ from: 'maryam@example.net', subject, body: `${text}\r\n`,
    headers: { 'Message-Id': '<cust-1@example.net>', From: `${encodedWord('مریم')} <maryam@example.net>` } });
  assert.equal(sent.code, 0, sent.out);
  assert.match(sent.out, /<-  250 2\.0\.0/);

  const first = await ws.next(customerEvent((f) => f.message.text.includes('یخچال')), 10000);
  assert.equal(first.message.text.trim(), text);
  assert.equal(first.message.channel, 'mail');
  assert.equal(first.conversation.customer_name, 'مریم');
  const conv = first.conv;

  // The agent answers; the outbox sends it through the relay and marks it sent.
  const reply = 'سلام مریم خانم، بله؛ یخچال شما تا پایان سال گارانتی دارد.';
  ws.send({ type: 'reply', conv, client_id: 'e-1', text: reply });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'e-1');
  const mark = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq, 15000);
  assert.equal(mark.status, 'sent');

  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'maryam@example.net' && m.text?.includes('گارانتی دارد'),
    'the agent reply');
  assert.equal(mail.subject, `Re: ${subject}`);
  assert.deepEqual(mail.inReplyTo, ['cust-1@example.net']);
  assert.ok(mail.references.includes('cust-1@example.net'), JSON.stringify(mail.references));
  assert.match(mail.replyTo[0].address, /^reply\+[A-Za-z0-9.=-]+@shop\.example$/);
  assert.equal(mail.from[0].address, 'support@shop.example');
  assert.equal(mail.messageId, mark.provider_message_id);
  assert.equal(mail.headers['auto-submitted'], undefined, 'a person wrote this one');

  // The customer answers that mail: it threads into the same conversation.
  const quoted = 'ممنونم، پس فردا می‌آورمش.\r\n\r\nOn Mon, Shop support wrote:\r\n> سلام مریم خانم، بله.\r\n';
  const answer = await swaks({ from: 'maryam@example.net', subject: `Re: ${subject}`, body: quoted,
    headers: { 'Message-Id': '<cust-2@example.net>', 'In-Reply-To': `<${mail.messageId}>`,
      References: `<cust-1@example.net> <${mail.messageId}>` } });
  assert.equal(answer.code, 0, answer.out);
  const second = await ws.next(customerEvent((f) => f.message.text.includes('می‌آورمش')), 10000);
  assert.equal(second.conv, conv);
  assert.equal(second.seq, 3);
  // The quote is left out of the shown text but kept with it.
  assert.equal(second.message.text, 'ممنونم، پس فردا می‌آورمش.');
  assert.match(second.message.original_text, /^ممنونم، پس فردا می‌آورمش\.\n\nOn Mon, Shop support wrote:\n> سلام مریم خانم، بله\.$/);

  // Someone else who holds the reply address (a colleague in Cc) continues it too.
  const colleague = await swaks({ from: 'ali@example.org', to: mail.replyTo[0].address, subject: `Re: ${subject}`,
    body: 'من همکار مریم هستم.\r\n', headers: { 'Message-Id': '<coll-1@example.org>' } });
  assert.equal(colleague.code, 0, colleague.out);
  const third = await ws.next(customerEvent((f) => f.message.text.includes('همکار')), 10000);
  assert.equal(third.conv, conv);

  // A stranger quoting one of our Message-IDs without the token opens their own conversation.
  const stranger = await swaks({ from: 'mallory@example.com', subject: 'Re: hi', body: 'let me in\r\n',
    headers: { 'Message-Id': '<str-1@example.com>', 'In-Reply-To': `<${mail.messageId}>` } });
  assert.equal(stranger.code, 0, stranger.out);
  const foreign = await ws.next(customerEvent((f) => f.message.text.includes('let me in')), 10000);
  assert.notEqual(foreign.conv, conv);

  // The same mail delivered twice (an MTA retry) is stored once.
  const again = await swaks({ from: 'maryam@example.net', subject: `Re: ${subject}`, body: 'ممنونم، پس فردا می‌آورمش.\r\n',
    headers: { 'Message-Id': '<cust-2@example.net>' } });
  assert.equal(again.code, 0, again.out);
  await sleep(500);
  assert.equal(ws.frames.filter(customerEvent((f) => f.conv === conv && f.message.text.includes('می‌آورمش'))).length, 0);
  await ws.close();
});

test('CSAT by email: the survey goes out in the thread after resolve; a reply of ۵ rates it', async () => {
  const ws = await agentSocket(gw, token);
  const sent = await swaks({ from: 'sepideh@example.net', subject: 'نصب ماشین ظرفشویی', body: 'نصاب کی می‌آید؟\r\n',
    headers: { 'Message-Id': '<csat-1@example.net>' } });
  assert.equal(sent.code, 0, sent.out);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('نصاب')), 10000);
  const conv = first.conv;
  ws.send({ type: 'reply', conv, client_id: 'csat-e1', text: 'فردا ساعت ۱۰ صبح می‌آید.' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'csat-e1');
  ws.send({ type: 'resolve', conv, client_id: 'csat-e2' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'csat-e2');

  // Email has no buttons: the survey asks for a number, in the customer's thread.
  const survey = await sink.waitFor((m) => m.to?.[0]?.address === 'sepideh@example.net' && !m.text?.includes('فردا ساعت'),
    'the survey');
  assert.match(survey.text, /[1-5۱-۵]/);
  assert.ok(survey.inReplyTo?.length > 0, 'threaded');
  const rate = await swaks({ from: 'sepideh@example.net', subject: `Re: ${survey.subject}`, body: '۵\r\n',
    headers: { 'Message-Id': '<csat-2@example.net>', 'In-Reply-To': `<${survey.messageId}>` } });
  assert.equal(rate.code, 0, rate.out);
  const rated = await ws.next((f) => f.type === 'event' && f.event === 'csat' && f.conv === conv, 10000);
  assert.equal(rated.rating, 5);
  await ws.close();
});

test('a new mail in no thread opens its own conversation unless it repeats the open one\'s subject; replies and CSAT keep to their own', async () => {
  const ws = await agentSocket(gw, token);
  const mailFrom = (body, subject, headers) => swaks({ from: 'kaveh@example.net', subject, body: `${body}\r\n`, headers });
  assert.equal((await mailFrom('washer leaks water', 'Washing machine leaks', { 'Message-Id': '<two-1@example.net>' })).code, 0);
  const a = await ws.next(customerEvent((f) => f.message.text.includes('washer leaks')), 10000);
  // The same case again, without pressing reply.
  assert.equal((await mailFrom('it leaks from the door', 'RE:  washing   machine LEAKS', { 'Message-Id': '<two-2@example.net>' })).code, 0);
  const again = await ws.next(customerEvent((f) => f.message.text.includes('from the door')), 10000);
  assert.equal(again.conv, a.conv);
  // Another matter: a conversation of its own, routed as usual, and the open one from now on.
  assert.equal((await mailFrom('I need the invoice', 'Invoice for order 88', { 'Message-Id': '<two-3@example.net>' })).code, 0);
  const b = await ws.next(customerEvent((f) => f.message.text.includes('the invoice')), 10000);
  assert.notEqual(b.conv, a.conv);
  assert.equal(b.conversation.status, 'queued');
  assert.equal(await redisCli('GET', `pasokh:cust:${b.conversation.customer_id}:open:mail`), b.conv);

  // A reply in the older one goes out in its thread, and the answer comes back there.
  ws.send({ type: 'reply', conv: a.conv, client_id: 'two-r1', text: 'Please send a photo of the door seal.' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'two-r1');
  const toA = await sink.waitFor((m) => m.to?.[0]?.address === 'kaveh@example.net' && m.text?.includes('door seal'), 'the reply in A');
  assert.deepEqual(toA.inReplyTo, ['two-2@example.net']);
  assert.equal((await mailFrom('photo attached', `Re: ${toA.subject}`,
    { 'Message-Id': '<two-4@example.net>', 'In-Reply-To': `<${toA.messageId}>` })).code, 0);
  assert.equal((await ws.next(customerEvent((f) => f.message.text.includes('photo attached')), 10000)).conv, a.conv);

  // Resolved, the older one asks for a rating; the answer rates it, not the open one.
  ws.send({ type: 'resolve', conv: a.conv, client_id: 'two-r2' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'two-r2');
  const survey = await sink.waitFor((m) => m.to?.[0]?.address === 'kaveh@example.net' && m.inReplyTo?.[0] === 'two-4@example.net',
    'the survey');
  assert.equal((await mailFrom('4', `Re: ${survey.subject}`,
    { 'Message-Id': '<two-5@example.net>', 'In-Reply-To': `<${survey.messageId}>` })).code, 0);
  const rated = await ws.next((f) => f.type === 'event' && f.event === 'csat' && f.conv === a.conv, 10000);
  assert.equal(rated.rating, 4);
  assert.equal(ws.frames.filter(customerEvent((f) => f.conv === b.conv && f.message.text === '4')).length, 0);
  await ws.close();
});

test('an open conversation whose subject was keyed in Arabic letters before the upgrade still takes the same subject in Persian letters', async () => {
  const ws = await agentSocket(gw, token);
  const mailFrom = (body, id) => swaks({ from: 'leila@example.net', subject: 'گارانتی کولر', body: `${body}\r\n`, headers: { 'Message-Id': `<${id}@example.net>` } });
  assert.equal((await mailFrom('cooler is noisy', 'fold-1')).code, 0);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('cooler is noisy')), 10000);
  // As an older version stored it: the key with Arabic yeh and kaf.
  assert.equal(await redisCli('HGET', `pasokh:conv:${first.conv}`, 'subject_key'), 'subject:گارانتی کولر');
  await redisCli('HSET', `pasokh:conv:${first.conv}`, 'subject_key', 'subject:گارانتي كولر');
  assert.equal((await mailFrom('and it leaks too', 'fold-2')).code, 0);
  const again = await ws.next(customerEvent((f) => f.message.text.includes('leaks too')), 10000);
  assert.equal(again.conv, first.conv);
  await ws.close();
});

test('contact form mail (From the site, the person in Reply-To) is one customer and conversation per person; replies go to each', async () => {
  const ws = await agentSocket(gw, token);
  const form = (name, address) => swaks({ from: 'noreply@shop-site.example', subject: 'New contact form message',
    body: `Name: ${name}\r\nMy order did not arrive\r\n`,
    headers: { 'Message-Id': `<cf-${name}@shop-site.example>`, From: 'Website <noreply@shop-site.example>',
      'Reply-To': `${name} <${address}>` } });
  assert.equal((await form('Sara', 'sara@a.example')).code, 0);
  const sara = await ws.next(customerEvent((f) => f.message.text.includes('Name: Sara')), 10000);
  assert.equal((await form('Omid', 'omid@b.example')).code, 0);
  const omid = await ws.next(customerEvent((f) => f.message.text.includes('Name: Omid')), 10000);
  assert.notEqual(omid.conv, sara.conv);
  assert.notEqual(omid.conversation.customer_id, sara.conversation.customer_id);
  assert.equal(sara.conversation.customer_name, 'Sara');
  assert.equal(omid.conversation.customer_name, 'Omid');

  for (const [who, conv] of [['Sara', sara.conv], ['Omid', omid.conv]]) {
    ws.send({ type: 'reply', conv, client_id: `cf-${who}`, text: `${who}, your order ships today.` });
    await ws.next((f) => f.type === 'ack' && f.client_id === `cf-${who}`);
  }
  const toSara = await sink.waitFor((m) => m.text?.includes('Sara, your order'), 'the reply to Sara');
  const toOmid = await sink.waitFor((m) => m.text?.includes('Omid, your order'), 'the reply to Omid');
  assert.deepEqual(toSara.to.map((a) => [a.name, a.address]), [['Sara', 'sara@a.example']]);
  assert.deepEqual(toOmid.to.map((a) => [a.name, a.address]), [['Omid', 'omid@b.example']]);

  // The same sender on the same subject, answered elsewhere (Reply-To names
  // others): its own conversation; the open one's replies still go to the sender.
  const kian = (id, headers) => swaks({ from: 'kian@example.net', subject: 'Order 5', body: `${id}\r\n`,
    headers: { 'Message-Id': `<${id}@example.net>`, ...headers } });
  assert.equal((await kian('kian-first')).code, 0);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('kian-first')), 10000);
  assert.equal((await kian('kian-other', { 'Reply-To': 'eve@example.org, bob@example.org' })).code, 0);
  const other = await ws.next(customerEvent((f) => f.message.text.includes('kian-other')), 10000);
  assert.equal(other.conversation.customer_id, first.conversation.customer_id);
  assert.notEqual(other.conv, first.conv);
  assert.equal(await redisCli('HGET', `pasokh:conv:${first.conv}`, 'recipient'), 'kian@example.net');
  await ws.close();
});

test('a colleague in Cc answering through the reply token is named on the message; the conversation stays the customer\'s and replies still go to them', async () => {
  const ws = await agentSocket(gw, token);
  assert.equal((await swaks({ from: 'maryam@cust.example', subject: 'Warranty card', body: 'Where is my warranty card?\r\n',
    headers: { 'Message-Id': '<gu-1@cust.example>', From: 'Maryam <maryam@cust.example>' } })).code, 0);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('my warranty card')), 10000);
  const { reply_token: replyToken } = JSON.parse(await redisCli('GET', `pasokh:conv:${first.conv}:email`));
  assert.equal((await swaks({ from: 'ali@cust.example', to: `reply+${replyToken}@shop.example`, subject: 'Re: Warranty card',
    body: 'I am her colleague; it was in the box.\r\n', headers: { 'Message-Id': '<gu-2@cust.example>',
      From: 'Ali Colleague <ali@cust.example>', Cc: 'maryam@cust.example', 'In-Reply-To': '<gu-1@cust.example>' } })).code, 0);
  const guest = await ws.next(customerEvent((f) => f.message.text.includes('her colleague')), 10000);
  assert.equal(guest.conv, first.conv);
  assert.equal(guest.conversation.customer_id, first.conversation.customer_id);
  assert.equal(guest.conversation.customer_name, 'Maryam');
  assert.equal(guest.message.author_name, 'Ali Colleague');
  assert.equal(guest.message.author_address, 'ali@cust.example');
  assert.equal(await redisCli('HGET', `pasokh:conv:${first.conv}`, 'recipient'), 'maryam@cust.example');
  // Ali has no customer file of his own (he is no customer), nor a link to Maryam's.
  assert.equal(await redisCli('EXISTS', 'pasokh:ident:mail:ali@cust.example'), '0');
  assert.doesNotMatch(await redisCli('HKEYS', `pasokh:cust:${first.conversation.customer_id}:identities`), /ali@/);

  ws.send({ type: 'reply', conv: first.conv, client_id: 'gu-r1', text: 'Thanks Ali; Maryam, a new card is on its way.' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'gu-r1');
  const mail = await sink.waitFor((m) => m.text?.includes('a new card is on its way'), 'the reply');
  assert.deepEqual(mail.to.map((a) => [a.name, a.address]), [['Maryam', 'maryam@cust.example']]);
  assert.deepEqual(mail.inReplyTo, ['gu-1@cust.example']);

  // Ali's STOP is not Maryam's: she stays subscribed.
  assert.equal((await swaks({ from: 'ali@cust.example', to: `reply+${replyToken}@shop.example`, subject: 'Re: Warranty card',
    body: 'STOP\r\n', headers: { 'Message-Id': '<gu-3@cust.example>', From: 'Ali Colleague <ali@cust.example>',
      'In-Reply-To': '<gu-1@cust.example>' } })).code, 0);
  await ws.next(customerEvent((f) => f.conv === first.conv && f.message.author_address === 'ali@cust.example' &&
    f.message.text.startsWith('STOP')), 10000);
  // (The opt-out step runs before the SMTP 250: swaks has returned.)
  assert.notEqual(await redisCli('HGET', `pasokh:cust:${first.conversation.customer_id}`, 'opt_out'), '1');
  await ws.close();
});

test('attachments are kept and served only to agents who may see their conversation', async () => {
  const ws = await agentSocket(gw, token);
  const sent = await swaks({ from: 'reza@example.net', subject: 'فاکتور', body: 'فاکتور خرید پیوست است.\r\n',
    headers: { 'Message-Id': '<att-1@example.net>' },
    attach: { name: 'invoice.txt', type: 'text/plain', content: 'invoice 1403-77: 12,500,000 IRR' } });
  assert.equal(sent.code, 0, sent.out);
  const ev = await ws.next(customerEvent((f) => f.message.text.includes('پیوست')), 10000);
  const att = ev.message.attachments?.find((a) => a.name === 'invoice.txt');
  assert.ok(att, JSON.stringify(ev.message));
  assert.ok(att.provider_ref);

  const url = `${gw.base}/api/v1/attachments/${att.provider_ref}`;
  assert.equal((await fetch(url)).status, 401);
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'invoice 1403-77: 12,500,000 IRR');
  assert.match(res.headers.get('content-disposition'), /attachment; filename="invoice.txt"/);
  assert.equal((await fetch(`${gw.base}/api/v1/attachments/att_nope`, { headers: { authorization: `Bearer ${token}` } })).status, 404);

  // Only for agents who may see its conversation: not another team's, an admin's always.
  await gw.createAgent('omid', 'omid-secret-1', { name: 'Omid', team: 'vip' });
  await gw.createAgent('chief', 'chief-secret-1', { name: 'Chief', role: 'admin', team: 'vip' });
  const as = async (login_, password) => fetch(url, { headers: { authorization: `Bearer ${(await login(gw, login_, password)).json.token}` } });
  const other = await as('omid', 'omid-secret-1');
  assert.equal(other.status, 403);
  assert.equal((await other.json()).error.code, 'forbidden');
  assert.equal(await (await as('chief', 'chief-secret-1')).text(), 'invoice 1403-77: 12,500,000 IRR');
  assert.equal(await redisCli('HGET', `pasokh:attachment:${att.provider_ref}`, 'conversation'), ev.conv);
  // Stored by an older version, without its conversation: open to agents as before (and it expires).
  await redisCli('HDEL', `pasokh:attachment:${att.provider_ref}`, 'conversation');
  assert.equal((await as('omid', 'omid-secret-1')).status, 200);
  await ws.close();
});

test('a mail stored but not filed (Redis failed after the ingest: 451) files its attachments when it comes again (unfiled, nobody opens them) and keeps no copy of its own', async () => {
  const ws = await agentSocket(gw, token);
  await gw.createAgent('nazanin', 'nazanin-secret-1', { name: 'Nazanin', team: 'vip' });
  const outsider = { authorization: `Bearer ${(await login(gw, 'nazanin', 'nazanin-secret-1')).json.token}` };
  const team = { authorization: `Bearer ${token}` };
  const mail = (messageId, headers, content) => swaks({ from: 'kaveh@example.net', subject: 'رسید', body: `رسید ${messageId} پیوست است.\r\n`,
    headers: { 'Message-Id': `<${messageId}@example.net>`, ...headers }, attach: { name: 'receipt.txt', type: 'text/plain', content } });
  const opened = async (id, headers) => (await fetch(`${gw.base}/api/v1/attachments/${id}`, { headers })).status;
  // What the first attempt left when filing failed: the mail stored, its attachment stored unfiled.
  const unfiled = async (ev) => {
    const id = ev.message.attachments[0].provider_ref;
    await redisCli('HSET', `pasokh:attachment:${id}`, 'conversation', '');
    assert.equal(await opened(id, team), 403, 'unfiled: not even its team');
    return id;
  };

  assert.equal((await mail('retry-1', {}, 'receipt 88-1402')).code, 0);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('retry-1')), 10000);
  const id = await unfiled(first);
  assert.equal((await mail('retry-1', {}, 'receipt 88-1402')).code, 0);  // the MTA's retry: a duplicate
  assert.equal(await redisCli('HGET', `pasokh:attachment:${id}`, 'conversation'), first.conv);
  assert.equal(await opened(id, outsider), 403);
  assert.equal(await opened(id, team), 200);

  // Kaveh's out-of-office with a file, in the same conversation: automatic mail the same.
  const ooo = { 'Auto-Submitted': 'auto-replied', 'In-Reply-To': '<retry-1@example.net>' };
  assert.equal((await mail('retry-2', ooo, 'away until Monday')).code, 0);
  const auto = await ws.next(customerEvent((f) => f.message.text.includes('retry-2')), 10000);
  assert.equal(auto.conv, first.conv);
  const autoId = await unfiled(auto);
  assert.equal((await mail('retry-2', ooo, 'away until Monday')).code, 0);
  assert.equal(await redisCli('HGET', `pasokh:attachment:${autoId}`, 'conversation'), first.conv);
  assert.equal(await opened(autoId, outsider), 403);
  assert.equal(await opened(autoId, team), 200);

  // The retries' own copies, which no message names, are not kept.
  const copies = [];
  for (const k of (await redisCli('KEYS', 'pasokh:attachment:*')).split('\n')) {
    if (await redisCli('HGET', k, 'name') === 'receipt.txt') copies.push(k.slice('pasokh:attachment:'.length));
  }
  assert.deepEqual(copies.sort(), [id, autoId].sort());
  await ws.close();
});

test('the bot answers a person (marked automatic) but never an auto-reply, which changes nothing; one in no thread opens nothing', async () => {
  const ws = await agentSocket(gw, token);
  // A person: the bot answers, and its mail says it is automatic.
  const person = await swaks({ port: botSmtpPort, from: 'hamed@example.net', subject: 'گارانتی',
    body: 'محصولاتتون چند ماه گارانتی دارن؟\r\n', headers: { 'Message-Id': '<bot-1@example.net>' } });
  assert.equal(person.code, 0, person.out);
  const asked = await ws.next(customerEvent((f) => f.message.channel === 'mailbot' && f.message.text.includes('چند ماه')), 10000);
  const botMsg = await ws.next((f) => f.event === 'message' && f.conv === asked.conv && f.message.author === 'bot', 10000);
  const botMail = await sink.waitFor((m) => m.to?.[0]?.address === 'hamed@example.net', 'the bot answer');
  assert.equal(botMail.headers['auto-submitted'], 'auto-replied');
  assert.ok(botMsg.message.text.length > 0);

  // Hamed's out-of-office answers the bot: kept in his conversation, never answered.
  const ooo = await swaks({ port: botSmtpPort, from: 'hamed@example.net', subject: 'خارج از دفتر',
    body: 'تا دوشنبه در مرخصی هستم.\r\n', headers: { 'Message-Id': '<ooo-1@example.net>', 'Auto-Submitted': 'auto-replied',
      'In-Reply-To': `<${botMail.messageId}>` } });
  assert.equal(ooo.code, 0, ooo.out);
  const stored = await ws.next(customerEvent((f) => f.message.text.includes('مرخصی')), 10000);
  assert.equal(stored.conv, asked.conv);
  assert.equal(stored.message.automatic, true);
  assert.equal(stored.conversation.status, asked.conversation.status);

  // An out-of-office to a new address, in no thread: no customer, no
  // conversation (it would wait for the bot forever), but noted and counted.
  const before = await metric('pasokh_email_automatic_total', 'channel="mailbot",outcome="unthreaded"');
  const stranger = await swaks({ port: botSmtpPort, from: 'neda@example.net', subject: 'خارج از دفتر',
    body: 'تا شنبه در سفر هستم.\r\n', headers: { 'Message-Id': '<ooo-2@example.net>', 'Auto-Submitted': 'auto-replied' } });
  assert.equal(stranger.code, 0, stranger.out);
  assert.equal(await redisCli('GET', 'pasokh:ident:mailbot:neda@example.net'), '');
  const noted = await redisCli('XREVRANGE', 'pasokh:email_automatic:mailbot', '+', '-', 'COUNT', '1');
  assert.match(noted, /neda@example\.net/);
  assert.match(noted, /ooo-2@example\.net/);
  assert.match(noted, /Auto-Submitted: auto-replied/);
  assert.equal(await metric('pasokh_email_automatic_total', 'channel="mailbot",outcome="unthreaded"'), before + 1);

  await sleep(1000);
  assert.equal(ws.frames.filter((f) => f.conv === asked.conv && f.message?.author === 'bot').length, 0);
  assert.equal(ws.frames.filter(customerEvent((f) => f.message.text.includes('در سفر'))).length, 0);
  assert.equal((await sink.emails()).filter((m) => m.to?.[0]?.address === 'neda@example.net').length, 0);
  await ws.close();
});

test('a bounce of a reply marks it failed with the reason, a note on the reply and no message; the conversation stays resolved', async () => {
  const ws = await agentSocket(gw, token);
  const sent = await swaks({ from: 'typo@example.net', subject: 'سفارش ۱۲۳', body: 'سفارشم کی می‌رسد؟\r\n',
    headers: { 'Message-Id': '<bnc-1@example.net>' } });
  assert.equal(sent.code, 0, sent.out);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('سفارشم')), 10000);
  const conv = first.conv;
  // An earlier reply that arrived: the bounce's References name it too.
  ws.send({ type: 'reply', conv, client_id: 'bnc-0', text: 'سلام، بررسی می‌کنیم.' });
  const earlier = await ws.next((f) => f.type === 'ack' && f.client_id === 'bnc-0');
  const earlierMark = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === earlier.seq, 15000);
  ws.send({ type: 'reply', conv, client_id: 'bnc-1', text: 'فردا به دستتان می‌رسد.' });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'bnc-1');
  const mark = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq, 15000);
  assert.equal(mark.status, 'sent');
  ws.send({ type: 'resolve', conv, client_id: 'bnc-2' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'bnc-2');

  const dsn = deliveryReport({
    recipient: 'typo@example.net', id: 'bounce-77@mx.example.net',
    headers: [`References: <${earlierMark.provider_message_id}> <${mark.provider_message_id}>`],
    returned: [`Message-ID: <${mark.provider_message_id}>`],
  });
  const bounce = await swaks({ from: '<>', raw: dsn });
  assert.equal(bounce.code, 0, bounce.out);
  const failed = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq &&
    f.status === 'failed', 10000);
  assert.equal(failed.reason, 'bounced: 550 5.1.1 user unknown');
  assert.equal(JSON.parse(await redisCli('HGET', `pasokh:conv:${conv}:delivery`, String(earlier.seq))).status, 'sent',
    'the earlier reply in the chain arrived');
  // The report's text is whoever wrote it: not shown as a message.
  await sleep(500);
  assert.equal(ws.frames.filter((f) => f.event === 'message' && f.conv === conv && f.message?.automatic).length, 0);
  assert.doesNotMatch(await redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+'), /could not be delivered/);
  assert.equal(await redisCli('HGET', `pasokh:conv:${conv}`, 'status'), 'resolved');
  assert.equal(await redisCli('GET', 'pasokh:ident:mail:mailer-daemon@mx.example.net'), '');
  await ws.close();
});

test('a bounce after the 30-day lookup keys expired, naming our mail in Exchange\'s form, still marks the reply failed', async () => {
  const ws = await agentSocket(gw, token);
  const sent = await swaks({ from: 'gone@contoso.example', subject: 'گارانتی', body: 'گارانتی دستگاه چقدر است؟\r\n',
    headers: { 'Message-Id': '<bnc-30@contoso.example>' } });
  assert.equal(sent.code, 0, sent.out);
  const conv = (await ws.next(customerEvent((f) => f.message.text.includes('گارانتی')), 10000)).conv;
  ws.send({ type: 'reply', conv, client_id: 'bnc-30', text: 'دو سال گارانتی دارد.' });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'bnc-30');
  const mark = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq, 15000);
  const ourId = mark.provider_message_id;
  // 30 days on: what maps our Message-ID back to the reply and its conversation is gone.
  await redisCli('DEL', `pasokh:provider_msg:mail:${ourId}`, `pasokh:email_msgid:mail:${ourId}`);

  const [local, domain] = ourId.split('@');
  // Exchange's form: the returned headers as message/rfc822-headers, our
  // Message-ID folded onto a second line with its domain in capitals.
  const ndr = deliveryReport({
    recipient: 'gone@contoso.example', from: 'Microsoft Outlook <postmaster@contoso.example>',
    subject: 'Undeliverable: Re: گارانتی', id: 'ndr-30@contoso.example',
    note: 'Delivery has failed to these recipients or groups.', mta: 'dns;AM0PR10MB1234.PROD.OUTLOOK.COM',
    status: '5.1.10', diagnostic: 'smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound',
    returnedType: 'message/rfc822-headers', returned: ['Message-ID:', ` <${local}@${domain.toUpperCase()}>`],
  });
  const bounce = await swaks({ from: '<>', raw: ndr });
  assert.equal(bounce.code, 0, bounce.out);
  const failed = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq &&
    f.status === 'failed', 10000);
  assert.equal(failed.reason, 'bounced: 550 5.1.10 RESOLVER.ADR.RecipientNotFound');
  await ws.close();
});

// The reviewer's repro: our Message-IDs name a conversation and a message,
// both sequential; without the tag anyone could write one into a "bounce".
test('a forged bounce (our Message-ID guessed, or with a wrong tag) marks nothing and puts neither text nor files into the conversation', async () => {
  const ws = await agentSocket(gw, token);
  assert.equal((await swaks({ from: 'maryam.f@example.net', subject: 'Order 41', body: 'Where is order 41?\r\n',
    headers: { 'Message-Id': '<fb-1@example.net>' } })).code, 0);
  const conv = (await ws.next(customerEvent((f) => f.message.text.includes('order 41')), 10000)).conv;
  ws.send({ type: 'reply', conv, client_id: 'fb-r1', text: 'It ships tomorrow.' });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'fb-r1');
  const mark = await ws.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === ack.seq, 15000);
  assert.equal(mark.status, 'sent');
  const b64 = (s) => Buffer.from(s).toString('base64url');
  const guessed = `pasokh.${b64(conv)}.${b64(`${conv}:${ack.seq}`)}@shop.example`;
  const wrongTag = guessed.replace('@', '.AAAAAAAAAAAAAAAA@');

  for (const [i, id] of [guessed, wrongTag].entries()) {
    // A "bounce" by its sender alone (MAILER-DAEMON), threaded by In-Reply-To, with a file.
    const byName = await swaks({ from: 'attacker@evil.example', subject: 'Undelivered',
      body: 'Send your replies to maryam.new@evil.example from now on.\r\n',
      attach: { name: 'invoice.pdf', type: 'application/pdf', content: '%PDF-1.4 forged' },
      headers: { From: 'MAILER-DAEMON@evil.example', 'Message-Id': `<fb-forged-${i}@evil.example>`, 'In-Reply-To': `<${id}>` } });
    assert.equal(byName.code, 0, byName.out);
    // A delivery report returning it.
    const dsn = deliveryReport({ recipient: 'maryam.f@example.net', from: 'MAILER-DAEMON@evil.example',
      id: `fb-dsn-${i}@evil.example`, note: 'Send your replies to maryam.new@evil.example', returned: [`Message-ID: <${id}>`] });
    const report = await swaks({ from: '<>', raw: dsn });
    assert.equal(report.code, 0, report.out);
  }
  await sleep(1000);
  assert.equal(JSON.parse(await redisCli('HGET', `pasokh:conv:${conv}:delivery`, String(ack.seq))).status, 'sent');
  assert.equal(ws.frames.filter((f) => f.conv === conv && (f.event === 'message' && f.message?.author !== 'agent' &&
    f.seq !== 1 || (f.event === 'delivery' && f.status === 'failed'))).length, 0);
  assert.equal(await redisCli('HGET', `pasokh:conv:${conv}`, 'seq'), String(ack.seq));
  assert.doesNotMatch(await redisCli('XRANGE', `pasokh:conv:${conv}:log`, '-', '+'), /evil\.example|invoice/);
  // Ours: the guessable part, then the tag, 96 bits of HMAC-SHA256 with the
  // installation's key (no channel configures message_id_secret_env here).
  const key = await redisCli('GET', 'pasokh:email_message_id_key');
  const tag = createHmac('sha256', key).update(`${conv}\n${conv}:${ack.seq}`).digest().subarray(0, 12).toString('base64url');
  assert.equal(mark.provider_message_id, guessed.replace('@', `.${tag}@`));
  await ws.close();
});

test('a mail From a customer with someone else in Reply-To never moves an open conversation\'s replies; a new conversation shows where its replies go', async () => {
  const ws = await agentSocket(gw, token);
  assert.equal((await swaks({ from: 'maryam.s@example.net', subject: 'Broken kettle', body: 'My kettle broke.\r\n',
    headers: { 'Message-Id': '<sp-1@example.net>', From: 'Maryam <maryam.s@example.net>' } })).code, 0);
  const first = await ws.next(customerEvent((f) => f.message.text.includes('kettle broke')), 10000);
  const conv = first.conv;
  assert.equal(first.conversation.replies_elsewhere, undefined);
  ws.send({ type: 'reply', conv, client_id: 'sp-r1', text: 'Sorry to hear; which model?' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'sp-r1');
  const ours = await sink.waitFor((m) => m.text?.includes('which model?'), 'the first reply');

  // Anyone can write Maryam's From; threading by In-Reply-To keeps the message
  // in her conversation, but her replies still go to her.
  assert.equal((await swaks({ from: 'maryam.s@example.net', subject: 'Re: Broken kettle', body: 'Model K2. Reply to my new address.\r\n',
    headers: { 'Message-Id': '<sp-2@evil.example>', From: 'Maryam <maryam.s@example.net>', 'Reply-To': 'thief@evil.example',
      'In-Reply-To': `<${ours.messageId}>` } })).code, 0);
  const spoofed = await ws.next(customerEvent((f) => f.message.text.includes('Model K2')), 10000);
  assert.equal(spoofed.conv, conv);
  assert.equal(spoofed.conversation.replies_elsewhere, undefined);
  assert.equal(await redisCli('HGET', `pasokh:conv:${conv}`, 'recipient'), 'maryam.s@example.net');
  ws.send({ type: 'reply', conv, client_id: 'sp-r2', text: 'A new K2 is on its way.' });
  await ws.next((f) => f.type === 'ack' && f.client_id === 'sp-r2');
  const next = await sink.waitFor((m) => m.text?.includes('new K2 is on its way'), 'the second reply');
  assert.deepEqual(next.to.map((a) => a.address), ['maryam.s@example.net']);

  // A new matter with another Reply-To: its replies go there, and the agent sees it.
  assert.equal((await swaks({ from: 'maryam.s@example.net', subject: 'Refund please', body: 'Refund me at the other address.\r\n',
    headers: { 'Message-Id': '<sp-3@evil.example>', From: 'Maryam <maryam.s@example.net>', 'Reply-To': 'thief@evil.example' } })).code, 0);
  const other = await ws.next(customerEvent((f) => f.message.text.includes('Refund me')), 10000);
  assert.notEqual(other.conv, conv);
  assert.equal(other.conversation.replies_elsewhere, 'thief@evil.example');
  const inbox = await (await fetch(`${gw.base}/api/v1/conversations?view=all&limit=500`,
    { headers: { authorization: `Bearer ${token}` } })).json();
  const listed = inbox.conversations.find((c) => c.id === other.conv);
  assert.equal(listed.replies_elsewhere, 'thief@evil.example');
  assert.equal(inbox.conversations.find((c) => c.id === conv).replies_elsewhere, undefined);

  // Through the conversation's secret reply token she may move them (to her office).
  const { reply_token: replyToken } = JSON.parse(await redisCli('GET', `pasokh:conv:${conv}:email`));
  assert.equal((await swaks({ from: 'maryam.s@example.net', to: `reply+${replyToken}@shop.example`, subject: 'Re: Broken kettle',
    body: 'Please write to my office from now on.\r\n', headers: { 'Message-Id': '<sp-4@example.net>',
      From: 'Maryam <maryam.s@example.net>', 'Reply-To': 'maryam@office.example' } })).code, 0);
  const moved = await ws.next(customerEvent((f) => f.message.text.includes('my office')), 10000);
  assert.equal(moved.conv, conv);
  assert.equal(moved.conversation.replies_elsewhere, 'maryam@office.example');
  assert.equal(await redisCli('HGET', `pasokh:conv:${conv}`, 'recipient'), 'maryam@office.example');
  await ws.close();
});

test('mail From our own address (a copy of our reply forwarded back with a new Message-ID) is never a customer', async () => {
  const ws = await agentSocket(gw, token);
  const before = await metric('pasokh_errors_total', 'kind="email_echo"');
  assert.equal((await swaks({ from: 'support@shop.example', subject: 'Fwd: Re: Broken kettle', body: 'A copy of our reply.\r\n',
    headers: { 'Message-Id': '<own-1@relay.example>', From: 'Shop support <support@shop.example>' } })).code, 0);
  // Our reply as sent carries Reply-To: reply+<token>@: that is ours too.
  assert.equal((await swaks({ from: 'support@shop.example', subject: 'Re: Broken kettle', body: 'Another copy.\r\n',
    headers: { 'Message-Id': '<own-2@relay.example>', From: 'Shop support <support@shop.example>',
      'Reply-To': 'reply+0123456789abcdef0123456789abcdef@shop.example' } })).code, 0);
  await sleep(500);
  assert.equal(await metric('pasokh_errors_total', 'kind="email_echo"'), before + 2);
  assert.equal(ws.frames.filter(customerEvent((f) => /copy of our reply|Another copy/.test(f.message.text))).length, 0);
  assert.equal(await redisCli('EXISTS', 'pasokh:ident:mail:support@shop.example'), '0');
  assert.equal(await redisCli('EXISTS', 'pasokh:ident:mail:reply+0123456789abcdef0123456789abcdef@shop.example'), '0');
  await ws.close();
});

test('with our MTA trusted (trusted_authserv_id), a mail whose DMARC failed there is marked for the agent; a pass, or a verdict of anyone else, is not', async () => {
  const ws = await agentSocket(gw, token);
  const mail = (id, results) => swaks({ from: 'maryam.d@example.net', raw: [
    ...results.map((r) => `Authentication-Results: ${r}`), 'From: Maryam <maryam.d@example.net>', 'To: support@shop.example',
    `Subject: Order ${id}`, `Message-ID: <dm-${id}@example.net>`, 'Content-Type: text/plain; charset=utf-8', '', `dmarc case ${id}`, ''].join('\r\n') });
  const cases = [
    ['failed', ['MX.Shop.Example;\r\n\tspf=pass smtp.mailfrom=evil.example;\r\n\tdmarc=fail (p=none dis=none) header.from=example.net'], true],
    // Ours is the topmost; one below it came with the mail.
    ['passed', ['mx.shop.example 1; dkim=pass header.d=example.net; dmarc=pass header.from=example.net', 'mx.shop.example; dmarc=fail'], undefined],
    ['foreign', ['relay.evil.example; dmarc=fail header.from=example.net'], undefined],
    ['none', [], undefined],
  ];
  for (const [id, results, flagged] of cases) {
    const sent = await mail(id, results);
    assert.equal(sent.code, 0, sent.out);
    const got = await ws.next(customerEvent((f) => f.message.text === `dmarc case ${id}`), 10000);
    assert.equal(got.message.sender_unverified, flagged, id);
  }
  await ws.close();
});

test('a bad email provider setting stops pasokh at start with the key named', async () => {
  const config = defaultConfig(redis);
  const channel = emailChannel('mail', smtpPort, false);
  channel.provider.relay.tls = 'sometimes';
  config.channels.push(channel);
  const file = path.join(tmp, 'bad.json');
  writeFileSync(file, JSON.stringify(config));
  const r = await new Promise((resolve) => execFile(pasokhBin, ['--config', file, '--check-config'],
    { env: { ...process.env, PASOKH_TEST_API_KEY: API_KEY } }, (err, stdout, stderr) => resolve({ code: err?.code ?? 0, stderr })));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /channels\[1\]: provider: .*tls/);
});

test('mail is refused with 451 while Redis is down, so the sending MTA retries', async () => {
  await redis.stop();
  try {
    const r = await swaks({ from: 'late@example.net', subject: 'retry me', body: 'are you there?\r\n',
      headers: { 'Message-Id': '<late-1@example.net>' } });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /<\*\* 451/);
  } finally {
    await redis.start();
  }
  // Once Redis is back the retry is accepted.
  const deadline = Date.now() + 15000;
  for (;;) {
    const r = await swaks({ from: 'late@example.net', subject: 'retry me', body: 'are you there?\r\n',
      headers: { 'Message-Id': '<late-1@example.net>' } });
    if (r.code === 0) break;
    if (Date.now() > deadline) assert.fail(`still refused after Redis came back:\n${r.out}`);
    await sleep(300);
  }
});

test('a mail with a 9 MB file over a slow link to Redis holds no other traffic: the file is stored a chunk a command before the 250, API posts meanwhile answer 201, and the agent opens it whole', async (t) => {
  const port = await freePort();
  const config = (own) => {
    const c = defaultConfig(own, { routing: { teams: TEAMS_WITH_VIP } });
    c.channels.push(emailChannel('slowmail', port, false));
    return c;
  };
  // 9 MB take 2.3 s at 4 MB/s, past command_timeout_ms (1 s).
  await overSlowLink({ bytesPerSecond: 4 << 20, config }, async ({ redis: own, link, gw: g }) => {
    const video = Buffer.alloc(9 << 20, 0x41);
    video.write('the start of a 9 MB recording', 0);
    const writes = await monitorCounts(own, /"APPEND" "pasokh:attachment_part:([^"]+)"/);
    let answered = null, posted;
    try {
      const started = Date.now();
      const sending = sendMail(tmp, { port, from: 'parisa@example.net', subject: 'ضبط تماس', body: 'فایل ضبط پیوست است.\r\n',
        headers: { 'Message-Id': '<big-file-1@example.net>' }, attach: { name: 'call.bin', type: 'application/octet-stream', content: video }, summarized: true })
        .then((r) => { answered = { ...r, ms: Date.now() - started }; });
      await waitFor(() => answered || link.busiest() > 2 << 20, 'the file being written', 20000);
      posted = await postsWhile(g, () => answered === null, 'during-mail');
      await sending;
      await writes.stop();
    } finally { writes.kill(); }
    const { posts, slowest, summary } = posted;
    t.diagnostic(`mail answered ${answered.code === 0 ? '250' : 'refused'} in ${answered.ms} ms; meanwhile ${summary}`);
    assert.equal(answered.code, 0, answered.out);
    assert.ok(posts.length >= 5, `posts made while the file was written (${posts.length})`);
    assert.deepEqual(posts.filter((p) => p.status !== 201), [], 'every post stored');
    // A post held behind the file would wait most of its write.
    assert.ok(slowest < answered.ms / 3, `no post waited behind the file (slowest ${slowest} ms of ${answered.ms} ms)`);
    assert.doesNotMatch(g.output, connectionReset, 'no connection reset');
    assert.equal(await metricOf(g, 'pasokh_redis_reconnects_total', 'connection="commands"'), 0);

    const keys = (await redisCliAt(own.port, '--scan', '--pattern', 'pasokh:attachment*')).split('\n').filter(Boolean).sort();
    const id = keys[0].slice('pasokh:attachment:'.length);
    assert.deepEqual(keys, [`pasokh:attachment:${id}`, `pasokh:attachment:${id}:content`], 'its hash and its bytes; nothing staged left');
    assert.ok(writes.counts.get(id) >= Math.ceil(video.length / (1 << 20)),
      `written a chunk a command: ${writes.counts.get(id)} APPENDs of ${id} (${JSON.stringify([...writes.counts])})`);
    await g.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
    const agentToken = (await login(g, 'sara', 'sara-secret-1')).json.token;
    const res = await fetch(`${g.base}/api/v1/attachments/${id}`, { headers: { authorization: `Bearer ${agentToken}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition'), /attachment; filename="call.bin"/);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(video), 'the whole file');
  });
});
