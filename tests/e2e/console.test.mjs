// Browser tests of the agent console (web/console) against real Redis and
// real pasokh processes, driven through Debian's Chromium.
//
//   PASOKH_BIN=build-console/gateway/pasokh node --test tests/e2e/console.test.mjs
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { API_KEY, Pasokh, RedisServer, TcpProxy, defaultConfig, freePort, postMessage, repoRoot } from '../support/harness.mjs';
import { consoleErrors, launchBrowser, pageSet } from './browser.mjs';

const T = { timeout: 45_000 };
const WAIT = 10_000;
const PAYLOAD = '<img src=x onerror=alert(1)><script>window.__pwned=1</script>';

let redis, gw, gw2, browser;
const pages = pageSet();

before(async () => {
  redis = await new RedisServer().start();
  // gw listens on a fixed port so it can be restarted under the consoles;
  // gw2 is a second instance on the same Redis (the customer's way in while
  // gw is down).
  const port = await freePort();
  gw = await new Pasokh(defaultConfig(redis, {
    listen: { address: '127.0.0.1', port, threads: 2 },
    // Every console of this suite signs in from 127.0.0.1, more than the
    // default 30 a minute per address allows.
    auth: { login_attempts_per_minute: 3, login_attempts_per_address_per_minute: 1000 },
  })).start();
  gw2 = await new Pasokh(defaultConfig(redis)).start();
  await gw.createAgent('ali', 'ali-secret-1', { name: 'Ali' });
  await gw.createAgent('maryam', 'maryam-secret-2', { name: 'Maryam' });
  browser = await launchBrowser();
});

afterEach(() => pages.closeAll());

after(async () => {
  await browser?.close().catch(() => {});
  await gw?.cleanup();
  await gw2?.cleanup();
  await redis?.cleanup();
});

// --- helpers -----------------------------------------------------------------

const newPage = () => pages.open(browser);

async function signIn(page, login, password) {
  await page.goto(`${gw.base}/`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#login-form button[type="submit"]');
}

async function openConsole(login, password) {
  const page = await newPage();
  await signIn(page, login, password);
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  return page;
}

const ali = () => openConsole('ali', 'ali-secret-1');
const maryam = () => openConsole('maryam', 'maryam-secret-2');

async function customerWrites(text, customer, { via = gw, language } = {}) {
  const r = await postMessage(via, { message_id: randomUUID(), customer, text, ...(language ? { language } : {}) });
  assert.ok(r.status === 201, `API channel answered ${r.status}: ${r.text}`);
  return r.json;
}

async function storedMessages(conv) {
  const res = await fetch(`${gw2.base}/api/v1/channels/api/conversations/${conv}/messages?after=0`,
    { headers: { authorization: `Bearer ${API_KEY}` } });
  assert.equal(res.status, 200);
  return (await res.json()).messages;
}

// One Redis command, RESP by hand (binary-safe: arguments may be Buffers).
function redisCommand(...args) {
  const bulk = (x) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(x)}\r\n`), Buffer.from(x), Buffer.from('\r\n')]);
  return new Promise((resolve, reject) => {
    const sock = net.connect(redis.port, '127.0.0.1', () => sock.write(Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)])));
    sock.once('data', (d) => { sock.destroy(); d.toString().startsWith('-') ? reject(new Error(d.toString())) : resolve(); });
    sock.once('error', reject);
  });
}

// PUBLISH on Redis, as the outbox does for delivery marks.
const redisPublish = (channel, message) => redisCommand('PUBLISH', channel, message);

// A customer message as ingest.lua would announce it, with `fields` over the
// last one's (e.g. an email's original_text or attachments), live to the consoles.
async function publishCustomerMessage(conv, fields) {
  const log = execFileSync('redis-cli', ['-p', String(redis.port), '--raw', 'XRANGE', `pasokh:conv:${conv}:log`, '-', '+'])
    .toString().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  const last = log[log.length - 1];
  const said = log.filter((f) => f.event === 'message').pop();
  const seq = last.seq + 1;
  await redisPublish('pasokh:events', `${JSON.stringify({ team: last.conversation.team, conv, customer: '', seq, assignee: '' })}\n${
    JSON.stringify({ ...said, seq, conversation: { ...last.conversation, seq },
      message: { ...said.message, id: `${conv}:${seq}`, seq, ...fields } })}`);
}

// A customer's reaction to message `messageSeq` as reaction.lua announces it.
async function publishReaction(conv, messageSeq, emoji) {
  const seq = Number(execFileSync('redis-cli', ['-p', String(redis.port), 'HINCRBY', `pasokh:conv:${conv}`, 'seq', '1']).toString());
  const header = { team: 'support', conv, customer: '', seq, assignee: '' };
  const frame = { type: 'event', event: 'reaction', conv, seq, actor: 'customer', at: Date.now(),
    reaction: { message_seq: messageSeq, message_id: `${conv}:${messageSeq}`, emoji } };
  await redisPublish('pasokh:events', `${JSON.stringify(header)}\n${JSON.stringify(frame)}`);
}

async function publishDelivery(conv, messageSeq, status, extra = {}) {
  const header = { team: 'support', conv, customer: '', seq: 0, assignee: '' };
  const frame = { type: 'event', event: 'delivery', conv, message_seq: messageSeq, message_id: `${conv}:${messageSeq}`,
    status, at: Date.now(), ...extra };
  await redisPublish('pasokh:events', `${JSON.stringify(header)}\n${JSON.stringify(frame)}`);
}

const count = (page, view) => page.textContent(`#inbox-views [data-view="${view}"] .count`).then(Number);
const item = (page, conv) => page.locator(`#conv-list .conv-item[data-conv="${conv}"]`);
// A stored message (not the pending bubble) in the open conversation.
const stored = (page, text) => page.locator('#messages li.msg[data-seq] .msg-text', { hasText: text });

// Polls from Node: page.waitForFunction would poll with eval, which the
// console's Content-Security-Policy (rightly) forbids.
async function until(check, what, timeoutMs = WAIT) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForCount(page, view, n) {
  await until(async () => (await count(page, view)) === n || await count(page, view), `${view} count ${n}`);
}

async function open(page, conv) {
  await item(page, conv).click();
  await page.waitForSelector(`#conv-pane:not([hidden])`, { timeout: WAIT });
  await page.waitForSelector('#messages[aria-busy="false"]', { timeout: WAIT });
}

// --- tests --------------------------------------------------------------------

describe('agent console', () => {
  test('serves the console with a strict CSP and no HTML sinks in its code', T, async () => {
    const res = await fetch(`${gw.base}/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/console/');
    const html = await (await fetch(`${gw.base}/console/`)).text();
    assert.match(html, /Content-Security-Policy[^>]+script-src 'self'/);
    for (const [, href] of html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)) {
      const r = await fetch(`${gw.base}${href}`);
      assert.equal(r.status, 200, href);
      await r.arrayBuffer();
    }
    // The code never builds DOM from strings.
    const dir = path.join(repoRoot, 'web', 'console');
    const files = [];
    const walk = (d) => { for (const f of readdirSync(d)) { const p = path.join(d, f); statSync(p).isDirectory() ? walk(p) : files.push(p); } };
    walk(dir);
    let bytes = 0;
    for (const f of files) {
      if (!/\.(js|css|html)$/.test(f)) continue; // openapi.json and README are not console code
      const src = readFileSync(f, 'utf8');
      // A language's dictionary is loaded only by the agents who chose it
      // (fa.js), its admin part (fa-admin.js) only by the admins among them.
      const size = Buffer.byteLength(src);  // bytes, as loaded (Persian and Arabic are 2 a letter)
      // 22.5 kB: the desk texts grew with the mail warnings (replies elsewhere, sender not verified),
      // then with CSAT complaints and channels no gateway serves.
      if (f.includes(`${path.sep}i18n${path.sep}`)) assert.ok(size < 22_500, `${f} is ${size} bytes`);
      else bytes += size;
      if (f.endsWith('.js')) assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
    }
    // The whole console (inbox, conversation, customer panel, admin, reports
    // and campaigns pages, English texts), unminified with no build step: what
    // a browser loads, each language's dictionary apart. 256.5 kB now, after
    // the inbox's server counts, queue order and arrow keys, the unsupported
    // message placeholder and the delivered-parts notes (249.3 kB before them);
    // 261.3 kB after the admin/reports fixes for Persian admins (team and
    // removed-agent names, the agent form's defaults, the shop's report zone,
    // durations in words); 265.1 kB, over 262 kB, with the Instagram unsend and
    // Meta file copies frames, numbers in LTR isolates, the team-in-use
    // refusal and the customer-left-the-chat line: the limit is 268 kB.
    // Raise it only knowingly, saying here what grew.
    assert.ok(bytes < 268_000, `console is ${bytes} bytes`);
  });

  test('wrong password and rate limit show a clear error; no token is kept', T, async () => {
    const page = await newPage();
    await signIn(page, 'ali', 'not-the-password');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: WAIT });
    assert.match(await page.textContent('#login-error'), /wrong login or password/i);
    assert.ok(await page.isHidden('#console-view'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pasokh.console.session')), null);

    // Three failures per minute are allowed by this gateway's config.
    for (let i = 0; i < 3; i++) {
      await page.fill('#password', `bad-${i}`);
      await page.fill('#login', 'mallory');
      const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
      await page.click('#login-form button[type="submit"]');
      await answer;
    }
    await page.fill('#password', 'bad-again');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
    await page.click('#login-form button[type="submit"]');
    assert.equal((await answer).status(), 429);
    await page.locator('#login-error', { hasText: /too many/i }).waitFor({ timeout: WAIT });
    assert.deepEqual(consoleErrors(page).filter((e) => !/401|429/.test(e)), []);
  });

  test('two consoles follow a Persian conversation live; the reply is shown in both and stored', T, async () => {
    const [p1, p2] = await Promise.all([ali(), maryam()]);
    const allBefore = await count(p1, 'all');
    const unassignedBefore = await count(p1, 'unassigned');
    assert.equal(await count(p2, 'all'), allBefore);

    const persian = 'سلام، گارانتی گوشی من کی تمام می‌شود؟';
    const { conversation_id: conv } = await customerWrites(persian, { id: 'crm-sara', name: 'سارا' }, { language: 'fa' });

    for (const p of [p1, p2]) {
      await item(p, conv).waitFor({ timeout: WAIT });
      await waitForCount(p, 'all', allBefore + 1);
      await waitForCount(p, 'unassigned', unassignedBefore + 1);
      assert.match(await item(p, conv).textContent(), /سارا/);
      assert.equal(await item(p, conv).locator('.unread-dot').count(), 1, 'new conversation is marked unread');
    }
    // Newest activity first.
    assert.equal(await p1.locator('#conv-list .conv-item').first().getAttribute('data-conv'), conv);

    await open(p1, conv);
    const fa = stored(p1, persian);
    await fa.waitFor({ timeout: WAIT });
    assert.equal(await fa.getAttribute('dir'), 'rtl');
    assert.equal(await fa.evaluate((el) => getComputedStyle(el).direction), 'rtl');
    assert.match(await p1.textContent('#messages'), /سارا/, 'customer shown as author');
    assert.equal(await item(p1, conv).locator('.unread-dot').count(), 0, 'opened conversation is read');

    // Enter sends, Shift+Enter is a new line.
    const reply = 'Hello Sara, your warranty runs until March.';
    await p1.fill('#reply-text', 'Hello Sara,');
    await p1.press('#reply-text', 'Shift+Enter');
    await p1.type('#reply-text', 'your warranty runs until March.');
    await p1.press('#reply-text', 'Enter');
    const multiline = reply.replace('Sara, ', 'Sara,\n');
    await stored(p1, 'your warranty runs until March.').waitFor({ timeout: WAIT });
    assert.equal(await stored(p1, 'your warranty runs until March.').textContent(), multiline);
    assert.equal(await p1.inputValue('#reply-text'), '', 'reply box cleared');
    assert.equal(await p1.locator('#messages li.pending').count(), 0, 'pending bubble replaced by the stored message');
    assert.match(await p1.locator('#messages li.msg-out').last().textContent(), /Ali \(you\)/);

    // Maryam sees it live: in the list preview, then in the conversation.
    await item(p2, conv).locator('.preview', { hasText: 'warranty runs until March' }).waitFor({ timeout: WAIT });
    assert.match(await item(p2, conv).textContent(), /you|ali|Ali/i);
    await open(p2, conv);
    await stored(p2, 'your warranty runs until March.').waitFor({ timeout: WAIT });
    assert.match(await p2.locator('#messages li.msg-out').last().textContent(), /Ali/);

    // Stored once, by Ali.
    const messages = await storedMessages(conv);
    const replies = messages.filter((m) => m.author === 'agent');
    assert.equal(replies.length, 1);
    assert.equal(replies[0].text, multiline);
    assert.equal(replies[0].author_name, 'Ali');
    assert.ok(replies[0].client_id, 'sent with a client_id');

    // Assigned to Ali now: in his "mine" view.
    await waitForCount(p1, 'mine', 1);
    await waitForCount(p2, 'mine', 0);

    // The customer writes again (in English): live, left-to-right.
    const english = 'Thanks! Is the battery covered too?';
    await customerWrites(english, { id: 'crm-sara', name: 'سارا' });
    for (const p of [p1, p2]) {
      await stored(p, english).waitFor({ timeout: WAIT });
      assert.equal(await stored(p, english).evaluate((el) => getComputedStyle(el).direction), 'ltr');
      assert.equal(await stored(p, english).count(), 1);
    }
    // The log announces new messages politely.
    assert.equal(await p1.getAttribute('#messages', 'role'), 'log');
    assert.equal(await p1.getAttribute('#messages', 'aria-live'), 'polite');
    assert.deepEqual(consoleErrors(p1), []);
    assert.deepEqual(consoleErrors(p2), []);
  });

  test('markup in a message renders as literal text, in and out', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites(PAYLOAD, { id: 'crm-xss', name: '<b>Eve</b>' });
    await item(page, conv).waitFor({ timeout: WAIT });
    await open(page, conv);
    const inbound = stored(page, 'onerror=alert(1)');
    await inbound.waitFor({ timeout: WAIT });
    assert.equal(await inbound.textContent(), PAYLOAD);
    await page.fill('#reply-text', `echo ${PAYLOAD}`);
    await page.press('#reply-text', 'Enter');
    await stored(page, `echo ${PAYLOAD}`).waitFor({ timeout: WAIT });
    await page.waitForTimeout(300); // give an injected script or onerror the chance to run
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(page.dialogs, []);
    assert.equal(await page.locator('#app img, #console-view img, #console-view script, #console-view b').count(), 0);
    assert.match(await item(page, conv).textContent(), /<b>Eve<\/b>/);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a phone number or tracking code after Persian words reads left to right, in the customer\'s message and the agent\'s reply', T, async () => {
    const page = await ali();
    const said = 'موبایلم 0912 345 6789 هست';
    const { conversation_id: conv } = await customerWrites(said, { id: 'crm-digits', name: 'Nima' });
    await item(page, conv).waitFor({ timeout: WAIT });
    await open(page, conv);
    const reply = 'via Post (کد رهگیری 1234 5678 9012).';
    await page.fill('#reply-text', reply);
    await page.press('#reply-text', 'Enter');
    // x of each part as laid out; both on one line.
    const left = (locator, parts) => locator.evaluate((el, parts) => parts.map((part) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.data.includes(part)) continue;
        const r = document.createRange();
        r.setStart(n, n.data.indexOf(part));
        r.setEnd(n, n.data.indexOf(part) + part.length);
        return [Math.round(r.getBoundingClientRect().top), r.getBoundingClientRect().left];
      }
      return null;
    }), parts);
    for (const [text, first, last] of [[said, '0912', '6789'], [reply, '1234', '9012']]) {
      const node = stored(page, first);
      await node.waitFor({ timeout: WAIT });
      assert.equal(await node.textContent(), text, 'the text as written');
      // Measured once laid out: a message re-rendered as its delivery mark changes is detached for a moment (all 0).
      let parts;
      await until(async () => { parts = await left(node, [first, last]); return parts.every((p) => p && (p[0] || p[1])); },
        `${first} laid out`);
      const [[top1, x1], [top2, x2]] = parts;
      assert.ok(top1 === top2 && x1 < x2, `${first} at ${x1}, ${last} at ${x2}`);
    }
    assert.deepEqual(await stored(page, '0912').locator('bdi[dir=ltr]').allTextContents(), ['0912 345 6789']);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('reload keeps the session and the history; resolve removes the conversation from the open list', T, async () => {
    const [p1, p2] = await Promise.all([ali(), maryam()]);
    const { conversation_id: conv } = await customerWrites('My washing machine leaks.', { id: 'crm-reza', name: 'Reza' });
    await open(p1, conv);
    await p1.fill('#reply-text', 'A technician will call you today.');
    await p1.press('#reply-text', 'Enter');
    await stored(p1, 'A technician will call you today.').waitFor({ timeout: WAIT });
    await item(p2, conv).waitFor({ timeout: WAIT });
    const openBefore = await count(p2, 'all');

    await p1.reload();
    await p1.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    assert.ok(await p1.isHidden('#login-view'), 'still signed in');
    await stored(p1, 'My washing machine leaks.').waitFor({ timeout: WAIT });
    await stored(p1, 'A technician will call you today.').waitFor({ timeout: WAIT });
    assert.equal(await p1.locator('#messages li.msg[data-seq]').count(), 2);
    assert.equal(await item(p1, conv).getAttribute('aria-current'), 'true');

    await p1.click('#resolve-btn');
    await item(p1, conv).waitFor({ state: 'detached', timeout: WAIT });
    await item(p2, conv).waitFor({ state: 'detached', timeout: WAIT });
    await waitForCount(p2, 'all', openBefore - 1);
    await p1.waitForSelector('#conv-meta .status-resolved', { timeout: WAIT });
    assert.ok(await p1.isHidden('#resolve-btn'));
    assert.ok(await p1.isDisabled('#reply-text'));
    assert.match(await p1.textContent('#messages'), /resolved by you/);

    // Resolved conversations stay readable from their address.
    await p1.reload();
    await stored(p1, 'A technician will call you today.').waitFor({ timeout: WAIT });
    assert.equal(await item(p1, conv).count(), 0);

    // Log out: back to the sign-in form, and a reload does not sign in again.
    await p1.click('#logout-btn');
    await p1.waitForSelector('#login-view:not([hidden])', { timeout: WAIT });
    await p1.reload();
    await p1.waitForSelector('#login-view:not([hidden])', { timeout: WAIT });
    assert.ok(await p1.isHidden('#console-view'));
    assert.deepEqual(consoleErrors(p1), []);
  });

  test('each row shows its conversation\'s newest message on a first load and after a reload, Persian cut between characters', T, async () => {
    const text = 'سلام، یخچال من صدای عجیبی می\u200cدهد و دیگر خنک نمی\u200cکند. '.repeat(8);
    const { conversation_id: conv } = await customerWrites(text, { id: 'crm-preview', name: 'Nima' });
    // A console opened after the message has no timeline of it: the row shows what the server keeps.
    const page = await maryam();
    const preview = item(page, conv).locator('.preview');
    await preview.waitFor({ timeout: WAIT });
    const shown = await preview.textContent();
    assert.ok(shown.endsWith('…'), shown);
    assert.ok(text.replace(/\s+/g, ' ').startsWith(shown.slice(0, -1)), shown);

    await customerWrites('Any news about the technician?', { id: 'crm-preview', name: 'Nima' });
    await item(page, conv).locator('.preview', { hasText: 'Any news about the technician?' }).waitFor({ timeout: WAIT });
    await page.reload();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await item(page, conv).locator('.preview', { hasText: 'Any news about the technician?' }).waitFor({ timeout: WAIT });
    assert.deepEqual(consoleErrors(page), []);
  });

  // The console renders once per animation frame (a timer when none run: a
  // hidden tab), and leaves the rows whose conversation did not change alone.
  // (How often it renders is bench/console's to show, not this test's.)
  test('fifteen messages in a row: each row shows its newest, newest first; the unchanged row is left as it was; with no animation frames (a hidden tab) the list still updates', T, async () => {
    const page = await maryam();
    const convs = [];
    for (let k = 0; k < 5; k++) convs.push((await customerWrites(`first ${k}`, { id: `crm-burst-${k}`, name: `Burst ${k}` })).conversation_id);
    const { conversation_id: still } = await customerWrites('nothing new here', { id: 'crm-burst-still', name: 'Still' });
    await item(page, still).waitFor({ timeout: WAIT });
    const rowOf = (id) => `#conv-list li:has(> [data-conv="${id}"])`;
    await page.locator(rowOf(still)).evaluate((li) => { li.dataset.kept = 'yes'; });
    for (let round = 1; round <= 3; round++) {
      for (let k = 0; k < 5; k++) await customerWrites(`round ${round} for ${k}`, { id: `crm-burst-${k}` });
    }
    for (let k = 0; k < 5; k++) await item(page, convs[k]).locator('.preview', { hasText: `round 3 for ${k}` }).waitFor({ timeout: WAIT });
    const top = await page.locator('#conv-list .conv-item').evaluateAll((items) => items.slice(0, 6).map((b) => b.dataset.conv));
    assert.deepEqual(top, [...convs].reverse().concat(still));
    assert.equal(await page.locator(rowOf(still)).getAttribute('data-kept'), 'yes', 'the same element: not written again');

    // A hidden tab runs no animation frames: the list is still brought up to date.
    await page.evaluate(() => { window.requestAnimationFrame = () => 0; });
    await customerWrites('written while no frame ran', { id: 'crm-burst-still' });
    await item(page, still).locator('.preview', { hasText: 'written while no frame ran' }).waitFor({ timeout: WAIT });
    assert.equal(await page.locator('#conv-list .conv-item').first().getAttribute('data-conv'), still);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a half-written reply stays with its conversation across switches and a reload, and goes once sent', T, async () => {
    const page = await ali();
    const { conversation_id: a } = await customerWrites('My fridge is noisy.', { id: 'crm-draft-a', name: 'Nima' });
    const { conversation_id: b } = await customerWrites('Where is my invoice?', { id: 'crm-draft-b', name: 'Sima' });
    await item(page, b).waitFor({ timeout: WAIT });
    await open(page, a);
    await page.fill('#reply-text', 'Please send a short video of the');
    await open(page, b);
    assert.equal(await page.inputValue('#reply-text'), '', 'another conversation: its own (empty) box');
    await page.click('#mode-note');
    await page.fill('#reply-text', 'VIP: check the invoice system');
    await open(page, a);
    assert.equal(await page.inputValue('#reply-text'), 'Please send a short video of the');
    assert.equal(await page.getAttribute('#mode-reply', 'aria-pressed'), 'true');

    await page.reload();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await page.waitForSelector('#conv-pane:not([hidden])', { timeout: WAIT });
    assert.equal(await page.inputValue('#reply-text'), 'Please send a short video of the', 'kept across a reload');
    await open(page, b);
    assert.equal(await page.inputValue('#reply-text'), 'VIP: check the invoice system');
    assert.equal(await page.getAttribute('#mode-note', 'aria-pressed'), 'true', 'a note stays a note');

    // Sent: the draft goes with it.
    await open(page, a);
    await page.press('#reply-text', 'End');
    await page.type('#reply-text', ' noise.');
    await page.press('#reply-text', 'Enter');
    await stored(page, 'Please send a short video of the noise.').waitFor({ timeout: WAIT });
    await open(page, b);
    await open(page, a);
    assert.equal(await page.inputValue('#reply-text'), '');
    // Signed out: whoever signs in next in this tab finds no draft.
    await page.click('#logout-btn');
    await page.waitForSelector('#login-view:not([hidden])', { timeout: WAIT });
    await signIn(page, 'ali', 'ali-secret-1');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await open(page, b);
    assert.equal(await page.inputValue('#reply-text'), '');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a session that ends under the agent keeps their drafts for when they sign in again; another agent in the tab never sees them', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('My oven will not heat.', { id: 'crm-draft-end', name: 'Tara' });
    await open(page, conv);
    await page.fill('#reply-text', 'A long careful answer, half written');
    // An admin ends the session (or its 8 hours are over).
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('pasokh.console.session')).token);
    assert.equal((await fetch(`${gw.base}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 200);
    await page.waitForSelector('#login-view:not([hidden])', { timeout: WAIT });

    await signIn(page, 'maryam', 'maryam-secret-2');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await open(page, conv);
    assert.equal(await page.inputValue('#reply-text'), '', 'not for another agent');
    await page.click('#logout-btn');
    await page.waitForSelector('#login-view:not([hidden])', { timeout: WAIT });
    await signIn(page, 'ali', 'ali-secret-1');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await open(page, conv);
    assert.equal(await page.inputValue('#reply-text'), 'A long careful answer, half written');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('online or away chosen in one tab holds when another tab of the agent reconnects', T, async () => {
    const proxy = await new TcpProxy().start(gw.port);
    try {
      const older = await newPage();  // its connection is cut below
      await older.goto(`${proxy.base}/`);
      await older.fill('#login', 'maryam');
      await older.fill('#password', 'maryam-secret-2');
      await older.click('#login-form button[type="submit"]');
      await older.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
      const newer = await maryam();
      const token = (await (await fetch(`${gw.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'maryam', password: 'maryam-secret-2' }) })).json()).token;
      const onServer = async () => (await (await fetch(`${gw.base}/api/v1/agents`, { headers: { authorization: `Bearer ${token}` } }))
        .json()).agents.find((a) => a.name === 'Maryam').status;

      await older.selectOption('#presence', 'away');
      await until(async () => (await newer.inputValue('#presence')) === 'away' || 'not yet', 'away in the newer tab');
      await newer.selectOption('#presence', 'online');
      await until(async () => (await older.inputValue('#presence')) === 'online' || 'not yet', 'online in the older tab');
      proxy.cut();
      await older.waitForSelector('#conn-status[data-state="reconnecting"]', { timeout: WAIT });
      await older.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
      assert.equal(await onServer(), 'online');
      assert.equal(await newer.inputValue('#presence'), 'online');
      assert.equal(await older.inputValue('#presence'), 'online');
      // Away again: routing gives the later tests' conversations to nobody.
      await newer.selectOption('#presence', 'away');
      await until(async () => (await onServer()) === 'away' || 'not yet', 'away on the server');
    } finally {
      await proxy.close();
    }
  });

  test('after the server restarts, the console reconnects and shows what it missed exactly once', T, async () => {
    const page = await ali();
    const customer = { id: 'crm-nima', name: 'Nima' };
    const { conversation_id: conv } = await customerWrites('Where is my order #5521?', customer);
    await open(page, conv);
    await stored(page, 'Where is my order').waitFor({ timeout: WAIT });

    // 1. While this gateway is down the customer writes through the other
    //    instance, and a new customer opens a conversation. Nothing else
    //    happens in the open conversation, so only the resume brings it.
    await gw.stop();
    await page.waitForSelector('#conn-status[data-state="reconnecting"]', { timeout: WAIT });
    assert.match(await page.textContent('#conn-status'), /reconnecting/i);
    const missed = 'Hello? Any news about the order?';
    await customerWrites(missed, customer, { via: gw2 });
    const { conversation_id: other } = await customerWrites('سلام، دستگاه روشن نمی‌شود', { id: 'crm-new', name: 'Leila' }, { via: gw2 });
    await gw.start();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: 20_000 });
    await stored(page, missed).waitFor({ timeout: WAIT });
    await item(page, other).waitFor({ timeout: WAIT });

    // 2. A reply written while disconnected waits, then goes once.
    await gw.stop();
    await page.waitForSelector('#conn-status[data-state="reconnecting"]', { timeout: WAIT });
    const queuedReply = 'It ships tomorrow morning.';
    await page.fill('#reply-text', queuedReply);
    await page.press('#reply-text', 'Enter');
    await page.waitForSelector('#messages li.pending[data-pending="queued"]', { timeout: WAIT });
    assert.match(await page.locator('#messages li.pending').textContent(), /waiting for connection/i);
    await gw.start();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: 20_000 });
    await stored(page, queuedReply).waitFor({ timeout: WAIT });

    // And live again afterwards.
    const after = 'Great, thank you!';
    await customerWrites(after, customer);
    await stored(page, after).waitFor({ timeout: WAIT });

    await page.waitForTimeout(500); // a late duplicate would land now
    for (const text of [missed, queuedReply, after]) assert.equal(await stored(page, text).count(), 1, text);
    assert.equal(await page.locator('#messages li.pending').count(), 0);
    const seqs = await page.$$eval('#messages li[data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'each seq once, in order');
    const messages = await storedMessages(conv);
    assert.equal(messages.filter((m) => m.text === queuedReply).length, 1, 'the queued reply is stored once');
    assert.equal(seqs.length, messages.length, 'every stored message is on screen');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a reply whose ack was lost is resent with the same client_id and stored once', T, async () => {
    const page = await newPage();
    // Sits between page and server: on the first connection, forwards the
    // reply but swallows its ack and event, then cuts the connection.
    let connections = 0;
    const replies = [];
    await page.routeWebSocket(/\/ws\/agent$/, (ws) => {
      const n = ++connections;
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const f = JSON.parse(m);
        if (f.type === 'reply') {
          replies.push(f.client_id);
          if (n === 1 && replies.length === 1) setTimeout(() => ws.close({ code: 4000, reason: 'cut' }), 500);
        }
        server.send(m);
      });
      server.onMessage((m) => {
        const f = JSON.parse(m);
        const forReply = f.type === 'ack' || (f.type === 'event' && f.message?.client_id);
        if (n === 1 && forReply) return;
        ws.send(m);
      });
    });
    await signIn(page, 'ali', 'ali-secret-1');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    const { conversation_id: conv } = await customerWrites('Can I return the headphones?', { id: 'crm-ack', name: 'Tara' });
    await open(page, conv);
    const text = 'Yes, within 14 days of delivery.';
    await page.fill('#reply-text', text);
    await page.press('#reply-text', 'Enter');
    for (let i = 0; connections < 2; i++) {
      assert.ok(i < 100, 'the console reconnects after the cut');
      await page.waitForTimeout(100);
    }
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await stored(page, text).waitFor({ timeout: WAIT });
    await page.waitForTimeout(300);

assert.ok(connections >= 2, 'reconnected');
    assert.equal(replies.length, 2, 'resent once after the reconnect');
    assert.equal(replies[0], replies[1], 'with the same client_id');
    assert.equal(await stored(page, text).count(), 1);
    assert.equal(await page.locator('#messages li.pending').count(), 0);
    assert.equal((await storedMessages(conv)).filter((m) => m.text === text).length, 1, 'stored once');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('delivery marks: sent, delivered, read, and failed with its reason', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Is my repair done?', { id: 'crm-marks', name: 'Kaveh' });
    await open(page, conv);
    for (const text of ['First answer.', 'Second answer.']) {
      await page.fill('#reply-text', text);
      await page.press('#reply-text', 'Enter');
      await stored(page, text).waitFor({ timeout: WAIT });
    }
    const bubble = (text) => page.locator('#messages li.msg[data-seq]', { hasText: text });
    const first = bubble('First answer.');
    const second = bubble('Second answer.');
    // Stored as pending; the gateway's own outbox may already have marked it sent.
    assert.match(await first.getAttribute('data-status'), /^(pending|sent)$/);
    assert.match(await first.locator('.mark').getAttribute('aria-label'), /^(Pending|Sent)$/);
    const [s1, s2] = [Number(await first.getAttribute('data-seq')), Number(await second.getAttribute('data-seq'))];

    await publishDelivery(conv, s1, 'delivered');
    await page.locator(`#messages li[data-seq="${s1}"][data-status="delivered"]`).waitFor({ timeout: WAIT });
    await publishDelivery(conv, s1, 'sent'); // late: must not move the mark back
    await publishDelivery(conv, s1, 'read');
    await page.locator(`#messages li[data-seq="${s1}"][data-status="read"] .mark-read`).waitFor({ timeout: WAIT });

    // A web chat reply the customer did not read went to their email: said at once.
    await publishDelivery(conv, s2, 'delivered');
    await page.locator(`#messages li[data-seq="${s2}"][data-status="delivered"]`).waitFor({ timeout: WAIT });
    await publishDelivery(conv, s2, 'delivered', { emailed_at: Date.now() });
    await second.locator('.emailed', { hasText: 'sent by email' }).waitFor({ timeout: WAIT });
    await publishDelivery(conv, s2, 'failed', { reason: 'outside the 24-hour window' });
    await page.locator(`#messages li[data-seq="${s2}"][data-status="failed"]`).waitFor({ timeout: WAIT });
    assert.match(await second.locator('.failure').textContent(), /Not delivered: outside the 24-hour window/);
    assert.equal(await second.locator('.mark').getAttribute('aria-label'), 'Failed');
    assert.equal(await first.getAttribute('data-status'), 'read');
    // The agent sends the refused text again: a new reply, stored after it.
    await second.getByRole('button', { name: 'Send again' }).click();
    await page.locator('#messages li.msg[data-seq]', { hasText: 'Second answer.' }).nth(1).waitFor({ timeout: WAIT });
    const again = (await storedMessages(conv)).filter((m) => m.text === 'Second answer.');
    assert.equal(again.length, 2);
    assert.ok(again[1].seq > s2);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a customer\'s reaction shows on the reply it names and goes when taken back', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Did the refund go through?', { id: 'crm-react', name: 'Nika' });
    await open(page, conv);
    await page.fill('#reply-text', 'Yes, today.');
    await page.press('#reply-text', 'Enter');
    await stored(page, 'Yes, today.').waitFor({ timeout: WAIT });
    const reply = page.locator('#messages li.msg[data-seq]', { hasText: 'Yes, today.' });
    const seq = Number(await reply.getAttribute('data-seq'));
    await publishReaction(conv, seq, '👍');
    await reply.locator('.reaction', { hasText: '👍' }).waitFor({ timeout: WAIT });
    assert.equal(await reply.locator('.reaction').getAttribute('aria-label'), 'Customer reacted 👍');
    await publishReaction(conv, seq, '');
    await reply.locator('.reaction').waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await page.locator('#messages li.event').filter({ hasText: 'reacted' }).count(), 0, 'no event line for a message on screen');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('فارسی: the console in Persian and right to left, kept after a reload; English again is left to right; العربية too', T, async () => {
    const page = await newPage();
    await page.goto(`${gw.base}/`);
    const root = () => page.evaluate(() => [document.documentElement.dir, document.documentElement.lang]);
    assert.deepEqual(await root(), ['ltr', 'en'], 'English by default');
    // Chosen on the sign-in screen: the page is built again in Persian
    // (lang is set once its texts are: the dictionary loads after the page).
    await page.selectOption('#login-lang', 'fa');
    await page.waitForSelector('html[lang="fa"]', { timeout: WAIT });
    assert.deepEqual(await root(), ['rtl', 'fa']);
    assert.equal(await page.textContent('#login-form button[type="submit"]'), 'ورود');
    assert.equal(await page.textContent('label[for="password"]'), 'رمز عبور');
    await signIn(page, 'ali', 'not-the-password');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: WAIT });
    assert.equal(await page.textContent('#login-error'), 'نام کاربری یا رمز عبور نادرست است.');
    await signIn(page, 'ali', 'ali-secret-1');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    assert.equal(await page.textContent('#conn-text'), 'آنلاین');

    const { conversation_id: conv } = await customerWrites('سلام، گوشی من روشن نمی‌شود', { id: 'crm-farsi', name: 'Shirin' });
    await item(page, conv).waitFor({ timeout: WAIT });
    assert.equal(await page.textContent('#inbox-views [data-view="all"] .filter-label'), 'همه');
    assert.equal(await page.textContent('#inbox-statuses [data-status="queued"] .filter-label'), 'در صف');
    assert.match(await page.textContent('#inbox-views [data-view="all"] .count'), /^[۱-۹][۰-۹]*$/, 'a count in Persian digits');
    assert.match(await item(page, conv).locator('.status').textContent(), /^(در صف|واگذار شده)$/, 'a status name in Persian');
    await open(page, conv);
    assert.equal(await page.textContent('#mode-reply'), 'پاسخ');
    assert.equal(await page.textContent('#send-btn'), 'ارسال');
    assert.equal(await page.textContent('#resolve-btn'), 'حل شد');
    assert.equal(await page.getAttribute('#reply-text', 'placeholder'), 'پاسخ بنویسید… (/ برای پاسخ‌های آماده)');
    assert.match(await page.textContent('#messages li.msg[data-seq] time'), /^[۰-۹]{2}:[۰-۹]{2}$/, 'a time in Persian digits');
    // The customer's Persian and an agent's English reply each keep their own direction.
    assert.equal(await stored(page, 'سلام').getAttribute('dir'), 'rtl');
    await page.fill('#reply-text', 'Your repair is done.');
    await page.press('#reply-text', 'Enter');
    await stored(page, 'Your repair is done.').waitFor({ timeout: WAIT });
    assert.equal(await stored(page, 'Your repair is done.').getAttribute('dir'), 'ltr');
    const reply = page.locator('#messages li.msg[data-seq]', { hasText: 'Your repair is done.' });
    const seq = Number(await reply.getAttribute('data-seq'));
    await publishDelivery(conv, seq, 'delivered');
    await reply.locator('.mark-delivered[aria-label="تحویل شد"]').waitFor({ timeout: WAIT });
    await publishDelivery(conv, seq, 'failed', { reason: 'outside the 24-hour window' });
    await reply.locator('.failure', { hasText: 'تحویل نشد: outside the 24-hour window' }).waitFor({ timeout: WAIT });
    assert.equal(await reply.locator('.failure button').textContent(), 'ارسال دوباره');
    assert.match(await page.textContent('#conv-meta .status'), /^(در صف|واگذار شده)$/);

    // Kept after a reload.
    await page.reload();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    assert.deepEqual(await root(), ['rtl', 'fa']);
    assert.equal(await page.textContent('#logout-btn'), 'خروج');
    assert.equal(await page.locator('#inbox-views [data-view="mine"] .filter-label').textContent(), 'مال من');
    // The inbox starts on the right: the page is mirrored, not just its words.
    const [inboxBox, convBox] = [await page.locator('nav.inbox').boundingBox(), await page.locator('#conversation').boundingBox()];
    assert.ok(inboxBox.x > convBox.x, 'the inbox is right of the conversation');

    // English again, from the header: left to right and English texts.
    await page.selectOption('#top-lang', 'en');
    await page.waitForSelector('html[lang="en"]', { timeout: WAIT });
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    assert.deepEqual(await root(), ['ltr', 'en']);
    assert.equal(await page.textContent('#inbox-views [data-view="all"] .filter-label'), 'All');
    assert.equal(await page.textContent('#send-btn'), 'Send');
    assert.equal(await page.textContent('#logout-btn'), 'Log out');

    // Arabic: right to left, its own texts and digits.
    await page.selectOption('#top-lang', 'ar');
    await page.waitForSelector('html[lang="ar"]', { timeout: WAIT });
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    assert.deepEqual(await root(), ['rtl', 'ar']);
    assert.equal(await page.textContent('#inbox-statuses [data-status="assigned"] .filter-label'), 'مُسندة');
    assert.equal(await page.textContent('#resolve-btn'), 'تم الحل');
    assert.match(await page.textContent('#inbox-views [data-view="all"] .count'), /^[١-٩][٠-٩]*$/);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a pending reply the outbox retries says why and when it goes again, until it is sent', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Where is my parcel?', { id: 'crm-retrying', name: 'Nasrin' });
    await open(page, conv);
    // A reply as the log holds it before the provider took it (the API channel's own is sent at once).
    await publishCustomerMessage(conv, { author: 'agent', author_id: 'ag_x', author_name: 'Ali', direction: 'out',
      status: 'pending', text: 'It left the warehouse today.' });
    const reply = page.locator('#messages li.msg[data-seq]', { hasText: 'It left the warehouse today.' });
    await reply.waitFor({ timeout: WAIT });
    const seq = Number(await reply.getAttribute('data-seq'));
    const nextAt = new Date(2026, 10, 24, 16, 20).getTime();
    await publishDelivery(conv, seq, 'pending', { retrying: { reason: 'http 500: Internal Server Error', attempt: 3, next_at: nextAt } });
    const note = reply.locator('.retrying');
    await note.waitFor({ timeout: WAIT });
    assert.match(await note.textContent(), /^Not delivered yet: http 500: Internal Server Error · retry 3 at .*16:20/);
    assert.equal(await reply.getAttribute('data-status'), 'pending');
    await publishDelivery(conv, seq, 'sent');
    await page.locator(`#messages li[data-seq="${seq}"][data-status="sent"]`).waitFor({ timeout: WAIT });
    assert.equal(await reply.locator('.retrying').count(), 0);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a mail\'s quoted history is folded under "Show quoted text"', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Can you come tomorrow?', { id: 'crm-quoted', name: 'Neda' });
    await open(page, conv);
    await stored(page, 'Can you come tomorrow?').waitFor({ timeout: WAIT });
    // The customer's next message as an email arrives: the shown text without
    // the quote, the mail as written beside it (ingest.lua's message event).
    const original = 'Yes, at ten.\n\nOn Mon, Ali wrote:\n> Can we come tomorrow?';
    await publishCustomerMessage(conv, { text: 'Yes, at ten.', original_text: original });
    const bubble = page.locator('#messages li.msg[data-seq]', { hasText: 'Yes, at ten.' });
    await bubble.waitFor({ timeout: WAIT });
    const quoted = bubble.locator('details.msg-original');
    assert.equal(await quoted.locator('summary').textContent(), 'Show quoted text');
    assert.equal(await quoted.locator('.msg-text').isVisible(), false);
    await quoted.locator('summary').click();
    assert.equal(await quoted.locator('.msg-text').textContent(), original);
    assert.equal(await page.locator('#messages li.msg[data-seq]', { hasText: 'Can you come tomorrow?' })
      .locator('details').count(), 0, 'no toggle without quoted history');
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a message of an earlier day shows its date and time; Persian labels in an event line are isolated', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Still waiting.', { id: 'crm-days', name: 'Arash' });
    await open(page, conv);
    const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('pasokh.console.session')).token);
    await fetch(`${gw.base}/api/v1/conversations/${conv}/labels`, { method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ add: ['گارانتی', 'فوری'] }) });
    const line = page.locator('#messages li.event-labels');
    await line.waitFor({ timeout: WAIT });
    assert.deepEqual((await line.locator('bdi').allTextContents()).sort(), ['فوری', 'گارانتی'].sort());
    assert.match(await line.textContent(), /^Labels \+\S+, \+\S+ by you /);
    // (A message published after the labels event: its seq is the next one.)
    await publishCustomerMessage(conv, { text: 'Written yesterday.', created_at: Date.now() - 86_400_000 });
    const time = page.locator('#messages li.msg[data-seq]', { hasText: 'Written yesterday.' }).locator('time');
    assert.match(await time.textContent({ timeout: WAIT }), /^\d{1,2} \w{3}, \d{2}:\d{2}$/);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('attachments open with the session: an image shows in the bubble, a file is saved, never run; a public URL is a link', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Here is the invoice and a photo.', { id: 'crm-files', name: 'Mina' });
    await open(page, conv);
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await redisCommand('HSET', 'pasokh:attachment:att_e2e_photo', 'name', 'photo.png', 'mime_type', 'image/png', 'content', png);
    await redisCommand('HSET', 'pasokh:attachment:att_e2e_page', 'name', 'invoice.html', 'mime_type', 'text/html',
      'content', '<script>opener && (opener.__pwned = 1); window.__pwned = 1</script>');
    await publishCustomerMessage(conv, { text: 'Files attached.', attachments: [
      { kind: 'image', name: 'photo.png', mime_type: 'image/png', provider_ref: 'att_e2e_photo' },
      { kind: 'document', name: PAYLOAD, mime_type: 'text/html', provider_ref: 'att_e2e_page' },
      { kind: 'image', name: 'cdn.jpg', provider_ref: 'https://cdn.example.com/p.jpg' },
      { kind: 'location', latitude: 35.7, longitude: 51.4 },
      { kind: 'sticker', name: 'sticker.webp', provider_ref: 'CAACAgIAAxkBAAIC' }] });
    const bubble = page.locator('#messages li.msg[data-seq]', { hasText: 'Files attached.' });
    const files = bubble.locator('.attachments li');
    await files.first().waitFor({ timeout: WAIT });
    assert.equal(await files.nth(1).locator('span[dir]').textContent(), PAYLOAD, 'a name is text');
    await files.nth(0).getByRole('button', { name: 'Open' }).click({ timeout: WAIT });
    const img = files.nth(0).locator('img.attachment-image');
    await img.waitFor({ timeout: WAIT });
    assert.equal(await img.evaluate((i) => i.complete && i.naturalWidth), 1);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }),
      files.nth(1).getByRole('button', { name: 'Open' }).click()]);
    assert.equal(await download.failure(), null, 'saved');
    const link = files.nth(2).getByRole('link', { name: 'Open' });
    assert.equal(await link.getAttribute('href'), 'https://cdn.example.com/p.jpg');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await files.nth(3).locator('button, a').count(), 0, 'a location has nothing to open');
    // A Telegram or WhatsApp file comes through the gateway, naming the message it came with.
    await page.route('**/api/v1/media/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: png }));
    const [media] = await Promise.all([page.waitForRequest('**/api/v1/media/**', { timeout: WAIT }),
      files.nth(4).getByRole('button', { name: 'Open' }).click()]);
    const seq = await bubble.getAttribute('data-seq');
    assert.equal(new URL(media.url()).pathname + new URL(media.url()).search,
      `/api/v1/media/api/CAACAgIAAxkBAAIC?conversation=${conv}&seq=${seq}`);
    await files.nth(4).locator('img.attachment-image').waitFor({ timeout: WAIT });
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#messages img:not(.attachment-image), #messages script').count(), 0);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('a message type Pasokh cannot show says what it was; a file too big for the provider says so', T, async () => {
    const page = await ali();
    const { conversation_id: conv } = await customerWrites('Before the poll.', { id: 'crm-unsupported', name: 'Nika' });
    await open(page, conv);
    await publishCustomerMessage(conv, { text: 'A long video.', attachments: [{ kind: 'unsupported', name: 'poll', caption: 'Which colour?' },
      { kind: 'video', name: 'big.mp4', provider_ref: 'BAACAgQAAxkBAAIBig' }] });
    const poll = page.locator('#messages .attachments li.unsupported');
    await poll.waitFor({ timeout: WAIT });
    assert.equal((await poll.textContent()).replace(/\s+/g, ' ').trim(), 'Message Pasokh cannot show: poll: Which colour?');
    assert.equal(await poll.locator('button, a').count(), 0, 'nothing to open');
    await page.route('**/api/v1/media/**', (route) => route.fulfill({ status: 502, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'file_too_big', message: 'the file is over 20 MB' } }) }));
    const video = page.locator('#messages li.msg[data-seq]', { hasText: 'A long video.' }).locator('.attachments li:not(.unsupported)');
    await video.getByRole('button', { name: 'Open' }).click({ timeout: WAIT });
    await video.locator('.failure', { hasText: 'over 20 MB' }).waitFor({ timeout: WAIT });
    assert.deepEqual(consoleErrors(page).filter((e) => !/502/.test(e)), [], 'only the refused file');
  });

  test('a hidden tab or a window without focus gets a title and a sound notification', T, async () => {
    const page = await ali();
    await page.evaluate(() => {
      window.__notes = [];
      window.addEventListener('pasokh:notify', (e) => window.__notes.push(e.detail.reason));
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const { conversation_id: conv } = await customerWrites('Do you install air conditioners?', { id: 'crm-hidden', name: 'Omid' });
    await item(page, conv).waitFor({ timeout: WAIT });
    await until(async () => (await page.title()).startsWith('(1) New conversation') || page.title(), 'title');
    assert.deepEqual(await page.evaluate(() => window.__notes), ['New conversation']);

    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    assert.equal(await page.title(), 'Pasokh console');

    // Shown but not focused (another window on top, a second monitor): nobody is looking either.
    await page.evaluate(() => { document.hasFocus = () => false; window.dispatchEvent(new Event('blur')); });
    const { conversation_id: other } = await customerWrites('And heat pumps?', { id: 'crm-unfocused', name: 'Vida' });
    await item(page, other).waitFor({ timeout: WAIT });
    await until(async () => (await page.title()).startsWith('(1) New conversation') || page.title(), 'title while unfocused');
    assert.deepEqual(await page.evaluate(() => window.__notes), ['New conversation', 'New conversation']);
    await page.evaluate(() => { delete document.hasFocus; window.dispatchEvent(new Event('focus')); });
    assert.equal(await page.title(), 'Pasokh console');
    assert.deepEqual(consoleErrors(page), []);
  });
});
