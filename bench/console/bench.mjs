// Console benchmark: the main-thread time the agent console spends per live
// customer message as its inbox grows. A real redis-server and pasokh
// (tests/support/harness.mjs) and the system Chromium (tests/e2e/browser.mjs).
//
//   bench/console/run.sh
//
// An admin (who hears of every conversation) signs in; customers open
// conversations until the inbox holds each of ROWS rows; at each size
// MESSAGES customer messages arrive, PACE_MS apart (paced) and all at once
// (burst), into conversations on the list (the oldest: each moves to the
// top), while one conversation is open. Printed: main-thread busy time
// (CDP TaskDuration) over them divided by MESSAGES. Then RESOLVE of the
// conversations are resolved and the paced messages are measured again with
// what is left open. The rows are counted after each run: a console that
// cannot keep up shows fewer than there are.
//
//   ROWS=200,1000,2000 MESSAGES=40 PACE_MS=50 RESOLVE=1500 (defaults)
//   WEB_ROOT=<dir>: serve another console (e.g. an older one, from
//   `git archive <rev> web | tar -x -C /tmp/old`: WEB_ROOT=/tmp/old/web)
import { RedisServer, Pasokh, defaultConfig, postMessage, login, sleep } from '../../tests/support/harness.mjs';
import { launchBrowser } from '../../tests/e2e/browser.mjs';

const list = (v, d) => (v || d).split(',').map(Number);
const ROWS = list(process.env.ROWS, '200,1000,2000');
const MESSAGES = Number(process.env.MESSAGES || 40);
const PACE_MS = Number(process.env.PACE_MS || 50);
const RESOLVE = Number(process.env.RESOLVE || 1500);

const redis = await new RedisServer().start();
const config = defaultConfig(redis, { routing: { teams: [{ id: 'support', name: 'Support' }] } });
if (process.env.WEB_ROOT) config.web_root = process.env.WEB_ROOT;
const gw = await new Pasokh(config).start();
const browser = await launchBrowser();
try {
  await gw.createAgent('boss', 'boss-secret-1', { name: 'Boss', role: 'admin' });
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${gw.base}/`);
  await page.fill('#login', 'boss');
  await page.fill('#password', 'boss-secret-1');
  await page.click('#login-form button[type="submit"]');
  await page.waitForSelector('#conn-status[data-state="online"]');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // Seconds of main-thread work so far: all of it (tasks), and in it script, style and layout.
  const KINDS = { TaskDuration: 'busy', ScriptDuration: 'script', RecalcStyleDuration: 'style', LayoutDuration: 'layout' };
  const busySeconds = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics
    .filter((m) => m.name in KINDS).map((m) => [KINDS[m.name], m.value]));
  const rows = () => page.$$eval('#conv-list li', (l) => l.length);

  let n = 0;
  const post = (customer, text) => postMessage(gw, { message_id: `m-${++n}`, customer: { id: `cu-${customer}`, name: `مشتری ${customer}` }, text });
  const conversations = [];
  const open = async (upTo) => {
    while (conversations.length < upTo) {
      const batch = Array.from({ length: Math.min(20, upTo - conversations.length) }, (_, k) => conversations.length + k);
      const posted = await Promise.all(batch.map((i) => post(i, 'سلام، سفارش من کجاست؟')));
      conversations.push(...posted.map((p) => p.json.conversation_id));
    }
  };
  // Main-thread ms per message while MESSAGES customers of the list write.
  const measure = async (paced, customers) => {
    await sleep(1500);
    const t0 = await busySeconds();
    if (paced) {
      for (let k = 0; k < MESSAGES; k++) { await post(customers[k % customers.length], `پیام ${k}`); await sleep(PACE_MS); }
    } else {
      await Promise.all(Array.from({ length: MESSAGES }, (_, k) => post(customers[k % customers.length], `پیام ${k}`)));
    }
    await sleep(1500);
    const t1 = await busySeconds();
    return Object.fromEntries(Object.keys(t1).map((k) => [k, (t1[k] - t0[k]) * 1000 / MESSAGES]));
  };
  const ms = (m) => `${m.busy.toFixed(1).padStart(5)} ms (script ${m.script.toFixed(1)}, style ${m.style.toFixed(1)}, layout ${m.layout.toFixed(1)})`;
  const firsts = (count) => Array.from({ length: count }, (_, k) => k);

  console.log(`console: ${process.env.WEB_ROOT || 'this tree'}; ${MESSAGES} messages per run, paced ${PACE_MS} ms apart or at once`);
  for (const target of ROWS) {
    await open(target);
    // An agent has a conversation open while the others come in.
    if (target === ROWS[0]) {
      await page.click('#conv-list .conv-item');
      await page.waitForSelector('#messages li');
    }
    const paced = await measure(true, firsts(MESSAGES));
    const burst = await measure(false, firsts(MESSAGES));
    console.log(`${String(await rows()).padStart(5)} rows, per message: paced ${ms(paced)}; at once ${ms(burst)}`);
  }

  // Resolved conversations leave the list; what does the state keep of them?
  const token = (await login(gw, 'boss', 'boss-secret-1')).json.token;
  const resolved = conversations.slice(-Math.min(RESOLVE, conversations.length));
  for (let i = 0; i < resolved.length; i += 20) {
    await Promise.all(resolved.slice(i, i + 20).map((c) => fetch(`${gw.base}/api/v1/conversations/${c}/resolve`,
      { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })));
  }
  const stillOpen = firsts(Math.min(MESSAGES, conversations.length - resolved.length));
  const after = await measure(true, stillOpen.length ? stillOpen : firsts(MESSAGES));
  const heap = (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  console.log(`${resolved.length} resolved, ${String(await rows()).padStart(5)} rows left, per message: paced ${ms(after)}; JS heap ${(heap / 1e6).toFixed(1)} MB`);
} finally {
  await browser.close();
  await gw.cleanup();
  await redis.cleanup();
}
