// Browser tests of the console's admin safety: editing an agent or a team
// starts from its current values and changes only what the admin changed
// (a new password never demotes an admin), and deleting an agent, a team or a
// canned response, or merging two customer files, asks first and does nothing
// when cancelled. Real Redis, real pasokh, Debian's Chromium.
//
//   cd build && node --test --test-reporter=spec ../tests/e2e/console-admin.test.mjs
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, defaultConfig, postMessage } from '../support/harness.mjs';
import { consoleErrors, launchBrowser, pageSet } from './browser.mjs';

const T = { timeout: 90_000 };
const WAIT = 10_000;

let redis, gw, browser, sara;
const pages = pageSet();

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, { channels: [
    { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
    { id: 'shop', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
  ] })).start();
  await gw.createAgent('sara', 'sara-secret-3', { name: 'Sara', role: 'admin' });
  sara = await token('sara', 'sara-secret-3');
  browser = await launchBrowser();
});

afterEach(() => pages.closeAll());

after(async () => {
  await browser?.close().catch(() => {});
  await gw?.cleanup();
  await redis?.cleanup();
});

// --- helpers -----------------------------------------------------------------

async function login(loginName, password) {
  return fetch(`${gw.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: loginName, password }),
  });
}

async function token(loginName, password) {
  return (await (await login(loginName, password)).json()).token;
}

async function rest(method, path, body) {
  const res = await fetch(`${gw.base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sara}` } });
  return { status: res.status, json: await res.json().catch(() => null) };
}

const agentRow = async (id) => (await rest('GET', '/api/v1/agents')).json.agents.find((a) => a.id === id);

async function openAdmin(tab) {
  // Native dialogs are not used: any would be a bug.
  const page = await pages.open(browser, { nativeDialogsAreErrors: true });
  await page.goto(`${gw.base}/console/`);
  await page.fill('#login', 'sara');
  await page.fill('#password', 'sara-secret-3');
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  if (tab) await showTab(page, tab);
  return page;
}

async function showTab(page, tab) {
  if (await page.isHidden('#admin-view')) await page.click('#admin-btn');
  await page.click(`#admin-tabs [data-page="${tab}"]`);
  await page.waitForSelector('#admin-page table', { timeout: WAIT });
}

// The confirmation dialog: its text, then Cancel or the confirm button.
async function confirmText(page) {
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  return (await page.textContent('#confirm-dialog')).replace(/[\u2068\u2069]/g, '');
}
async function answer(page, yes) {
  await page.click(yes ? '#confirm-ok' : '#confirm-cancel');
  await page.waitForSelector('#confirm-dialog', { state: 'hidden', timeout: WAIT });
}

async function until(check, what) {
  const deadline = Date.now() + WAIT;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// After a save the page is drawn again: an empty add form (waitForFunction needs eval, which the CSP refuses).
const reloaded = (page) => until(async () => (await page.locator('#agent-form-login').count()) === 1 &&
  (await page.inputValue('#agent-form-login')) === '' && (await page.inputValue('#agent-form-password')) === '', 'the agents page redrawn');

const row = (page, text) => page.locator('#admin-page tr', { hasText: text });

describe('agent console: admin edits and confirmations', () => {
  test('Edit changes only what the admin changed: a new password keeps role, teams, capacity and name', T, async () => {
    for (const id of ['warranty', 'vip']) assert.equal((await rest('POST', '/api/v1/admin/teams', { id, name: id })).status, 201);
    const made = await rest('POST', '/api/v1/admin/agents', { login: 'leila', name: 'Leila Ahmadi', password: 'leila-secret-1',
      role: 'admin', teams: ['support', 'warranty', 'vip'], capacity: 8 });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const before = await agentRow('ag_leila');
    const page = await openAdmin('agents');

    // The Edit button fills the form with the agent's current values.
    await row(page, 'leila').getByRole('button', { name: 'Edit leila' }).click();
    assert.equal(await page.inputValue('#agent-form-login'), 'leila');
    assert.ok(await page.locator('#agent-form-login').evaluate((e) => e.readOnly), 'the login of an existing agent is fixed');
    assert.equal(await page.inputValue('#agent-form-name'), 'Leila Ahmadi');
    assert.equal(await page.inputValue('#agent-form-role'), 'admin');
    assert.equal(await page.inputValue('#agent-form-teams'), 'support, warranty, vip');
    assert.equal(await page.inputValue('#agent-form-capacity'), '8');
    assert.equal(await page.inputValue('#agent-form-password'), '');
    // Saving with nothing changed says so and sends nothing.
    await page.click('#agent-form button[type="submit"]');
    await page.locator('#agent-form .error:not([hidden])', { hasText: 'Nothing changed.' }).waitFor({ timeout: WAIT });

    // Only the password is typed: only the password changes.
    await page.fill('#agent-form-password', 'leila-new-secret-2');
    await page.click('#agent-form button[type="submit"]');
    await row(page, 'Leila Ahmadi').waitFor({ timeout: WAIT });
    await reloaded(page);
    assert.deepEqual(await agentRow('ag_leila'), before, 'name, role, teams and capacity unchanged');
    assert.match(await row(page, 'Leila Ahmadi').textContent(), /leila.*admin.*support, warranty, vip.*8/);
    assert.equal((await login('leila', 'leila-new-secret-2')).status, 200, 'the new password signs in');
    assert.equal((await login('leila', 'leila-secret-1')).status, 401, 'the old one no longer does');

    // The review's way: typing an existing login in the empty form loads that
    // agent instead of overwriting it with the form's defaults.
    await page.fill('#agent-form-login', 'leila');
    await page.press('#agent-form-login', 'Tab');
    assert.equal(await page.inputValue('#agent-form-role'), 'admin');
    assert.equal(await page.inputValue('#agent-form-capacity'), '8');
    await page.fill('#agent-form-capacity', '6');
    await page.click('#agent-form button[type="submit"]');
    await reloaded(page);
    assert.deepEqual(await agentRow('ag_leila'), { ...before, capacity: 6 }, 'only the capacity changed');

    // Cancel editing goes back to an empty "Add" form; a new agent is still created.
    await row(page, 'leila').getByRole('button', { name: 'Edit leila' }).click();
    await page.click('#agent-form .edit-cancel');
    assert.equal(await page.inputValue('#agent-form-login'), '');
    // An empty capacity is the server's default (routing.default_capacity), shown as the placeholder.
    assert.equal(await page.inputValue('#agent-form-capacity'), '');
    assert.equal(await page.getAttribute('#agent-form-capacity', 'placeholder'), 'default: 5');
    await page.fill('#agent-form-login', 'omid');
    await page.fill('#agent-form-name', 'Omid');
    await page.fill('#agent-form-password', 'omid-secret-5');
    await page.click('#agent-form button[type="submit"]');
    await row(page, 'omid').waitFor({ timeout: WAIT });
    const omid = await agentRow('ag_omid');
    assert.deepEqual([omid.name, omid.role, omid.teams, omid.capacity], ['Omid', 'agent', ['support'], 5]);

    // A team: Edit loads it; renaming keeps its skills and languages.
    assert.equal((await rest('PUT', '/api/v1/admin/teams/vip', { name: 'VIP', skills: ['gold'], languages: ['fa', 'en'] })).status, 200);
    await showTab(page, 'teams');
    await row(page, 'vip').getByRole('button', { name: 'Edit team vip' }).click();
    assert.equal(await page.inputValue('#team-form-skills'), 'gold');
    await page.fill('#team-form-name', 'VIP desk');
    await page.click('#team-form button[type="submit"]');
    await row(page, 'VIP desk').waitFor({ timeout: WAIT });
    const vip = (await rest('GET', '/api/v1/teams')).json.teams.find((t) => t.id === 'vip');
    assert.deepEqual([vip.name, vip.skills, vip.languages], ['VIP desk', ['gold'], ['fa', 'en']]);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('deleting an agent, a team or a canned response asks first, naming it; Cancel deletes nothing', T, async () => {
    await rest('POST', '/api/v1/admin/teams', { id: 'night', name: 'Night shift' });
    await rest('POST', '/api/v1/admin/agents', { login: 'reza', name: 'Reza', password: 'reza-secret-1', teams: ['support'] });
    await rest('POST', '/api/v1/admin/canned', { shortcut: 'hello', title: 'Greeting', text: 'Hello!' });
    const page = await openAdmin('agents');

    await row(page, 'reza').getByRole('button', { name: 'Delete reza' }).click();
    const text = await confirmText(page);
    assert.match(text, /Delete agent Reza \(reza\)\?/);
    assert.match(text, /open conversations go back to the queue/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'Cancel has the focus');
    await answer(page, false);
    await page.keyboard.press('Escape'); // nothing open: harmless
    assert.ok(await agentRow('ag_reza'), 'cancelled: Reza is still there');
    assert.equal(await row(page, 'reza').count(), 1);
    // Escape cancels too.
    await row(page, 'reza').getByRole('button', { name: 'Delete reza' }).click();
    await confirmText(page);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm-dialog', { state: 'hidden' });
    assert.ok(await agentRow('ag_reza'));
    // Confirmed: deleted.
    await row(page, 'reza').getByRole('button', { name: 'Delete reza' }).click();
    await confirmText(page);
    await answer(page, true);
    await row(page, 'reza').waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await agentRow('ag_reza'), undefined);

    await showTab(page, 'teams');
    await row(page, 'night').getByRole('button', { name: 'Delete team night' }).click();
    assert.match(await confirmText(page), /Delete team Night shift \(night\)\?/);
    await answer(page, false);
    assert.ok((await rest('GET', '/api/v1/teams')).json.teams.some((t) => t.id === 'night'), 'the team is still there');
    await row(page, 'night').getByRole('button', { name: 'Delete team night' }).click();
    await confirmText(page);
    await answer(page, true);
    await row(page, 'Night shift').waitFor({ state: 'detached', timeout: WAIT });
    // One the channels still route to is refused (409 team_in_use), and the console says why.
    await page.getByRole('button', { name: 'Delete team support', exact: true }).click();
    await confirmText(page);
    await answer(page, true);
    await page.locator('#notice', { hasText: 'Team support is still in use and was not deleted: channels api, shop send their '
      + 'customers to it (change their "team" in the configuration and restart).' }).waitFor({ timeout: WAIT });
    assert.ok((await rest('GET', '/api/v1/teams')).json.teams.some((t) => t.id === 'support'));

    await showTab(page, 'canned');
    await row(page, '/hello').getByRole('button', { name: 'Delete /hello' }).click();
    assert.match(await confirmText(page), /Delete the canned response \/hello \(Greeting\)\?/);
    await answer(page, false);
    assert.deepEqual((await rest('GET', '/api/v1/canned')).json.canned.map((c) => c.shortcut), ['hello']);
    await row(page, '/hello').getByRole('button', { name: 'Delete /hello' }).click();
    await confirmText(page);
    await answer(page, true);
    await row(page, '/hello').waitFor({ state: 'detached', timeout: WAIT });
    assert.deepEqual((await rest('GET', '/api/v1/canned')).json.canned, []);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('"Merge into this file" asks first, naming both files; Cancel merges nothing', T, async () => {
    const writes = async (id, text, channel) => {
      const r = await postMessage(gw, { message_id: randomUUID(), customer: { id, name: 'نیما رحیمی' }, text, language: 'fa' }, { channel });
      assert.equal(r.status, 201, r.text);
      return r.json;
    };
    const a = await writes('nima-api', 'سلام، گوشی‌ام روشن نمی‌شود', 'api');
    const b = await writes('nima-shop', 'سلام، شارژر را کی می‌فرستید؟', 'shop');
    const page = await openAdmin();
    await page.click(`#conv-list .conv-item[data-conv="${a.conversation_id}"]`);
    const merge = page.locator(`#customer-panel .suggestion[data-customer="${b.customer_id}"] .merge-btn`);
    await merge.waitFor({ timeout: WAIT });

    await merge.click();
    const text = await confirmText(page);
    assert.match(text, new RegExp(`Merge نیما رحیمی \\(${b.customer_id}\\) into نیما رحیمی \\(${a.customer_id}\\)\\?`));
    assert.match(text, /undo/);
    await answer(page, false);
    assert.equal((await rest('GET', `/api/v1/customers/${b.customer_id}`)).json.customer.merged_into ?? '', '', 'not merged');
    assert.equal(await merge.count(), 1, 'the suggestion is still offered');

    await merge.click();
    await confirmText(page);
    await answer(page, true);
    await page.locator('#customer-panel .cust-merges .merge').waitFor({ timeout: WAIT });
    assert.equal((await rest('GET', `/api/v1/customers/${b.customer_id}`)).json.customer.merged_into, a.customer_id);
    assert.deepEqual(consoleErrors(page), []);
  });

  test('the agents page names teams, and still opens with team ids when the team list fails to load', T, async () => {
    assert.equal((await rest('POST', '/api/v1/admin/teams', { id: 'east', name: 'East desk' })).status, 201);
    assert.equal((await rest('POST', '/api/v1/admin/agents', { login: 'omar', name: 'Omar', password: 'omar-secret-1',
      teams: ['east'] })).status, 201);
    let page = await openAdmin('agents');
    assert.match(await row(page, 'omar').textContent(), /East desk/);
    await pages.closeAll();
    page = await pages.open(browser, { nativeDialogsAreErrors: true });
    await page.route('**/api/v1/teams', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"busy"}' }));
    await page.goto(`${gw.base}/console/`);
    await page.fill('#login', 'sara');
    await page.fill('#password', 'sara-secret-3');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
    await showTab(page, 'agents');
    assert.match(await row(page, 'omar').textContent(), /omar.*east/);
  });
});
