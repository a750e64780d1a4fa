// Files a web chat customer sends (a photo of the fault, the invoice as a
// PDF): uploaded with the visitor's token, sent in a message by id, opened by
// the agents of the conversation's team only, by the visitor themselves, and
// erased with the customer. Against real Redis and pasokh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  Pasokh, RedisServer, TEAMS_WITH_VIP, agentSocket, apiCall, connectionReset, defaultConfig, login, monitorCounts, overSlowLink,
  postsWhile, sleep, waitFor,
} from '../support/harness.mjs';
import { chatSocket, newVisitor } from './webchat_support.mjs';
import { metric, redisCli as cli } from './messenger_support.mjs';

const SECRET = { PASOKH_WEBCHAT_SECRET: 'uploads-test-webchat-secret-0123456789' };
const SHOP = 'https://shop.example.com';  // the page the widget is on
let redis, gw, sara, omid, boss;

// The first bytes are what counts; the rest is made up.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF fault photo of the heater, serial SN-4471')]);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    webchat: { max_upload_bytes: 4096, uploads_per_hour: 5 },
    routing: { teams: TEAMS_WITH_VIP },
    channels: [{ id: 'web', kind: 'webchat', team: 'support', provider: { allowed_origins: [SHOP] } }],
  }), SECRET).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  await gw.createAgent('omid', 'omid-secret-1', { name: 'Omid', team: 'vip' });
  await gw.createAgent('boss', 'boss-secret-1', { name: 'Boss', role: 'admin' });
  sara = (await login(gw, 'sara', 'sara-secret-1')).json.token;
  omid = (await login(gw, 'omid', 'omid-secret-1')).json.token;
  boss = (await login(gw, 'boss', 'boss-secret-1')).json.token;
});

after(async () => {
  await gw?.cleanup();
  await redis?.cleanup();
});

const redisCli = (...args) => cli(redis, ...args);

// The Content-Type says image/jpeg whatever the bytes are: the server looks at the bytes.
function upload(token, bytes, name = 'photo.jpg', type = 'image/jpeg') {
  return fetch(`${gw.base}/api/v1/webchat/uploads?name=${encodeURIComponent(name)}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: bytes,
  });
}

const asAgent = (token, id) => fetch(`${gw.base}/api/v1/attachments/${id}`, { headers: { authorization: `Bearer ${token}` } });
const asVisitor = (token, id) => fetch(`${gw.base}/api/v1/webchat/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });

const uploadCount = (outcome) => metric(gw, `pasokh_webchat_uploads_total{outcome="${outcome}"} `);

test('a photo the customer attaches reaches the agents of the team as the same bytes; another team gets 403, the customer sees it in their chat', async () => {
  const token = await newVisitor(gw);
  const accepted = await uploadCount('accepted');
  const res = await upload(token, JPEG, 'خرابی بخاری.jpg');
  assert.equal(res.status, 201);
  const file = await res.json();
  assert.match(file.id, /^att_/);
  assert.deepEqual({ ...file, id: undefined }, { id: undefined, name: 'خرابی بخاری.jpg', mime_type: 'image/jpeg', kind: 'image', size: JPEG.length });
  assert.equal(await uploadCount('accepted'), accepted + 1);
  // Not sent yet: no agent may open it, not even an admin.
  assert.equal((await asAgent(boss, file.id)).status, 403);

  const agent = await agentSocket(gw, sara);
  const chat = await chatSocket(gw, token, { until: 'synced' });
  chat.send({ type: 'message', client_id: 'c-photo-1', text: 'the heater shows E4', uploads: [file.id] });
  const ack = await chat.next((f) => f.type === 'ack' && f.client_id === 'c-photo-1');
  const own = await chat.next((f) => f.type === 'event' && f.event === 'message' && f.message.client_id === 'c-photo-1');
  assert.deepEqual(own.message.attachments, [{ id: file.id, name: 'خرابی بخاری.jpg', mime_type: 'image/jpeg', size: JPEG.length, kind: 'image' }]);

  const ev = await agent.next((f) => f.type === 'event' && f.conv === ack.conv && f.event === 'message');
  assert.equal(ev.message.text, 'the heater shows E4');
  assert.deepEqual(ev.message.attachments, [{ kind: 'image', name: 'خرابی بخاری.jpg', mime_type: 'image/jpeg', size: JPEG.length, provider_ref: file.id }]);
  const got = await asAgent(sara, file.id);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), JPEG);
  assert.equal((await asAgent(omid, file.id)).status, 403, 'another team');

  // The customer gets their own file back; nobody else's token does.
  const mine = await asVisitor(token, file.id);
  assert.equal(mine.status, 200);
  assert.deepEqual(Buffer.from(await mine.arrayBuffer()), JPEG);
  assert.equal((await asVisitor(await newVisitor(gw), file.id)).status, 404);
  assert.equal((await asVisitor('w1.forged.token', file.id)).status, 401);

  // A file alone, without words; a resend of the same message is the same message.
  const pdf = await (await upload(token, Buffer.from('%PDF-1.7 invoice 1403-77'), 'invoice.pdf', 'application/pdf')).json();
  assert.equal(pdf.mime_type, 'application/pdf');
  chat.send({ type: 'message', client_id: 'c-invoice', text: '', uploads: [pdf.id] });
  const first = await chat.next((f) => f.type === 'ack' && f.client_id === 'c-invoice');
  chat.send({ type: 'message', client_id: 'c-invoice', text: '', uploads: [pdf.id] });
  const again = await chat.next((f) => f.type === 'ack' && f.client_id === 'c-invoice');
  assert.equal(again.duplicate, true);
  assert.equal(again.seq, first.seq);
  assert.equal((await asAgent(sara, pdf.id)).status, 200);
  agent.close();
  chat.close();
});

test('uploads refused: too large (413), not a photo or PDF whatever its name and type say (415), another visitor\'s or an already sent upload in a message', async () => {
  const token = await newVisitor(gw);
  const [large, wrong] = [await uploadCount('too_large'), await uploadCount('unsupported_type')];
  const big = await upload(token, Buffer.concat([JPEG, Buffer.alloc(5000)]));
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, 'body_too_large');
  const exe = await upload(token, EXE, 'photo.jpg', 'image/jpeg');
  assert.equal(exe.status, 415);
  assert.equal((await exe.json()).error.code, 'unsupported_type');
  assert.equal(await uploadCount('too_large'), large + 1);
  assert.equal(await uploadCount('unsupported_type'), wrong + 1);
  assert.equal((await fetch(`${gw.base}/api/v1/webchat/uploads`, { method: 'POST', body: JPEG })).status, 401);

  // Someone else's upload id: refused, nothing stored.
  const theirs = await (await upload(await newVisitor(gw), JPEG)).json();
  const chat = await chatSocket(gw, token, { until: 'synced' });
  chat.send({ type: 'message', client_id: 'c-steal', text: 'look', uploads: [theirs.id] });
  const refused = await chat.next((f) => f.type === 'error' && f.client_id === 'c-steal');
  assert.equal(refused.code, 'bad_upload');
  // One's own, sent once: not again in another message.
  const mine = await (await upload(token, JPEG)).json();
  chat.send({ type: 'message', client_id: 'c-mine', text: 'mine', uploads: [mine.id] });
  await chat.next((f) => f.type === 'ack' && f.client_id === 'c-mine');
  chat.send({ type: 'message', client_id: 'c-mine-again', text: 'again', uploads: [mine.id] });
  assert.equal((await chat.next((f) => f.type === 'error' && f.client_id === 'c-mine-again')).code, 'bad_upload');
  chat.close();
});

test('a file over the limit from the shop\'s page: the browser may read the 413 (CORS), so the widget says "too large", not "not sent"', async () => {
  const token = await newVisitor(gw);
  // Larger than the socket buffers: refused from its Content-Length, unread.
  const body = Buffer.concat([JPEG, Buffer.alloc(1 << 20)]);
  const send = (origin) => fetch(`${gw.base}/api/v1/webchat/uploads?name=big.jpg`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', origin }, body,
  });
  const big = await send(SHOP);
  assert.equal(big.status, 413);
  assert.equal(big.headers.get('access-control-allow-origin'), SHOP);
  // The widget on the shop's page may read Retry-After (after a 503 busy or a 429).
  assert.equal(big.headers.get('access-control-expose-headers'), 'Retry-After');
  assert.equal((await big.json()).error.code, 'body_too_large');
  // A site the channel does not allow reads nothing.
  const elsewhere = await send('https://evil.example');
  assert.equal(elsewhere.status, 413);
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  // The route's own refusals too: a token that is not valid.
  const forged = await fetch(`${gw.base}/api/v1/webchat/uploads`, { method: 'POST', headers: { authorization: 'Bearer w1.x.y', origin: SHOP }, body: JPEG });
  assert.equal(forged.status, 401);
  assert.equal(forged.headers.get('access-control-allow-origin'), SHOP);
});

test('uploads per visitor are limited per hour (429)', async () => {
  const token = await newVisitor(gw);
  for (let i = 0; i < 5; i++) assert.equal((await upload(token, JPEG)).status, 201);
  const over = await upload(token, JPEG);
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers.get('retry-after')) > 0);
});

test('erasing the customer deletes their uploads, sent in a message or not', async () => {
  const token = await newVisitor(gw);
  const sent = await (await upload(token, JPEG)).json();
  const unsent = await (await upload(token, JPEG)).json();
  const chat = await chatSocket(gw, token, { until: 'synced' });
  chat.send({ type: 'message', client_id: 'c-erase', text: 'my serial label', uploads: [sent.id] });
  const ack = await chat.next((f) => f.type === 'ack' && f.client_id === 'c-erase');
  chat.close();
  const customer = await redisCli('HGET', `pasokh:conv:${ack.conv}`, 'customer_id');
  const done = await apiCall(gw, 'POST', `/api/v1/admin/customers/${customer}/erase`, { token: boss, body: { confirm: customer } });
  assert.equal(done.status, 200, done.text);
  for (const id of [sent.id, unsent.id]) {
    assert.equal(await redisCli('EXISTS', `pasokh:attachment:${id}`), '0', id);
    assert.equal(await redisCli('EXISTS', `pasokh:attachment:${id}:content`), '0', `${id}'s bytes`);
  }
  assert.equal((await asAgent(boss, sent.id)).status, 404);
});

test('a file that arrives slowly (a phone on a slow line) is taken while its pieces keep coming, past the request read timeout', async () => {
  const slow = await new Pasokh(defaultConfig(redis, {
    limits: { read_timeout_ms: 1000 },
    webchat: { max_upload_bytes: 4096 },
    channels: [{ id: 'web', kind: 'webchat', team: 'support' }],
  }), SECRET).start();
  try {
    const token = await newVisitor(slow);
    const photo = Buffer.concat([JPEG, Buffer.alloc(4000 - JPEG.length, 0x41)]);
    const answer = await new Promise((resolve, reject) => {
      const req = http.request(`${slow.base}/api/v1/webchat/uploads?name=fault.jpg`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', 'content-length': photo.length },
      }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      // Five pieces 350 ms apart: 1.4 s in all, past the read timeout.
      (async () => {
        for (let i = 0; i < 5; i++) {
          if (i > 0) await sleep(350);
          req.write(photo.subarray(i * 800, (i + 1) * 800));
        }
        req.end();
      })();
    });
    assert.equal(answer.status, 201, answer.body);
    assert.match(JSON.parse(answer.body).id, /\S/);
  } finally {
    await slow.cleanup();
  }
});

// An upload whose headers are sent with only the first bytes of its body:
// the answer, if one comes before the rest (which never does), and the request to end.
function stalledUpload(g, headers) {
  let req;
  const answer = new Promise((resolve) => {
    req = http.request(`${g.base}/api/v1/webchat/uploads?name=big.jpg`, {
      method: 'POST', headers: { 'content-type': 'image/jpeg', 'content-length': 4000, ...headers },
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: body ? JSON.parse(body) : null }));
    });
    req.on('error', () => resolve({ status: 0 }));
    req.write(JPEG);
  });
  return { answer, stop: () => req.destroy() };
}
const within = (promise, ms) => Promise.race([promise, sleep(ms).then(() => ({ status: 'no answer' }))]);

test('an upload without a valid token is refused from its headers, before the body: a stranger holds no memory with it', async () => {
  const before = await uploadCount('unauthorized');
  for (const headers of [{}, { authorization: 'Bearer forged.token.value' }]) {
    const u = stalledUpload(gw, headers);
    const r = await within(u.answer, 3000);
    u.stop();
    assert.equal(r.status, 401, 'answered while the body is still on its way');
    assert.equal(r.body.error.code, 'unauthorized');
  }
  assert.equal(await uploadCount('unauthorized'), before + 2);
});

test('one address sends at most four files at a time; a fifth is told to wait (503), and a finished one frees its place', async () => {
  const token = await newVisitor(gw);
  const held = Array.from({ length: 4 }, () => stalledUpload(gw, { authorization: `Bearer ${token}` }));
  try {
    await sleep(300);  // the four are being read
    const busy = await uploadCount('busy');
    const fifth = stalledUpload(gw, { authorization: `Bearer ${token}` });
    const r = await within(fifth.answer, 3000);
    fifth.stop();
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, 'busy');
    assert.equal(await uploadCount('busy'), busy + 1);
    // One of the four finishes (its client goes): its place is free while three are still held.
    held[0].stop();
    const freed = async () => (await upload(await newVisitor(gw), JPEG)).status;
    let status;
    for (let i = 0; i < 20 && (status = await freed()) !== 201; i++) await sleep(100);
    assert.equal(status, 201);
  } finally {
    for (const h of held) h.stop();
  }
});

test('an upload no message names is kept an hour, not a month; one address may upload 30 files\' worth an hour, however many visitors it opens', async () => {
  const token = await newVisitor(gw);
  const file = await (await upload(token, JPEG)).json();
  const ttl = Number(redisCli('TTL', `pasokh:attachment:${file.id}`));
  assert.ok(ttl > 3500 && ttl <= 3600, `kept ${ttl} s`);

  // max_upload_bytes is 4096 here: 30 × 4096 bytes an hour from 127.0.0.1.
  // The counts are per clock hour: not started in the last 30 s of one.
  const intoHour = Date.now() % 3_600_000;
  if (intoHour > 3_570_000) await sleep(3_600_000 - intoHour + 500);
  const big = Buffer.concat([JPEG, Buffer.alloc(4000 - JPEG.length, 0x41)]);
  // What the address sent earlier in this hour counts too (the counter of an
  // hour that just ended may still be there: not that one).
  const hour = Math.floor(Date.now() / 3_600_000);
  const counter = redisCli('KEYS', `pasokh:webchat:upload_bytes:*:${hour}`).split('\n')[0];
  const room = 30 * 4096 - (counter ? Number(redisCli('GET', counter)) : 0);
  const statuses = [];
  for (let visitor = 0; visitor < 8 && !statuses.includes(429); visitor++) {
    const t = await newVisitor(gw);
    for (let i = 0; i < 4; i++) {
      const r = await upload(t, big);
      statuses.push(r.status);
      if (r.status === 429) {
        assert.match((await r.json()).error.message, /from this address/);
        break;
      }
    }
  }
  const accepted = statuses.filter((x) => x === 201).length;
  assert.equal(statuses.at(-1), 429, statuses.join(','));
  assert.equal(accepted, Math.floor(room / 4000), `${accepted} files of 4000 bytes taken`);
});

test('a 9 MB upload over a slow link to Redis holds no other traffic: stored a chunk a command before its 201, API posts meanwhile answer 201; the customer opens it whole', async (t) => {
  const config = (own) => {
    const c = defaultConfig(own, { webchat: { max_upload_bytes: 10 << 20, uploads_per_hour: 5 } });
    c.channels.push({ id: 'web', kind: 'webchat', team: 'support', provider: { allowed_origins: [SHOP] } });
    return c;
  };
  // 9 MB take 2.3 s at 4 MB/s, past command_timeout_ms (1 s).
  await overSlowLink({ bytesPerSecond: 4 << 20, config, env: SECRET }, async ({ redis: own, link, gw: g }) => {
    const token = await newVisitor(g);
    const photo = Buffer.concat([JPEG, Buffer.alloc((9 << 20) - JPEG.length, 0x42)]);
    const writes = await monitorCounts(own, /"APPEND" "pasokh:attachment_part:([^"]+)"/);
    let answered = null, posted;
    try {
      const started = Date.now();
      const sending = fetch(`${g.base}/api/v1/webchat/uploads?name=scan.jpg`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: photo,
      }).then(async (res) => { answered = { status: res.status, json: await res.json(), ms: Date.now() - started }; });
      await waitFor(() => answered || link.busiest() > 2 << 20, 'the upload being written', 20000);
      posted = await postsWhile(g, () => answered === null, 'during-upload');
      await sending;
      await writes.stop();
    } finally { writes.kill(); }
    const { posts, slowest, summary } = posted;
    t.diagnostic(`upload answered ${answered.status} in ${answered.ms} ms; meanwhile ${summary}`);
    assert.equal(answered.status, 201, JSON.stringify(answered.json));
    assert.ok(posts.length >= 5, `posts made while the upload was written (${posts.length})`);
    assert.deepEqual(posts.filter((p) => p.status !== 201), [], 'every post stored');
    // A post held behind the upload would wait most of its write.
    assert.ok(slowest < answered.ms / 3, `no post waited behind the upload (slowest ${slowest} ms of ${answered.ms} ms)`);
    assert.doesNotMatch(g.output, connectionReset, 'no connection reset');
    assert.equal(await metric(g, 'pasokh_redis_reconnects_total{connection="commands"}'), 0);

    const { id } = answered.json;
    const keys = (await cli(own, '--scan', '--pattern', 'pasokh:attachment*')).split('\n').filter(Boolean).sort();
    assert.deepEqual(keys, [`pasokh:attachment:${id}`, `pasokh:attachment:${id}:content`], 'its hash and its bytes; nothing staged left');
    assert.ok(writes.counts.get(id) >= Math.ceil(photo.length / (1 << 20)),
      `written a chunk a command: ${writes.counts.get(id)} APPENDs of ${id} (${JSON.stringify([...writes.counts])})`);
    const back = await fetch(`${g.base}/api/v1/webchat/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(back.status, 200);
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(photo), 'the whole file');
  });
});
