// Browser test of the console's Campaigns page (web/console/js/views/campaigns.js):
// an admin creates a greeting in the form and watches its row count the
// messages queued and sent, a customer's reply and another's opt-out, live over the agent
// socket without reloading. Debian's Chromium through playwright-core.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, clearOfMidnightUTC, defaultConfig, postMessage } from '../support/harness.mjs';
import { launchBrowser } from './browser.mjs';

const WAIT = 10_000;
async function until(check, what) {
  const deadline = Date.now() + WAIT;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const CUSTOMERS = 12;
let redis, gw, browser;

before(async () => {
  await clearOfMidnightUTC(120_000);  // its campaigns are for today (UTC)
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    campaigns: { timezone: 'UTC', quiet_hours: null, tick_ms: 50, lease_ms: 1000 },
  })).start();
  await gw.createAgent('boss', 'boss-secret-3', { name: 'Boss', role: 'admin' });
  for (let i = 0; i < CUSTOMERS; i++) {
    const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: `c-${i}`, name: `مشتری ${i}` }, text: 'سلام', language: 'fa' });
    assert.equal(r.status, 201, r.text);
  }
  browser = await launchBrowser();
});

async function api(method, path) {
  const auth = await (await fetch(`${gw.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'boss', password: 'boss-secret-3' }) })).json();
  const res = await fetch(`${gw.base}${path}`, { method, headers: { authorization: `Bearer ${auth.token}` } });
  return res.json();
}

after(async () => {
  await browser?.close().catch(() => {});
  await gw?.cleanup();
  await redis?.cleanup();
});

test('an admin creates a campaign and watches its progress live', async () => {
  const page = await (await browser.newContext()).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${gw.base}/console/`);
  await page.fill('#login', 'boss');
  await page.fill('#password', 'boss-secret-3');
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });

  await page.click('#campaigns-btn');
  await page.waitForSelector('#campaign-form', { timeout: WAIT });
  assert.equal(await page.isHidden('.layout'), true);
  await page.fill('#campaign-name', 'یلدا');
  await page.selectOption('#campaign-kind', 'occasion');
  await page.selectOption('#campaign-occasion', 'date');
  await page.fill('#campaign-date', new Date().toISOString().slice(0, 10));
  await page.fill('#campaign-text_fa', '{name} عزیز، یلدا مبارک! کد: {code}');
  await page.fill('#campaign-code', 'YALDA-E2E');
  await page.fill('#campaign-rate', '20');

  // Nothing goes out before the admin confirms what the dialog says; an empty
  // audience is said to be everyone. Cancel creates nothing.
  await page.click('#campaign-form button[type="submit"]');
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  const question = (await page.textContent('#confirm-dialog')).replace(/[\u2068\u2069]/g, '');
  assert.match(question, /"یلدا" \(Occasion greeting\), with texts in fa, offer code YALDA-E2E/);
  assert.match(question, /The audience is empty: it goes to EVERY customer who has not opted out/);
  // Counted before the question: who gets it today, where, and what they read.
  assert.match(question, new RegExp(`Run now, it would send ${CUSTOMERS} messages to ${CUSTOMERS} customers \\(${CUSTOMERS} on api\\)`));
  assert.match(question, /For example, to مشتری \d+ on api: “مشتری \d+ عزیز، یلدا مبارک! کد: YALDA-E2E”/);
  await page.click('#confirm-cancel');
  await page.waitForSelector('#confirm-dialog', { state: 'hidden' });
  await page.waitForTimeout(300);
  assert.deepEqual((await api('GET', '/api/v1/admin/campaigns')).campaigns, [], 'cancelled: no campaign');
  assert.equal(await page.inputValue('#campaign-name'), 'یلدا', 'the form is kept for another try');

  await page.click('#campaign-form button[type="submit"]');
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  await page.click('#confirm-ok');

  const row = '#campaign-table tr[data-campaign]';
  await page.waitForSelector(row, { timeout: WAIT });
  // Created: the form is empty again, so a second click cannot send it twice.
  await until(async () => (await page.inputValue('#campaign-name')) === '', 'the form reset');
  assert.equal(await page.inputValue('#campaign-text_fa'), '');
  assert.equal(await page.inputValue('#campaign-code'), '');
  await page.click('#campaign-form button[type="submit"]');
  await page.waitForTimeout(300);
  assert.ok(await page.isHidden('#confirm-dialog'), 'an empty form asks nothing');
  assert.equal((await api('GET', '/api/v1/admin/campaigns')).campaigns.length, 1, 'one campaign');
  const cell = (stat) => page.textContent(`${row} td[data-stat="${stat}"]`);
  await until(async () => (await cell('sent')) === String(CUSTOMERS), 'all sent');
  assert.equal(await cell('queued'), String(CUSTOMERS));
  // Done once the loop has looked at every customer file (a tick after the last send at most).
  await until(async () => (await page.getAttribute(row, 'data-status')) === 'done', 'done');

  // A customer answers: the row counts it without a reload.
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'c-3', name: 'مشتری 3' }, text: 'ممنون!' });
  assert.equal(r.status, 201);
  await until(async () => (await cell('replied')) === '1', 'the reply counted');
  // Another answers «لغو»: an opt-out, in its own column, not a reply.
  const stop = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'c-4', name: 'مشتری 4' }, text: '«لغو»' });
  assert.equal(stop.status, 201);
  await until(async () => (await cell('opted_out')) === '1', 'the opt-out counted');
  assert.equal(await cell('replied'), '1');

  // An audience is summed up; Cancel on a campaign asks first and is final only when confirmed.
  await page.fill('#campaign-name', 'Nowruz');
  await page.selectOption('#campaign-occasion', 'nowruz');
  await page.fill('#campaign-text_fa', 'نوروز مبارک');
  await page.fill('#campaign-text_en', 'Happy Nowruz');
  await page.fill('#campaign-languages', 'fa, en');
  await page.fill('#campaign-tags', 'loyal');
  await page.click('#campaign-form button[type="submit"]');
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  const summary = await page.textContent('#confirm-dialog');
  assert.match(summary, /It targets 2 languages \(fa, en\), 1 tag \(loyal\); opted-out customers are skipped/);
  assert.doesNotMatch(summary, /EVERY/);
  assert.match(summary, /Run now, it would send no message: nobody in its audience can be reached/, 'nobody is tagged loyal');
  await page.click('#confirm-ok');
  const nowruz = '#campaign-table tr[data-status="scheduled"]';
  await page.waitForSelector(nowruz, { timeout: WAIT });
  await page.click(`${nowruz} button:text-is("Cancel")`);
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  assert.match((await page.textContent('#confirm-dialog')).replace(/[\u2068\u2069]/g, ''), /Cancel the campaign Nowruz\?.*final/);
  await page.click('#confirm-cancel'); // "Keep it"
  await page.waitForTimeout(300);
  const id = await page.getAttribute(nowruz, 'data-campaign');
  assert.equal((await api('GET', `/api/v1/admin/campaigns/${id}`)).status, 'scheduled', 'kept');
  await page.click(`${nowruz} button:text-is("Cancel")`);
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  await page.click('#confirm-ok');
  await until(async () => (await api('GET', `/api/v1/admin/campaigns/${id}`)).status === 'cancelled', 'cancelled');
  assert.deepEqual(errors, []);
});
