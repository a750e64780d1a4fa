// Campaigns (issue 8, proactive outreach) against real Redis, two pasokh
// instances and the fake provider: a greeting with an offer code to a few
// hundred customers on Telegram, WhatsApp (inside and outside the 24-hour
// window) and the API channel. Each eligible customer is messaged exactly
// once (the campaign's leader is stopped half way and the other instance
// carries on), opted-out ones never, nothing goes out in quiet hours, and the
// progress counts (REST and the live admin event) match what the provider saw.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Pasokh, RedisServer, apiCall, clearOfMidnightUTC, freePort, login, postMessage, sleep } from '../support/harness.mjs';
import {
  FakeProvider, SECRETS, agentFor, messengerConfig, metric, newChatId, newPhone, postWebhook, postWhatsApp, redisCli,
  telegramHeaders, tgText, waStatuses, waText, waitUntil,
} from './messenger_support.mjs';
import { sendMail } from './email_support.mjs';

const CODE = 'YALDA-1404';
let redis, fake, relay, gwA, gwB, boss;
const people = { tg: [], tgOut: [], wa: [], waOut: [], waOld: [], api: [], apiOut: [], linked: [], imported: [], mail: [],
  importedApi: [], pageThenMail: null, c2In: [], c2Old: [] };

// The mail relay: a minimal SMTP server that takes every mail and keeps its envelope and data.
class SmtpSink {
  constructor() { this.mails = []; }
  async start() {
    this.server = net.createServer((sock) => {
      let buf = '', data = null, rcpt = [];
      sock.write('220 sink ESMTP\r\n');
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        for (;;) {
          if (data !== null) {
            const end = buf.indexOf('\r\n.\r\n');
            if (end < 0) return;
            this.mails.push({ rcpt, data: buf.slice(0, end) });
            buf = buf.slice(end + 5);
            data = null;
            rcpt = [];
            sock.write('250 2.0.0 queued\r\n');
            continue;
          }
          const nl = buf.indexOf('\r\n');
          if (nl < 0) return;
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 2);
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO' || verb === 'HELO') sock.write('250-sink\r\n250 8BITMIME\r\n');
          else if (verb === 'RCPT') { rcpt.push(line.match(/<([^>]*)>/)?.[1]); sock.write('250 ok\r\n'); }
          else if (verb === 'DATA') { data = ''; sock.write('354 go on\r\n'); }
          else if (verb === 'QUIT') { sock.end('221 bye\r\n'); return; }
          else sock.write('250 ok\r\n');
        }
      });
      sock.on('error', () => {});
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    return this;
  }
  stop() { this.server?.close(); }
}

const config = (smtpPort) => {
  const c = messengerConfig(redis, fake, {
    campaigns: { timezone: 'UTC', quiet_hours: null, tick_ms: 50, lease_ms: 1000, rate_per_second: 200 },
    public_url: 'https://support.shop.example/',
  });
  c.channels.push({ id: 'mail', kind: 'email', team: 'support', provider: {
    support_addresses: ['support@shop.example'], reply_domain: 'shop.example', from_address: 'support@shop.example',
    from_name: 'Shop', smtp: { address: '127.0.0.1', port: smtpPort, hostname: 'mx.shop.example' },
    relay: { host: '127.0.0.1', port: relay.port, tls: 'none', helo_name: 'mx.shop.example' } } });
  return c;
};

// The greeting test stops one instance half way: the other one.
const running = () => (gwA.proc.exitCode === null ? gwA : gwB);

// A CSV body is the customer import; anything else is JSON.
const call = (gw, method, path, body, token = boss) =>
  apiCall(gw, method, path, { token, body, contentType: typeof body === 'string' ? 'text/csv' : 'application/json' });

// The messages of campaign `id` in the customer's conversations, as log events.
const campaignMessages = (cust, id) => redisCli(redis, 'LRANGE', `pasokh:cust:${cust}:conversations`, '0', '-1').split('\n')
  .flatMap((conv) => redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n'))
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  .filter((f) => f.event === 'message' && f.message.campaign === id);

// A recurring campaign once every file was looked at (the pass is over), then
// cancelled: what went out in that pass.
async function afterOnePass(gw, id) {
  const looked = await waitUntil(async () => {
    const c = (await call(gw, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
    return c.pass >= 1 && c;
  }, 'a pass over the files', 5000);
  await call(gw, 'POST', `/api/v1/admin/campaigns/${id}/cancel`);
  return looked;
}

const customerOf = (channel, ext) => redisCli(redis, 'GET', `pasokh:ident:${channel}:${ext}`);
const inBatches = async (items, n, fn) => { for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn)); };
const tg = (gw, chat, text) => postWebhook(gw, '/webhooks/telegram/tg', tgText(chat, text), telegramHeaders());
async function api(gw, id, text) {
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id, name: `API ${id}` }, text, language: 'en' });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

before(async () => {
  await clearOfMidnightUTC(180_000);  // its campaigns are for today (UTC)
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  relay = await new SmtpSink().start();
  gwA = await new Pasokh(config(await freePort()), SECRETS).start();
  gwB = await new Pasokh(config(await freePort()), SECRETS).start();
  await gwA.createAgent('boss', 'boss-secret-1', { name: 'Boss', role: 'admin' });
  await gwA.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  boss = (await login(gwA, 'boss', 'boss-secret-1')).json.token;

  // Who writes where. Opt-outs write "stop" / "لغو" / "إلغاء" after their first message.
  for (let i = 0; i < 100; i++) (i < 10 ? people.tgOut : people.tg).push(newChatId());
  for (let i = 0; i < 80; i++) (i < 8 ? people.waOut : people.wa).push(newPhone());
  for (let i = 0; i < 40; i++) people.waOld.push(newPhone());
  for (let i = 0; i < 60; i++) (i < 6 ? people.apiOut : people.api).push(`crm-${randomUUID().slice(0, 8)}`);
  await inBatches([...people.tg, ...people.tgOut], 20, (c) => tg(gwA, c, 'سلام، گوشی خریدم'));
  await inBatches([...people.wa, ...people.waOut, ...people.waOld], 20, (p) => postWhatsApp(gwB, waText(p, 'مرحبا')));
  await inBatches([...people.api, ...people.apiOut], 20, (id) => api(gwA, id, 'hello'));
  await inBatches(people.tgOut, 10, (c) => tg(gwA, c, 'stop'));
  await inBatches(people.waOut, 10, (p) => postWhatsApp(gwB, waText(p, 'لغو')));
  await inBatches(people.apiOut, 10, (id) => api(gwA, id, 'إلغاء'));
  // Outside the window: their last message was two days ago.
  const twoDaysAgo = String(Date.now() - 2 * 86400_000);
  for (const p of people.waOld) {
    const cust = customerOf('wa', p);
    for (const conv of redisCli(redis, 'LRANGE', `pasokh:cust:${cust}:conversations`, '0', '-1').split('\n'))
      redisCli(redis, 'HSET', `pasokh:conv:${conv}`, 'last_customer_message_at', twoDaysAgo);
  }
  // Ten API customers also write on Telegram later: that is where they are reached.
  for (const id of people.api.splice(0, 10)) {
    const cust = (await api(gwA, id, 'I also use Telegram')).customer_id;
    const chat = newChatId();
    const linked = await call(gwA, 'POST', `/api/v1/customers/${cust}/identities`, { channel: 'tg', external_id: String(chat) });
    assert.ok(linked.status === 200 || linked.status === 201, linked.text);
    await tg(gwA, chat, 'از تلگرام');
    people.linked.push({ cust, chat });
  }
  // Five imported Telegram customers who never wrote: a bot cannot start a
  // chat, so there is no channel for them. Three imported API customers who
  // never wrote: a new conversation on their identity.
  for (let i = 0; i < 5; i++) people.imported.push(newChatId());
  for (let i = 0; i < 3; i++) people.importedApi.push(`shop-${randomUUID().slice(0, 8)}`);
  // And eight by email only.
  for (let i = 0; i < 8; i++) people.mail.push(`buyer${i}.${randomUUID().slice(0, 6)}@mail.example`);
  // One known on Messenger (never wrote there either) and by email: the mail.
  people.pageThenMail = { psid: `psid-${randomUUID().slice(0, 8)}`, address: `page.${randomUUID().slice(0, 6)}@mail.example` };
  const csv = ['channel,external_id,name,language', ...people.imported.map((c, i) => `tg,${c},Imported ${i},en`),
    ...people.importedApi.map((id, i) => `api,${id},Shop ${i},en`),
    ...people.mail.map((a, i) => `mail,${a},Mail ${i},en`), `fb,${people.pageThenMail.psid},Page Then Mail,en`].join('\n');
  const imported = await call(gwA, 'POST', '/api/v1/admin/customers/import', csv);
  assert.equal(imported.status, 200, imported.text);
  const mailLinked = await call(gwA, 'POST', `/api/v1/customers/${customerOf('fb', people.pageThenMail.psid)}/identities`,
    { channel: 'mail', external_id: people.pageThenMail.address });
  assert.equal(mailLinked.status, 201, mailLinked.text);
  // A customer file with no identity at all.
  const ghost = `cu_${redisCli(redis, 'INCR', 'pasokh:next:customer')}`;
  redisCli(redis, 'HSET', `pasokh:cust:${ghost}`, 'id', ghost, 'name', 'Ghost', 'language', 'en');
  // Campaign 2's audience: WhatsApp customers tagged c2, in and out of the window.
  people.c2In = people.wa.slice(0, 8);
  people.c2Old = people.waOld.slice(0, 6);
  for (const p of [...people.c2In, ...people.c2Old]) {
    const r = await call(gwA, 'PATCH', `/api/v1/customers/${customerOf('wa', p)}`, { tags: ['c2'] });
    assert.equal(r.status, 200, r.text);
  }
  await fake.clear();
});

after(async () => {
  await gwA?.cleanup();
  await gwB?.cleanup();
  fake?.stop();
  relay?.stop();
  await redis?.cleanup();
});

const clock = (ms) => new Date(ms).toISOString().slice(11, 19);
const withCode = (reqs) => reqs.filter((r) => r.body.includes(CODE));
const byChat = (reqs) => {
  const m = new Map();
  for (const r of reqs) m.set(String(r.json.chat_id ?? r.json.to), (m.get(String(r.json.chat_id ?? r.json.to)) ?? 0) + 1);
  return m;
};

test('REST: admin only, checked definitions, pause / resume / cancel', async () => {
  const ali = (await login(gwA, 'ali', 'ali-secret-1')).json.token;
  const body = { name: 'later', kind: 'occasion', occasion: 'nowruz', texts: { fa: 'نوروز مبارک {name}' } };
  assert.equal((await call(gwA, 'POST', '/api/v1/admin/campaigns', body, ali)).status, 403);
  assert.equal((await call(gwA, 'POST', '/api/v1/admin/campaigns/preview', body, ali)).status, 403);
  const badPreview = await call(gwA, 'POST', '/api/v1/admin/campaigns/preview', { ...body, texts: {} });
  assert.equal(badPreview.status, 400);
  assert.equal(badPreview.json.error.code, 'invalid_field');
  assert.equal((await call(gwA, 'POST', '/api/v1/admin/campaigns', body, '')).status, 401);
  const bad = await call(gwA, 'POST', '/api/v1/admin/campaigns', { ...body, kind: 'spam' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'invalid_field');
  assert.match(bad.json.error.message, /kind/);
  const noChannel = await call(gwA, 'POST', '/api/v1/admin/campaigns', { ...body, audience: { channels: ['sms'] } });
  assert.equal(noChannel.status, 400);
  assert.match(noChannel.json.error.message, /sms/);

  const created = await call(gwA, 'POST', '/api/v1/admin/campaigns', body);
  assert.equal(created.status, 201, created.text);
  const c = created.json;
  assert.equal(c.status, 'scheduled');  // the next Nowruz is in the future
  assert.match(c.definition.date, /^\d{4}-03-2[01]$/);
  assert.equal((await call(gwB, 'POST', `/api/v1/admin/campaigns/${c.id}/pause`)).json.status, 'paused');
  assert.equal((await call(gwB, 'POST', `/api/v1/admin/campaigns/${c.id}/resume`)).json.status, 'scheduled');
  assert.equal((await call(gwB, 'POST', `/api/v1/admin/campaigns/${c.id}/cancel`)).json.status, 'cancelled');
  const again = await call(gwB, 'POST', `/api/v1/admin/campaigns/${c.id}/resume`);
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'invalid_state');
  assert.equal((await call(gwB, 'GET', '/api/v1/admin/campaigns/cp_999')).status, 404);
  const list = await call(gwB, 'GET', '/api/v1/admin/campaigns');
  assert.ok(list.json.campaigns.some((x) => x.id === c.id && x.status === 'cancelled'));
});

test('a greeting to 300 customers on two instances: once each, never to opt-outs, not in quiet hours', async () => {
  const admin = await agentFor(gwB, 'boss', 'boss-secret-1');
  // Two Telegram sends fail for good (the bot was blocked).
  await fake.script({ action: 'blocked', path: '/sendMessage', count: 2 });
  const definition = {
    name: 'یلدا', kind: 'occasion', occasion: 'date', date: new Date().toISOString().slice(0, 10),
    texts: { fa: '{name} عزیز، یلدا مبارک! کد تخفیف: {code}', en: 'Happy Yalda, {name}! Your code: {code}' },
    fallback: ['en'], code: CODE, rate_per_second: 150,
    whatsapp_template: { name: 'yalda_offer', language: 'fa', params: ['{name}', '{code}'] },
  };
  // Imported Telegram customers who never wrote are skipped: a bot cannot start a chat.
  const eligibleTg = [...people.tg, ...people.linked.map((l) => l.chat)];
  const eligibleWa = people.wa;
  const eligibleApi = [...people.api, ...people.importedApi];
  const eligibleMail = [...people.mail, people.pageThenMail.address];
  const noChannel = 1 + people.imported.length;  // the ghost and the Telegram imports
  const expectedQueued = eligibleTg.length + eligibleWa.length + people.waOld.length + eligibleApi.length + eligibleMail.length;

  // The preview before creating it: what it will send, where, and whom it skips; nothing is stored or sent.
  const campaignsBefore = (await call(gwB, 'GET', '/api/v1/admin/campaigns')).json.campaigns.length;
  const preview = await call(gwB, 'POST', '/api/v1/admin/campaigns/preview', definition);
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.json.messages, expectedQueued);
  assert.deepEqual(preview.json.by_channel, { tg: eligibleTg.length, wa: eligibleWa.length + people.waOld.length,
    api: eligibleApi.length, mail: eligibleMail.length });
  assert.deepEqual(preview.json.skipped, { opted_out: people.tgOut.length + people.waOut.length + people.apiOut.length,
    no_channel: noChannel });
  assert.equal(preview.json.complete, true);
  // Named channels count the same: Telegram users who never wrote are skipped, not left out.
  const tgOnly = await call(gwB, 'POST', '/api/v1/admin/campaigns/preview', { ...definition, audience: { channels: ['tg'] } });
  assert.deepEqual(tgOnly.json.by_channel, { tg: eligibleTg.length });
  assert.deepEqual(tgOnly.json.skipped, { opted_out: people.tgOut.length, no_channel: people.imported.length });
  assert.equal(preview.json.samples.length, 5);
  for (const m of preview.json.samples) assert.ok(m.text.includes(CODE) && m.text.includes(m.name), m.text);
  assert.equal((await call(gwB, 'GET', '/api/v1/admin/campaigns')).json.campaigns.length, campaignsBefore);

  // Created with quiet hours that end in 7-8 s (set only now: the preview's time is not taken from
  // them), on a whole second: they are given to the second, and a slow machine needs the room.
  const quietEnds = Math.ceil((Date.now() + 7000) / 1000) * 1000;
  const created = await call(gwA, 'POST', '/api/v1/admin/campaigns', {
    ...definition, quiet_hours: { from: clock(Date.now() - 60_000), to: clock(quietEnds) },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;

  // Quiet hours: nothing goes out (nor anything the preview could have
  // queued: 2 s is ample for the outbox), the admin sees until when.
  await sleep(2000);
  assert.equal(withCode(await fake.requests()).length, 0);
  const quiet = (await call(gwB, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
  assert.equal(quiet.status, 'running');
  assert.equal(quiet.stats.queued, 0);
  assert.ok(Math.abs(quiet.quiet_until - quietEnds) <= 1000, `quiet until ${quiet.quiet_until}`);

  // After them: the leader is stopped half way; the other instance carries on.
  const stats = async () => (await call(gwB, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
  await waitUntil(async () => (await stats()).stats.queued >= 60, 'first messages', 20000);
  assert.ok(Date.now() >= quietEnds - 1000);
  const holder = redisCli(redis, 'GET', 'pasokh:campaigns:lease');
  const leader = holder.includes(`-${gwA.proc.pid}-`) ? gwA : gwB;
  await leader.stop('SIGTERM');
  // Given up on the way out, not left to lapse.
  assert.ok(!redisCli(redis, 'GET', 'pasokh:campaigns:lease').includes(`-${leader.proc.pid}-`), 'the lease given up');
  const survivor = leader === gwA ? gwB : gwA;
  const survivorAdmin = leader === gwB ? await agentFor(gwA, 'boss', 'boss-secret-1') : admin;
  const read = async () => (await call(survivor, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
  const done = await waitUntil(async () => { const c = await read(); return c.status === 'done' && c; }, 'campaign done', 20000);

  assert.equal(done.stats.queued, expectedQueued);
  assert.equal(done.stats.skipped_opted_out, people.tgOut.length + people.waOut.length + people.apiOut.length);
  assert.equal(done.stats.skipped_no_channel, noChannel);
  assert.equal(done.stats.skipped_no_template, 0);

  // Every provider send done: sent + failed = the provider channels' messages + API.
  const final = await waitUntil(async () => {
    const c = await read();
    return c.stats.sent + c.stats.failed === expectedQueued && c;
  }, 'every message sent', 20000);
  assert.equal(final.stats.failed, 2);

  // What the provider saw: each eligible customer once, opt-outs never.
  const sends = withCode(await fake.requests('/sendMessage'));
  const tgCount = byChat(sends);
  for (const c of eligibleTg) assert.equal(tgCount.get(String(c)), 1, `telegram chat ${c}`);
  for (const c of people.tgOut) assert.equal(tgCount.get(String(c)), undefined, `opted-out chat ${c}`);
  for (const c of people.imported) assert.equal(tgCount.get(String(c)), undefined, `imported chat ${c} that never wrote`);
  assert.equal(sends.length, eligibleTg.length);
  assert.equal((await fake.requests()).filter((r) => r.body.includes(CODE) && r.body.includes(people.pageThenMail.psid)).length, 0,
    'nothing to a Messenger user who never wrote');
  // Each ends with how to opt out, in its language.
  assert.ok(sends.some((r) => r.json.text === 'سارا عزیز، یلدا مبارک! کد تخفیف: YALDA-1404\n\nبرای دریافت نکردن پیام‌هایی مانند این، «لغو» را بفرستید.'));

  const wa = (await fake.requests('/messages')).filter((r) => r.body.includes(CODE));
  const texts = wa.filter((r) => r.json.type === 'text');
  const templates = wa.filter((r) => r.json.type === 'template');
  const waCount = byChat(texts);
  for (const p of eligibleWa) assert.equal(waCount.get(p), 1, `whatsapp ${p} inside the window`);
  for (const p of people.waOut) assert.equal(waCount.get(p), undefined, `opted-out whatsapp ${p}`);
  assert.equal(texts.length, eligibleWa.length);
  const tplCount = byChat(templates);
  for (const p of people.waOld) assert.equal(tplCount.get(p), 1, `whatsapp ${p} outside the window gets the template`);
  assert.equal(templates.length, people.waOld.length);
  assert.equal(templates[0].json.template.name, 'yalda_offer');
  assert.deepEqual(templates[0].json.template.components[0].parameters.map((x) => x.text).slice(-1), [CODE]);

  // Email customers: one mail each through the relay, in their language.
  for (const a of eligibleMail) {
    const mails = relay.mails.filter((m) => m.rcpt.includes(a));
    assert.equal(mails.length, 1, `mail to ${a}`);
    assert.match(mails[0].data, /YALDA-1404/);
    // Outreach, not an answer, with a one-click unsubscribe link and a mailto.
    assert.match(mails[0].data, /\r\nAuto-Submitted: auto-generated\r\n/);
    assert.match(mails[0].data, /\r\nList-Unsubscribe: <https:\/\/support\.shop\.example\/unsubscribe\/[\w-]{20,}>, <mailto:support@shop\.example\?subject=unsubscribe>\r\n/);
    assert.match(mails[0].data, /\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n/);
  }
  assert.equal(relay.mails.length, eligibleMail.length);

  // The link: a page that asks first (mail scanners open links), then the
  // mail client's one-click POST opts the customer out of campaigns.
  const mailTo = people.mail[0];
  const link = relay.mails.find((m) => m.rcpt.includes(mailTo)).data.match(/<https:\/\/support\.shop\.example(\/unsubscribe\/[\w-]+)>/)[1];
  const mailCust = customerOf('mail', mailTo);
  const page = await fetch(`${survivor.base}${link}`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post">.*Unsubscribe/s);
  assert.equal(redisCli(redis, 'HGET', `pasokh:cust:${mailCust}`, 'opt_out'), '', 'opening the link changes nothing');
  const oneClick = await fetch(`${survivor.base}${link}`, { method: 'POST', body: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(oneClick.status, 200);
  assert.match(await oneClick.text(), /You are unsubscribed/);
  assert.equal(redisCli(redis, 'HGET', `pasokh:cust:${mailCust}`, 'opt_out'), '1');
  assert.equal(redisCli(redis, 'HGET', `pasokh:cust:${mailCust}`, 'opt_out_channel'), 'mail');
  // The campaign that mailed the link counts the opt-out (as a "stop" reply), once.
  assert.equal((await read()).stats.opted_out, 1, 'the link\'s opt-out is the campaign\'s');
  assert.match(await (await fetch(`${survivor.base}${link}`)).text(), /You are unsubscribed/, 'opening it again says so');
  assert.equal((await fetch(`${survivor.base}${link}`, { method: 'POST', body: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 200);
  assert.equal((await read()).stats.opted_out, 1, 'a second click counts nothing more');
  const forged = await fetch(`${survivor.base}/unsubscribe/${'x'.repeat(24)}`, { method: 'POST' });
  assert.equal(forged.status, 404);
  assert.match(await forged.text(), /not valid/);

  // API customers: the message is in their conversation, once; the linked ones got it on Telegram only.
  for (const ext of eligibleApi) assert.equal(campaignMessages(customerOf('api', ext), id).length, 1, `api customer ${ext}`);
  for (const ext of people.apiOut) assert.equal(campaignMessages(customerOf('api', ext), id).length, 0, `opted-out ${ext}`);
  for (const { cust } of people.linked) {
    const got = campaignMessages(cust, id);
    assert.equal(got.length, 1);
    assert.equal(got[0].message.channel, 'tg');
  }

  // Delivery statuses from WhatsApp count as delivered and read.
  const wamids = eligibleWa.slice(0, 7).map((phone) => {
    const cust = customerOf('wa', phone);
    const [conv, seq] = redisCli(redis, 'HGET', `pasokh:campaign:${id}:sent`, cust).split(':');
    return [phone, JSON.parse(redisCli(redis, 'HGET', `pasokh:conv:${conv}:delivery`, seq)).provider_message_id];
  });
  for (const [to, w] of wamids.slice(0, 5)) assert.equal((await postWhatsApp(survivor, waStatuses(to, [[w, 'delivered']]))).status, 200);
  for (const [to, w] of wamids.slice(5, 7)) assert.equal((await postWhatsApp(survivor, waStatuses(to, [[w, 'read']]))).status, 200);
  const seen = await waitUntil(async () => { const c = await read(); return c.stats.delivered === 7 && c; }, 'delivered', 5000);
  assert.equal(seen.stats.read, 2);

  // Replies: two Telegram customers and an imported API one (in the conversation the campaign
  // opened) answer; the answer lands after the campaign message and counts once.
  for (const c of [people.tg[0], people.tg[1]]) {
    const r = await tg(survivor, c, 'ممنون! کد را چطور استفاده کنم؟');
    assert.equal(r.status, 200);
  }
  const fromShop = await postMessage(survivor, { message_id: randomUUID(), customer: { id: people.importedApi[0], name: 'Shop 0' },
    text: 'ممنون! کد را چطور استفاده کنم؟' });
  assert.equal(fromShop.status, 201, fromShop.text);
  await tg(survivor, people.tg[0], 'یک سوال دیگر');
  const replied = await waitUntil(async () => { const c = await read(); return c.stats.replied === 3 && c; }, 'replied', 5000);
  const importedCust = customerOf('api', people.importedApi[0]);
  const [conv] = redisCli(redis, 'LRANGE', `pasokh:cust:${importedCust}:conversations`, '0', '-1').split('\n');
  const log = redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+').split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l)).filter((f) => f.event === 'message');
  assert.deepEqual(log.map((f) => f.message.author), ['bot', 'customer']);
  assert.notEqual(redisCli(redis, 'HGET', `pasokh:conv:${conv}`, 'status'), 'resolved');  // reopened for an agent
  // The reports count it as a contact from the answer, not from the day the campaign went out.
  assert.ok(log[1].message.created_at > log[0].message.created_at);
  assert.equal(Number(redisCli(redis, 'ZSCORE', 'pasokh:rpt:created', conv)), log[1].message.created_at);

  // Live: the admin's console got the same figures.
  const last = await waitUntil(() => [...survivorAdmin.frames].reverse()
    .find((f) => f.event === 'campaign' && f.campaign.id === id && f.campaign.stats.replied === 3), 'live progress', 5000);
  assert.deepEqual(last.campaign.stats, replied.stats);
  assert.equal(last.seq, 0);

  assert.ok(await metric(survivor, 'pasokh_campaign_messages_total{outcome="queued"}') > 0);
  assert.ok(await metric(survivor, 'pasokh_campaign_messages_total{outcome="sent"}') > 0);
});

test('WhatsApp without a template: outside the window skipped and counted, inside at the campaign rate', async () => {
  const gw = running();
  const definition = {
    name: 'c2', kind: 'occasion', occasion: 'date', date: new Date().toISOString().slice(0, 10),
    texts: { ar: 'عرض خاص C2-OFFER' }, audience: { tags: ['c2'], channels: ['wa'] }, rate_per_second: 5,
  };
  const preview = (await call(gw, 'POST', '/api/v1/admin/campaigns/preview', definition)).json;
  assert.equal(preview.messages, people.c2In.length);
  assert.deepEqual(preview.skipped, { no_template: people.c2Old.length });
  const created = await call(gw, 'POST', '/api/v1/admin/campaigns', definition);
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const done = await waitUntil(async () => {
    const c = (await call(gw, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
    return c.status === 'done' && c;
  }, 'c2 done', 15000);
  assert.equal(done.stats.queued, people.c2In.length);
  assert.equal(done.stats.skipped_no_template, people.c2Old.length);
  const sends = await waitUntil(async () => {
    const r = (await fake.requests('/messages')).filter((x) => x.body.includes('C2-OFFER'));
    return r.length === people.c2In.length && r;
  }, 'c2 sends', 10000);
  assert.deepEqual(sends.map((r) => r.json.to).sort(), [...people.c2In].sort());
  // 8 messages at 5 a second: at least a second and a half from first to last.
  const spread = sends.at(-1).time - sends[0].time;
  assert.ok(spread >= 1000, `sent within ${spread} ms`);
});

test('a recurring campaign\'s preview also counts the next 30 days, by day, without opt-outs', async () => {
  const gw = running();
  const day = (offset) => new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10); // UTC, as configured
  const product = `Fridge-${randomUUID().slice(0, 6)}`; // bought by these customers only
  // Bought 7 days ago: due today. 5 days ago: due in 2 days. 40 days ago: long past.
  // An opted-out customer's purchase, due in 3 days, is not counted.
  const buyers = [[people.api[0], -7], [people.api[1], -5], [people.api[2], -5], [people.api[3], -40], [people.apiOut[0], -4]];
  for (const [i, [id, offset]] of buyers.entries()) {
    const { customer_id: cust } = await api(gw, id, 'About my fridge');
    const r = await call(gw, 'POST', `/api/v1/customers/${cust}/purchases`,
      [{ order_id: `F-${i}`, product, purchase_date: day(offset) }]);
    assert.equal(r.status, 200, r.text);
  }
  const preview = await call(gw, 'POST', '/api/v1/admin/campaigns/preview', {
    name: 'A week later', kind: 'follow_up', days: 7, texts: { en: 'How is your new {product}?' }, audience: { products: [product] },
  });
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.json.messages, 1);
  assert.deepEqual(preview.json.upcoming, { days: 30, messages: 2, by_day: { [day(2)]: 2 } });
  // An occasion is sent once: it has no days ahead.
  const once = await call(gw, 'POST', '/api/v1/admin/campaigns/preview', {
    name: 'Once', kind: 'occasion', occasion: 'date', date: day(0), texts: { en: 'Hello' }, audience: { products: [product] },
  });
  assert.equal(once.status, 200, once.text);
  assert.equal(once.json.messages, 4, 'today, to everyone who bought it');
  assert.deepEqual(once.json.skipped, { opted_out: 1 });
  assert.equal(once.json.upcoming, undefined);
});

test('a follow-up for one order of two items is one message naming both, not two at once', async () => {
  const gw = running();
  const today = new Date().toISOString().slice(0, 10);  // UTC, as configured
  const tag = `two-${randomUUID().slice(0, 6)}`;  // in these products' names only
  // Two buyers of the same two items, one writing in English, one in Persian.
  const buyers = [];
  for (const language of ['en', 'fa']) {
    const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: `${language}-${tag}`, name: `Buyer ${language}` },
      text: 'Thanks for the delivery', language });
    assert.equal(r.status, 201, r.text);
    const cust = r.json.customer_id;
    const bought = await call(gw, 'POST', `/api/v1/customers/${cust}/purchases`, [
      { order_id: 'O-77', product: `Fridge ${tag}`, serial: `S1-${tag}`, purchase_date: today },
      { order_id: 'O-77', product: `Washer ${tag}`, serial: `S2-${tag}`, purchase_date: today }]);
    assert.equal(bought.status, 200, bought.text);
    buyers.push(cust);
  }
  const definition = { name: 'How is it?', kind: 'follow_up', days: 0, audience: { products: [tag] },
    texts: { en: 'How do you like your new {product} ({serial}) of {purchase_date}, {name}?',
      fa: '{name}، {product} جدید شما (خرید {purchase_date}) چطور است؟' } };
  const preview = await call(gw, 'POST', '/api/v1/admin/campaigns/preview', definition);
  assert.equal(preview.json.messages, 2, preview.text);
  const created = await call(gw, 'POST', '/api/v1/admin/campaigns', definition);
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const looked = await afterOnePass(gw, id);
  assert.equal(looked.stats.queued, 2);
  const texts = (cust) => campaignMessages(cust, id).map((f) => f.message.text.split('\n\n')[0]);
  assert.deepEqual(texts(buyers[0]),
    [`How do you like your new Fridge ${tag} and Washer ${tag} (S1-${tag} and S2-${tag}) of ${today}, Buyer en?`]);
  // In Persian the date is Solar Hijri, in Persian digits (ICU's Persian calendar as the reference).
  const shamsi = new Intl.DateTimeFormat('fa-IR-u-ca-persian-nu-arabext', { year: 'numeric', month: '2-digit', day: '2-digit',
    timeZone: 'UTC' }).format(new Date(`${today}T12:00:00Z`));
  assert.match(shamsi, /^[۰-۹]{4}\/[۰-۹]{2}\/[۰-۹]{2}$/);
  assert.deepEqual(texts(buyers[1]), [`Buyer fa، Fridge ${tag} و Washer ${tag} جدید شما (خرید ${shamsi}) چطور است؟`]);
});

test('items that fell due on two days a campaign did not send (catch-up) get one message today, the other on a later day', async () => {
  const gw = running();
  const day = (ago) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);  // UTC, as configured
  const tag = `late-${randomUUID().slice(0, 6)}`;
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: `late-${tag}`, name: 'Late Buyer' }, text: 'hi' });
  const cust = r.json.customer_id;
  assert.equal((await call(gw, 'POST', `/api/v1/customers/${cust}/purchases`, [
    { order_id: 'O-1', product: `Kettle ${tag}`, serial: `K-${tag}`, purchase_date: day(2) },
    { order_id: 'O-2', product: `Toaster ${tag}`, serial: `T-${tag}`, purchase_date: day(1) }])).status, 200);
  const definition = { name: 'Late follow-up', kind: 'follow_up', days: 0, audience: { products: [tag] },
    texts: { en: 'How is your {product}, {name}?' } };
  assert.equal((await call(gw, 'POST', '/api/v1/admin/campaigns/preview', definition)).json.messages, 1);
  const created = await call(gw, 'POST', '/api/v1/admin/campaigns', definition);
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const looked = await afterOnePass(gw, id);
  assert.equal(looked.stats.queued, 1);
  // The older item went (it leaves the catch-up days first); the other is still owed.
  assert.deepEqual(redisCli(redis, 'SMEMBERS', `pasokh:campaign:${id}:claimed`).split('\n'), [`${cust}|${day(2)}`]);
});

test('a customer answering a campaign with «لغو» or STOP opted out: counted as that, not as a reply', async () => {
  const gw = running();
  const tag = `ans-${randomUUID().slice(0, 6)}`;
  const ids = ['stop-fa', 'stop-en', 'thanks'].map((k) => `${k}-${tag}`);
  const custs = [];
  for (const id of ids) {
    const { customer_id: cust } = await api(gw, id, 'hello');
    assert.equal((await call(gw, 'PATCH', `/api/v1/customers/${cust}`, { tags: [tag] })).status, 200);
    custs.push(cust);
  }
  const created = await call(gw, 'POST', '/api/v1/admin/campaigns', { name: 'answers', kind: 'occasion', occasion: 'date',
    date: new Date().toISOString().slice(0, 10), audience: { tags: [tag] }, texts: { en: 'Hello {name}' } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const read = async () => (await call(gw, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
  await waitUntil(async () => (await read()).status === 'done', 'campaign done', 5000);
  await api(gw, ids[0], '«لغو»');
  await api(gw, ids[1], 'STOP');
  await api(gw, ids[2], 'Thanks!');
  // Counted as replies first (ingest), then as opt-outs once the words were read.
  const stats = await waitUntil(async () => { const c = await read(); return c.stats.opted_out === 2 && c.stats; },
    'two opt-outs', 5000);
  assert.equal(stats.replied, 1);
  assert.deepEqual(redisCli(redis, 'SMEMBERS', `pasokh:campaign:${id}:replied`).split('\n'), [custs[2]]);
  for (const cust of custs.slice(0, 2)) assert.equal(redisCli(redis, 'HGET', `pasokh:cust:${cust}`, 'opt_out'), '1');
  // "Thanks!" and then STOP: the reply stays and the opt-out is the campaign's too.
  await api(gw, ids[2], 'STOP');
  const later = await waitUntil(async () => { const c = await read(); return c.stats.opted_out === 3 && c.stats; },
    'the later opt-out', 5000);
  assert.equal(later.replied, 1);
});

test('a customer who unsubscribes by the link and also replies "stop" counts once in the campaign\'s opted_out, either way round', async () => {
  const gw = running();
  const tag = `unsub-${randomUUID().slice(0, 6)}`;
  const [linkFirst, stopFirst] = ['link-first', 'stop-first'].map((k) => `${k}.${tag}@mail.example`);
  const csv = ['channel,external_id,name,language', `mail,${linkFirst},Link First,en`, `mail,${stopFirst},Stop First,en`].join('\n');
  assert.equal((await call(gw, 'POST', '/api/v1/admin/customers/import', csv)).status, 200);
  const custs = [linkFirst, stopFirst].map((a) => customerOf('mail', a));
  for (const cust of custs) assert.equal((await call(gw, 'PATCH', `/api/v1/customers/${cust}`, { tags: [tag] })).status, 200);
  const created = await call(gw, 'POST', '/api/v1/admin/campaigns', { name: 'unsubscribe twice', kind: 'occasion',
    occasion: 'date', date: new Date().toISOString().slice(0, 10), audience: { tags: [tag] }, texts: { en: 'Hello {name}' } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  const read = async () => (await call(gw, 'GET', `/api/v1/admin/campaigns/${id}`)).json;
  const mailTo = (address) => waitUntil(() => relay.mails.find((m) => m.rcpt.includes(address)), `the mail to ${address}`, 5000);
  const unsubscribe = async (address) => {
    const link = (await mailTo(address)).data.match(/<https:\/\/support\.shop\.example(\/unsubscribe\/[\w-]+)>/)[1];
    const r = await fetch(`${gw.base}${link}`, { method: 'POST', body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200);
  };
  // "stop" answering the campaign mail, once its opt-out was handled.
  const smtpPort = JSON.parse(readFileSync(gw.configPath, 'utf8')).channels.find((c) => c.id === 'mail').provider.smtp.port;
  const replyStop = async (address, cust) => {
    const messageId = (await mailTo(address)).data.match(/\r\nMessage-ID: <([^>]+)>/i)[1];
    const sent = await sendMail(gw.dir, { port: smtpPort, from: address, subject: 'Re: Hello', body: 'stop\r\n',
      headers: { 'Message-Id': `<stop-${randomUUID()}@mail.example>`, 'In-Reply-To': `<${messageId}>` } });
    assert.equal(sent.code, 0, sent.out);
    const conv = redisCli(redis, 'HGET', `pasokh:campaign:${id}:sent`, cust).split(':')[0];
    await waitUntil(() => redisCli(redis, 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+').includes('"opt_out"'), 'the opt-out', 10000);
  };

  await unsubscribe(linkFirst);
  await replyStop(linkFirst, custs[0]);
  const once = (await read()).stats;
  assert.equal(once.opted_out, 1, 'the link, then "stop": one opt-out');
  assert.equal(once.replied, 0, 'and "stop" is no reply');

  await replyStop(stopFirst, custs[1]);
  await unsubscribe(stopFirst);
  const both = (await read()).stats;
  assert.equal(both.opted_out, 2, '"stop", then the link: one opt-out more');
  assert.equal(both.replied, 0);
  assert.deepEqual(redisCli(redis, 'SMEMBERS', `pasokh:campaign:${id}:opted_out`).split('\n').sort(), [...custs].sort());
});
