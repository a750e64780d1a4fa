// Pasokh's copies of Messenger and Instagram attachments (gateway/src/meta_media_copies.cpp):
// Meta's CDN URLs expire, so after the webhook is answered the gateway
// downloads each file (from a CDN stand-in here, its URLs signed with a query
// as Meta's are) and keeps it in Redis; the message is logged again naming
// the copies, which agents open through /api/v1/attachments/{id} once the
// CDN no longer serves them. Too big or gone files keep their URL and are
// counted; an erased conversation's copies go; a second gateway and a
// redelivery store one copy.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  Pasokh, RedisServer, agentSocket, apiCall, connectionReset, login, monitorCounts, overSlowLink, postsWhile, sleep,
} from '../support/harness.mjs';
import {
  SECRETS, FB_PAGE_ID, IG_ACCOUNT_ID, FakeProvider, messengerConfig, postMeta, metaMessaging, metaUnsend, newPsid, mid,
  redisCli, metric, waitUntil, fcall, monitored,
} from './messenger_support.mjs';

let redis, fake, cdn, gw, agent, sara, boss;
const SIGNATURE = 'oh=00_AfSECRETsignature0123';
const PHOTO = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 9)]);
const RECEIPT = Buffer.from('%PDF-1.4 receipt of order 4471');
const MAX_BYTES = 64 * 1024;

// Meta's CDN: serves what `files` holds (path -> { body, type } or a status), until the test takes it away.
// A test that must answer a path itself (late, never, or when it says) gives
// it a handler: handle(path, (req, res, serve) => ...) until the returned
// function is called; serve(res) answers as the CDN would.
function startCdn() {
  const files = new Map();
  const handlers = new Map();
  const seen = [];
  const serve = (pathname) => (res) => {
    const f = files.get(pathname);
    if (typeof f === 'number') { res.writeHead(f); return res.end(); }
    if (!f) { res.writeHead(403, { 'content-type': 'text/plain' }); return res.end('URL signature expired'); }
    res.writeHead(200, { 'content-type': f.type });
    res.end(f.body);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    seen.push(url.pathname);
    assert.ok(url.search.includes(SIGNATURE), 'the URL is fetched as Meta gave it');
    const answer = serve(url.pathname);
    const handler = handlers.get(url.pathname);
    return handler ? handler(req, res, answer) : answer(res);
  });
  const handle = (path, handler) => {
    handlers.set(path, handler);
    return () => handlers.delete(path);
  };
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    server, files, seen, handle, url: (p) => `http://127.0.0.1:${server.address().port}${p}?_nc_cat=1&${SIGNATURE}&oe=6A1B2C3D`,
  })));
}

// The CDN stand-in is plain http on 127.0.0.1: allowed here by config only (Meta's CDN hosts over https otherwise).
const MEDIA = { max_bytes: MAX_BYTES, timeout_ms: 3000, attempts: 2, retry_ms: 300, poll_ms: 50,
  hosts: ['127.0.0.1'], allow_plain_http_loopback: true };

before(async () => {
  redis = await new RedisServer().start();
  fake = await new FakeProvider().start();
  cdn = await startCdn();
  gw = await new Pasokh(messengerConfig(redis, fake, { meta_media: MEDIA }), SECRETS).start();
  await gw.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  sara = (await login(gw, 'sara', 'sara-secret-1')).json.token;
  agent = await agentSocket(gw, sara);
  boss = (await login(gw, 'boss', 'boss-secret-3')).json.token;
});
after(async () => {
  if (process.env.PASOKH_TEST_LOG) console.log(gw?.output);
  await agent?.close();
  await gw?.cleanup();
  fake?.stop();
  cdn?.server.close();
  await redis?.cleanup();
});
beforeEach(() => { agent.frames.length = 0; });

const messageEvent = (conv) => (f) => f.type === 'event' && f.event === 'message' && (!conv || f.conv === conv);
const copiesEvent = (conv) => (f) => messageEvent(conv)(f) && f.copies === true;
const attachment = (type, url) => ({ type, payload: { url } });

async function sendFiles(channel, attachments, { psid = newPsid(), id = mid(), text, echo = false, at = gw } = {}) {
  const [object, account] = channel === 'ig' ? ['instagram', IG_ACCOUNT_ID] : ['page', FB_PAGE_ID];
  const message = { mid: id, attachments, ...(text ? { text } : {}), ...(echo ? { is_echo: true, app_id: 1 } : {}) };
  const item = echo ? { sender: { id: account }, recipient: { id: psid }, timestamp: Date.now(), message }
    : { sender: { id: psid }, recipient: { id: account }, timestamp: Date.now(), message };
  const body = metaMessaging(object, account, [item]);
  const res = await postMeta(at, channel, body);
  assert.equal(res.status, 200, res.text);
  return { body, psid };
}

const fetchAs = (token, path, at = gw) => fetch(`${at.base}${path}`, { headers: { authorization: `Bearer ${token}` } });

test('a photo and a receipt PDF are copied after the webhook is answered; agents open the copies once the CDN URL has expired', async () => {
  cdn.files.set('/v/photo_1.jpg', { body: PHOTO, type: 'image/jpeg' });
  cdn.files.set('/v/t59/receipt%204471.pdf', { body: RECEIPT, type: 'application/pdf; charset=binary' });
  const photoUrl = cdn.url('/v/photo_1.jpg');
  const receiptUrl = cdn.url('/v/t59/receipt%204471.pdf');
  await sendFiles('fb', [attachment('image', photoUrl), attachment('file', receiptUrl)], { text: 'the screen is cracked' });
  const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'the screen is cracked');
  assert.deepEqual(first.message.attachments.map((a) => a.provider_ref), [photoUrl, receiptUrl], 'the URLs until the copies are made');

  const copied = await agent.next(copiesEvent(first.conv));
  assert.equal(copied.message.id, first.message.id, 'the same message, logged again');
  assert.equal(copied.message.seq, first.message.seq);
  assert.equal(copied.message.text, 'the screen is cracked');
  assert.equal(copied.edit, true);
  assert.equal(copied.message.edited_at, undefined, 'not shown as edited');
  const [photo, receipt] = copied.message.attachments;
  assert.match(photo.provider_ref, /^att_/);
  assert.deepEqual([photo.kind, photo.name, photo.mime_type, photo.size], ['image', 'photo_1.jpg', 'image/jpeg', PHOTO.length]);
  assert.deepEqual([receipt.kind, receipt.name, receipt.mime_type, receipt.size], ['file', 'receipt 4471.pdf', 'application/pdf', RECEIPT.length]);

  // The CDN forgets them (the URLs expired): the copies stay.
  cdn.files.clear();
  assert.equal((await fetch(photoUrl)).status, 403);
  const photoBytes = await fetchAs(sara, `/api/v1/attachments/${photo.provider_ref}`);
  assert.equal(photoBytes.status, 200);
  assert.equal(photoBytes.headers.get('content-type'), 'image/jpeg');
  assert.deepEqual(Buffer.from(await photoBytes.arrayBuffer()), PHOTO);
  const receiptBytes = await fetchAs(sara, `/api/v1/attachments/${receipt.provider_ref}`);
  assert.deepEqual(Buffer.from(await receiptBytes.arrayBuffer()), RECEIPT);
  assert.equal((await fetch(`${gw.base}/api/v1/attachments/${photo.provider_ref}`)).status, 401, 'only for agents');

  // Kept as the conversation's, with the attachments' retention, and named in the log for a reload.
  const key = `pasokh:attachment:${photo.provider_ref}`;
  assert.equal(redisCli(redis, 'HGET', key, 'conversation'), first.conv);
  assert.equal(redisCli(redis, 'HGET', key, 'channel'), 'fb');
  assert.ok(Number(redisCli(redis, 'TTL', key)) > 29 * 24 * 3600);
  assert.ok(Number(redisCli(redis, 'TTL', `${key}:content`)) > 29 * 24 * 3600, 'its bytes expire with it');
  assert.match(redisCli(redis, 'HGET', `pasokh:conv:${first.conv}:copies`, String(first.message.seq)), /att_/);
  assert.equal(await metric(gw, 'pasokh_meta_media_copies_total{channel="fb",outcome="copied"}'), 2);
  assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '0');
});

// Stored and queued in one script call: a gateway dying after the message is
// stored (the webhook answered next time as a duplicate) cannot leave its
// files to expire uncopied. A redelivery queues nothing new.
test('a message with files is queued for its copies by the ingest call that stores it: one FCALL per message, none for a redelivery', async () => {
  cdn.files.set('/v/atomic.jpg', { body: PHOTO, type: 'image/jpeg' });
  let first, body;
  const lines = await monitored(redis, async () => {
    ({ body } = await sendFiles('fb', [attachment('image', cdn.url('/v/atomic.jpg'))], { text: 'queued as stored' }));
    first = await agent.next((f) => messageEvent()(f) && f.message.text === 'queued as stored');
    await agent.next(copiesEvent(first.conv));
  });
  const member = `${first.conv}|${first.message.seq}`;
  const queuedAt = lines.findIndex((l) => l.includes('"ZADD" "pasokh:meta_media:due" "NX"') && l.includes(member));
  assert.ok(queuedAt > 0, 'queued');
  let callAt = queuedAt;
  while (callAt > 0 && / \[\d+ lua\] /.test(lines[callAt])) callAt--;
  assert.match(lines[callAt], /"FCALL" "ingest_[0-9a-f]+"/, 'by the script call that stored the message');
  assert.ok(lines[callAt].includes('queued as stored'));
  const calls = lines.filter((l) => /"FCALL" "ingest_|"FCALL" "meta_media_[0-9a-f]+" "0" "pasokh:" "queue"/.test(l));
  assert.equal(calls.length, 1, 'one FCALL for the message: no second one to queue its copies');

  // Meta delivers it again: a duplicate, nothing queued again, nothing fetched again.
  const fetches = cdn.seen.filter((p) => p === '/v/atomic.jpg').length;
  const again = await monitored(redis, async () => assert.equal((await postMeta(gw, 'fb', body)).status, 200));
  assert.equal(again.filter((l) => l.includes('pasokh:meta_media:due') && !/ZRANGE|ZCARD/.test(l)).length, 0, 'nothing queued');
  await sleep(300);
  assert.equal(cdn.seen.filter((p) => p === '/v/atomic.jpg').length, fetches);
  assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '0');
});

test('a file over meta_media.max_bytes and one the CDN no longer has keep their URL; each is counted and logged once, naming the host only', async () => {
  cdn.files.set('/v/big.mp4', { body: Buffer.alloc(MAX_BYTES + 1, 1), type: 'video/mp4' });
  cdn.files.set('/v/gone.jpg', 404);
  const big = cdn.url('/v/big.mp4'), gone = cdn.url('/v/gone.jpg');
  await sendFiles('ig', [attachment('video', big), attachment('image', gone)], { text: 'too big and gone' });
  const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'too big and gone');
  await waitUntil(async () => await metric(gw, 'pasokh_meta_media_copies_total{channel="ig",outcome="not_found"}') === 1 &&
    await metric(gw, 'pasokh_meta_media_copies_total{channel="ig",outcome="too_big"}') === 1, 'the failures counted');
  await waitUntil(() => redisCli(redis, 'ZCARD', 'pasokh:meta_media:due') === '0', 'the queue emptied');
  await sleep(200);
  assert.ok(!agent.frames.some(copiesEvent(first.conv)), 'nothing copied: the message keeps its URLs');
  assert.equal(redisCli(redis, 'HLEN', `pasokh:conv:${first.conv}:copies`), '0');
  assert.match(gw.output, /channel=ig conv=\S+ attachment not copied \(too_big\), the console keeps its URL: host 127\.0\.0\.1/);
  assert.match(gw.output, /attachment not copied \(not_found\).*host 127\.0\.0\.1/);
  assert.ok(!gw.output.includes('AfSECRETsignature'), 'the signature never reaches the log');
  assert.ok(!/big\.mp4|gone\.jpg/.test(gw.output), 'nor the path, which may carry the customer\'s file name');
});

test('a download that never ends is given up after meta_media.timeout_ms, tried again, then counted; the file keeps its URL', async () => {
  const hung = [];
  const restore = cdn.handle('/v/hangs.mp4', (req, res) => {
    hung.push(res);
    res.writeHead(200, { 'content-type': 'video/mp4' });
    res.write('the first bytes');  // and nothing more
  });
  try {
    const timeouts = await metric(gw, 'pasokh_meta_media_copies_total{channel="fb",outcome="timeout"}');
    await sendFiles('fb', [attachment('video', cdn.url('/v/hangs.mp4'))], { text: 'a video that hangs' });
    const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'a video that hangs');
    await waitUntil(async () => await metric(gw, 'pasokh_meta_media_copies_total{channel="fb",outcome="timeout"}') === timeouts + 1,
      'the timeout counted', 15000);
    assert.equal(hung.length, MEDIA.attempts, 'each attempt waited out its limit');
    assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '0');
    assert.equal(redisCli(redis, 'HLEN', `pasokh:conv:${first.conv}:copies`), '0');
    assert.match(gw.output, /attachment not copied \(timeout\).*host 127\.0\.0\.1/);
  } finally {
    for (const res of hung) res.destroy();
    restore();
  }
});

test('one file copied and one gone: the copy is named, the other keeps its URL', async () => {
  cdn.files.set('/v/ok.png', { body: Buffer.from('\x89PNG\r\n\x1a\nbytes'), type: 'image/png' });
  const ok = cdn.url('/v/ok.png'), gone = cdn.url('/v/missing.png');
  await sendFiles('fb', [attachment('image', ok), attachment('image', gone)], { text: 'one of two' });
  const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'one of two');
  const copied = await agent.next(copiesEvent(first.conv));
  assert.match(copied.message.attachments[0].provider_ref, /^att_/);
  assert.equal(copied.message.attachments[1].provider_ref, gone);
});

test('our own echoed attachments, shared links and locations are not copied', async () => {
  const before = cdn.seen.length;
  cdn.files.set('/v/echo.jpg', { body: PHOTO, type: 'image/jpeg' });
  const { psid } = await sendFiles('fb', [], { text: 'hello' });
  await agent.next((f) => messageEvent()(f) && f.message.text === 'hello');
  await sendFiles('fb', [attachment('image', cdn.url('/v/echo.jpg'))], { psid, echo: true });
  await sendFiles('fb', [{ type: 'fallback', title: 'a shop page', payload: { url: cdn.url('/v/shop-page') } },
    { type: 'location', payload: { coordinates: { lat: 35.7, long: 51.4 } } }], { psid, text: 'a link' });
  await agent.next((f) => messageEvent()(f) && f.message.text === 'a link');
  await sleep(300);
  assert.equal(cdn.seen.length, before, 'nothing fetched');
  assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '0');
});

test('an edit after the copy keeps the copies; erasing the customer removes them from Redis', async () => {
  cdn.files.set('/v/erase-me.jpg', { body: PHOTO, type: 'image/jpeg' });
  const id = mid(), psid = newPsid();
  const item = { sender: { id: psid }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(),
    message: { mid: id, text: 'my address is on the label', attachments: [attachment('image', cdn.url('/v/erase-me.jpg'))] } };
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [item]))).status, 200);
  const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'my address is on the label');
  const copied = await agent.next(copiesEvent(first.conv));
  const ref = copied.message.attachments[0].provider_ref;

  const edit = { sender: { id: psid }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), message_edit: { mid: id, text: 'edited text', num_edit: 1 } };
  assert.equal((await postMeta(gw, 'fb', metaMessaging('page', FB_PAGE_ID, [edit]))).status, 200);
  const edited = await agent.next((f) => messageEvent(first.conv)(f) && f.message.text === 'edited text');
  assert.equal(edited.message.attachments[0].provider_ref, ref, 'the edit names the copy, not the expired URL');

  const cust = first.conversation.customer_id;
  const erased = await apiCall(gw, 'POST', `/api/v1/admin/customers/${cust}/erase`, { token: boss, body: { confirm: cust } });
  assert.equal(erased.status, 200, erased.text);
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:attachment:${ref}`, `pasokh:attachment:${ref}:content`), '0', 'the copy is gone');
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:conv:${first.conv}:copies`), '0');
  assert.equal((await fetchAs(sara, `/api/v1/attachments/${ref}`)).status, 404);
});

// Holds the CDN's answer for `path` until release(); restore() puts the CDN back as it was.
function holdCdn(path) {
  const held = { started: false };
  const released = new Promise((r) => { held.release = r; });
  held.restore = cdn.handle(path, (req, res, serve) => {
    held.started = true;
    return released.then(() => serve(res));
  });
  return held;
}

const goneCopies = (channel) => metric(gw, `pasokh_meta_media_copies_total{channel="${channel}",outcome="gone"}`);
// Files in no conversation: stored unfiled, or staged a chunk at a time and never stored.
const unfiledCopies = () => [
  ...blobsIn(redis).filter((key) => redisCli(redis, 'HGET', key, 'conversation') === ''), ...partsIn(redis)];

test('a copy that would land after the erasure is not stored', async () => {
  // The conversation is erased while its copy is on the way: the script refuses it and deletes the bytes.
  cdn.files.set('/v/late.jpg', { body: PHOTO, type: 'image/jpeg' });
  const held = holdCdn('/v/late.jpg');
  try {
    await sendFiles('fb', [attachment('image', cdn.url('/v/late.jpg'))], { text: 'erase me before the copy' });
    const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'erase me before the copy');
    await waitUntil(() => held.started, 'the download started');
    const cust = first.conversation.customer_id;
    const gone = await goneCopies('fb');
    assert.equal((await apiCall(gw, 'POST', `/api/v1/admin/customers/${cust}/erase`, { token: boss, body: { confirm: cust } })).status, 200);
    held.release();
    await waitUntil(async () => await goneCopies('fb') === gone + 1, 'the copy refused');
    assert.equal(redisCli(redis, 'EXISTS', `pasokh:conv:${first.conv}:copies`), '0');
    const blobs = blobsIn(redis);
    for (const key of blobs) assert.notEqual(redisCli(redis, 'HGET', key, 'conversation'), first.conv);
    assert.deepEqual(unfiledCopies(), [], 'no unfiled copy left');
  } finally {
    held.restore();
  }
});

test('meta_media.lua makes no copy of a part that is not whole: the store is refused and the message stays queued', async () => {
  cdn.files.set('/v/half.jpg', { body: PHOTO, type: 'image/jpeg' });
  const held = holdCdn('/v/half.jpg');
  try {
    await sendFiles('fb', [attachment('image', cdn.url('/v/half.jpg'))], { text: 'a half staged photo' });
    const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'a half staged photo');
    await waitUntil(() => held.started, 'the download started');
    redisCli(redis, 'SET', 'pasokh:attachment_part:att_half', 'x'.repeat(PHOTO.length / 2), 'EX', '60');  // half written
    const files = [{ kind: 'image', provider_ref: 'att_half', name: 'half.jpg', mime_type: 'image/jpeg', size: PHOTO.length }];
    let answer;
    try {
      answer = fcall(redis, 'meta_media', 'store', first.conv, String(first.message.seq), '3600', JSON.stringify(files), 'att_half');
    } catch (e) {
      answer = String(e.stdout ?? e.message);
    }
    assert.match(answer, /not staged whole/);
    assert.equal(redisCli(redis, 'EXISTS', 'pasokh:attachment:att_half'), '0', 'no copy made');
    assert.equal(redisCli(redis, 'HLEN', `pasokh:conv:${first.conv}:copies`), '0');
    assert.ok(!agent.frames.some(copiesEvent(first.conv)), 'no copies event');
    assert.notEqual(redisCli(redis, 'ZSCORE', 'pasokh:meta_media:due', `${first.conv}|${first.message.seq}`), '', 'still queued');
    redisCli(redis, 'DEL', 'pasokh:attachment_part:att_half');
    held.release();
    const copied = await agent.next(copiesEvent(first.conv));
    const ref = copied.message.attachments[0].provider_ref;
    assert.match(ref, /^att_/, 'the gateway\'s own copy');
    assert.notEqual(ref, 'att_half', 'not the half staged part');
    assert.equal(redisCli(redis, 'STRLEN', `pasokh:attachment:${ref}:content`), String(PHOTO.length), 'whole, stored after');
  } finally {
    held.restore();
  }
});

test('an Instagram photo the customer unsends loses its copy: unsent after the copy, the bytes go; unsent while on the way, none is stored; unsent before it came, never fetched', async () => {
  const unsend = (psid, id) => postMeta(gw, 'ig', metaMessaging('instagram', IG_ACCOUNT_ID, [metaUnsend(psid, IG_ACCOUNT_ID, id)]));
  cdn.files.set('/v/unsend-after.jpg', { body: PHOTO, type: 'image/jpeg' });
  const after = await sendFiles('ig', [attachment('image', cdn.url('/v/unsend-after.jpg'))], { text: 'unsent after its copy' });
  const copied = await agent.next(copiesEvent());
  const ref = copied.message.attachments[0].provider_ref;
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:attachment:${ref}`), '1');
  assert.equal((await unsend(after.psid, after.body.entry[0].messaging[0].message.mid)).status, 200);
  await agent.next((f) => messageEvent(copied.conv)(f) && f.message.deleted_at);
  assert.equal(redisCli(redis, 'EXISTS', `pasokh:attachment:${ref}`, `pasokh:attachment:${ref}:content`), '0', 'the copy is gone with the message');
  assert.equal(redisCli(redis, 'HEXISTS', `pasokh:conv:${copied.conv}:copies`, String(copied.message.seq)), '0');
  assert.equal((await fetchAs(sara, `/api/v1/attachments/${ref}`)).status, 404);

  cdn.files.set('/v/unsend-late.jpg', { body: PHOTO, type: 'image/jpeg' });
  const held = holdCdn('/v/unsend-late.jpg');
  try {
    const late = await sendFiles('ig', [attachment('image', cdn.url('/v/unsend-late.jpg'))], { text: 'unsent before its copy' });
    const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'unsent before its copy');
    await waitUntil(() => held.started, 'the download started');
    const gone = await goneCopies('ig');
    assert.equal((await unsend(late.psid, late.body.entry[0].messaging[0].message.mid)).status, 200);
    await agent.next((f) => messageEvent(first.conv)(f) && f.message.deleted_at);
    held.release();
    await waitUntil(async () => await goneCopies('ig') === gone + 1, 'the copy refused');
    assert.equal(redisCli(redis, 'EXISTS', `pasokh:conv:${first.conv}:copies`), '0');
    assert.deepEqual(unfiledCopies(), [], 'no unfiled copy left');
    assert.ok(!agent.frames.some((f) => copiesEvent(first.conv)(f)), 'no copies event brings the photo back');
  } finally {
    held.restore();
  }

  // The unsend handled before the message (two webhooks at once, or the message's
  // delivery failed and came again): stored unsent, its file never queued or fetched.
  cdn.files.set('/v/unsend-early.jpg', { body: PHOTO, type: 'image/jpeg' });
  const psid = newPsid(), early = mid();
  assert.equal((await unsend(psid, early)).status, 200);
  await sendFiles('ig', [attachment('image', cdn.url('/v/unsend-early.jpg'))], { psid, id: early, text: 'unsent before it came' });
  const stored = await agent.next((f) => messageEvent()(f) && f.message.provider_message_id === early);
  assert.ok(stored.message.deleted_at > 0, 'stored unsent');
  assert.equal(redisCli(redis, 'ZSCORE', 'pasokh:meta_media:due', `${stored.conv}|${stored.message.seq}`), '', 'no copy queued');
  await sleep(300);
  assert.equal(fetched('/v/unsend-early.jpg'), 0, 'its file never fetched');
});

test('a gateway that dies before copying leaves the work to the next; a redelivery to it stores one copy', async () => {
  // The gateway meets a CDN hiccup (its next attempt is put off), then dies.
  cdn.files.set('/v/restart.jpg', 503);
  const { body } = await sendFiles('fb', [attachment('image', cdn.url('/v/restart.jpg'))], { text: 'while a gateway dies' });
  const first = await agent.next((f) => messageEvent()(f) && f.message.text === 'while a gateway dies');
  await waitUntil(() => cdn.seen.includes('/v/restart.jpg'), 'a first attempt');
  await gw.stop('SIGKILL');
  assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '1', 'the work waits in Redis');
  cdn.files.set('/v/restart.jpg', { body: PHOTO, type: 'image/jpeg' });
  const next = await new Pasokh(messengerConfig(redis, fake, { meta_media: MEDIA }), SECRETS).start();
  try {
    // Meta had no answer it liked from the dead one: it delivers again, to the next.
    assert.equal((await postMeta(next, 'fb', body)).status, 200);
    await waitUntil(() => redisCli(redis, 'HLEN', `pasokh:conv:${first.conv}:copies`) === '1', 'the copy stored by the next gateway');
    await sleep(500);
    assert.equal(redisCli(redis, 'HLEN', `pasokh:conv:${first.conv}:copies`), '1');
    const blobs = blobsIn(redis)
      .filter((key) => redisCli(redis, 'HGET', key, 'conversation') === first.conv);
    assert.equal(blobs.length, 1, 'one copy');
    assert.equal(redisCli(redis, 'ZCARD', 'pasokh:meta_media:due'), '0');
    const token = (await login(next, 'sara', 'sara-secret-1')).json.token;
    const bytes = await fetchAs(token, `/api/v1/attachments/${blobs[0].replace('pasokh:attachment:', '')}`, next);
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), PHOTO);
  } finally {
    await next.cleanup();
  }
});

test('two gateways given the same delivery store one copy', async () => {
  // Runs after the restart test: both gateways here are new.
  const config = messengerConfig(redis, fake, { meta_media: MEDIA });
  const a = await new Pasokh(config, SECRETS).start(), b = await new Pasokh(config, SECRETS).start();
  try {
    cdn.files.set('/v/twice.jpg', { body: PHOTO, type: 'image/jpeg' });
    const message = { mid: mid(), text: 'sent to both', attachments: [attachment('image', cdn.url('/v/twice.jpg'))] };
    const body = metaMessaging('page', FB_PAGE_ID, [{ sender: { id: newPsid() }, recipient: { id: FB_PAGE_ID }, timestamp: Date.now(), message }]);
    const answers = await Promise.all([postMeta(a, 'fb', body), postMeta(b, 'fb', body)]);
    assert.deepEqual(answers.map((r) => r.status), [200, 200]);
    await waitUntil(() => redisCli(redis, 'ZCARD', 'pasokh:meta_media:due') === '0' &&
      redisCli(redis, 'HLEN', 'pasokh:conv:' + convOf(message.mid) + ':copies') === '1', 'the copy');
    await sleep(500);
    const conv = convOf(message.mid);
    const blobs = blobsIn(redis)
      .filter((key) => redisCli(redis, 'HGET', key, 'conversation') === conv);
    assert.equal(blobs.length, 1, 'one copy');
  } finally {
    await a.cleanup();
    await b.cleanup();
  }
});

// The conversation a Messenger message went to, by its provider id.
function convOf(messageId) {
  const seen = redisCli(redis, 'GET', `pasokh:provider_msg:fb:${messageId}`);
  return seen.split(':')[0] || 'none';
}

// Gateways on a Redis of their own (`args` for redis-server), so that the
// test's gateway does not take their work; all go when `fn` is done.
async function ownGateways(media, count, fn, args = []) {
  const own = await new RedisServer({ args }).start();
  const gateways = [];
  try {
    for (let i = 0; i < count; i++) gateways.push(await new Pasokh(messengerConfig(own, fake, { meta_media: media }), SECRETS).start());
    await fn(own, ...gateways);
  } finally {
    if (process.env.PASOKH_TEST_LOG) for (const g of gateways) console.log(g.output);
    for (const g of gateways) await g.cleanup();
    await own.cleanup();
  }
}
// The key counting a customer's copied bytes in an hour (meta_media_copies.cpp):
// the customer of the conversation of `blob`, the hour given (hours since the epoch).
const currentHour = () => Math.floor(Date.now() / 3_600_000);
function budgetKey(own, blob, hour) {
  const customer = redisCli(own, 'HGET', `pasokh:conv:${redisCli(own, 'HGET', blob, 'conversation')}`, 'customer_id');
  assert.ok(customer, `a customer for ${blob}`);
  return `pasokh:meta_media:bytes:${customer}:${hour}`;
}
const outcome = (g, channel, name) => metric(g, `pasokh_meta_media_copies_total{channel="${channel}",outcome="${name}"}`);
const fetched = (path) => cdn.seen.filter((p) => p === path).length;
// Stored files (hashes; a Messenger or Instagram copy's bytes are beside its hash, :content).
function blobsIn(r) {
  return redisCli(r, '--scan', '--pattern', 'pasokh:attachment:*').split('\n').filter((k) => k && !k.endsWith(':content'));
}
function partsIn(r) {
  return redisCli(r, '--scan', '--pattern', 'pasokh:attachment_part:*').split('\n').filter(Boolean);
}
const redisNow = (r) => Number(redisCli(r, 'TIME').split('\n')[0]) * 1000;

test('a copy Redis refuses to store (out of memory) is tried meta_media.attempts times, then counted as store_failed and logged; the file keeps its URL', async () => {
  const media = { ...MEDIA, max_bytes: 8 << 20, max_redis_memory_share: 1 };
  await ownGateways(media, 1, async (own, g) => {
    cdn.files.set('/v/huge.mp4', { body: Buffer.alloc(6 << 20, 5), type: 'video/mp4' });
    await sendFiles('fb', [attachment('video', cdn.url('/v/huge.mp4'))], { text: 'more than Redis has room for', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'store_failed') === 1, 'the failure counted', 15000);
    await waitUntil(() => redisCli(own, 'ZCARD', 'pasokh:meta_media:due') === '0', 'the work ended');
    await sleep(MEDIA.retry_ms * 4);
    assert.equal(fetched('/v/huge.mp4'), MEDIA.attempts, 'one download an attempt, no more');
    assert.equal(await outcome(g, 'fb', 'copied'), 0);
    assert.deepEqual(blobsIn(own), [], 'nothing left behind');
    assert.deepEqual(partsIn(own), [], 'no staged chunks either');
    assert.match(g.output, /attachment not copied \(store_failed\), the console keeps its URL: host 127\.0\.0\.1/);
  }, ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
});

test('no copy is fetched while Redis uses more than meta_media.max_redis_memory_share of its maxmemory (no_room); none without a maxmemory limit either way', async () => {
  await ownGateways({ ...MEDIA, max_redis_memory_share: 0.0001 }, 1, async (own, g) => {
    cdn.files.set('/v/no-room.jpg', { body: PHOTO, type: 'image/jpeg' });
    await sendFiles('fb', [attachment('image', cdn.url('/v/no-room.jpg'))], { text: 'Redis is nearly full', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'no_room') === 1, 'counted as no_room');
    assert.equal(fetched('/v/no-room.jpg'), 0, 'not even downloaded');
    assert.equal(redisCli(own, 'ZCARD', 'pasokh:meta_media:due'), '0');
    assert.deepEqual(blobsIn(own), []);
    // Without a maxmemory the share means nothing: the copy is made.
    redisCli(own, 'CONFIG', 'SET', 'maxmemory', '0');
    await sendFiles('fb', [attachment('image', cdn.url('/v/no-room.jpg'))], { text: 'no limit', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'copied') === 1, 'copied');
  }, ['--maxmemory', '1gb', '--maxmemory-policy', 'noeviction']);
});

test('by default only https files from Meta\'s CDN hosts are fetched: a loopback URL (the gateway\'s own /metrics) is refused_host and keeps its URL', async () => {
  await ownGateways({ poll_ms: 50, retry_ms: 300 }, 1, async (own, g) => {
    cdn.files.set('/v/loopback.jpg', { body: PHOTO, type: 'image/jpeg' });
    await sendFiles('fb', [attachment('image', `http://127.0.0.1:${g.port}/metrics?x=1`), attachment('image', cdn.url('/v/loopback.jpg')),
      attachment('image', 'https://fbcdn.net.attacker.example/v/x.jpg?oh=1')], { text: 'internal URLs', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'refused_host') === 3, 'all three refused');
    assert.equal(fetched('/v/loopback.jpg'), 0);
    assert.equal(redisCli(own, 'ZCARD', 'pasokh:meta_media:due'), '0');
    assert.deepEqual(blobsIn(own), [], 'the gateway\'s metrics are not stored for agents');
  });
});

test('meta_media.bytes_per_customer_per_hour: a customer\'s files past it keep their URL (over_budget)', async () => {
  await ownGateways({ ...MEDIA, bytes_per_customer_per_hour: PHOTO.length + 100 }, 1, async (own, g) => {
    const startHour = currentHour();
    cdn.files.set('/v/budget-1.jpg', { body: PHOTO, type: 'image/jpeg' });
    cdn.files.set('/v/budget-2.jpg', { body: PHOTO, type: 'image/jpeg' });
    await sendFiles('fb', [attachment('image', cdn.url('/v/budget-1.jpg')), attachment('image', cdn.url('/v/budget-2.jpg'))],
      { text: 'two photos', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'copied') === 1 && await outcome(g, 'fb', 'over_budget') === 1, 'one of each');
    assert.equal(blobsIn(own).length, 1, 'one copy kept');
    const hour = budgetKey(own, blobsIn(own)[0], startHour);
    await waitUntil(() => redisCli(own, 'GET', hour) === String(PHOTO.length), 'the refused file not counted');
  });
});

test('meta_media.enabled false: nothing is queued or fetched', async () => {
  await ownGateways({ ...MEDIA, enabled: false }, 1, async (own, g) => {
    cdn.files.set('/v/off.jpg', { body: PHOTO, type: 'image/jpeg' });
    await sendFiles('fb', [attachment('image', cdn.url('/v/off.jpg'))], { text: 'copies off', at: g });
    await sleep(400);
    assert.equal(fetched('/v/off.jpg'), 0);
    assert.equal(redisCli(own, 'ZCARD', 'pasokh:meta_media:due'), '0');
  });
});

test('a claim whose lease ran out is no longer its first holder\'s: that holder\'s late retry leaves the next holder\'s claim alone', async () => {
  const path = '/v/lease.jpg';
  const requests = [];
  const restore = cdn.handle(path, (req, res) => {
    const r = { res }; requests.push(r);
    r.answer = (status) => { res.writeHead(status, { 'content-type': 'image/jpeg' }); res.end(status === 200 ? PHOTO : undefined); };
  });
  try {
    await ownGateways(MEDIA, 2, async (own, a) => {
      await sendFiles('fb', [attachment('image', cdn.url(path))], { text: 'a slow photo', at: a });
      await waitUntil(() => requests.length === 1, 'the first download');
      const member = redisCli(own, 'ZRANGE', 'pasokh:meta_media:due', '0', '-1');
      redisCli(own, 'ZADD', 'pasokh:meta_media:due', 'XX', '0', member);  // the first claim's lease ran out
      await waitUntil(() => requests.length === 2, 'the second claim downloads');
      const leaseEnds = Number(redisCli(own, 'ZSCORE', 'pasokh:meta_media:due', member));
      requests[0].answer(503);  // the first holder fails late and asks for a retry
      await sleep(MEDIA.retry_ms * 4);
      assert.equal(requests.length, 2, 'no third download while the second holder works');
      assert.equal(Number(redisCli(own, 'ZSCORE', 'pasokh:meta_media:due', member)), leaseEnds, 'the second claim unmoved');
      requests[1].answer(200);
      await waitUntil(() => redisCli(own, 'ZCARD', 'pasokh:meta_media:due') === '0', 'copied by the second holder');
      assert.equal(blobsIn(own).length, 1);
    });
  } finally {
    for (const r of requests) r.res.destroy();
    restore();
  }
});

test('a gateway stopped during a download puts its claim back at once: the next gateway copies it without waiting out the lease', async () => {
  cdn.files.set('/v/stopped.jpg', { body: PHOTO, type: 'image/jpeg' });
  const held = holdCdn('/v/stopped.jpg');
  try {
    await ownGateways(MEDIA, 1, async (own, a) => {
      await sendFiles('fb', [attachment('image', cdn.url('/v/stopped.jpg'))], { text: 'stopped mid-copy', at: a });
      await waitUntil(() => held.started, 'the download started');
      const member = redisCli(own, 'ZRANGE', 'pasokh:meta_media:due', '0', '-1');
      assert.ok(Number(redisCli(own, 'ZSCORE', 'pasokh:meta_media:due', member)) > redisNow(own) + 10000, 'claimed for a lease');
      await a.stop('SIGTERM');
      assert.ok(Number(redisCli(own, 'ZSCORE', 'pasokh:meta_media:due', member)) <= redisNow(own) + 1000, 'due again now');
    });
  } finally {
    held.release();
    held.restore();
  }
});

// A gateway with these meta_media settings on a Redis of its own, reached
// through a link that carries `bytesPerSecond` a connection.
const slowLink = (media, bytesPerSecond) => ({
  bytesPerSecond, env: SECRETS, config: (own) => messengerConfig(own, fake, { meta_media: media }),
});
const SLOW_LINK = 8 << 20;  // bytes a second: a 20 MB file takes 2.5 s, past the tests' command_timeout_ms (1 s)
const CHUNK = 1 << 20;  // the gateway's attachment_blobs::chunk_bytes
// Counts the commands writing each staged file (by its id) or reading each stored one.
const chunkWrites = (own) => monitorCounts(own, /"APPEND" "pasokh:attachment_part:([^"]+)"/);
const chunkReads = (own) => monitorCounts(own, /"GETRANGE" "pasokh:attachment:([^"]+):content"/);

test('a 20 MB video copied over a slow link to Redis holds no other traffic: written a chunk a command, API posts meanwhile answer 201 and no connection is reset', async (t) => {
  const video = Buffer.alloc(20 << 20, 7);
  video.write('the first bytes of a long video', 0);
  cdn.files.set('/v/long-video.mp4', { body: video, type: 'video/mp4' });
  await overSlowLink(slowLink({ ...MEDIA, max_bytes: 24 << 20, timeout_ms: 20000 }, SLOW_LINK), async ({ redis: own, link, gw: g }) => {
    const writes = await chunkWrites(own);
    let copyMs, posted;
    try {
      const started = Date.now();
      await sendFiles('fb', [attachment('video', cdn.url('/v/long-video.mp4'))], { text: 'a long video', at: g });
      await waitUntil(() => link.busiest() > 2 << 20, 'the copy being written', 15000);
      const copyEnded = async () => await outcome(g, 'fb', 'copied') + await outcome(g, 'fb', 'store_failed') > 0;
      posted = await postsWhile(g, async () => !(await copyEnded()), 'during-copy');
      copyMs = Date.now() - started;
      await writes.stop();
    } finally { writes.kill(); }
    const { posts, slowest, summary } = posted;
    t.diagnostic(`during the ${copyMs} ms copy: ${summary}`);
    assert.ok(posts.length >= 5, `posts made while the copy was written (${posts.length})`);
    assert.deepEqual(posts.filter((p) => p.status !== 201), [], 'every post stored');
    // A post held behind the copy would wait most of it.
    assert.ok(slowest < copyMs / 3, `no post waited behind the copy (slowest ${slowest} ms of ${copyMs} ms)`);
    assert.doesNotMatch(g.output, connectionReset, 'no connection reset');
    assert.equal(await metric(g, 'pasokh_redis_reconnects_total{connection="commands"}'), 0);

    assert.equal(await outcome(g, 'fb', 'copied'), 1, 'the copy made');
    const [blob] = blobsIn(own);
    const id = blob.replace('pasokh:attachment:', '');
    assert.ok(writes.counts.get(id) >= Math.ceil(video.length / CHUNK),
      `written a chunk a command: ${writes.counts.get(id)} APPENDs of ${id} (${JSON.stringify([...writes.counts])})`);
    assert.equal(redisCli(own, 'HGET', blob, 'size'), String(video.length));
    await g.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
    const token = (await login(g, 'sara', 'sara-secret-1')).json.token;
    const bytes = await fetchAs(token, `/api/v1/attachments/${id}`, g);
    assert.ok(Buffer.from(await bytes.arrayBuffer()).equals(video), 'the whole file');
    assert.deepEqual(partsIn(own), [], 'nothing staged left');
  });
});

test('a copy whose write fails partway leaves no half file anyone could open; the next attempt stores it whole and nothing staged is left', async () => {
  const video = Buffer.alloc(6 << 20, 3);
  video.write('a video cut off on its way to Redis', 0);
  cdn.files.set('/v/cut-off.mp4', { body: video, type: 'video/mp4' });
  await overSlowLink(slowLink({ ...MEDIA, max_bytes: 8 << 20 }, 4 << 20), async ({ redis: own, link, gw: g }) => {
    await sendFiles('fb', [attachment('video', cdn.url('/v/cut-off.mp4'))], { text: 'cut off', at: g });
    await waitUntil(() => link.busiest() > 2 << 20, 'the copy half written', 15000);
    link.cutBusiest();  // the connection writing the copy, mid-chunk
    assert.deepEqual(blobsIn(own), [], 'no copy to open');
    await waitUntil(async () => await outcome(g, 'fb', 'copied') === 1, 'copied by the next attempt', 15000);
    assert.equal(fetched('/v/cut-off.mp4'), 2, 'the failed write counted as an attempt');
    const [blob] = blobsIn(own);
    assert.equal(redisCli(own, 'STRLEN', `${blob}:content`), String(video.length), 'the whole file');
    assert.deepEqual(partsIn(own), [], 'the cut attempt\'s chunks dropped');
    assert.equal(await metric(g, 'pasokh_redis_reconnects_total{connection="files"}'), 1, 'the files\' connection came back');
    assert.equal(await metric(g, 'pasokh_redis_reconnects_total{connection="commands"}'), 0, 'the other traffic\'s never went');
  });
});

test('an agent opening a 20 MB copy over a slow link to Redis holds no other traffic: it is read a chunk a command on the files connection, API posts meanwhile answer 201', async (t) => {
  const video = Buffer.alloc(20 << 20, 5);
  video.write('a long video an agent opens', 0);
  cdn.files.set('/v/opened-video.mp4', { body: video, type: 'video/mp4' });
  await overSlowLink(slowLink({ ...MEDIA, max_bytes: 24 << 20, timeout_ms: 20000 }, SLOW_LINK), async ({ redis: own, link, gw: g }) => {
    await sendFiles('fb', [attachment('video', cdn.url('/v/opened-video.mp4'))], { text: 'a video to open', at: g });
    await waitUntil(async () => await outcome(g, 'fb', 'copied') === 1, 'the copy made', 30000);
    const [blob] = blobsIn(own);
    const id = blob.replace('pasokh:attachment:', '');
    await g.createAgent('sara', 'sara-secret-1', { name: 'Sara' });
    const token = (await login(g, 'sara', 'sara-secret-1')).json.token;

    const reads = await chunkReads(own);
    let opened = null, posted;
    try {
      const started = Date.now();
      const opening = fetchAs(token, `/api/v1/attachments/${id}`, g).then(async (res) => {
        opened = { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()), ms: Date.now() - started };
      });
      await waitUntil(() => opened || link.busiest('received') > 2 << 20, 'the file being read', 15000);
      posted = await postsWhile(g, () => opened === null, 'while-opened');
      await opening;
      await reads.stop();
    } finally { reads.kill(); }
    const { posts, slowest, summary } = posted;
    t.diagnostic(`while the agent opened it (${opened.status} in ${opened.ms} ms): ${summary}`);
    assert.equal(opened.status, 200);
    assert.ok(opened.bytes.equals(video), 'the whole file');
    assert.equal(opened.headers.get('content-type'), 'video/mp4');
    assert.match(opened.headers.get('content-disposition'), /^attachment; filename="/);
    assert.equal(opened.headers.get('cache-control'), 'private, no-store');
    assert.ok(reads.counts.get(id) >= Math.ceil(video.length / CHUNK),
      `read a chunk a command: ${reads.counts.get(id)} GETRANGEs of ${id}`);
    assert.ok(posts.length >= 5, `posts made while the file was read (${posts.length})`);
    assert.deepEqual(posts.filter((p) => p.status !== 201), [], 'every post stored');
    assert.ok(slowest < opened.ms / 3, `no post waited behind the file (slowest ${slowest} ms of ${opened.ms} ms)`);
    assert.doesNotMatch(g.output, connectionReset, 'no connection reset');
    assert.equal(await metric(g, 'pasokh_redis_reconnects_total{connection="commands"}'), 0);
  });
});

test('a customer\'s hourly byte budget pays once for each file stored: an attempt tried again, or a file refused over it, is given back', async () => {
  const budget = 2 * PHOTO.length - 1;  // one photo and the receipt; not the photo twice
  await ownGateways({ ...MEDIA, bytes_per_customer_per_hour: budget }, 1, async (own, g) => {
    const startHour = currentHour();
    cdn.files.set('/v/budget-photo.jpg', { body: PHOTO, type: 'image/jpeg' });
    cdn.files.set('/v/budget-receipt.pdf', { body: RECEIPT, type: 'application/pdf' });
    let asked = 0;
    const done = cdn.handle('/v/budget-receipt.pdf', (req, res, serve) => {
      if (asked++ > 0) return serve(res);
      res.writeHead(503);  // a passing failure: the whole message is tried again
      res.end();
    });
    try {
      await sendFiles('fb', [attachment('image', cdn.url('/v/budget-photo.jpg')), attachment('file', cdn.url('/v/budget-receipt.pdf'))],
        { text: 'a photo and the receipt', at: g });
      await waitUntil(async () => await outcome(g, 'fb', 'copied') + await outcome(g, 'fb', 'over_budget') >= 2, 'both handled', 15000);
    } finally {
      done();
    }
    assert.equal(fetched('/v/budget-photo.jpg'), 2, 'the photo downloaded on both attempts');
    assert.equal(await outcome(g, 'fb', 'over_budget'), 0, 'the first attempt\'s photo not counted again');
    assert.equal(await outcome(g, 'fb', 'copied'), 2);
    const hour = budgetKey(own, blobsIn(own)[0], startHour);
    await waitUntil(() => redisCli(own, 'GET', hour) === String(PHOTO.length + RECEIPT.length), 'the bytes stored, counted once');
  });
});
