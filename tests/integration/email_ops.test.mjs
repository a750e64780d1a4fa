// The email channel when things go wrong around it: a relay that refuses us
// (bad credentials, a quota) only delays replies; mail that is kept nowhere
// keeps no files; a mail as large as the listener takes also comes through
// the webhook; mail without headers or a usable From, a Message-ID someone
// else used, and list mail each still reach the right customer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisServer, Pasokh, defaultConfig, login, agentSocket, freePort, sleep, waitFor, repoRoot } from '../support/harness.mjs';
import { customerEvent, metricOf, redisCliAt, sendMail } from './email_support.mjs';

const SIGNING_KEY = 'key-mailgun-test-ops-0123456789';
let redis, gw, relay, smtpPort, botSmtpPort, token;
const tmp = mkdtempSync(path.join(tmpdir(), 'pasokh-email-ops-'));

// A relay whose answers the test sets: 'auth535' refuses our credentials,
// 'quota' refuses MAIL FROM as Gmail does at its daily limit, 'ok' takes the mail.
class FakeRelay {
  constructor() { this.mode = 'ok'; this.delivered = []; this.sessions = 0; }
  start() {
    this.server = net.createServer((s) => {
      this.sessions++;
      s.on('error', () => {});
      s.setEncoding('utf8');
      s.write('220 relay.test ESMTP\r\n');
      let buf = '', data = null;
      s.on('data', (chunk) => {
        buf += chunk;
        for (let nl; (nl = buf.indexOf('\r\n')) >= 0; buf = buf.slice(nl + 2)) {
          const line = buf.slice(0, nl);
          if (data !== null) {
            if (line === '.') { this.delivered.push(data); data = null; s.write('250 2.0.0 queued\r\n'); } else data += `${line}\n`;
            continue;
          }
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') s.write('250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n');
          else if (verb === 'AUTH') s.write(this.mode === 'auth535' ? '535 5.7.8 Username and Password not accepted\r\n' : '235 2.7.0 ok\r\n');
          else if (verb === 'MAIL') s.write(this.mode === 'quota' ? '550 5.4.5 Daily user sending limit exceeded\r\n' : '250 ok\r\n');
          else if (verb === 'DATA') { data = ''; s.write('354 go\r\n'); } else if (verb === 'QUIT') s.end('221 bye\r\n');
          else s.write('250 ok\r\n');
        }
      });
    });
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => { this.port = this.server.address().port; resolve(this); }));
  }
  stop() { return new Promise((r) => this.server.close(r)); }
}

function emailChannel(id, port, bot) {
  return {
    id, kind: 'email', team: 'support', bot,
    provider: {
      support_addresses: ['support@shop.example'], reply_domain: 'shop.example',
      from_address: 'support@shop.example', from_name: 'Shop support',
      smtp: { address: '127.0.0.1', port, hostname: 'mx.shop.example' },
      // Loopback: credentials go without TLS.
      relay: { host: '127.0.0.1', port: relay.port, tls: 'none', helo_name: 'mx.shop.example',
        username: 'support@shop.example', password_env: 'PASOKH_TEST_RELAY_PASSWORD' },
      webhook: { signing_key_env: 'PASOKH_TEST_MAILGUN_KEY', max_age_s: 300 },
    },
  };
}

before(async () => {
  redis = await new RedisServer().start();
  relay = await new FakeRelay().start();
  smtpPort = await freePort();
  botSmtpPort = await freePort();
  const config = defaultConfig(redis, {
    bot: { knowledge_base: path.join(repoRoot, 'bot', 'data', 'demo-kb.json'), watch_interval_ms: 0 },
    outbox: { retry_initial_ms: 200, retry_max_ms: 400 },
  });
  config.channels.push(emailChannel('mail', smtpPort, false), emailChannel('mailbot', botSmtpPort, true));
  gw = await new Pasokh(config, { PASOKH_TEST_RELAY_PASSWORD: 'relay-secret', PASOKH_TEST_MAILGUN_KEY: SIGNING_KEY }).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  token = (await login(gw, 'sara', 'sara-secret-1')).json.token;
});
after(async () => {
  await gw?.cleanup();
  await relay?.stop();
  await redis?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const swaks = (mail) => sendMail(tmp, { port: smtpPort, ...mail });

const redisCli = (...args) => redisCliAt(redis.port, ...args);

const metric = (name, labels) => metricOf(gw, name, labels);


test('a relay refusing our credentials or over its quota delays replies, told once at error level, and loses none', async () => {
  const ws = await agentSocket(gw, token);
  assert.equal((await swaks({ from: 'leila@example.net', subject: 'Order 12', body: 'Where is order 12?\r\n',
    headers: { 'Message-Id': '<relay-1@example.net>' } })).code, 0);
  const asked = await ws.next(customerEvent((f) => f.message.text.includes('order 12')), 10000);

  relay.mode = 'auth535';
  ws.send({ type: 'reply', conv: asked.conv, client_id: 'r-1', text: 'It leaves today.' });
  const ack = await ws.next((f) => f.type === 'ack' && f.client_id === 'r-1');
  const ofReply = (f) => f.event === 'delivery' && f.conv === asked.conv && f.message_seq === ack.seq;
  const first = await ws.next((f) => ofReply(f) && f.retrying, 10000);
  assert.equal(first.status, 'pending');
  assert.match(first.retrying.reason, /535 5\.7\.8/);
  await ws.next((f) => ofReply(f) && f.retrying?.attempt >= 3, 10000);

  relay.mode = 'quota';
  const quota = await ws.next((f) => ofReply(f) && /5\.4\.5/.test(f.retrying?.reason ?? ''), 10000);
  assert.equal(quota.status, 'pending');
  // Told at error level once for the whole spell, not once per try.
  const told = gw.output.split('\n').filter((l) => l.includes('refuses our mail'));
  assert.equal(told.length, 1, gw.output);
  assert.match(told[0], /error/i);
  assert.equal(gw.output.split('\n').filter((l) => /smtp client: .*(535|5\.4\.5)/.test(l)).length, 0, 'no line per try');
  assert.ok(await metric('pasokh_errors_total', 'kind="email_relay_refused"') >= 4);

  relay.mode = 'ok';
  const sent = await ws.next((f) => ofReply(f) && f.status === 'sent', 10000);
  assert.ok(sent.provider_message_id);
  assert.ok(relay.delivered.some((m) => m.includes('It leaves today.')));
  assert.equal(ws.frames.filter((f) => ofReply(f) && f.status === 'failed').length, 0);
  await ws.close();
});

test('automatic mail kept nowhere (noted) keeps none of its attachments', async () => {
  const ws = await agentSocket(gw, token);
  assert.equal((await swaks({ from: 'maryam@example.net', body: 'My receipt\r\n',
    headers: { 'Message-Id': '<cust-att-1@example.net>' } })).code, 0);
  await ws.next(customerEvent((f) => f.message.text.includes('My receipt')), 10000);
  const attachmentKeys = async () => (await redisCli('KEYS', 'pasokh:attachment:*')).split('\n').filter(Boolean);
  const before = await attachmentKeys();

  // A stranger's out-of-office answering Maryam's mail, with a file: in her
  // thread by its headers, but not from her, so only noted.
  const noted = await swaks({ from: 'stranger@elsewhere.example', body: 'Away until Monday\r\n',
    headers: { 'Message-Id': '<ooo-att-1@elsewhere.example>', 'Auto-Submitted': 'auto-replied',
      'In-Reply-To': '<cust-att-1@example.net>' },
    attach: { name: 'away.pdf', type: 'application/pdf', content: 'x'.repeat(200000) } });
  assert.equal(noted.code, 0, noted.out);
  assert.match(await redisCli('XREVRANGE', 'pasokh:email_automatic:mail', '+', '-', 'COUNT', '1'), /ooo-att-1/);
  assert.deepEqual((await attachmentKeys()).sort(), before.sort());
  await ws.close();
});

test('a signed webhook post of a 6 MB mail is taken (the listener takes 25 MB), not refused as too large', async () => {
  const ws = await agentSocket(gw, token);
  const timestamp = Math.floor(Date.now() / 1000);
  const tok = crypto.randomBytes(25).toString('hex');
  const form = new FormData();
  const fields = { recipient: 'support@shop.example', sender: 'omid@example.net', from: 'Omid <omid@example.net>',
    subject: 'Photos of the damage', 'body-plain': 'Six megabytes of photos attached.', 'Message-Id': '<big-1@example.net>',
    timestamp: String(timestamp), token: tok,
    signature: crypto.createHmac('sha256', SIGNING_KEY).update(`${timestamp}${tok}`).digest('hex') };
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('attachment-1', new Blob([crypto.randomBytes(6 << 20)], { type: 'image/jpeg' }), 'damage.jpg');
  const res = await fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST', body: form });
  assert.equal(res.status, 200, await res.text());
  const ev = await ws.next(customerEvent((f) => f.message.text.includes('Six megabytes')), 10000);
  assert.equal(ev.message.attachments[0].size, 6 << 20);
  // Other webhooks keep the 4 MB limit.
  const other = await fetch(`${gw.base}/webhooks/telegram/nope`, { method: 'POST', body: 'x'.repeat(5 << 20) });
  assert.equal(other.status, 413);
  await ws.close();
});

test('large mail posts are read four at a time per address: a fifth stalled one is told to come back (503), not held in memory', async () => {
  const stalled = () => {
    const s = net.connect(gw.port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => { answer += d; });
    s.on('error', () => {});
    s.write('POST /webhooks/email/mail HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      `Content-Length: ${20 << 20}\r\n\r\nrecipient=support%40shop.example`);
    return { answer: () => answer, end: () => s.destroy() };
  };
  const held = Array.from({ length: 4 }, stalled);
  try {
    await sleep(300);
    const fifth = stalled();
    await waitFor(() => fifth.answer().startsWith('HTTP/1.1 503'), 'the fifth refused', 3000);
    assert.match(fifth.answer(), /"busy"/);
    fifth.end();
  } finally {
    for (const h of held) h.end();
  }
});

test('text sent without headers keeps its text and its envelope sender: two senders are two customers', async () => {
  const ws = await agentSocket(gw, token);
  for (const who of ['hossein', 'kamran']) {
    const sent = await swaks({ from: `${who}@example.net`, raw: `My invoice number is 5512, I am ${who}\r\n` });
    assert.equal(sent.code, 0, sent.out);
  }
  const h = await ws.next(customerEvent((f) => f.message.text.includes('I am hossein')), 10000);
  const k = await ws.next(customerEvent((f) => f.message.text.includes('I am kamran')), 10000);
  assert.notEqual(h.conv, k.conv);
  assert.notEqual(h.conversation.customer_id, k.conversation.customer_id);
  assert.equal(await redisCli('EXISTS', 'pasokh:ident:mail:'), '0');
  assert.ok(await redisCli('GET', 'pasokh:ident:mail:hossein@example.net'));
  await ws.close();
});

test('a mail that names no sender at all is refused, never made everyone\'s customer', async () => {
  // A provider post without sender or from: no From, no envelope sender.
  const timestamp = Math.floor(Date.now() / 1000);
  const tok = crypto.randomBytes(25).toString('hex');
  const res = await fetch(`${gw.base}/webhooks/email/mail`, { method: 'POST', body: new URLSearchParams({
    recipient: 'support@shop.example', subject: 'Who am I', 'body-plain': 'Nobody sent this.', 'Message-Id': '<nobody-1@example.net>',
    timestamp: String(timestamp), token: tok,
    signature: crypto.createHmac('sha256', SIGNING_KEY).update(`${timestamp}${tok}`).digest('hex') }) });
  assert.equal(res.status, 406, await res.text());
  assert.equal(await redisCli('EXISTS', 'pasokh:ident:mail:'), '0');
  assert.ok(await metric('pasokh_errors_total', 'kind="email_no_sender"') >= 1);
});

test('one Message-ID from two senders (a form mailer) is two mails; a redelivery is one, also of a mail stored before the upgrade', async () => {
  const ws = await agentSocket(gw, token);
  const form = (visitor, id) => swaks({ from: 'no-reply@shop.example', subject: 'Contact form', body: `Message from ${visitor}\r\n`,
    headers: { 'Message-Id': `<${id}@shop.example>`, From: 'Website <no-reply@shop.example>', 'Reply-To': `${visitor}@example.net` } });
  assert.equal((await form('nima', 'form-1')).code, 0);
  assert.equal((await form('dana', 'form-1')).code, 0);
  const nima = await ws.next(customerEvent((f) => f.message.text.includes('from nima')), 10000);
  const dana = await ws.next(customerEvent((f) => f.message.text.includes('from dana')), 10000);
  assert.notEqual(nima.conv, dana.conv);

  const dedupHits = () => metric('pasokh_dedup_hits_total', 'channel="mail"');
  const hits = await dedupHits();
  assert.equal((await form('nima', 'form-1')).code, 0);  // the MTA's redelivery
  assert.equal(await dedupHits(), hits + 1);

  // Stored by the version before, keyed by the Message-ID alone.
  assert.equal((await form('nima', 'form-2')).code, 0);
  await ws.next(customerEvent((f) => f.message.text.includes('from nima') && f.conv === nima.conv && f.seq > nima.seq), 10000);
  const senderHash = crypto.createHash('sha256').update('nima@example.net').digest('hex').slice(0, 16);
  const key = `pasokh:dedup:mail:from:${senderHash}:form-2@shop.example`;
  assert.equal(await redisCli('RENAME', key, 'pasokh:dedup:mail:form-2@shop.example'), 'OK');
  assert.equal((await form('nima', 'form-2')).code, 0);
  assert.equal(await dedupHits(), hits + 2);
  // ... but not for someone else.
  assert.equal((await form('dana', 'form-2')).code, 0);
  await ws.next(customerEvent((f) => f.conv === dana.conv && f.seq > dana.seq), 10000);
  await sleep(300);
  assert.equal(ws.frames.filter(customerEvent((f) => f.conv === nima.conv)).length, 0);
  await ws.close();
});

test('mail through a list or Google Group is the person\'s message, kept whole, never answered by the bot', async () => {
  const ws = await agentSocket(gw, token);
  const sent = await swaks({ port: botSmtpPort, from: 'support+bncs@googlegroups.example', subject: 'Warranty',
    body: 'How many months of warranty do your products have?\r\n',
    headers: { From: 'Parisa <parisa@example.net>', 'List-Id': '<support.shop.example>', Precedence: 'list',
      'Message-Id': '<group-1@example.net>' } });
  assert.equal(sent.code, 0, sent.out);
  const ev = await ws.next(customerEvent((f) => f.message.text.includes('months of warranty')), 10000);
  assert.equal(ev.message.channel, 'mailbot');
  assert.equal(ev.message.automatic, true);
  assert.notEqual(ev.conversation.status, 'bot');
  assert.equal(await redisCli('GET', 'pasokh:ident:mailbot:parisa@example.net'), ev.conversation.customer_id);
  await sleep(1500);
  assert.equal(ws.frames.filter((f) => f.conv === ev.conv && f.message?.author === 'bot').length, 0);
  assert.equal(relay.delivered.filter((m) => m.includes('parisa@example.net')).length, 0);
  await ws.close();
});
