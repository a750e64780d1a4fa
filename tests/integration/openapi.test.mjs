// Keeps web/console/openapi.json honest.
//
// Static (no processes): the document parses, every $ref resolves, every route
// the gateway registers (r.add(...) in gateway/src/*.cpp, read with a small
// parser that also expands `for (const char* x : {...})` loops) is documented
// with its method, except the ones LEFT_OUT below, and every documented
// operation is a registered route.
//
// Live (real redis-server and pasokh): the served document is the file; every
// documented operation is routed (no 404 "no route", no 405) and, called
// without credentials or with an empty body, answers a status the document
// lists with the {"error":{"code","message"}} body; the answers of the API
// channel, auth, bot reload and web chat routes carry only documented fields.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { API_KEY, Pasokh, RedisServer, agentSocket, apiCall, defaultConfig, login, postMessage, repoRoot } from '../support/harness.mjs';

const docPath = path.join(repoRoot, 'web', 'console', 'openapi.json');
const srcDir = path.join(repoRoot, 'gateway', 'src');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

// Registered routes the document deliberately does not describe (its
// info.description says so too).
const LEFT_OUT = [
  { match: (p) => p.startsWith('/webhooks/'),
    why: "provider webhooks: their bodies and signatures are Telegram's, WhatsApp's, Meta's and Mailgun's own formats" },
  { match: (p) => /^\/(console|widget|demo)(\/\*)?$/.test(p), why: 'static web apps (files under web/)' },
  { match: (p) => p === '/', why: 'a redirect to /console/' },
  { match: (p) => p === '/unsubscribe/{token}', why: "campaign mail's unsubscribe page: HTML for customers' browsers and mail clients' one-click POST" },
  { match: (p) => p === '/webchat/verify/{token}', why: "the page of the links that confirmed a web chat visitor's email before codes: HTML for customers' browsers" },
];

const docText = readFileSync(docPath, 'utf8');
const doc = JSON.parse(docText);

// --- reading the routes out of the C++ --------------------------------------

// One argument of r.add(...): string literals, std::string("...") and loop
// variables joined by '+'. Returns every value it can take, or null.
function evalArgument(text, pos, loopValues) {
  let values = [''];
  let i = pos;
  const skipSpace = () => { while (/\s/.test(text[i])) i++; };
  for (;;) {
    skipSpace();
    let part;
    const lit = /^"((?:[^"\\]|\\.)*)"/.exec(text.slice(i)) ?? /^std::string\(\s*"((?:[^"\\]|\\.)*)"\s*\)/.exec(text.slice(i));
    if (lit) {
      part = [lit[1]];
      i += lit[0].length;
    } else {
      const id = /^[A-Za-z_]\w*/.exec(text.slice(i));
      if (!id) return null;
      part = loopValues(id[0], i);
      if (!part) return null;
      i += id[0].length;
    }
    values = values.flatMap((v) => part.map((p) => v + p));
    skipSpace();
    if (text[i] === '+') { i++; continue; }
    if (text[i] === ',' || text[i] === ')') return { values, end: i };
    return null;
  }
}

function lineOf(text, pos) { return text.slice(0, pos).split('\n').length; }

function registeredRoutes() {
  const routes = [];
  const unread = [];
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.cpp')).sort()) {
    const text = readFileSync(path.join(srcDir, file), 'utf8');
    const loops = [...text.matchAll(/for\s*\(\s*const\s+char\s*\*\s*(\w+)\s*:\s*\{([^}]*)\}\s*\)/g)]
      .map((m) => ({ name: m[1], at: m.index, values: [...m[2].matchAll(/"([^"]*)"/g)].map((v) => v[1]) }));
    // The values of the nearest loop over `name` before `pos`.
    const loopValues = (name, pos) => loops.filter((l) => l.name === name && l.at < pos).at(-1)?.values ?? null;
    for (const m of text.matchAll(/\b(\w+)\.add\(/g)) {
      const at = m.index;
      const where = `${file}:${lineOf(text, at)}`;
      const start = at + m[0].length;
      const methodLiteral = /^\s*"([A-Z]+)"/.exec(text.slice(start));
      // A route registration: the router (r, routes, router) or an HTTP method first.
      const isRoute = ['r', 'routes', 'router'].includes(m[1]) || (methodLiteral && METHODS.includes(methodLiteral[1]));
      if (!isRoute) continue;
      const method = evalArgument(text, start, loopValues);
      const target = method && text[method.end] === ',' ? evalArgument(text, method.end + 1, loopValues) : null;
      if (!method || !target || !method.values.every((v) => METHODS.includes(v))
          || !target.values.every((v) => v.startsWith('/'))) {
        unread.push(`${where}: ${text.slice(at, at + 120).split('\n')[0]}`);
        continue;
      }
      for (const verb of method.values) for (const p of target.values) routes.push({ method: verb, path: p, where });
    }
  }
  return { routes, unread };
}

const leftOut = (p) => LEFT_OUT.find((l) => l.match(p));

function documentedOperations() {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const [verb, op] of Object.entries(item))
      if (METHODS.includes(verb.toUpperCase())) ops.push({ method: verb.toUpperCase(), path: p, op });
  return ops;
}

// --- $ref and schema helpers ------------------------------------------------

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `only local refs: ${ref}`);
  let at = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (at === null || typeof at !== 'object' || !(key in at)) return undefined;
    at = at[key];
  }
  return at;
}

function* refsIn(node, where = '#') {
  if (Array.isArray(node)) { for (const [i, v] of node.entries()) yield* refsIn(v, `${where}/${i}`); return; }
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref') yield { ref: v, where };
    else yield* refsIn(v, `${where}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  }
}

const deref = (schema) => (schema && schema.$ref ? deref(resolve(schema.$ref)) : schema);

// Fields of `value` that `schema` does not name (only where it names some).
function undocumented(value, schema, at = '') {
  schema = deref(schema);
  if (!schema || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => undocumented(v, schema.items, `${at}[${i}]`)) : [];
  if (!schema.properties) return [];
  return Object.entries(value).flatMap(([k, v]) => (k in schema.properties
    ? undocumented(v, schema.properties[k], `${at}.${k}`) : [`${at}.${k}`]));
}

function responseSchema(p, verb, status) {
  const r = doc.paths[p]?.[verb]?.responses?.[String(status)];
  assert.ok(r, `${verb.toUpperCase()} ${p}: status ${status} is documented`);
  return r.content?.['application/json']?.schema;
}

function assertDocumented(p, verb, res) {
  const schema = responseSchema(p, verb, res.status);
  assert.deepEqual(undocumented(res.json, schema), [], `${verb.toUpperCase()} ${p} ${res.status}: every field is documented`);
}

// --- static checks ------------------------------------------------------------

describe('the document', () => {
  test('is OpenAPI 3 JSON whose $refs, security schemes and path parameters all resolve', () => {
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.info?.title && doc.paths && doc.components?.schemas);
    const broken = [...refsIn(doc)].filter(({ ref }) => resolve(ref) === undefined).map(({ ref, where }) => `${where}: ${ref}`);
    assert.deepEqual(broken, [], 'every $ref resolves');
    const schemes = Object.keys(doc.components.securitySchemes ?? {});
    const requirements = [doc.security ?? [], ...documentedOperations().map(({ op }) => op.security ?? [])].flat();
    for (const req of requirements)
      for (const name of Object.keys(req)) assert.ok(schemes.includes(name), `security scheme ${name} is defined`);
    for (const { method, path: p, op } of documentedOperations()) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const params = [...(doc.paths[p].parameters ?? []), ...(op.parameters ?? [])].map((x) => (x.$ref ? resolve(x.$ref) : x));
      const declared = params.filter((x) => x.in === 'path').map((x) => x.name).sort();
      assert.deepEqual(declared, inPath, `${method} ${p}: path parameters`);
      assert.ok(params.filter((x) => x.in === 'path').every((x) => x.required === true), `${method} ${p}: path parameters are required`);
      assert.ok(op.summary, `${method} ${p}: a summary`);
      assert.ok(Object.keys(op.responses ?? {}).length > 0, `${method} ${p}: responses`);
    }
  });

  test('the route reader understands every route registration in gateway/src', () => {
    const { routes, unread } = registeredRoutes();
    assert.deepEqual(unread, [], 'route registrations this test cannot read (teach evalArgument)');
    assert.ok(routes.length >= 60, `found ${routes.length} routes`);
    // Spot checks that the loops were expanded.
    const has = (m, p) => routes.some((r) => r.method === m && r.path === p);
    assert.ok(has('POST', '/api/v1/conversations/{conv}/resolve'));
    assert.ok(has('PUT', '/api/v1/admin/teams/{id}/sla'));
    assert.ok(has('GET', '/webhooks/whatsapp/{channel}'));
    assert.ok(has('GET', '/widget/*'));
    for (const l of LEFT_OUT) assert.ok(routes.some((r) => l.match(r.path)), `LEFT_OUT still matches a route: ${l.why}`);
  });

  test('every registered route is documented with its method, except the ones left out on purpose', () => {
    const missing = registeredRoutes().routes
      .filter((r) => !leftOut(r.path))
      .filter((r) => !doc.paths[r.path]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.path} (${r.where})`);
    assert.deepEqual(missing, [], 'routes missing from web/console/openapi.json');
  });

  test('every documented operation is a registered route', () => {
    const { routes } = registeredRoutes();
    const stale = documentedOperations()
      .filter(({ method, path: p }) => !routes.some((r) => r.method === method && r.path === p))
      .map(({ method, path: p }) => `${method} ${p}`);
    assert.deepEqual(stale, [], 'documented but not registered');
    const documentedLeftOut = Object.keys(doc.paths).filter((p) => leftOut(p));
    assert.deepEqual(documentedLeftOut, [], 'LEFT_OUT routes are documented after all: drop them from LEFT_OUT');
  });
});

// --- live checks ---------------------------------------------------------------

describe('the running gateway', () => {
  let redis, gw, admin;
  const WEBCHAT_SECRET = 'openapi-test-webchat-secret-0123456789';

  before(async () => {
    redis = await new RedisServer().start();
    gw = await new Pasokh(defaultConfig(redis, {
      channels: [
        { id: 'api', kind: 'api', api_key_env: 'PASOKH_TEST_API_KEY', team: 'support' },
        { id: 'web', kind: 'webchat', team: 'support' },
      ],
    }), { PASOKH_WEBCHAT_SECRET: WEBCHAT_SECRET }).start();
    await gw.createAgent('odette', 'odette-secret-1', { name: 'Odette', role: 'admin' });
    admin = (await login(gw, 'odette', 'odette-secret-1')).json.token;
  });
  after(async () => {
    await gw?.cleanup();
    await redis?.cleanup();
  });

  const call = (method, p, options) => apiCall(gw, method, p, options);

  test('serves the file at GET /api/v1/openapi.json', async () => {
    const r = await call('GET', '/api/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.equal(r.text, docText);
  });

  test('every documented operation is routed and, called bare, answers a documented status', async () => {
    for (const { method, path: p, op } of documentedOperations()) {
      const url = p.replace(/\{\w+\}/g, 'x');
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const r = await call(method, url, { body });
      const label = `${method} ${url} → ${r.status} ${r.text.slice(0, 120)}`;
      assert.notEqual(r.status, 405, label);
      assert.ok(!(r.status === 404 && /^no route/.test(r.json?.error?.message ?? '')), `${label}: routed`);
      assert.ok(String(r.status) in op.responses, `${label}: status documented`);
      if (r.status >= 400) {
        assert.equal(typeof r.json?.error?.code, 'string', `${label}: error body`);
        assert.equal(typeof r.json?.error?.message, 'string', `${label}: error body`);
      }
    }
  });

  test('auth: login and logout answer what the document says', async () => {
    const ok = await call('POST', '/api/v1/auth/login', { body: { login: 'odette', password: 'odette-secret-1' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(ok.json).sort(), ['agent', 'expires_in', 'token']);
    assertDocumented('/api/v1/auth/login', 'post', ok);
    const wrong = await call('POST', '/api/v1/auth/login', { body: { login: 'odette', password: 'nope' } });
    assert.equal(wrong.status, 401);
    assertDocumented('/api/v1/auth/login', 'post', wrong);
    const out = await call('POST', '/api/v1/auth/logout', { token: ok.json.token });
    assert.equal(out.status, 200);
    assertDocumented('/api/v1/auth/logout', 'post', out);
    assert.equal((await call('POST', '/api/v1/admin/bot/reload', { token: ok.json.token })).status, 401, 'logged out');
  });

  test('API channel: 201, duplicate 200, message_id_reused 409, the text limit, and the messages with their status', async () => {
    const postPath = '/api/v1/channels/{channel}/messages';
    const customer = { id: `oa-${randomUUID()}`, name: 'Parisa' };
    const first = await postMessage(gw, { message_id: 'm1', customer, text: 'سلام، سفارشم کجاست؟', language: 'fa' });
    assert.equal(first.status, 201, first.text);
    assert.deepEqual(Object.keys(first.json).sort(), Object.keys(deref(responseSchema(postPath, 'post', 201)).properties).sort());
    const again = await postMessage(gw, { message_id: 'm1', customer, text: 'سلام، سفارشم کجاست؟', language: 'fa' });
    assert.equal(again.status, 200);
    assert.equal(again.json.duplicate, true);
    assert.equal(again.json.conversation_id, first.json.conversation_id);
    assertDocumented(postPath, 'post', again);
    const reused = await postMessage(gw, { message_id: 'm1', customer, text: 'another text' });
    assert.equal(reused.status, 409);
    assert.equal(reused.json.error.code, 'message_id_reused');
    // Another customer may use the same message_id.
    assert.equal((await postMessage(gw, { message_id: 'm1', customer: { id: `${customer.id}-b` }, text: 'hi' })).status, 201);
    const schema = doc.paths[postPath].post.requestBody.content['application/json'].schema;
    assert.equal(schema.properties.text.maxLength, 10000);
    assert.equal((await postMessage(gw, { message_id: 'm2', customer, text: 'ب'.repeat(10000) })).status, 201);
    const tooLong = await postMessage(gw, { message_id: 'm3', customer, text: 'ب'.repeat(10001) });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.json.error.code, 'invalid_field');
    assert.equal((await postMessage(gw, { message_id: 'm4', customer, text: 'x' }, { key: 'wrong' })).status, 401);

    // An agent reply: an outbound message with its delivery status.
    const conv = first.json.conversation_id;
    const sock = await agentSocket(gw, admin);
    sock.send({ type: 'reply', conv, client_id: randomUUID(), text: 'Let me check.' });
    await sock.next((f) => f.type === 'ack' || f.type === 'error');
    sock.close();
    const readPath = '/api/v1/channels/{channel}/conversations/{conversation}/messages';
    const page = await call('GET', `/api/v1/channels/api/conversations/${conv}/messages?after=0`, { token: API_KEY });
    assert.equal(page.status, 200, page.text);
    assertDocumented(readPath, 'get', page);
    assert.ok(page.json.messages.some((m) => m.direction === 'out' && m.status), 'the reply with its status');
    assert.equal(typeof page.json.has_more, 'boolean');
    const later = await call('GET', `/api/v1/channels/api/conversations/${conv}/messages?after=${page.json.next_after}`, { token: API_KEY });
    assert.deepEqual(later.json.messages, []);
    assert.equal((await call('GET', `/api/v1/channels/api/conversations/${conv}/messages?after=x`, { token: API_KEY })).status, 400);
    const elsewhere = await call('GET', '/api/v1/channels/api/conversations/cv_nope/messages', { token: API_KEY });
    assert.equal(elsewhere.status, 404);
    assert.equal(elsewhere.json.error.code, 'not_found');
  });

  test('admin bot reload and the web chat session answer what the document says', async () => {
    const reload = await call('POST', '/api/v1/admin/bot/reload', { token: admin });
    assert.equal(reload.status, 200, reload.text);
    assertDocumented('/api/v1/admin/bot/reload', 'post', reload);

    const started = await call('POST', '/api/v1/webchat/sessions', { body: { channel: 'web', name: 'Nika' } });
    assert.equal(started.status, 201, started.text);
    assertDocumented('/api/v1/webchat/sessions', 'post', started);
    const renewed = await call('POST', '/api/v1/webchat/sessions', { body: { channel: 'web', token: started.json.token } });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal(renewed.json.visitor_id, started.json.visitor_id);
    assertDocumented('/api/v1/webchat/sessions', 'post', renewed);
    const stranger = await call('POST', '/api/v1/webchat/sessions', { body: { channel: 'web' }, headers: { origin: 'https://evil.example' } });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.json.error.code, 'origin_not_allowed');
  });

  test('search answers what the document says, a match and a customer file included', async () => {
    const posted = await postMessage(gw, { message_id: randomUUID(), customer: { id: `oa-${randomUUID()}`, name: 'Omid Kettle' }, text: 'kettle limescale' });
    assert.equal(posted.status, 201, posted.text);
    let found;
    for (let i = 0; i < 60 && !(found?.json?.conversations?.length && found.json.customers.length); i++) {
      await new Promise((r) => setTimeout(r, 150));
      found = await call('GET', '/api/v1/search?q=kettle', { token: admin });
    }
    assert.equal(found.status, 200, found.text);
    assert.ok(found.json.conversations[0].match, found.text);
    assert.equal(found.json.customers[0].name, 'Omid Kettle');
    assertDocumented('/api/v1/search', 'get', found);
    const bad = await call('GET', '/api/v1/search?q=x', { token: admin });
    assert.equal(bad.status, 400);
    assertDocumented('/api/v1/search', 'get', bad);
  });
});
