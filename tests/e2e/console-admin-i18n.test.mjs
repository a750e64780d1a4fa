// Browser test of the admin and campaigns pages in Persian: a Persian-speaking
// support manager opens every admin page (agents, teams, business hours,
// canned responses) and the campaigns page, with a delete confirmation and a
// new campaign's confirmation, and reads Persian, right to left, with Persian
// digits and the Persian calendar; no English word is left on them but the
// data (logins, ids, time zones) and the placeholders. Real Redis, real
// pasokh, Debian's Chromium.
//
//   cd tests && node --test e2e/console-admin-i18n.test.mjs
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Pasokh, RedisServer, agentSocket, apiCall, defaultConfig, login, postMessage } from '../support/harness.mjs';
import { launchBrowser, pageSet } from './browser.mjs';

const T = { timeout: 90_000 };
const WAIT = 10_000;
let redis, gw, browser, token;
const pages = pageSet();

async function rest(method, path, body) {
  const res = await apiCall(gw, method, path, { token, body });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
}

before(async () => {
  redis = await new RedisServer().start();
  gw = await new Pasokh(defaultConfig(redis, {
    campaigns: { timezone: 'UTC', quiet_hours: null, tick_ms: 50, lease_ms: 1000 },
    routing: { default_capacity: 3 },
  })).start();
  await gw.createAgent('sara', 'sara-secret-3', { name: 'سارا', role: 'admin' });
  token = (await login(gw, 'sara', 'sara-secret-3')).json.token;
  await rest('POST', '/api/v1/admin/teams', { id: 'warranty', name: 'گارانتی', skills: ['warranty'], languages: ['fa'],
    sla: { first_response_s: 900, resolution_s: 28800, warn_before_s: 300 }, closed_message: { fa: 'اکنون خارج از ساعت کاری هستیم.' } });
  await rest('PUT', '/api/v1/admin/teams/warranty/hours', { timezone: 'Asia/Tehran', weekly: { sat: ['09:00-17:00'] }, holidays: [] });
  await rest('POST', '/api/v1/admin/canned', { shortcut: 'garanti', title: 'گارانتی', text: 'گوشی شما ۱۸ ماه گارانتی دارد.' });
  await rest('POST', '/api/v1/admin/campaigns', { name: 'نوروز', kind: 'occasion', occasion: 'nowruz', texts: { fa: 'نوروز مبارک' } });
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'c-1', name: 'مشتری یک' }, text: 'سلام', language: 'fa' });
  assert.equal(r.status, 201);
  browser = await launchBrowser();
});

afterEach(() => pages.closeAll());

after(async () => {
  await browser?.close().catch(() => {});
  await gw?.cleanup();
  await redis?.cleanup();
});

// The English words a person sees under `selector` (text, the options of its
// selects, placeholders, labels for assistive tech), without the data and the
// placeholders an admin types: each such word is a text left untranslated.
const DATA = new Set(['sara', 'warranty', 'support', 'garanti', 'returns', 'repair', 'Asia', 'Tehran', 'SLA', 'api',
  'name', 'product', 'code', 'order_id', 'serial', 'purchase_date', 'warranty_end', 'HH', 'MM', 'YYYY', 'DD']);
async function englishWords(page, selector) {
  const words = await page.evaluate((sel) => {
    const out = [];
    const seen = (el) => el.checkVisibility?.() ?? true;
    for (const root of document.querySelectorAll(sel)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (el.closest('option') ? seen(el.closest('select')) : seen(el)) out.push(n.textContent);
      }
      for (const el of root.querySelectorAll('[placeholder], [aria-label], [title]')) {
        if (seen(el)) out.push(el.getAttribute('placeholder') ?? '', el.getAttribute('aria-label') ?? '', el.getAttribute('title') ?? '');
      }
    }
    return out.join(' ').match(/[A-Za-z_]{2,}/g) ?? [];
  }, selector);
  return [...new Set(words.filter((w) => !DATA.has(w) && !/^(fa|ar|en)$/.test(w)))];
}

async function signInPersian() {
  const page = await pages.open(browser, { nativeDialogsAreErrors: true });
  await page.addInitScript(() => localStorage.setItem('pasokh.console.lang', 'fa'));
  await page.goto(`${gw.base}/console/`);
  await page.waitForSelector('html[lang="fa"]', { timeout: WAIT });
  await page.fill('#login', 'sara');
  await page.fill('#password', 'sara-secret-3');
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector('#conn-status[data-state="online"]', { timeout: WAIT });
  return page;
}

const root = (page) => page.evaluate(() => [document.documentElement.dir, document.documentElement.lang]);
const headers = (page, table) => page.locator(`${table} thead th`).allTextContents();
// The first column's header is right of the last one's: the table is mirrored, not just its words.
async function rightToLeft(page, table) {
  const th = page.locator(`${table} thead th`);
  const [first, last] = [await th.first().boundingBox(), await th.last().boundingBox()];
  return first.x > last.x;
}

test('admin pages in Persian: every tab, a confirmation, right to left', T, async () => {
  const page = await signInPersian();
  assert.deepEqual(await root(page), ['rtl', 'fa']);
  await page.click('#admin-btn');
  const tab = async (name, heading) => {
    await page.click(`#admin-tabs [data-page="${name}"]`);
    await page.locator('#admin-page h2', { hasText: heading }).waitFor({ timeout: WAIT });
  };
  assert.deepEqual(await page.locator('#admin-tabs button').allTextContents(),
    ['کارشناسان', 'تیم‌ها', 'ساعات کاری', 'پاسخ‌های آماده']);
  assert.equal(await page.getAttribute('#admin-view', 'aria-label'), 'مدیریت');

  await tab('agents', 'کارشناسان');
  assert.deepEqual(await headers(page, '#admin-page table'), ['نام', 'نام کاربری', 'نقش', 'تیم‌ها', 'ظرفیت', 'وضعیت', '']);
  assert.ok(await rightToLeft(page, '#admin-page table'), 'the agents table reads from the right');
  const sara = page.locator('#admin-page tbody tr', { hasText: 'sara' });
  assert.match(await sara.textContent(), /مدیر/, 'the role in Persian');
  assert.equal(await page.textContent('#agent-form button[type="submit"]'), 'ذخیرهٔ کارشناس');
  assert.deepEqual(await englishWords(page, '#admin-view'), []);
  // Edit: the form's title and button say so in Persian.
  await sara.getByRole('button', { name: 'ویرایش sara' }).click();
  assert.equal(await page.textContent('#admin-page h3'), 'ویرایش کارشناس sara (فقط فیلدهایی که تغییر دهید ذخیره می‌شود)');
  assert.equal(await page.textContent('#agent-form button[type="submit"]'), 'ذخیرهٔ تغییرات');
  assert.deepEqual(await englishWords(page, '#admin-view'), []);
  // The delete confirmation, in Persian; Cancel keeps the agent.
  await sara.getByRole('button', { name: 'حذف sara' }).click();
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  assert.equal(await page.textContent('#confirm-title'), 'این کارشناس حذف شود؟');
  assert.match(await page.textContent('#confirm-text'), /^کارشناس سارا \(sara\) حذف شود؟/);
  assert.equal(await page.textContent('#confirm-ok'), 'حذف کارشناس');
  assert.deepEqual(await englishWords(page, '#confirm-dialog'), []);
  await page.click('#confirm-cancel');
  // A new agent: the first team and the server's capacity unless typed; saving says so, as teams and hours do.
  await page.click('#agent-form .edit-cancel');
  const firstTeam = (await apiCall(gw, 'GET', '/api/v1/teams', { token })).json.teams[0].id;
  assert.equal(await page.inputValue('#agent-form-teams'), firstTeam);
  assert.equal(await page.inputValue('#agent-form-capacity'), '');
  assert.equal(await page.getAttribute('#agent-form-capacity', 'placeholder'), 'پیش‌فرض: ۳');
  await page.fill('#agent-form-login', 'neda');
  await page.fill('#agent-form-password', 'neda-secret-6');
  await page.click('#agent-form button[type="submit"]');
  await page.locator('#notice', { hasText: 'کارشناس neda ذخیره شد.' }).waitFor({ timeout: WAIT });
  const neda = (await apiCall(gw, 'GET', '/api/v1/agents', { token })).json.agents.find((a) => a.login === 'neda');
  assert.deepEqual([neda.capacity, neda.teams], [3, [firstTeam]]);
  // A new password alone is a change saved, and said so too.
  await page.evaluate(() => { document.querySelector('#notice').hidden = true; });
  await page.locator('#admin-page tbody tr', { hasText: 'neda' }).getByRole('button', { name: 'ویرایش neda' }).click();
  await page.fill('#agent-form-password', 'neda-secret-7');
  await page.click('#agent-form button[type="submit"]');
  await page.locator('#notice:not([hidden])', { hasText: 'کارشناس neda ذخیره شد.' }).waitFor({ timeout: WAIT });
  assert.equal((await login(gw, 'neda', 'neda-secret-7')).status, 200);

  await tab('teams', 'تیم‌ها');
  const team = page.locator('#admin-page tbody tr', { hasText: 'warranty' });
  assert.match(await team.textContent(), /اولین پاسخ ۱۵ دقیقه · حل گفتگو ۸ ساعت · هشدار ۵ دقیقه پیش از موعد/);
  assert.match(await team.textContent(), /کم‌کارترین کارشناس.*اختصاصی: fa/);
  assert.equal(await page.textContent('#team-form legend >> nth=0'), 'اهداف SLA');
  assert.deepEqual(await englishWords(page, '#admin-view'), []);
  // Lists typed with the Persian comma, as the hints write them, are lists.
  await team.getByRole('button', { name: 'ویرایش تیم warranty' }).click();
  await page.fill('#team-form-skills', 'warranty، repair');
  await page.fill('#team-form-languages', 'fa، en');
  await page.click('#team-form button[type="submit"]');
  await page.locator('#notice', { hasText: 'تیم warranty ذخیره شد.' }).waitFor({ timeout: WAIT });
  await page.locator('#admin-page tbody tr', { hasText: 'repair' }).waitFor({ timeout: WAIT });
  const saved = (await apiCall(gw, 'GET', '/api/v1/teams', { token })).json.teams.find((x) => x.id === 'warranty');
  assert.deepEqual([saved.skills, saved.languages], [['warranty', 'repair'], ['fa', 'en']]);

  await tab('hours', 'ساعات کاری');
  assert.match(await page.textContent('#hours-warranty-status'), /^باز در شنبه \(Asia\/Tehran\)\. اکنون (باز|بسته) است\.$/);
  assert.equal(await page.textContent('label[for="hours-warranty-sat"]'), 'شنبه', 'the week from Saturday, in Persian');
  assert.equal(await page.getAttribute('#hours-warranty-fri', 'placeholder'), 'تعطیل');
  assert.deepEqual(await englishWords(page, '#admin-view'), []);
  // A refusal is Persian too.
  await page.fill('#hours-warranty-timezone', '');
  await page.click('#hours-warranty button[type="submit"]');
  await page.locator('#hours-warranty .error', { hasText: 'منطقهٔ زمانی برای این ساعات لازم است' }).waitFor({ timeout: WAIT });
  assert.ok(await page.isHidden('#notice'), 'the earlier "saved" is gone beside a refusal');

  await tab('canned', 'پاسخ‌های آماده');
  assert.deepEqual(await headers(page, '#admin-page table'), ['میان‌بر', 'عنوان', 'متن', '']);
  assert.deepEqual(await englishWords(page, '#admin-view'), []);
  assert.deepEqual(page.errors, []);
});

test('campaigns page in Persian: the live table, the form and its confirmation, right to left', T, async () => {
  const page = await signInPersian();
  await page.click('#campaigns-btn');
  await page.locator('#campaigns-title', { hasText: 'کمپین‌ها' }).waitFor({ timeout: WAIT });
  const row = page.locator('#campaign-table tr[data-status="scheduled"]');
  await row.waitFor({ timeout: WAIT });
  assert.deepEqual(await headers(page, '#campaign-table'), ['نام', 'نوع', 'وضعیت', 'در صف', 'ارسال‌شده', 'تحویل‌شده', 'خوانده‌شده',
    'ناموفق', 'پاسخ‌داده', 'لغو اشتراک', 'ردشده', '']);
  assert.ok(await rightToLeft(page, '#campaign-table'), 'the campaigns table reads from the right');
  assert.equal(await row.locator('td >> nth=1').textContent(), 'تبریک مناسبت');
  // Scheduled for Nowruz: the date in the Persian calendar (Farvardin), in Persian digits.
  assert.match(await row.locator('.campaign-status').textContent(), /^زمان‌بندی‌شده برای [۰-۹]+ (اسفند|فروردین) ۱۴۰[۵-۹]، [۰-۹]+:[۰-۹]{2}$/);
  assert.equal(await row.locator('td[data-stat="sent"]').textContent(), '۰');
  assert.deepEqual(await row.locator('button').allTextContents(), ['توقف', 'لغو']);
  assert.equal(await page.textContent('label[for="campaign-text_fa"]'), 'متن فارسی');
  assert.equal(await page.textContent('#campaign-form button[type="submit"]'), 'ایجاد کمپین');
  assert.deepEqual(await englishWords(page, '#campaigns-view'), []);

  // A new campaign: the confirmation says what it would send, in Persian; Cancel sends nothing.
  await page.fill('#campaign-name', 'یلدا');
  await page.fill('#campaign-text_fa', '{name} عزیز، یلدا مبارک!');
  await page.click('#campaign-form button[type="submit"]');
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  const text = (await page.textContent('#confirm-dialog')).replace(/[\u2068\u2069]/g, '');
  assert.equal(await page.textContent('#confirm-title'), 'این کمپین ایجاد و ارسال شود؟');
  assert.match(text, /«یلدا» \(تبریک مناسبت\)، زبان متن‌ها: fa\./);
  assert.match(text, /پیام به «همهٔ» مشتریانی می‌رود که اشتراک را لغو نکرده‌اند/);
  assert.match(text, /اگر اکنون اجرا شود، (۱ پیام برای ۱ مشتری می‌فرستد \(۱ در api\)|پیامی نمی‌فرستد)/);
  assert.deepEqual(await englishWords(page, '#confirm-dialog'), []);
  await page.click('#confirm-cancel');

  // Cancelling the scheduled one asks in Persian.
  await row.getByRole('button', { name: 'لغو' }).click();
  await page.waitForSelector('#confirm-dialog[open]', { timeout: WAIT });
  assert.match((await page.textContent('#confirm-text')).replace(/[\u2068\u2069]/g, ''), /^کمپین نوروز لغو شود؟/);
  assert.deepEqual([await page.textContent('#confirm-ok'), await page.textContent('#confirm-cancel')], ['لغو کمپین', 'نگه داشتن']);
  await page.click('#confirm-cancel');
  assert.deepEqual(await root(page), ['rtl', 'fa']);
  assert.deepEqual(page.errors, []);
});

// Last: its customer would be one more in the campaign's preview above.
test('teams and agents by name, not id: the header, transfer and routing lines, the agents table, a removed agent', T, async () => {
  await rest('POST', '/api/v1/admin/teams', { id: 'returns', name: 'مرجوعی' });
  await rest('POST', '/api/v1/admin/agents', { login: 'layla', name: 'لیلا', password: 'layla-secret-4', teams: ['returns'] });
  await rest('POST', '/api/v1/admin/agents', { login: 'omid', name: 'امید', password: 'omid-secret-5', teams: ['returns', 'warranty'] });
  const layla = await agentSocket(gw, (await login(gw, 'layla', 'layla-secret-4')).json.token);
  layla.send({ type: 'presence', status: 'online', client_id: 'p1' });
  await layla.next((f) => f.type === 'ack' && f.client_id === 'p1');
  const r = await postMessage(gw, { message_id: randomUUID(), customer: { id: 'c-2', name: 'مشتری دو' }, text: 'مرجوعی', language: 'fa' });
  const conv = r.json.conversation_id ?? r.json.conversation?.id;
  assert.ok(conv, r.text);
  // Sara moves it to Returns, where Layla, online, gets it; then Layla is removed.
  const sara = await agentSocket(gw, token);
  sara.send({ type: 'transfer', conv, team: 'returns', client_id: 't1' });
  await sara.next((f) => f.type === 'ack' && f.client_id === 't1');
  await layla.next((f) => f.type === 'event' && f.conv === conv && f.status === 'assigned');
  await Promise.all([sara.close(), layla.close()]);
  const laylaId = (await apiCall(gw, 'GET', '/api/v1/agents', { token })).json.agents.find((a) => a.name === 'لیلا').id;
  await rest('DELETE', `/api/v1/admin/agents/${laylaId}`);

  const page = await signInPersian();
  await page.click(`#conv-list .conv-item[data-conv="${conv}"]`);
  await page.waitForSelector('#messages[aria-busy="false"]', { timeout: WAIT });
  await page.locator('#conv-meta', { hasText: 'تیم مرجوعی' }).waitFor({ timeout: WAIT });
  const lines = async () => (await page.locator('#messages li.event').allTextContents()).join('\n');
  await page.locator('#messages li.event', { hasText: 'لیلا (حذف‌شده)' }).waitFor({ timeout: WAIT });
  assert.match(await lines(), /به تیم مرجوعی/);
  assert.doesNotMatch(await lines(), /ag_|returns/, 'no ids in the event lines');
  assert.doesNotMatch(await page.textContent('#conv-meta'), /returns/);

  await page.click('#admin-btn');
  const omid = page.locator('#admin-page tbody tr', { hasText: 'omid' });
  await omid.waitFor({ timeout: WAIT });
  assert.match(await omid.textContent(), /مرجوعی، گارانتی/);
  assert.deepEqual(page.errors, []);
});
