// Browser test of the reports dashboard (web/console/js/views/reports.js) on
// the scripted February 2020 history (tests/support/report_history.mjs):
// the headline figures, the line chart's points, the bars by channel and by
// agent (Persian names laid out right to left), the week grouping, an agent
// filter and the CSV download. Debian's Chromium through playwright-core.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startReportsGateway, writeHistory } from '../support/report_history.mjs';
import { launchBrowser } from './browser.mjs';

const WAIT = 10_000;
let redis, gw, browser, maryamId;

before(async () => {
  let aliId, boss;
  ({ redis, gw, aliId, maryamId, boss } = await startReportsGateway([['layla', 'layla-secret-4', 'لیلا']]));
  // A removed agent: still a choice of the agent filter, as the reports still name her.
  const auth = { authorization: `Bearer ${boss}` };
  const { agents } = await (await fetch(`${gw.base}/api/v1/agents`, { headers: auth })).json();
  const gone = await fetch(`${gw.base}/api/v1/admin/agents/${agents.find((a) => a.login === 'layla').id}`, { method: 'DELETE', headers: auth });
  assert.equal(gone.status, 200);
  writeHistory(redis.port, { ali: aliId, maryam: maryamId });
  const rebuilt = await fetch(`${gw.base}/api/v1/admin/reports/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${boss}` } });
  assert.equal(rebuilt.status, 200);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await gw?.cleanup();
  await redis?.cleanup();
});

async function dashboard(login, password) {
  // The manager's browser is abroad: the days are still the shop's, Tehran's (the team's hours' zone).
  const context = await browser.newContext({ timezoneId: 'Europe/London', acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${gw.base}/`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  return { page, context };
}

async function showFebruary(page) {
  await page.click('#reports-btn');
  await page.waitForSelector('#report-form', { timeout: WAIT });
  await page.fill('#report-from', '2020-02-01');
  await page.fill('#report-to', '2020-02-29');
  await page.click('#report-form button[type="submit"]');
  // The period line has its days in the language's calendar: 2020 is 1398 in Persian.
  await until(async () => /2020|۱۳۹۸/.test(await page.textContent('#report-status')) || await page.textContent('#report-status'),
    'the February report');
}

// Polls from Node: page.waitForFunction would poll with eval, which the
// console's Content-Security-Policy forbids.
async function until(check, what) {
  const deadline = Date.now() + WAIT;
  let last;
  while ((last = await check()) !== true) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const kpi = (page, key) => page.textContent(`[data-kpi="${key}"] .kpi-value`);

test('dashboard: the scripted February shows the figures, the lines, the bars and the CSV', { timeout: 60_000 }, async () => {
  const { page, context } = await dashboard('boss', 'boss-secret-3');
  await showFebruary(page);
  assert.equal(await page.inputValue('#report-tz'), 'Asia/Tehran', 'the server\'s zone, shown');
  assert.match(await page.textContent('#report-status'), /\(\u2068Asia\/Tehran\u2069\)/);
  assert.equal(await kpi(page, 'conversations'), '6');
  assert.equal(await kpi(page, 'first_response'), '40 min');
  assert.equal(await kpi(page, 'resolution'), '1 h');
  assert.equal(await kpi(page, 'csat'), '4.0');
  assert.equal(await kpi(page, 'deflection'), '50%');
  assert.equal(await kpi(page, 'crr'), '50%');
  assert.match(await page.textContent('[data-kpi="crr"] .kpi-note'), /2 of 4 came back; 2 new, 1 back after a pause/);
  assert.equal(await kpi(page, 'sla'), '60%');
  assert.match(await page.textContent('[data-kpi="sla"] .kpi-note'), /3 met, 2 breached/);
  assert.match(await page.textContent('[data-kpi="csat"] .kpi-note'), /3 of 3 surveys sent rated; 3 ratings received/);

  // Lines: a point per day for conversations; first response only on the days with one.
  assert.equal(await page.locator('#report-line circle.point-conversations').count(), 29);
  assert.equal(await page.locator('#report-line circle.point-first_response').count(), 5);
  const feb10 = page.locator('#report-line circle.point-first_response[data-date="2020-02-10"] title');
  assert.match(await feb10.textContent(), /1 h 10 min/);
  const svg = page.locator('#report-line svg');
  assert.equal(await svg.getAttribute('role'), 'img');
  assert.match(await page.textContent('#report-line svg > title'), /Conversations and first response per day/);
  assert.match(await page.textContent('#report-line svg > desc'), /29 days from 2020-02-01 to 2020-02-29: 6 conversations/);

  // Bars: two channels, two agents with their Persian names laid out right to left.
  assert.equal(await page.locator('#report-by-channel rect.bar').count(), 2);
  assert.deepEqual(await page.locator('#report-by-channel .bar-label').allTextContents(), ['api', 'web']);
  assert.equal(await page.locator('#report-by-agent rect.bar').count(), 2);
  assert.deepEqual(await page.locator('#report-by-agent .bar-label').allTextContents(), ['علی رضایی', 'مریم احمدی']);
  assert.equal(await page.locator('#report-by-agent .bar-label').first().getAttribute('direction'), 'rtl');
  assert.equal(await page.locator('#report-by-channel .bar-label').first().getAttribute('direction'), 'ltr');
  // The Persian label ends where the Latin ones do (right-aligned before the bars), not past them.
  const edges = await page.evaluate(() => [...document.querySelectorAll('.bar-label')].map((t) => {
    const b = t.getBBox();
    return Math.round(b.x + b.width);
  }));
  for (const e of edges) assert.ok(Math.abs(e - edges[0]) <= 2, `label edges ${edges}`);
  assert.match(await page.textContent(`#report-agents tr[data-agent="${maryamId}"]`), /1 h 10 min/);

  // The CSV of the same report, with the BOM that makes Excel read UTF-8.
  const link = page.locator('#report-csv');
  assert.match(await link.getAttribute('href'), /^blob:/);
  assert.equal(await link.getAttribute('download'), 'pasokh-report-2020-02-01-2020-02-29.csv');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), link.click()]);
  assert.equal(download.suggestedFilename(), 'pasokh-report-2020-02-01-2020-02-29.csv');
  const bytes = await readFile(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = bytes.toString('utf8');
  assert.match(text, /retention,"crr",50/);
  assert.match(text, /"مریم احمدی"/);

  // By week (Tehran weeks start on Saturday): five points.
  await page.selectOption('#report-group', 'week');
  await page.click('#report-form button[type="submit"]');
  const points = () => page.locator('#report-line circle.point-conversations').count();
  await until(async () => (await points()) === 5 || await points(), 'five weekly points');
  assert.match(await page.textContent('#report-line svg > title'), /per week/);

  assert.deepEqual(await page.locator('#report-agent option').allTextContents(),
    ['All agents', 'علی رضایی', 'Boss', 'مریم احمدی', 'لیلا (removed)'], 'by id (ag_ali, ag_boss, ag_maryam), then the removed');

  // One agent: her conversations and her bar only.
  await page.selectOption('#report-agent', maryamId);
  await page.click('#report-form button[type="submit"]');
  const bars = () => page.locator('#report-by-agent rect.bar').count();
  await until(async () => (await bars()) === 1 || await bars(), 'one agent bar');
  assert.equal(await kpi(page, 'conversations'), '2');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('dashboard in فارسی: Persian headings, figures and notes in Persian digits, right to left', { timeout: 60_000 }, async () => {
  const { page, context } = await dashboard('boss', 'boss-secret-3');
  await page.evaluate(() => localStorage.setItem('pasokh.console.lang', 'fa'));
  await page.reload();
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  await showFebruary(page);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.textContent('#reports-title'), 'گزارش‌ها');
  assert.equal(await page.textContent('[data-kpi="first_response"] dt'), 'اولین پاسخ (میانه)');
  assert.equal(await kpi(page, 'conversations'), '۶');
  assert.match(await page.textContent('[data-kpi="sla"] .kpi-note'), /۳ رعایت‌شده، ۲ نقض‌شده/);
  // Durations in Persian words and digits; the period's days in the Persian calendar, kept in order.
  assert.equal(await kpi(page, 'first_response'), '۴۰ دقیقه');
  assert.equal(await kpi(page, 'resolution'), '۱ ساعت');
  assert.equal((await page.textContent('#report-status')).replace(/[\u2068\u2069]/g, ''),
    '۱۲ بهمن ۱۳۹۸ تا ۱۰ اسفند ۱۳۹۸ (Asia/Tehran)، ۶ گفتگو.');
  assert.equal(await page.textContent('#report-form button[type="submit"]'), 'نمایش');
  assert.deepEqual(page.errors, []);
  await context.close();
});

test('dashboard: agents do not see the reports', { timeout: 30_000 }, async () => {
  const { page, context } = await dashboard('ali', 'ali-secret-1');
  assert.equal(await page.isHidden('#reports-btn'), true);
  await page.evaluate(() => { location.hash = '#/reports'; });
  await page.waitForTimeout(200);
  assert.equal(await page.isHidden('#reports-view'), true);
  await context.close();
});
