// Fake provider APIs for integration tests: Telegram Bot API, WhatsApp Cloud
// API and the Meta Send API (Messenger, Instagram), on one local HTTP port.
// No npm dependencies (node >= 20).
//
//   node tests/fake_provider/server.mjs [--port N] [--host 127.0.0.1]
//   -> prints "LISTENING <port>" once ready.
//
// Point a channel's api_base at http://127.0.0.1:<port>. Provider routes:
//   POST /bot<token>/<method>            Telegram (sendMessage, answerCallbackQuery, send<Media>, ...)
//   POST /<version>/<phone_number_id>/messages   WhatsApp Cloud
//   POST /<version>/me/messages          Messenger / Instagram
// Control routes:
//   GET    /_requests[?path=substr]  every request so far (JSON array, oldest first)
//   DELETE /_requests                forget them
//   POST   /_script                  queue scripted answers (object or array of objects):
//     {"action": "rate_limit"|"pair_rate_limit"|"error_500"|"window_closed"|"blocked"|"invalid_token"|"delay"|"hang"|"drop",
//      "count": 1, "path": "substring of the path", "to": "recipient", "retry_after": 2, "delay_ms": 0}
//     The next `count` matching requests get the action instead of success
//     (delay_ms first, if given; "delay" = succeed after delay_ms). `to`
//     matches only sends to that recipient (Telegram chat_id, WhatsApp to,
//     Meta recipient.id). "rate_limit" is the account's limit (Telegram's 429,
//     WhatsApp 130429, Meta 613); "pair_rate_limit" is WhatsApp's 131056, too
//     many messages to one customer; "invalid_token" is Graph error 190 (an
//     expired or revoked access token), Telegram's 401 Unauthorized (a revoked bot token). Scripts are used in the order they were queued.
//     "message_id" makes a successful WhatsApp or Meta answer carry that id
//     (a test can then send the id's status before the answer, as Meta may).
//   GET    /_script / DELETE /_script  pending scripts / drop them
//   POST   /_chat_limit {"min_interval_ms": 1000}   enforce a per-chat limit as
//     the providers do: a send to a recipient less than min_interval_ms after
//     the last one it accepted for that recipient gets the provider's rate
//     limit answer (Telegram's 429 with parameters.retry_after in whole
//     seconds, WhatsApp's 131056, Meta's 613). DELETE /_chat_limit ends it.
//   GET    /_health

import http from 'node:http';
import { randomBytes } from 'node:crypto';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const PORT = Number(arg('--port', '0'));
const HOST = arg('--host', '127.0.0.1');
const MAX_BODY = 5 * 1024 * 1024;

let requests = [];
let scripts = [];
let chatLimit = null;          // { minIntervalMs } while a per-chat limit is enforced
const lastAccepted = new Map(); // provider + recipient -> when a send to it was last accepted (ms)
let seq = 0;
const telegramMessageIds = new Map(); // chat id -> last message_id (ids are per chat)

// ---- helpers -------------------------------------------------------------

const send = (res, status, body, headers = {}) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fbtrace = () => randomBytes(8).toString('base64url');
const graphError = (code, message, extra = {}) => ({
  error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: fbtrace() },
});
const wamid = () => 'wamid.' + randomBytes(24).toString('base64');
const mid = () => 'm_' + randomBytes(36).toString('base64url');
const codePoints = (s) => [...s].length;

function providerOf(path) {
  if (/^\/bot[^/]+\/[A-Za-z]+$/.test(path)) return 'telegram';
  if (/^\/v\d+(\.\d+)?\/me\/messages$/.test(path)) return 'meta';
  if (/^\/v\d+(\.\d+)?\/[^/]+\/messages$/.test(path)) return 'whatsapp';
  return 'unknown';
}

function bearer(req, url) {
  const auth = req.headers.authorization || '';
  if (auth.startsWith('Bearer ') && auth.length > 7) return auth.slice(7);
  return url.searchParams.get('access_token');
}

// ---- scripted failures -----------------------------------------------------

// Whom a send is for, in each provider's shape.
function recipientOf(json) {
  const to = json?.chat_id ?? json?.to ?? json?.recipient?.id ?? json?.recipient;
  return to === undefined || to === null ? '' : String(to);
}

function takeScript(path, json) {
  const i = scripts.findIndex((s) => (!s.path || path.includes(s.path)) && (!s.to || recipientOf(json) === s.to));
  if (i < 0) return null;
  const s = scripts[i];
  s.count -= 1;
  if (s.count <= 0) scripts.splice(i, 1);
  return s;
}

// The provider's own shape for each scripted failure.
function scriptedAnswer(provider, s) {
  const after = s.retry_after ?? 1;
  const retryHeader = { 'Retry-After': String(after) };
  switch (`${provider}:${s.action}`) {
    case 'telegram:rate_limit':
      return [429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${after}`, parameters: { retry_after: after } }, retryHeader];
    case 'telegram:error_500':
      return [500, { ok: false, error_code: 500, description: 'Internal Server Error' }];
    case 'telegram:invalid_token': // a revoked bot token
      return [401, { ok: false, error_code: 401, description: 'Unauthorized' }];
    case 'telegram:window_closed': // Telegram has no window; the nearest permanent refusal
    case 'telegram:blocked':
      return [403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }];
    case 'whatsapp:rate_limit':
      return [429, graphError(130429, '(#130429) Rate limit hit', { error_data: { messaging_product: 'whatsapp', details: 'Cloud API message throughput has been reached.' } }), retryHeader];
    case 'whatsapp:pair_rate_limit':
      return [400, graphError(131056, '(#131056) (Business Account, Consumer Account) pair rate limit hit', { error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.' } }), retryHeader];
    case 'whatsapp:window_closed':
      return [400, graphError(131047, '(#131047) Re-engagement message', { error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' } })];
    case 'whatsapp:blocked':
      return [400, graphError(131026, '(#131026) Message Undeliverable', { error_data: { messaging_product: 'whatsapp', details: 'Message could not be delivered.' } })];
    case 'whatsapp:invalid_token':
      return [401, graphError(190, 'Error validating access token: Session has expired on Tuesday, 24-Nov-26 10:00:00 PST.', { error_subcode: 463 })];
    case 'meta:invalid_token':
      return [400, graphError(190, 'Error validating access token: The session has been invalidated because the user changed their password.', { error_subcode: 460 })];
    case 'meta:rate_limit':
      return [400, graphError(613, '(#613) Calls to this api have exceeded the rate limit.'), retryHeader];
    case 'meta:window_closed':
      return [400, graphError(10, '(#10) This message is sent outside of allowed window.', { error_subcode: 2018278 })];
    case 'meta:blocked':
      return [400, graphError(551, "(#551) This person isn't available right now.", { error_subcode: 1545041 })];
    case 'whatsapp:error_500':
    case 'meta:error_500':
    case 'unknown:error_500':
      return [500, graphError(2, 'An unexpected error has occurred. Please retry your request later.', { is_transient: true })];
    default:
      return [500, { error: `no scripted answer for ${s.action} on ${provider}` }];
  }
}

// ---- the per-chat limit ----------------------------------------------------------

// The provider's answer to a send that comes too soon after the last one it
// accepted for the same recipient; null when it may go.
function overChatLimit(provider, json, now) {
  const to = recipientOf(json);
  if (!chatLimit || !to || provider === 'unknown') return null;
  const last = lastAccepted.get(`${provider}:${to}`);
  const left = last === undefined ? 0 : last + chatLimit.minIntervalMs - now;
  if (left <= 0) return null;
  const action = provider === 'whatsapp' ? 'pair_rate_limit' : 'rate_limit';
  return scriptedAnswer(provider, { action, retry_after: Math.max(1, Math.ceil(left / 1000)) });
}

function accepted(provider, json, now) {
  const to = recipientOf(json);
  if (to) lastAccepted.set(`${provider}:${to}`, now);
}

// ---- providers ---------------------------------------------------------------

function telegram(path, body) {
  const [, token, method] = path.match(/^\/bot([^/]+)\/([A-Za-z]+)$/);
  const botId = Number(token.split(':')[0]) || 7000000001;
  const bot = { id: botId, is_bot: true, first_name: 'Pasokh Test Bot', username: 'pasokh_test_bot' };
  const bad = (description) => [400, { ok: false, error_code: 400, description: `Bad Request: ${description}` }];
  if (!/^\d+:[\w-]+$/.test(token)) return [401, { ok: false, error_code: 401, description: 'Unauthorized' }];
  if (method === 'getMe') return [200, { ok: true, result: bot }];
  if (method === 'setWebhook' || method === 'deleteWebhook' || method === 'answerCallbackQuery') {
    if (method === 'answerCallbackQuery' && !body?.callback_query_id) return bad('query_id is empty');
    return [200, { ok: true, result: true }];
  }
  const media = { sendPhoto: 'photo', sendDocument: 'document', sendVoice: 'voice', sendAudio: 'audio', sendVideo: 'video', sendSticker: 'sticker' };
  if (method !== 'sendMessage' && method !== 'sendLocation' && method !== 'sendContact' && !media[method])
    return [404, { ok: false, error_code: 404, description: 'Not Found' }];
  if (body?.chat_id === undefined || body.chat_id === '') return bad('chat_id is empty');
  if (method === 'sendMessage') {
    if (typeof body.text !== 'string' || body.text.length === 0) return bad('message text is empty');
    if (body.text.length > 4096) return bad('message is too long'); // JS length = UTF-16 units, as Telegram counts
  }
  if (body.caption && body.caption.length > 1024) return bad('message caption is too long');
  const chat = String(body.chat_id);
  const messageId = (telegramMessageIds.get(chat) ?? 0) + 1;
  telegramMessageIds.set(chat, messageId);
  const result = { message_id: messageId, from: bot, chat: { id: Number(chat) || chat, type: 'private' }, date: Math.floor(Date.now() / 1000) };
  if (method === 'sendMessage') result.text = body.text;
  if (media[method]) result[media[method]] = method === 'sendPhoto' ? [{ file_id: body.photo, file_unique_id: 'u' + messageId, width: 1280, height: 960 }] : { file_id: body[media[method]], file_unique_id: 'u' + messageId };
  if (body.caption) result.caption = body.caption;
  if (body.reply_markup) result.reply_markup = body.reply_markup;
  return [200, { ok: true, result }];
}

function whatsapp(body, token) {
  if (!token) return [401, graphError(190, 'Invalid OAuth access token - Cannot parse access token')];
  const invalid = (message) => [400, graphError(100, `(#100) ${message}`)];
  if (body?.messaging_product !== 'whatsapp') return invalid('The parameter messaging_product is required.');
  const to = body.to ?? body.recipient;
  if (!to) return invalid('The parameter to is required.');
  switch (body.type) {
    case 'text':
      if (!body.text?.body) return invalid("The parameter text['body'] is required.");
      if (codePoints(body.text.body) > 4096) return invalid("Param text['body'] must be at most 4096 characters long.");
      break;
    case 'interactive': {
      const i = body.interactive ?? {};
      if (!i.body?.text || codePoints(i.body.text) > 1024) return invalid("Param interactive['body']['text'] must be 1-1024 characters long.");
      if (i.type === 'button') {
        const b = i.action?.buttons ?? [];
        if (b.length < 1 || b.length > 3 || b.some((x) => codePoints(x.reply?.title ?? '') > 20))
          return [400, graphError(131009, '(#131009) Parameter value is not valid', { error_data: { messaging_product: 'whatsapp', details: 'Buttons: 1-3, titles at most 20 characters' } })];
      } else if (i.type === 'list') {
        const rows = (i.action?.sections ?? []).flatMap((s) => s.rows ?? []);
        if (rows.length < 1 || rows.length > 10 || rows.some((r) => codePoints(r.title ?? '') > 24))
          return [400, graphError(131009, '(#131009) Parameter value is not valid', { error_data: { messaging_product: 'whatsapp', details: 'List rows: 1-10, titles at most 24 characters' } })];
      }
      break;
    }
    case 'template':
      if (!body.template?.name || !body.template?.language?.code) return invalid('template name and language are required.');
      break;
    case 'image': case 'document': case 'audio': case 'video': case 'sticker': case 'location': case 'reaction': case 'contacts':
      break;
    default:
      return [400, graphError(131051, '(#131051) Unsupported message type')];
  }
  const message = { id: wamid() };
  if (body.type === 'template') message.message_status = 'accepted';
  return [200, { messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: String(to).replace(/^\+/, '') }], messages: [message] }];
}

function meta(body, token) {
  if (!token) return [400, graphError(190, 'Invalid OAuth access token - Cannot parse access token')];
  const invalid = (message) => [400, graphError(100, `(#100) ${message}`)];
  const recipient = body?.recipient?.id;
  if (!recipient) return invalid('param recipient must be non-empty.');
  const type = body.messaging_type;
  if (!['RESPONSE', 'UPDATE', 'MESSAGE_TAG'].includes(type)) return invalid('param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}.');
  if (type === 'MESSAGE_TAG' && !body.tag) return invalid('Param tag is required for MESSAGE_TAG.');
  const message = body.message ?? {};
  if (!message.text && !message.attachment) return invalid('Must send either message text or attachment.');
  // Messenger: "< 2000 characters" (Instagram's 1000 bytes cannot be told apart on this path).
  if (message.text && codePoints(message.text) >= 2000) return invalid('Length of param message[text] must be less than 2000');
  if ((message.quick_replies ?? []).length > 13) return invalid('param message[quick_replies] must have at most 13 elements.');
  return [200, { recipient_id: recipient, message_id: mid() }];
}

// ---- server ------------------------------------------------------------------

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://fake');
  const path = url.pathname;

  if (path === '/_health') return send(res, 200, { ok: true });
  if (path === '/_requests') {
    if (req.method === 'DELETE') { requests = []; return send(res, 200, { ok: true }); }
    const filter = url.searchParams.get('path');
    return send(res, 200, filter ? requests.filter((r) => r.path.includes(filter)) : requests);
  }
  if (path === '/_script') {
    if (req.method === 'DELETE') { scripts = []; return send(res, 200, { ok: true }); }
    if (req.method === 'GET') return send(res, 200, scripts);
    let parsed;
    try { parsed = JSON.parse(await readBody(req)); } catch { return send(res, 400, { error: 'script must be JSON' }); }
    const actions = ['rate_limit', 'pair_rate_limit', 'error_500', 'window_closed', 'blocked', 'invalid_token', 'delay', 'hang', 'drop'];
    for (const s of Array.isArray(parsed) ? parsed : [parsed]) {
      if (!actions.includes(s?.action)) return send(res, 400, { error: `action must be one of ${actions.join(', ')}` });
      scripts.push({ action: s.action, count: Number(s.count ?? 1), path: s.path ?? '', to: s.to === undefined ? '' : String(s.to), retry_after: s.retry_after, delay_ms: Number(s.delay_ms ?? 0), message_id: s.message_id });
    }
    return send(res, 200, { ok: true, pending: scripts.length });
  }
  if (path === '/_chat_limit') {
    if (req.method === 'DELETE') { chatLimit = null; lastAccepted.clear(); return send(res, 200, { ok: true }); }
    let parsed;
    try { parsed = JSON.parse(await readBody(req)); } catch { return send(res, 400, { error: 'limit must be JSON' }); }
    const minIntervalMs = Number(parsed?.min_interval_ms);
    if (!(minIntervalMs > 0)) return send(res, 400, { error: 'min_interval_ms must be a positive number' });
    chatLimit = { minIntervalMs };
    return send(res, 200, { ok: true });
  }

  const raw = await readBody(req);
  let json = null;
  try { json = raw ? JSON.parse(raw) : null; } catch { /* recorded as-is; providers answer 400 below */ }
  const provider = providerOf(path);
  const record = {
    seq: ++seq, time: Date.now(), provider, method: req.method, path,
    query: Object.fromEntries(url.searchParams), headers: req.headers, body: raw, json,
  };
  requests.push(record);

  const script = takeScript(path, json);
  if (script) {
    record.scripted = script.action;
    if (script.delay_ms > 0) await sleep(script.delay_ms);
    if (script.action === 'hang') return; // never answer: the client's timeout fires
    if (script.action === 'drop') return req.socket.destroy();
    if (script.action !== 'delay') {
      const [status, body, headers] = scriptedAnswer(provider, script);
      record.status = status;
      return send(res, status, body, headers);
    }
  }

  let answer = req.method === 'POST' ? overChatLimit(provider, json, record.time) : null;
  if (answer) record.chat_limited = true;
  else if (req.method !== 'POST') answer = [405, { error: 'method not allowed' }];
  else if (provider !== 'unknown' && json === null) answer = [400, provider === 'telegram' ? { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" } : graphError(100, '(#100) Invalid JSON')];
  else if (provider === 'telegram') answer = telegram(path, json);
  else if (provider === 'whatsapp') answer = whatsapp(json, bearer(req, url));
  else if (provider === 'meta') answer = meta(json, bearer(req, url));
  else answer = [404, { error: 'unknown route' }];
  record.status = answer[0];
  if (answer[0] === 200) accepted(provider, json, record.time);
  if (answer[0] === 200 && script?.message_id) {
    if (provider === 'whatsapp') answer[1].messages[0].id = script.message_id;
    if (provider === 'meta') answer[1].message_id = script.message_id;
  }
  send(res, ...answer);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 500, { error: String(err?.message ?? err) });
  });
});
server.keepAliveTimeout = 10_000;
server.listen(PORT, HOST, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // including kept-alive and "hang" sockets
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
