// Helpers for the messenger integration tests: the fake provider process,
// channel configs pointing at it, signed webhook requests and payload builders
// in each provider's shape.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { repoRoot, defaultConfig, login, agentSocket } from '../support/harness.mjs';

export const SECRETS = {
  PASOKH_TG_TOKEN: '7000000001:AAtest-token_0123456789',
  PASOKH_TG_SECRET: 'tg-webhook-secret_0123456789',
  PASOKH_WA_TOKEN: 'wa-access-token-0123456789',
  PASOKH_WA_APP_SECRET: 'wa-app-secret-0123456789',
  PASOKH_WA_VERIFY: 'wa-verify-token',
  PASOKH_FB_TOKEN: 'fb-page-token-0123456789',
  PASOKH_META_APP_SECRET: 'meta-app-secret-0123456789',
  PASOKH_META_VERIFY: 'meta-verify-token',
};
export const WA_PHONE_ID = '106540352242922';
export const FB_PAGE_ID = '105943912345678';
export const IG_ACCOUNT_ID = '17841400000000000';

export class FakeProvider {
  // `port`: 0 for any free one (restart() passes the one it had).
  async start(port = 0) {
    this.proc = spawn(process.execPath, [path.join(repoRoot, 'tests', 'fake_provider', 'server.mjs'), '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    this.base = await new Promise((resolve, reject) => {
      let out = '';
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^LISTENING (\d+)$/m);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      this.proc.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)));
    });
    return this;
  }
  async requests(pathPart = '') {
    const res = await fetch(`${this.base}/_requests${pathPart ? `?path=${encodeURIComponent(pathPart)}` : ''}`);
    return res.json();
  }
  async clear() {
    await fetch(`${this.base}/_requests`, { method: 'DELETE' });
    await fetch(`${this.base}/_script`, { method: 'DELETE' });
    await fetch(`${this.base}/_chat_limit`, { method: 'DELETE' });
  }
  // Answers a send to a chat sooner than `ms` after the last it accepted with
  // the provider's rate limit (Telegram's 429), until clear().
  async chatLimit(ms) {
    const res = await fetch(`${this.base}/_chat_limit`, { method: 'POST', body: JSON.stringify({ min_interval_ms: ms }) });
    if (res.status !== 200) throw new Error(`limit refused: ${await res.text()}`);
  }
  async script(actions) {
    const res = await fetch(`${this.base}/_script`, { method: 'POST', body: JSON.stringify(actions) });
    if (res.status !== 200) throw new Error(`script refused: ${await res.text()}`);
  }
  stop() { this.proc?.kill('SIGTERM'); }
  // Down (sends to it are refused) until the returned function brings it
  // back on the same address.
  async down() {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.stop();
    await exited;
    const port = Number(new URL(this.base).port);
    return () => this.start(port);
  }
}

export function messengerChannels(fakeBase) {
  const meta = { api_base: fakeBase, token_env: 'PASOKH_FB_TOKEN', app_secret_env: 'PASOKH_META_APP_SECRET',
    verify_token_env: 'PASOKH_META_VERIFY' };
  return [
    { id: 'tg', kind: 'telegram', team: 'support',
      provider: { api_base: fakeBase, token_env: 'PASOKH_TG_TOKEN', secret_env: 'PASOKH_TG_SECRET' } },
    { id: 'wa', kind: 'whatsapp', team: 'support',
      provider: { phone_number_id: WA_PHONE_ID, api_base: fakeBase, token_env: 'PASOKH_WA_TOKEN',
        app_secret_env: 'PASOKH_WA_APP_SECRET', verify_token_env: 'PASOKH_WA_VERIFY' } },
    { id: 'fb', kind: 'messenger', team: 'support', provider: { account_id: FB_PAGE_ID, ...meta } },
    { id: 'ig', kind: 'instagram', team: 'support', provider: { account_id: IG_ACCOUNT_ID, ...meta } },
  ];
}

// Fast retries and crash takeover, so tests need not wait minutes.
export function messengerConfig(redis, fake, extra = {}) {
  const base = defaultConfig(redis);
  return {
    ...base,
    channels: [...base.channels, ...messengerChannels(fake.base)],
    outbox: { retry_initial_ms: 300, retry_max_ms: 1000, max_attempts: 5, retry_for_ms: 0, claim_idle_ms: 1500 },
    ...extra,
  };
}

// --- webhooks --------------------------------------------------------------

export async function postWebhook(gw, route, body, headers = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${gw.base}${route}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

export const telegramHeaders = (secret = SECRETS.PASOKH_TG_SECRET) => ({ 'x-telegram-bot-api-secret-token': secret });

export function hubSignature(raw, secret) {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

// Signs exactly the bytes it sends (Meta escapes non-ASCII; pass `asciiOnly` to do the same).
export function postSigned(gw, route, body, secret, { asciiOnly = false, signature } = {}) {
  let raw = JSON.stringify(body);
  if (asciiOnly) raw = raw.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return postWebhook(gw, route, raw, { 'x-hub-signature-256': signature ?? hubSignature(raw, secret) });
}
export const postWhatsApp = (gw, body, opts) => postSigned(gw, '/webhooks/whatsapp/wa', body, SECRETS.PASOKH_WA_APP_SECRET, opts);
export const postMeta = (gw, channel, body, opts) => postSigned(gw, `/webhooks/meta/${channel}`, body, SECRETS.PASOKH_META_APP_SECRET, opts);

// --- payloads ------------------------------------------------------------------

let updateId = 700000000 + Math.floor(Math.random() * 1000000);
let telegramMessageId = 1000;
const nowS = () => Math.floor(Date.now() / 1000);
export const newChatId = () => 5000000000 + Math.floor(Math.random() * 1e9);
export const wamid = () => `wamid.${randomBytes(24).toString('base64')}`;
export const mid = () => `m_${randomBytes(30).toString('base64url')}`;
export const newPsid = () => String(6000000000000000 + Math.floor(Math.random() * 1e15));
export const newPhone = () => `98912${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

export function tgText(chatId, text, { messageId = ++telegramMessageId, name = 'سارا' } = {}) {
  const from = { id: chatId, is_bot: false, first_name: name, language_code: 'fa' };
  return { update_id: ++updateId, message: { message_id: messageId, from, chat: { id: chatId, first_name: name, type: 'private' }, date: nowS(), text } };
}
export function tgEdit(chatId, messageId, text) {
  const from = { id: chatId, is_bot: false, first_name: 'سارا' };
  return { update_id: ++updateId, edited_message: { message_id: messageId, from, chat: { id: chatId, type: 'private' }, date: nowS() - 5, edit_date: nowS(), text } };
}
export function tgCallback(chatId, data, { keyboardMessageId = 1 } = {}) {
  const from = { id: chatId, is_bot: false, first_name: 'سارا' };
  return { update_id: ++updateId, callback_query: { id: `cbq${randomBytes(6).toString('hex')}`, from, chat_instance: '-1',
    message: { message_id: keyboardMessageId, from: { id: 7000000001, is_bot: true, first_name: 'Pasokh' }, chat: { id: chatId, type: 'private' }, date: nowS(), text: 'topic?',
      reply_markup: { inline_keyboard: [[{ text: 'گارانتی', callback_data: data }]] } }, data } };
}

function waEnvelope(value) {
  return { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ field: 'messages',
    value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: WA_PHONE_ID }, ...value } }] }] };
}
export function waText(waId, text, { id = wamid(), name = 'مریم', userId } = {}) {
  const contact = { profile: { name }, ...(waId ? { wa_id: waId } : {}), ...(userId ? { user_id: userId } : {}) };
  // Without a shared phone number only the business-scoped user id is sent.
  const message = { ...(waId ? { from: waId } : { from_user_id: userId }), id, timestamp: String(nowS()), type: 'text', text: { body: text } };
  return waEnvelope({ contacts: [contact], messages: [message] });
}
export function waStatuses(waId, statuses) {
  return waEnvelope({ statuses: statuses.map(([id, status, extra = {}]) => ({ id, status, timestamp: String(nowS()), recipient_id: waId, ...extra })) });
}

export function metaMessaging(object, accountId, items) {
  return { object, entry: [{ id: accountId, time: Date.now(), messaging: items }] };
}
export function metaText(psid, accountId, text, { id = mid() } = {}) {
  return { sender: { id: psid }, recipient: { id: accountId }, timestamp: Date.now(), message: { mid: id, text } };
}
// The customer unsent their message `id` (Instagram's is_deleted).
export function metaUnsend(psid, accountId, id) {
  return { sender: { id: psid }, recipient: { id: accountId }, timestamp: Date.now(), message: { mid: id, is_deleted: true } };
}
export function metaEcho(psid, accountId, text, { id = mid() } = {}) {
  return { sender: { id: accountId }, recipient: { id: psid }, timestamp: Date.now(), message: { is_echo: true, app_id: 1, mid: id, text } };
}

// --- agents and Redis ----------------------------------------------------------

export async function agentFor(gw, loginName = 'sara', password = 'sara-secret-1') {
  const r = await login(gw, loginName, password);
  if (r.status !== 200) throw new Error(`login failed: ${JSON.stringify(r.json)}`);
  return agentSocket(gw, r.json.token);
}

// Matches the delivery event of `conv` (of message `seq` and with `status`,
// when given), as an agent's socket receives it.
export const deliveryEvent = (conv, status, seq) => (f) => f.type === 'event' && f.event === 'delivery' &&
  f.conv === conv && (!status || f.status === status) && (seq === undefined || f.message_seq === seq);

export function redisCli(redis, ...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
}

// Calls one of the gateway's scripts (routing/src/lua/<name>.lua) directly, as
// a gateway would: its function carries the library's code hash in its name.
// fcallIn takes the key prefix of a gateway configured with another one.
export function fcallIn(redis, prefix, name, ...args) {
  const fn = redisCli(redis, 'FUNCTION', 'LIST').split('\n').find((l) => new RegExp(`^${name}_[0-9a-f]+$`).test(l));
  assert(fn, `no function ${name} loaded`);
  return redisCli(redis, 'FCALL', fn, '0', prefix, ...args);
}
export const fcall = (redis, name, ...args) => fcallIn(redis, 'pasokh:', name, ...args);

export { monitored } from '../support/harness.mjs';

// The value of the /metrics series `line` starts; `absent` (0) when there is
// none. `token` for a gateway whose metrics need one.
export async function metric(gw, line, { token, absent = 0 } = {}) {
  const res = await fetch(`${gw.base}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal(res.status, 200, 'the scrape is let in');
  const row = (await res.text()).split('\n').find((l) => l.startsWith(line));
  return row ? Number(row.split(' ').pop()) : absent;
}

export const waitUntil = async (check, what, timeoutMs = 10000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

