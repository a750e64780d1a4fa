// One customer file per person (issue 8) against real Redis and pasokh:
// identities link automatically on verified keys only (a mail's sender, an
// imported phone and a WhatsApp number, a web chat visitor's email once they
// typed into their chat the code mailed to it; never an email only typed
// into a form, nor one whose owner agreed somewhere else),
// weaker evidence becomes a suggestion an agent confirms or dismisses, and a
// merge moves identities, conversations, purchases, tags and opt-out into one
// file and is undone exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, WsClient, agentSocket, apiCall, defaultConfig, freePort, login, postMessage } from '../support/harness.mjs';
import { MailDev } from '../support/maildev.mjs';
import { mailedCode, typesCode } from './webchat_support.mjs';
import { FakeProvider, SECRETS, messengerChannels, postWhatsApp, redisCli as cli, waText, waitUntil } from './messenger_support.mjs';

const MAILGUN_KEY = 'key-mailgun-links-0123456789abcdef';
const PUBLIC_URL = 'https://support.shop.example';
let redis, gw, fake, sink, ali, boss, aliId;

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  sink = await new MailDev().start();
  gw = await new Pasokh(defaultConfig(redis, {
    public_url: PUBLIC_URL,
    channels: [
      { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'shop', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
      { id: 'vipshop', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'vip' },
      { id: 'web', kind: 'webchat', team: 'support', provider: { email_fallback_channel: 'mail' } },
      { id: 'mail', kind: 'email', team: 'support', provider: {
        support_addresses: ['support@shop.example'], reply_domain: 'shop.example', from_address: 'support@shop.example',
        smtp: { address: '127.0.0.1', port: await freePort() }, relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none' },
        webhook: { signing_key_env: 'PASOKH_TEST_MAILGUN_KEY', max_age_s: 300 } } },
      ...messengerChannels(fake.base).filter((c) => c.id === 'wa'),
    ],
  }), { ...SECRETS, PASOKH_TEST_MAILGUN_KEY: MAILGUN_KEY, PASOKH_WEBCHAT_SECRET: 'links-test-webchat-secret-0123456789' }).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  const a = (await login(gw, 'ali', 'ali-secret-1')).json;
  ali = a.token;
  aliId = a.agent.id;
  boss = (await login(gw, 'boss', 'boss-secret-3')).json.token;
});

after(async () => {
  await gw?.cleanup();
  fake?.stop();
  await sink?.stop();
  await redis?.cleanup();
});

const redisCli = (...args) => cli(redis, ...args);

const call = (method, path, token, body) => apiCall(gw, method, path, { token, body });

async function writes(customer, text, { channel = 'api', name = customer, language } = {}) {
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: customer, name }, text, language }, { channel });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json;
}

function mail(from, subject, text) {
  const timestamp = Math.floor(Date.now() / 1000), token = crypto.randomBytes(25).toString('hex');
  const signature = crypto.createHmac('sha256', MAILGUN_KEY).update(`${timestamp}${token}`).digest('hex');
  return fetch(`${gw.base}/webhooks/email/mail`, {
    method: 'POST',
    body: new URLSearchParams({ sender: from, recipient: 'support@shop.example', from, subject, 'body-plain': text,
      'Message-Id': `<${randomUUID()}@example.net>`, timestamp: String(timestamp), token, signature }),
  });
}

// The customer file a mail from `from` landed in.
async function mailed(from, subject, text) {
  const agent = await agentSocket(gw, ali);
  const res = await mail(from, subject, text);
  assert.equal(res.status, 200, await res.text());
  const event = await agent.next((f) => f.type === 'event' && f.event === 'message' && f.message?.text === text);
  agent.close();
  return { customer: event.conversation.customer_id, conv: event.conv };
}

// A web chat visitor who filled in the pre-chat form and wrote one message
// (none when `text` is not given).
async function visitor(email, name, text) {
  const session = await (await fetch(`${gw.base}/api/v1/webchat/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'web', email, name }),
  })).json();
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token: session.token });
  await c.next((f) => f.type === 'welcome');
  if (text === undefined) return { c, session, visitor: session.visitor_id };
  const ack = await says(c, text);
  return { c, session, conv: ack.conv, visitor: session.visitor_id };
}

async function says(c, text) {
  const clientId = `m-${randomUUID()}`;
  c.send({ type: 'message', client_id: clientId, text });
  return c.next((f) => f.type === 'ack' && f.client_id === clientId);
}

const customerOf = (conv) => redisCli('HGET', `pasokh:conv:${conv}`, 'customer_id');
const file = async (id, token = boss) => {
  const r = await call('GET', `/api/v1/customers/${id}`, token);
  assert.equal(r.status, 200, r.text);
  return r.json;
};

const verificationCode = (address, before) => mailedCode(sink, address, before);
// The texts a new tab of the visitor (their token) is shown: the welcome's replay.
async function replayed(token) {
  const c = new WsClient(`${gw.wsBase}/ws/chat?channel=web`);
  await c.opened();
  c.send({ type: 'hello', v: 1, token });
  await c.next((f) => f.type === 'synced');
  const texts = c.frames.filter((f) => f.type === 'event' && f.message).map((f) => f.message.text);
  await c.close();
  return texts;
}
const wrongCodes = async () => Number((await (await fetch(`${gw.base}/metrics`)).text())
  .match(/pasokh_errors_total\{kind="webchat_verify_wrong_code"\} (\d+)/)?.[1] ?? 0);
const mailsTo = async (address) => (await sink.emails()).filter((m) => m.to?.some((t) => t.address === address));

test('a web chat visitor who types a customer\'s email does not land in that file and cannot rename it', async () => {
  const sara = (await mailed('Sara Ahmadi <sara.ahmadi@example.com>', 'سفارش ۱۲۳', 'سلام، سفارشم کی می‌رسد؟')).customer;
  assert.equal(redisCli('GET', 'pasokh:key:email:sara.ahmadi@example.com'), sara);
  assert.equal((await call('PATCH', `/api/v1/customers/${sara}`, ali, { notes: 'fridge under warranty' })).status, 200);

  const web = await visitor('Sara.Ahmadi@Example.com', 'Mallory', 'hi, what did I buy last time?');
  const own = customerOf(web.conv);
  assert.notEqual(own, sara, 'the chat is not in Sara\'s file');
  assert.equal(redisCli('GET', 'pasokh:key:email:sara.ahmadi@example.com'), sara);
  // An agent may still merge them by hand.
  const s = (await file(own)).customer.suggestions;
  // Marked as typed, not proved (the console says so): anyone can type it.
  assert.deepEqual(s.map((x) => [x.customer, x.reason, x.value]), [[sara, 'typed_email', 'sara.ahmadi@example.com']]);

  web.c.send({ type: 'contact', email: 'sara.ahmadi@example.com', name: 'Mallory Renamed' });
  await web.c.next((f) => f.type === 'contact_saved');
  const f = (await file(sara)).customer;
  assert.equal(f.name, 'Sara Ahmadi');
  assert.equal(redisCli('HGET', `pasokh:cust:${sara}`, 'email'), 'sara.ahmadi@example.com');
  assert.equal(f.notes, 'fridge under warranty');
  assert.deepEqual(f.identities.map((i) => i.channel), ['mail']);
  assert.equal((await file(own)).customer.name, 'Mallory Renamed', 'the visitor\'s own file takes it');
  // Only whoever reads Sara's mail, typing the code into this chat, can link them.
  const { mail: m } = await verificationCode('sara.ahmadi@example.com');
  assert.equal(m.from[0].address, 'support@shop.example');
  web.c.close();
});

test('the code mailed to the address a visitor gave, typed into their chat, merges it into that customer\'s file, once', async () => {
  const narges = await mailed('Narges <narges@example.com>', 'repair', 'my washing machine leaks');
  const web = await visitor('Narges@Example.com', 'Narges', 'سلام، ماشین لباسشویی‌ام هنوز چکه می‌کند');
  assert.equal(web.session.verification_sent, true);
  const own = customerOf(web.conv);
  assert.notEqual(own, narges.customer);
  // One code per visitor in a while: giving the address again mails nothing.
  web.c.send({ type: 'contact', email: 'narges@example.com' });
  assert.equal((await web.c.next((f) => f.type === 'contact_saved')).verification_sent, undefined);

  const { mail, code } = await verificationCode('narges@example.com');
  assert.equal((await mailsTo('narges@example.com')).filter((m) => m.subject === mail.subject).length, 1);
  // The code, where to type it, never to give it to anyone; nothing to open.
  assert.match(mail.text, /type this code into that chat/);
  assert.match(mail.text, /never give it to anyone: our staff will never ask you for it/);
  assert.match(mail.text, /If you did not ask for it, ignore this email/);
  assert.doesNotMatch(mail.text, /https?:|\/webchat\/verify\//);
  assert.doesNotMatch(redisCli('HGETALL', `pasokh:webchat:verify_code:web:${web.visitor}`), new RegExp(code), 'kept as a hash');

  // The same code typed in another visitor's chat does nothing there.
  const other = await visitor(undefined, undefined, 'hi');
  assert.equal((await typesCode(other.c, code)).code, 'code_expired');
  assert.notEqual(customerOf(other.conv), narges.customer);
  assert.equal(customerOf(web.conv), own);
  other.c.close();
  // Not six digits: said so, nothing used up.
  assert.equal((await typesCode(web.c, '12345')).code, 'bad_code');

  // Persian digits, as a phone keyboard types them.
  const persian = code.replace(/\d/g, (d) => '۰۱۲۳۴۵۶۷۸۹'[d]);
  assert.equal((await typesCode(web.c, persian)).type, 'email_verified');
  assert.equal(customerOf(web.conv), narges.customer, 'the chat is in Narges\'s file now');
  const f = await file(narges.customer, ali);
  assert.deepEqual(f.customer.identities.map((i) => i.channel).sort(), ['mail', 'web']);
  assert.deepEqual(f.conversations.map((c) => c.id).sort(), [narges.conv, web.conv].sort());
  assert.deepEqual(f.customer.merges.map((x) => [x.from, x.by]), [[own, 'customer:verified_email']], 'an agent can undo it');
  // The open chat gets the agent's replies (before the visitor writes again).
  const agent = await agentSocket(gw, ali);
  agent.send({ type: 'reply', conv: web.conv, client_id: 'narges-r1', text: 'Narges, a technician is on the way' });
  await web.c.next((f) => f.type === 'event' && f.message?.text === 'Narges, a technician is on the way', 10000);
  agent.close();
  // The chat goes on in that file.
  assert.equal((await says(web.c, 'ممنون')).conv, web.conv);

  // Used once.
  assert.equal((await typesCode(web.c, code)).code, 'code_expired');
  assert.deepEqual((await file(narges.customer)).customer.merges.length, 1);

  // Narges on her phone, who wrote there first: typing the code there merges
  // that chat too, and the phone then shows her chat from the computer.
  const phone = await visitor('narges@example.com', 'Narges', 'از گوشی می‌نویسم');
  assert.notEqual(customerOf(phone.conv), narges.customer);
  assert.deepEqual(await replayed(phone.session.token), ['از گوشی می‌نویسم'], 'before: only its own chat');
  const second = await verificationCode('narges@example.com', { mail });
  assert.equal((await typesCode(phone.c, second.code)).type, 'email_verified');
  assert.equal(customerOf(phone.conv), narges.customer);
  assert.ok((await replayed(phone.session.token)).includes('Narges, a technician is on the way'), 'the earlier chat replayed');
  phone.c.close();
  web.c.close();
});

test('a stranger who types a customer\'s address sees nothing of theirs, whatever the owner does with the mail', async () => {
  // The victim mailed the shop, then chatted on its website (an agent joined the two).
  const hoda = (await mailed('Hoda <hoda@example.com>', 'order 5521', 'Where is order 5521?')).customer;
  const victim = await visitor(undefined, undefined, 'Order 5521 please, to 12 Elm Street');
  const merged = await call('POST', `/api/v1/customers/${hoda}/merge`, ali, { from: customerOf(victim.conv) });
  assert.equal(merged.status, 200, merged.text);
  assert.equal(customerOf(victim.conv), hoda);

  // A stranger types her address into the chat on another computer.
  const stranger = await visitor('hoda@example.com', 'Hoda', 'hi, my earlier order?');
  assert.equal(stranger.session.verification_sent, true);
  const mail = await sink.waitFor((x) => x.to?.[0]?.address === 'hoda@example.com' && x.subject === 'Confirm your email address',
    'the mail to Hoda');
  // Hoda, who chatted recently, has nothing to confirm away from the chat:
  // the mail links nowhere (a link she confirmed is what let a stranger in).
  // Nobody types the code.
  assert.doesNotMatch(mail.text, /https?:/, 'no link to open');
  assert.notEqual(customerOf(stranger.conv), hoda);
  const seen = await replayed(stranger.session.token);
  assert.deepEqual(seen, ['hi, my earlier order?'], 'nothing of Hoda\'s chat');
  const agent = await agentSocket(gw, ali);
  agent.send({ type: 'reply', conv: victim.conv, client_id: 'hoda-r1', text: 'Hoda, 5521 leaves today' });
  await victim.c.next((f) => f.type === 'event' && f.message?.text === 'Hoda, 5521 leaves today', 3000);
  agent.close();
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(stranger.c.frames.some((f) => f.type === 'event' && f.message?.text === 'Hoda, 5521 leaves today'), false);
  assert.deepEqual((await file(customerOf(stranger.conv))).customer.suggestions.map((x) => x.reason), ['typed_email']);
  // A link mailed before codes: a page that says to ask for a code in the chat; it links nothing.
  const old = await fetch(`${gw.base}/webchat/verify/${'A'.repeat(43)}`, { method: 'POST', headers: { 'accept-language': 'fa-IR,fa' } });
  assert.equal(old.status, 410);
  assert.match(await old.text(), /کد/);
  assert.notEqual(customerOf(stranger.conv), hoda);
  victim.c.close();
  stranger.c.close();
});

test('five wrong codes make the code void, the right one too; ten in a day and the address gets no more codes', async () => {
  const before = await wrongCodes();
  const web = await visitor('guess@example.org', 'Guesser', 'hello');
  const { code } = await verificationCode('guess@example.org');
  const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
  for (const left of [4, 3, 2, 1, 0]) {
    const answer = await typesCode(web.c, wrong);
    assert.deepEqual([answer.code, answer.tries_left], ['wrong_code', left]);
  }
  assert.equal(await wrongCodes(), before + 5);
  assert.equal((await typesCode(web.c, code)).code, 'code_expired', 'void: the right one too');
  assert.equal(redisCli('GET', 'pasokh:key:email:guess@example.org'), '');
  // Wrong codes count against the address for a day: past ten it is mailed no
  // more codes, so guessing cannot go on day after day with new visitors.
  const wrongKey = 'pasokh:webchat:verify_wrong:guess@example.org';
  assert.equal(redisCli('GET', wrongKey), '5');
  const ttl = Number(redisCli('TTL', wrongKey));
  assert.ok(ttl > 86000 && ttl <= 86400, `counted for a day: ${ttl} s`);
  redisCli('SET', wrongKey, '9', 'KEEPTTL');
  const ninth = await visitor('guess@example.org', 'Guesser', 'hi');
  assert.equal(ninth.session.verification_sent, true, 'nine wrong codes: a code still goes');
  redisCli('SET', wrongKey, '10', 'KEEPTTL');
  const tenth = await visitor('guess@example.org', 'Guesser again', 'hello again');
  assert.equal(tenth.session.verification_sent, undefined, 'ten: no more codes today');
  ninth.c.close();
  tenth.c.close();
  web.c.close();
});

test('an address nobody holds is not claimed by typing it; an expired code does nothing; the right one links', async () => {
  // A visitor types an address nobody holds: it stays unclaimed, and its
  // owner's mail later goes to a file of its own.
  const web = await visitor('owner@example.org', 'Not the owner', 'hello');
  const own = customerOf(web.conv);
  assert.equal(redisCli('GET', 'pasokh:key:email:owner@example.org'), '');
  const owner = await mailed('owner@example.org', 'my order', 'where is my order?');
  assert.notEqual(owner.customer, own, 'the owner\'s mail is not in the visitor\'s file');

  // The code, expired (30 minutes in Redis), does nothing.
  const expired = await verificationCode('owner@example.org');
  assert.equal(redisCli('PEXPIRE', `pasokh:webchat:verify_code:web:${web.visitor}`, '1'), '1');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal((await typesCode(web.c, expired.code)).code, 'code_expired');
  assert.equal(customerOf(web.conv), own);
  assert.equal(redisCli('GET', 'pasokh:key:email:owner@example.org'), owner.customer);

  // Typed by a visitor who already wrote: the address becomes their file's key.
  const lina = await visitor('lina@example.org', 'Lina', 'سلام');
  assert.equal(redisCli('GET', 'pasokh:key:email:lina@example.org'), '');
  assert.equal((await typesCode(lina.c, (await verificationCode('lina@example.org')).code)).type, 'email_verified');
  const linaFile = customerOf(lina.conv);
  assert.equal(redisCli('GET', 'pasokh:key:email:lina@example.org'), linaFile);
  assert.equal((await mailed('lina@example.org', 'hi', 'Lina by mail')).customer, linaFile, 'her mail joins her chat\'s file');

  // Typed before the visitor writes: their first message links.
  const omid = await visitor('omid@example.org', 'Omid');
  assert.equal((await typesCode(omid.c, (await verificationCode('omid@example.org')).code)).type, 'email_verified');
  const first = await says(omid.c, 'hello, Omid here');
  assert.equal(redisCli('GET', 'pasokh:key:email:omid@example.org'), customerOf(first.conv));
  for (const c of [web.c, lina.c, omid.c]) c.close();
});

test('a web chat visitor who gives a name after writing is found by it in search', async () => {
  const web = await visitor(undefined, undefined, 'سلام، کمک لازم دارم');
  const id = customerOf(web.conv);
  // The new file is indexed with its conversation first; the name then changes a known file.
  await waitUntil(() => redisCli('HGET', 'pasokh:search:terms', id) !== '', 'the file indexed');
  const finds = async (q) => (await call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`, boss)).json.customers
    .some((c) => c.id === id);
  assert.equal(await finds('tabrizi'), false);
  web.c.send({ type: 'contact', email: '', name: 'Kaveh Tabrizi' });
  await web.c.next((f) => f.type === 'contact_saved');
  await waitUntil(() => finds('tabrizi'), 'the file found by the name given later');
  web.c.close();
});

test('an imported phone in Persian digits and a WhatsApp number are one customer, with the purchases', async () => {
  const imported = await call('POST', '/api/v1/admin/customers/import', boss, [{
    phone: '۰۹۱۲ ۳۴۵ ۶۷۸۹', email: 'Reza@Example.org', name: 'رضا کریمی', language: 'fa',
    order_id: 'ORD-77', product: 'یخچال', serial: 'SN-7700', purchase_date: '2025-03-01', warranty_end: '2099-03-01',
  }]);
  assert.equal(imported.status, 200, imported.text);
  assert.deepEqual(imported.json.errors, []);
  const reza = imported.json.customers[0];
  assert.equal(redisCli('GET', 'pasokh:key:phone:989123456789'), reza);

  const res = await postWhatsApp(gw, waText('989123456789', 'سلام، یخچالم خراب شده', { name: 'Reza' }));
  assert.equal(res.status, 200, res.text);
  const conv = await waitUntil(() => redisCli('LRANGE', `pasokh:cust:${reza}:conversations`, '0', '-1'), 'the WhatsApp conversation');
  assert.equal(redisCli('HGET', `pasokh:conv:${conv}`, 'channel'), 'wa');
  const f = await file(reza);
  assert.deepEqual(f.customer.identities.map((i) => `${i.channel}:${i.external_id}`), ['wa:989123456789']);
  const purchases = (await call('GET', `/api/v1/customers/${reza}/purchases`, ali)).json.purchases;
  assert.deepEqual(purchases.map((p) => p.serial), ['SN-7700'], 'the agent sees the imported purchase');

  // A mail from the imported address joins too.
  assert.equal((await mail('reza@example.org', 'fridge', 'the fridge again')).status, 200);
  await waitUntil(() => redisCli('LLEN', `pasokh:cust:${reza}:conversations`) === '2', 'the mail conversation');
  // Re-importing the same phone as a national number finds the same file.
  const again = await call('POST', '/api/v1/admin/customers/import', boss, [{ phone: '+98 912 345 6789', tags: 'gold' }]);
  assert.deepEqual(again.json.customers, [reza]);
  assert.equal(again.json.customers_created, 0);
});

test('merge moves everything into one file; undo gives the second file back exactly', async () => {
  // Nima on two channels: the same two-word name in the same language is a suggestion, not a link.
  const a1 = await writes('nima-api', 'سلام، گوشی‌ام روشن نمی‌شود', { name: 'نیما رحیمی', language: 'fa' });
  const b1 = await writes('nima-shop', 'سلام، شارژر را کی می‌فرستید؟', { channel: 'shop', name: 'نيما رحيمي', language: 'fa' });
  const A = a1.customer_id, B = b1.customer_id;
  assert.notEqual(A, B);
  const before = await file(A, ali);
  assert.deepEqual(before.customer.suggestions.map((s) => [s.customer, s.reason]), [[B, 'same_name']]);
  assert.deepEqual(before.customer.suggestions[0].identities.map((i) => i.channel), ['shop']);

  // B's file: a purchase, tags, notes, opted out.
  assert.equal((await call('POST', `/api/v1/customers/${B}/purchases`, boss,
    [{ order_id: 'ORD-B', product: 'Charger', serial: 'SN-B1', purchase_date: '2025-01-01' }])).status, 200);
  assert.equal((await call('POST', `/api/v1/customers/${A}/purchases`, boss,
    [{ order_id: 'ORD-A', product: 'Phone', serial: 'SN-A1', purchase_date: '2025-01-02' }])).status, 200);
  assert.equal((await call('PATCH', `/api/v1/customers/${B}`, ali, { tags: ['wholesale'], notes: 'prefers mornings' })).status, 200);
  assert.equal((await call('PATCH', `/api/v1/customers/${A}`, ali, { tags: ['gold'] })).status, 200);
  await writes('nima-shop', 'لغو', { channel: 'shop', name: 'نيما رحيمي' });
  assert.equal(redisCli('HGET', `pasokh:cust:${B}`, 'opt_out'), '1');
  const bConvs = redisCli('LRANGE', `pasokh:cust:${B}:conversations`, '0', '-1').split('\n');
  const aConvs = redisCli('LRANGE', `pasokh:cust:${A}:conversations`, '0', '-1').split('\n');

  // Refusals: no token, itself, unknown customer.
  assert.equal((await call('POST', `/api/v1/customers/${A}/merge`, null, { from: B })).status, 401);
  assert.equal((await call('POST', `/api/v1/customers/${A}/merge`, ali, { from: A })).status, 400);
  assert.equal((await call('POST', `/api/v1/customers/${A}/merge`, ali, { from: 'cu_9999' })).status, 404);

  const agent = await agentSocket(gw, ali);
  const merged = await call('POST', `/api/v1/customers/${A}/merge`, ali, { from: B });
  assert.equal(merged.status, 200, merged.text);
  assert.equal(merged.json.conversations_moved, bConvs.length);
  // The other consoles see the conversation change hands, live.
  const live = await agent.next((f) => f.type === 'event' && f.event === 'customer' && f.conv === b1.conversation_id);
  assert.equal(live.conversation.customer_id, A);
  assert.equal(live.from, B);

  const m = await file(A, ali);
  assert.deepEqual(m.customer.identities.map((i) => `${i.channel}:${i.external_id}`).sort(), ['api:nima-api', 'shop:nima-shop']);
  assert.deepEqual(m.conversations.map((c) => c.id), [...aConvs, ...bConvs].sort((x, y) => x.slice(3) - y.slice(3)));
  assert.deepEqual(m.customer.tags, ['gold', 'wholesale']);
  assert.equal(m.customer.opt_out, true, 'a customer who said stop stays opted out');
  assert.equal(m.customer.notes, 'prefers mornings');
  assert.deepEqual(m.customer.suggestions, []);
  assert.deepEqual(m.customer.merges.map((x) => [x.id, x.from, x.by]), [[merged.json.merge_id, B, aliId]]);
  assert.deepEqual((await call('GET', `/api/v1/customers/${A}/purchases`, ali)).json.purchases.map((p) => p.serial).sort(), ['SN-A1', 'SN-B1']);
  assert.equal(redisCli('GET', 'pasokh:serial:SN-B1'), A);
  assert.equal((await file(B)).customer.merged_into, A);
  assert.equal((await call('POST', `/api/v1/customers/${A}/merge`, boss, { from: B })).status, 409, 'B is merged already');

  // After the merge: B's identity writes into A; a conversation opened now stays with A.
  const conv = b1.conversation_id;
  assert.equal((await call('POST', `/api/v1/conversations/${conv}/resolve`, boss, {})).status < 300, true);
  const later = await writes('nima-shop', 'یک سوال دیگر', { channel: 'shop', name: 'نيما رحيمي' });
  assert.equal(later.customer_id, A);
  assert.ok(!bConvs.includes(later.conversation_id));

  const undo = await call('POST', `/api/v1/customers/${A}/merges/${merged.json.merge_id}/undo`, ali);
  assert.equal(undo.status, 200, undo.text);
  assert.equal(undo.json.restored, B);
  const a2 = await file(A, ali), b2 = await file(B);
  assert.deepEqual(a2.customer.identities.map((i) => `${i.channel}:${i.external_id}`), ['api:nima-api']);
  assert.deepEqual(b2.customer.identities.map((i) => `${i.channel}:${i.external_id}`), ['shop:nima-shop']);
  assert.deepEqual(redisCli('LRANGE', `pasokh:cust:${B}:conversations`, '0', '-1').split('\n'), bConvs);
  assert.deepEqual(redisCli('LRANGE', `pasokh:cust:${A}:conversations`, '0', '-1').split('\n'), [...aConvs, later.conversation_id]);
  for (const c of bConvs) assert.equal(customerOf(c), B);
  assert.equal(customerOf(later.conversation_id), A, 'opened after the merge: stays with A');
  assert.deepEqual(a2.customer.tags, ['gold']);
  assert.equal(a2.customer.opt_out, false);
  assert.equal(a2.customer.notes, '');
  assert.deepEqual(b2.customer.tags, ['wholesale']);
  assert.equal(b2.customer.opt_out, true);
  assert.equal(b2.customer.merged_into, undefined);
  assert.deepEqual(a2.customer.merges, []);
  assert.deepEqual((await call('GET', `/api/v1/customers/${A}/purchases`, ali)).json.purchases.map((p) => p.serial), ['SN-A1']);
  assert.deepEqual((await call('GET', `/api/v1/customers/${B}/purchases`, boss)).json.purchases.map((p) => p.serial), ['SN-B1']);
  assert.equal(redisCli('GET', 'pasokh:serial:SN-B1'), B);
  assert.equal(redisCli('GET', 'pasokh:ident:shop:nima-shop'), B);
  // B's identity writes into B again; the pair is not suggested again; the undo is done once.
  assert.equal((await writes('nima-shop', 'باز هم سلام', { channel: 'shop', name: 'نيما رحيمي' })).customer_id, B);
  assert.deepEqual(a2.customer.suggestions, []);
  assert.equal((await call('POST', `/api/v1/customers/${A}/merges/${merged.json.merge_id}/undo`, ali)).status, 409);
  const events = redisCli('XRANGE', 'pasokh:customer:events', '-', '+');
  assert.match(events, /"type":"merge"/);
  assert.match(events, /"type":"unmerge"/);
  agent.close();
});

test('a web chat open through a merge and its undo keeps getting the agent\'s replies, without a reload', async () => {
  // Vida on her phone (file A) and on her laptop (file B), both chats open.
  const phone = await visitor(undefined, undefined, 'my blender is broken');
  const web = await visitor(undefined, undefined, 'is my blender under warranty?');
  const A = customerOf(phone.conv), B = customerOf(web.conv);
  const agent = await agentSocket(gw, ali);
  const replyArrives = async (chat, text) => {
    const clientId = `r-${randomUUID()}`;
    agent.send({ type: 'reply', conv: chat.conv, client_id: clientId, text });
    await agent.next((f) => f.type === 'ack' && f.client_id === clientId);
    await chat.c.next((f) => f.type === 'event' && f.message?.text === text, 10000);
  };
  await replyArrives(web, 'before the merge');

  const merged = await call('POST', `/api/v1/customers/${A}/merge`, ali, { from: B });
  assert.equal(merged.status, 200, merged.text);
  await replyArrives(web, 'after the merge');
  const undo = await call('POST', `/api/v1/customers/${A}/merges/${merged.json.merge_id}/undo`, ali);
  assert.equal(undo.status, 200, undo.text);
  await replyArrives(web, 'after the undo');
  // The phone stays with its own file: its replies still come.
  await replyArrives(phone, 'to the phone after the undo');
  agent.close();
  web.c.close();
  phone.c.close();
});

test('an address written in a message suggests a merge; an agent dismisses it for good', async () => {
  const owner = (await writes('mina-1', 'hi', { name: 'Mina' })).customer_id;
  const imported = await call('POST', `/api/v1/admin/customers/import`, boss, [{ customer_id: owner, email: 'mina@example.com' }]);
  assert.deepEqual(imported.json.errors, []);
  const other = (await writes('mina-2', 'my email is MINA@example.com, phone ۰۹۱۲۰۰۰۱۱۲۲', { channel: 'shop', name: 'M' })).customer_id;
  const s = (await file(other, ali)).customer.suggestions;
  assert.deepEqual(s.map((x) => [x.customer, x.reason, x.value]), [[owner, 'mentioned_email', 'mina@example.com']]);
  assert.equal((await call('POST', `/api/v1/customers/${other}/suggestions/${owner}/dismiss`, ali)).status, 200);
  assert.deepEqual((await file(other, ali)).customer.suggestions, []);
  assert.deepEqual((await file(owner, ali)).customer.suggestions, []);
  await writes('mina-2', 'again: mina@example.com', { channel: 'shop', name: 'M' });
  assert.deepEqual((await file(other, ali)).customer.suggestions, [], 'dismissed is final');
});

test('a suggestion naming a file of another team shows its details only to those who may open that file', async () => {
  const vip = (await writes('vip-1', 'hello', { channel: 'vipshop', name: 'Very Important Parisa' })).customer_id;
  const imported = await call('POST', `/api/v1/admin/customers/import`, boss, [{ customer_id: vip, email: 'parisa@example.com', phone: '+989121234567' }]);
  assert.deepEqual(imported.json.errors, []);
  const mentioner = (await writes('sup-1', 'my friend parisa@example.com told me about you', { name: 'Nima' })).customer_id;
  // Ali of support may not open the VIP file: nothing of it reaches him.
  const seen = await file(mentioner, ali);
  assert.deepEqual(seen.customer.suggestions, []);
  assert.ok(!JSON.stringify(seen).includes('Parisa') && !JSON.stringify(seen).includes('+989121234567'));
  const admin = (await file(mentioner, boss)).customer.suggestions;
  assert.deepEqual(admin.map((x) => [x.customer, x.name, x.reason]), [[vip, 'Very Important Parisa', 'mentioned_email']]);
});
