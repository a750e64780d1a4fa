// Browser tests of a team's day-one settings in the console's admin pages:
// the SLA targets (typed in minutes or hours, stored in seconds) and the
// closed-hours message per language in the team editor, the refusals an admin
// sees (nothing is saved), and business hours listed from Saturday with
// "open 24/7" said for a team that has none. Real Redis, real pasokh,
// Debian's Chromium; the pure helpers are tested in Node first.
//
//   cd build && node --test --test-reporter=spec ../tests/e2e/console-team-settings.test.mjs
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pasokh, RedisServer, defaultConfig } from '../support/harness.mjs';
import { consoleErrors, launchBrowser, pageSet } from './browser.mjs';
import { explainTeamError, fromSeconds, hoursSummary, slaFromForm, slaProblem, toSeconds }
  from '../../web/console/js/views/admin.js';

const T = { timeout: 90_000 };
const WAIT = 10_000;
// "Thank you for your message. We are outside working hours; we answer from Saturday 9:00."
const FA_CLOSED = 'از پیام شما سپاسگزاریم. اکنون خارج از ساعت کاری هستیم؛ از شنبه ساعت ۹ پاسخ می‌دهیم.';

describe('team settings helpers (no browser)', () => {
  test('durations: minutes or hours to seconds, Persian digits too; back to what the form shows', () => {
    assert.equal(toSeconds('15', 60), 900);
    assert.equal(toSeconds('8', '3600'), 28800);
    assert.equal(toSeconds('۱٫۵', 3600), 5400, 'Persian digits and decimal separator');
    assert.equal(toSeconds('١٠', 60), 600, 'Arabic-Indic digits');
    assert.equal(toSeconds(' ', 60), 0, 'empty: no target');
    assert.ok(Number.isNaN(toSeconds('-5', 60)));
    assert.ok(Number.isNaN(toSeconds('ten', 60)));
    assert.deepEqual(fromSeconds(0, 3600), { value: '', unit: '3600' });
    assert.deepEqual(fromSeconds(28800), { value: '8', unit: '3600' });
    assert.deepEqual(fromSeconds(900), { value: '15', unit: '60' });
    assert.deepEqual(fromSeconds(90), { value: '1.5', unit: '60' });
  });

  test('a warning that could never come is refused; one target it reaches is enough', () => {
    assert.match(slaProblem({ first_response_s: 600, resolution_s: 0, warn_before_s: 3600 }), /Warn before \(1 h\) must be shorter/);
    assert.match(slaProblem({ first_response_s: 0, resolution_s: 0, warn_before_s: 300 }), /needs a first response or resolution target/);
    assert.equal(slaProblem({ first_response_s: 600, resolution_s: 28800, warn_before_s: 3600 }), null);
    assert.equal(slaProblem({ first_response_s: 600, resolution_s: 0, warn_before_s: 0 }), null);
    assert.deepEqual(slaFromForm({ first_response: '15', first_response_unit: '60', resolution: '', resolution_unit: '3600',
      warn_before: '5', warn_before_unit: '60' }), { sla: { first_response_s: 900, resolution_s: 0, warn_before_s: 300 } });
    assert.equal(slaFromForm({ first_response: 'soon' }).field, 'first_response');
  });

  test("the server's 422 worded for the form, pointing at the field", () => {
    const long = explainTeamError('team.closed_message: messages are strings of 1 to 4000 bytes', { closed_message: { fa: 'س'.repeat(2100) } });
    assert.equal(long.field, 'closed_fa');
    assert.match(long.text, /^Closed-hours message not saved: messages are strings of 1 to 4000 bytes\. Persian \(fa\) has 4200/);
    const day = explainTeamError('team.hours.weekly.sun: an interval must end after it starts: "17:00-09:00"');
    assert.deepEqual(day, { text: 'Business hours not saved: Sunday: an interval must end after it starts: "17:00-09:00"', field: 'sun' });
    assert.deepEqual(explainTeamError('team.sla: "warn_before_s" must be a non-negative integer'),
      { text: 'SLA not saved: Warn before must be a non-negative integer', field: 'warn_before' });
    assert.equal(hoursSummary(null), 'No hours set: open 24/7.');
  });
});

let redis, gw, browser, sara;
const pages = pageSet();

describe('agent console: team SLA, closed-hours message and business hours', () => {
  before(async () => {
    redis = await new RedisServer().start();
    gw = await new Pasokh(defaultConfig(redis)).start();
    await gw.createAgent('sara', 'sara-secret-3', { name: 'Sara', role: 'admin' });
    sara = (await (await fetch(`${gw.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'sara', password: 'sara-secret-3' }) })).json()).token;
    browser = await launchBrowser();
  });

  afterEach(() => pages.closeAll());

  after(async () => {
    await browser?.close().catch(() => {});
    await gw?.cleanup();
    await redis?.cleanup();
  });

  async function rest(method, path, body) {
    const res = await fetch(`${gw.base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sara}` } });
    return { status: res.status, json: await res.json().catch(() => null) };
  }
  const teamOf = async (id) => {
    const { queued, available_agents, open_now, ...t } = (await rest('GET', '/api/v1/teams')).json.teams.find((x) => x.id === id);
    return t;
  };

  async function signIn(page) {
    await page.fill('#login', 'sara');
    await page.fill('#password', 'sara-secret-3');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  }

  async function openAdmin(tab) {
    const page = await pages.open(browser, { nativeDialogsAreErrors: true });
    page.puts = [];
    page.on('request', (r) => { if (r.method() !== 'GET') page.puts.push(`${r.method()} ${new URL(r.url()).pathname}`); });
    await page.goto(`${gw.base}/console/`);
    await signIn(page);
    await showTab(page, tab);
    return page;
  }

  async function showTab(page, tab) {
    if (await page.isHidden('#admin-view')) await page.click('#admin-btn');
    await page.click(`#admin-tabs [data-page="${tab}"]`);
    await page.waitForSelector(tab === 'hours' ? '#admin-page .admin-card form' : '#admin-page table', { timeout: WAIT });
  }

  const row = (page, text) => page.locator('#admin-page tr', { hasText: text });
  const field = (page, name) => page.locator(`#team-form-${name}`);
  const formError = (page, form) => page.locator(`${form} .error:not([hidden])`);

  async function editTeam(page, id) {
    await row(page, id).getByRole('button', { name: `Edit team ${id}` }).click();
    assert.equal(await page.inputValue('#team-form-id'), id);
  }

  // What the editor shows for the SLA: [value, unit] per target.
  const slaShown = async (page) => {
    const out = {};
    for (const n of ['first_response', 'resolution', 'warn_before'])
      out[n] = [await field(page, n).inputValue(), await field(page, `${n}_unit`).inputValue()];
    return out;
  };

  test('an admin sets an SLA and a Persian closed-hours message; after a reload the editor and the REST API have them', T, async () => {
    const made = await rest('POST', '/api/v1/admin/teams', { id: 'warranty', name: 'Warranty desk', skills: ['warranty'], languages: ['fa', 'en'] });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const page = await openAdmin('teams');
    assert.match(await row(page, 'warranty').textContent(), /No targets.*Built-in/);

    await editTeam(page, 'warranty');
    assert.deepEqual(await slaShown(page), { first_response: ['', '60'], resolution: ['', '3600'], warn_before: ['', '60'] });
    for (const l of ['fa', 'ar', 'en']) {
      assert.equal(await field(page, `closed_${l}`).inputValue(), '');
      assert.equal(await field(page, `closed_${l}`).getAttribute('dir'), 'auto');
    }
    assert.equal(await page.getByLabel('Persian (fa)').getAttribute('id'), 'team-form-closed_fa', 'the textarea is labelled');
    await field(page, 'first_response').fill('15');
    await field(page, 'resolution').fill('8');
    await field(page, 'warn_before').fill('۱۰'); // Persian digits: 10 minutes
    await field(page, 'closed_fa').fill(FA_CLOSED);
    await page.click('#team-form button[type="submit"]');
    await page.locator('#notice', { hasText: 'Team warranty saved.' }).waitFor({ timeout: WAIT });
    await page.locator('#admin-page tr', { hasText: 'First response 15 min · Resolution 8 h · warn 10 min before' }).waitFor({ timeout: WAIT });
    assert.match(await row(page, 'warranty').textContent(), /Own: fa/);

    // A reload (the session stays): Edit shows what was saved.
    await page.reload();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await showTab(page, 'teams');
    await editTeam(page, 'warranty');
    assert.deepEqual(await slaShown(page), { first_response: ['15', '60'], resolution: ['8', '3600'], warn_before: ['10', '60'] });
    assert.equal(await field(page, 'closed_fa').inputValue(), FA_CLOSED);
    assert.equal(await field(page, 'closed_en').inputValue(), '');
    assert.equal(await field(page, 'name').inputValue(), 'Warranty desk');

    // The REST API has them, in seconds, and the rest of the team is as it was.
    assert.deepEqual((await rest('GET', '/api/v1/admin/teams/warranty/sla')).json,
      { sla: { first_response_s: 900, resolution_s: 28800, warn_before_s: 600 } });
    const hours = (await rest('GET', '/api/v1/admin/teams/warranty/hours')).json;
    assert.deepEqual(hours.closed_message, { fa: FA_CLOSED });
    assert.equal(hours.hours, null);
    assert.deepEqual(await teamOf('warranty'), { id: 'warranty', name: 'Warranty desk', strategy: 'least_loaded', skills: ['warranty'],
      languages: ['fa', 'en'], hours: null, sla: { first_response_s: 900, resolution_s: 28800, warn_before_s: 600 },
      closed_message: { fa: FA_CLOSED } });

    // A new team gets its SLA and an English message from the Add form (1.5 hours).
    await page.click('#team-form .edit-cancel');
    assert.deepEqual(await slaShown(page), { first_response: ['', '60'], resolution: ['', '3600'], warn_before: ['', '60'] });
    await field(page, 'id').fill('night');
    await field(page, 'first_response').fill('1.5');
    await field(page, 'first_response_unit').selectOption({ label: 'hours' });
    await field(page, 'closed_en').fill('We are closed for the night; we answer from 9:00.');
    await page.click('#team-form button[type="submit"]');
    await row(page, 'night').waitFor({ timeout: WAIT });
    const night = await teamOf('night');
    assert.deepEqual([night.sla, night.closed_message], [{ first_response_s: 5400, resolution_s: 0, warn_before_s: 0 },
      { en: 'We are closed for the night; we answer from 9:00.' }]);
    // Clearing a message goes back to the built-in one.
    await editTeam(page, 'warranty');
    await field(page, 'closed_fa').fill('');
    await page.click('#team-form button[type="submit"]');
    await page.locator('#admin-page tr', { hasText: 'warranty' }).filter({ hasText: 'Built-in' }).waitFor({ timeout: WAIT });
    assert.deepEqual((await teamOf('warranty')).closed_message, {});
    assert.deepEqual(consoleErrors(page), []);
  });

  test('an invalid value is refused with the reason beside the form, and nothing changes', T, async () => {
    const made = await rest('POST', '/api/v1/admin/teams', { id: 'repair', name: 'repair',
      sla: { first_response_s: 900, resolution_s: 0, warn_before_s: 300 }, closed_message: { fa: 'بسته‌ایم.' } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const before = await teamOf('repair');
    const page = await openAdmin('teams');
    await editTeam(page, 'repair');
    assert.deepEqual(await slaShown(page), { first_response: ['15', '60'], resolution: ['', '3600'], warn_before: ['5', '60'] });
    await field(page, 'name').fill('Repair desk');

    // A warning longer than the only target could never come: refused before anything is sent.
    await field(page, 'warn_before').fill('2');
    await field(page, 'warn_before_unit').selectOption({ label: 'hours' });
    const sent = page.puts.length;
    await page.click('#team-form button[type="submit"]');
    const err = formError(page, '#team-form');
    await err.waitFor({ timeout: WAIT });
    assert.match(await err.textContent(), /Warn before \(2 h\) must be shorter than the target it warns about \(first response 15 min\)/);
    assert.equal(await field(page, 'warn_before').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'team-form-warn_before', 'the field has the focus');
    assert.equal(page.puts.length, sent, 'nothing was sent');
    assert.deepEqual(await teamOf('repair'), before);

    // Not a number: said with the field's name.
    await field(page, 'warn_before').fill('soon');
    await page.click('#team-form button[type="submit"]');
    await formError(page, '#team-form').filter({ hasText: 'Warn before: a number of minutes or hours' }).waitFor({ timeout: WAIT });

    // The server's own limit: a Persian message over 4000 bytes. Its reason is shown, with the
    // language that is too long; the name typed in the same form is not saved either.
    await field(page, 'warn_before').fill('5');
    await field(page, 'warn_before_unit').selectOption({ label: 'minutes' });
    await field(page, 'closed_fa').fill('س'.repeat(2100));
    await page.click('#team-form button[type="submit"]');
    await formError(page, '#team-form').filter({ hasText: 'messages are strings of 1 to 4000 bytes' }).waitFor({ timeout: WAIT });
    assert.match(await err.textContent(),
      /^Closed-hours message not saved: messages are strings of 1 to 4000 bytes\. Persian \(fa\) has 4200 bytes/);
    assert.equal(await field(page, 'closed_fa').getAttribute('aria-invalid'), 'true');
    assert.equal(await field(page, 'warn_before').getAttribute('aria-invalid'), null, 'the earlier mark is gone');
    assert.ok(page.puts.includes('PUT /api/v1/admin/teams/repair'), 'this one went to the server');
    assert.deepEqual(await teamOf('repair'), before, 'nothing changed: not the name, not the message');
    assert.equal(await page.inputValue('#team-form-name'), 'Repair desk', 'what was typed is kept to fix');

    // Fixed: saved.
    await field(page, 'closed_fa').fill('بسته‌ایم؛ شنبه پاسخ می‌دهیم.');
    await page.click('#team-form button[type="submit"]');
    await row(page, 'Repair desk').waitFor({ timeout: WAIT });
    assert.deepEqual(await teamOf('repair'), { ...before, name: 'Repair desk', closed_message: { fa: 'بسته‌ایم؛ شنبه پاسخ می‌دهیم.' } });
    assert.deepEqual(consoleErrors(page), []);
  });

  test('business hours: days from Saturday to Friday, "open 24/7" for a team without hours', T, async () => {
    const sla = { first_response_s: 600, resolution_s: 0, warn_before_s: 0 };
    assert.equal((await rest('POST', '/api/v1/admin/teams', { id: 'sales', name: 'Sales', sla, closed_message: { en: 'Closed.' } })).status, 201);
    const page = await openAdmin('hours');
    const card = '#hours-sales';
    await page.waitForSelector(card);
    const labels = await page.locator(`${card} label`).allTextContents();
    assert.deepEqual(labels.slice(1, 8), ['Saturday', 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']);
    const names = await page.locator(`${card} input, ${card} textarea`).evaluateAll((els) => els.map((e) => e.name));
    assert.deepEqual(names, ['timezone', 'sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'holidays']);
    assert.equal(await page.textContent('#hours-sales-status'), 'No hours set: open 24/7.');
    assert.equal(await page.getAttribute('#hours-sales-sat', 'placeholder'), 'open 24/7');

    // Days without a time zone would be lost: refused, nothing saved.
    await page.fill('#hours-sales-sat', '09:00-17:00');
    await page.click(`${card} button[type="submit"]`);
    await formError(page, card).filter({ hasText: 'Time zone: required' }).waitFor({ timeout: WAIT });
    assert.equal((await teamOf('sales')).hours, null);

    await page.fill('#hours-sales-timezone', 'Asia/Tehran');
    await page.fill('#hours-sales-thu', '09:00-13:00');
    await page.click(`${card} button[type="submit"]`);
    await page.locator('#notice', { hasText: 'Business hours of sales saved.' }).waitFor({ timeout: WAIT });
    assert.match(await page.textContent('#hours-sales-status'), /^Open Sat, Thu \(Asia\/Tehran\)\. (Open|Closed) now\.$/);
    const saved = await teamOf('sales');
    assert.deepEqual(saved.hours, { timezone: 'Asia/Tehran', weekly: { sat: ['09:00-17:00'], thu: ['09:00-13:00'] }, holidays: [] });
    assert.deepEqual([saved.sla, saved.closed_message], [sla, { en: 'Closed.' }], 'the SLA and message are untouched');

    // A reload lists the saved hours under Saturday; emptying everything goes back to 24/7.
    await page.reload();
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await showTab(page, 'hours');
    assert.equal(await page.inputValue('#hours-sales-sat'), '09:00-17:00');
    assert.equal(await page.getAttribute('#hours-sales-sun', 'placeholder'), 'closed');
    for (const f of ['timezone', 'sat', 'thu']) await page.fill(`#hours-sales-${f}`, '');
    await page.click(`${card} button[type="submit"]`);
    await page.locator('#hours-sales-status', { hasText: 'No hours set: open 24/7.' }).waitFor({ timeout: WAIT });
    assert.equal((await teamOf('sales')).hours, null);
    assert.deepEqual(consoleErrors(page), []);
  });
});
