// Browser test of the console's Campaigns page (web/console/js/views/campaigns.js):
// an admin creates a greeting in the form and watches its row count the
// messages queued and sent, and a customer's reply, live over the agent
// socket without reloading. Debian's Chromium through playwright-core.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, defaultConfig, postMessage } from '../support/harness.mjs';
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
  await page.click('#campaign-form button[type="submit"]');

  const row = '#campaign-table tr[data-campaign]';
  await page.waitForSelector(row, { timeout: WAIT });
  const cell = (stat) => page.textContent(`${row} td[data-stat="${stat}"]`);
  await until(async () => (await cell('sent')) === String(CUSTOMERS), 'all sent');
  assert.equal(await cell('queued'), String(CUSTOMERS));
  // Done once the loop has looked at every customer file (a tick after the last send at most).
  await until(async () => (await page.getAttribute(row, 'data-status')) === 'done', 'done');

  // A customer answers: the row counts it without a reload.
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'c-3', name: 'مشتری 3' }, text: 'ممنون!' });
  assert.equal(r.status, 201);
  await until(async () => (await cell('replied')) === '1', 'the reply counted');
  assert.deepEqual(errors, []);
});
