// "Leave your email and we will answer you there": agent replies a web chat
// customer has not read in time go to the email they left, as one mail through
// the email channel's relay (maildev), and the customer's answer to that mail
// continues the chat conversation. Two gateways share Redis: nothing twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pasokh, RedisServer, WsClient, agentSocket, defaultConfig, freePort, login, sleep } from '../support/harness.mjs';
import { MailDev, deliveryReport } from '../support/maildev.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'fallback-test-webchat-secret-0123456789' };
const tmp = mkdtempSync(path.join(tmpdir(), 'pasokh-fallback-'));
let redis, sink, gw, second, smtpPort, token;

before(async () => {
  redis = await new RedisServer().start();
  sink = await new MailDev().start();
  smtpPort = await freePort();
  const config = (port) => defaultConfig(redis, {
    routing: { reopen_window_s: 3600 },  // a customer writing after a resolve reopens
    channels: [
      { id: 'web', kind: 'webchat', team: 'support',
        provider: { email_fallback_channel: 'mail', email_fallback_after_s: 1 } },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], reply_domain: 'shop.example',
        from_address: 'support@shop.example', from_name: 'Shop support',
        smtp: { address: '127.0.0.1', port }, relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none' } } },
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
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

// A visitor who writes once (in `lang`); `email` given in the session, or later by `contact`.
async function visitor(text, { email, lang = 'en' } = {}) {
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', email }),
  })).json();
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token: session.token, lang });
  await c.next((f) => f.type === 'welcome');
  c.send({ type: 'message', client_id: 'm-1', text, lang });
  const ack = await c.next((f) => f.type === 'ack' && f.client_id === 'm-1');
  return { c, conv: ack.conv };
}

async function reply(agent, conv, text) {
  const clientId = `r-${Math.random().toString(36).slice(2)}`;
  agent.send({ type: 'reply', conv, client_id: clientId, text });
  return (await agent.next((f) => f.type === 'ack' && f.client_id === clientId)).seq;
}

const mailsTo = async (address) => (await sink.emails()).filter((m) => m.to?.some((t) => t.address === address));

test('replies left unread go to the customer\'s email as one mail, and the answer continues the chat', async () => {
  const agent = await agentSocket(gw, token);
  const web = await visitor('سلام، سفارشم کی می‌رسد؟', { lang: 'fa' });
  web.c.send({ type: 'contact', email: 'Maryam@Example.net' });
  await web.c.next((f) => f.type === 'contact_saved');
  await web.c.close();  // the customer closed the tab

  const first = await reply(agent, web.conv, 'سلام مریم خانم، سفارش شما فردا می‌رسد.');
  const secondReply = await reply(agent, web.conv, 'کد رهگیری: 12345');
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'maryam@example.net', 'the unread replies', 10000);
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
  const reader = await visitor('Is my repair done?', { email: 'reader@example.net' });
  const anonymous = await visitor('Hello, anyone?');
  await anonymous.c.close();

  const seq = await reply(agent, reader.conv, 'Yes, you can pick it up today.');
  await reply(agent, anonymous.conv, 'Hello! How can we help?');
  await reader.c.next((f) => f.type === 'event' && f.seq === seq);
  reader.c.send({ type: 'seen', conv: reader.conv, seq, read: true });

  await sleep(2500);  // past the delay and a few sweeps
  assert.equal((await mailsTo('reader@example.net')).length, 0, 'read in time: no mail');
  assert.equal((await sink.emails()).filter((m) => m.text?.includes('How can we help')).length, 0, 'no email: no mail');
  reader.c.close();
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

async function leftEmail(text, email) {
  const web = await visitor(text);
  web.c.send({ type: 'contact', email });
  await web.c.next((f) => f.type === 'contact_saved');
  await web.c.close();
  return web.conv;
}

test('the answer to the mail reopens a chat the agent resolved, also from an address another customer file holds', async () => {
  const agent = await agentSocket(gw, token);
  // Someone who mailed before (their own file) now chats and leaves that address.
  assert.equal((await swaks(['--from', 'returning@example.net', '--to', 'support@shop.example',
    '--header', 'Subject: an older question', '--body', 'old question'])).code, 0);
  await agent.next((f) => f.event === 'message' && f.message?.text?.includes('old question'), 10000);
  const conv = await leftEmail('Where is my order?', 'returning@example.net');
  await reply(agent, conv, 'It arrives tomorrow.');
  agent.send({ type: 'resolve', conv, client_id: 'resolve-1' });
  await agent.next((f) => f.type === 'ack' && f.client_id === 'resolve-1');
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'returning@example.net', 'the mail', 10000);

  assert.equal((await answerMail('returning@example.net', mail, 'Thanks, and the invoice?', 'answer-2')).code, 0);
  const answer = await agent.next((f) => f.event === 'message' && f.message?.text?.includes('invoice'), 10000);
  assert.equal(answer.conv, conv, 'the chat goes on, not a new mail conversation');
  await agent.next((f) => f.event === 'status' && f.conv === conv && f.status !== 'resolved', 5000);
  agent.close();
});

test('a bounce of the mail marks the reply not delivered', async () => {
  const agent = await agentSocket(gw, token);
  const conv = await leftEmail('Hello?', 'typo@example.net');
  const seq = await reply(agent, conv, 'Hi, your repair is done.');
  const mail = await sink.waitFor((m) => m.to?.[0]?.address === 'typo@example.net', 'the mail', 10000);
  const dsn = deliveryReport({ recipient: 'typo@example.net', returned: [`Message-ID: <${mail.messageId}>`] });
  const file = path.join(tmp, 'dsn.eml');
  writeFileSync(file, dsn);
  // The mail's own delivery lands first (its id is what the bounce names).
  await sleep(500);
  assert.equal((await swaks(['--from', '<>', '--to', 'support@shop.example', '--data', `@${file}`])).code, 0);
  const failed = await agent.next((f) => f.event === 'delivery' && f.conv === conv && f.message_seq === seq &&
    f.status === 'failed', 10000);
  assert.match(failed.reason, /5\.1\.1/);
  agent.close();
});
