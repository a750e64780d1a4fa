// REST calls and the login session (kept in sessionStorage: one tab, one
// session; closing the tab forgets it).
import { t } from './i18n.js';

const SESSION_KEY = 'pasokh.console.session';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.details = details;  // the error object's other fields (a team in use: its channels, rules, ...)
  }
}

async function request(path, { method = 'GET', token, body } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', t('api.network'));
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = data?.error ?? {};
    const retryAfter = Number(res.headers.get('retry-after')) || 0;
    throw new ApiError(res.status, err.code ?? 'http_error', err.message ?? `HTTP ${res.status}`, retryAfter, err);
  }
  return data;
}

// A file behind the session's token (an attachment), as a Blob. The server
// fetches a few files at a time and tells the others when to ask again (503
// with Retry-After): asked again then, a few times, before giving up.
export async function fetchFile(path, { attempts = 4, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) } = {}) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${session.load()?.token}` } }).catch(() => null);
    if (!res) throw new ApiError(0, 'network', 'cannot reach the server');
    const wait = Number(res.headers.get('retry-after')) || 0;
    if (res.status === 503 && wait > 0 && attempt < attempts) {
      await sleep(wait * 1000);
      continue;
    }
    if (!res.ok) {
      // The code says why (file_too_big: over what the provider hands over).
      const code = (await res.json().catch(() => null))?.error?.code;
      throw new ApiError(res.status, typeof code === 'string' ? code : 'http_error',
        res.status === 404 ? 'not found (it may have expired)' : `HTTP ${res.status}`);
    }
    return res.blob();
  }
}

// -> { token, expires_in, agent: { id, name, role, team } }
export function login(loginName, password) {
  return request('/api/v1/auth/login', { method: 'POST', body: { login: loginName, password } });
}

export function logout(token) {
  return request('/api/v1/auth/logout', { method: 'POST', token });
}

// An authenticated call with the current session's token.
export function call(path, { method = 'GET', body } = {}) {
  return request(path, { method, body, token: session.load()?.token });
}

const enc = encodeURIComponent;
export const api = {
  customer: (id) => call(`/api/v1/customers/${enc(id)}`),
  updateCustomer: (id, fields) => call(`/api/v1/customers/${enc(id)}`, { method: 'PATCH', body: fields }),
  linkIdentity: (id, channel, externalId) => call(`/api/v1/customers/${enc(id)}/identities`,
    { method: 'POST', body: { channel, external_id: externalId } }),
  mergeCustomer: (id, from) => call(`/api/v1/customers/${enc(id)}/merge`, { method: 'POST', body: { from } }),
  undoMerge: (id, merge) => call(`/api/v1/customers/${enc(id)}/merges/${enc(merge)}/undo`, { method: 'POST' }),
  // The body repeats the id: the server erases nothing on a stray request.
  eraseCustomer: (id) => call(`/api/v1/admin/customers/${enc(id)}/erase`, { method: 'POST', body: { confirm: id } }),
  dismissSuggestion: (id, other) => call(`/api/v1/customers/${enc(id)}/suggestions/${enc(other)}/dismiss`, { method: 'POST' }),
  note: (conv, text, clientId) => call(`/api/v1/conversations/${enc(conv)}/notes`, { method: 'POST', body: { text, client_id: clientId } }),
  labels: (conv, add, remove) => call(`/api/v1/conversations/${enc(conv)}/labels`, { method: 'POST', body: { add, remove } }),
  knownLabels: () => call('/api/v1/labels'),
  canned: () => call('/api/v1/canned'),
  saveCanned: (item) => call(item.id ? `/api/v1/admin/canned/${enc(item.id)}` : '/api/v1/admin/canned',
    { method: item.id ? 'PUT' : 'POST', body: { shortcut: item.shortcut, title: item.title, text: item.text } }),
  deleteCanned: (id) => call(`/api/v1/admin/canned/${enc(id)}`, { method: 'DELETE' }),
  // -> { conversations: [{ conversation, match }], customers: [...], more }
  search: (q) => call(`/api/v1/search?q=${enc(q)}`),
};

// Routing's REST routes (gateway/src/routing_api.cpp, OpenAPI at /api/v1/openapi.json).
const TEAM_KEYS = ['id', 'name', 'strategy', 'skills', 'languages', 'hours', 'sla', 'closed_message'];
const teamDef = (t) => Object.fromEntries(TEAM_KEYS.filter((k) => k in t).map((k) => [k, t[k]]));
export const routing = {
  agents: () => call('/api/v1/agents').then((d) => d.agents ?? []),
  directory: () => call('/api/v1/agents'), // { agents, removed: [{ id, name }] }
  teams: () => call('/api/v1/teams').then((d) => d.teams ?? []),
  saveAgent: (a, isNew) => call(isNew ? '/api/v1/admin/agents' : `/api/v1/admin/agents/${enc(a.id)}`,
    { method: isNew ? 'POST' : 'PATCH', body: a }),
  deleteAgent: (id) => call(`/api/v1/admin/agents/${enc(id)}`, { method: 'DELETE' }),
  saveTeam: (t, isNew) => call(isNew ? '/api/v1/admin/teams' : `/api/v1/admin/teams/${enc(t.id)}`,
    { method: isNew ? 'POST' : 'PUT', body: teamDef(t) }),
  deleteTeam: (id) => call(`/api/v1/admin/teams/${enc(id)}`, { method: 'DELETE' }),
  // A team's business hours alone ({ timezone, weekly, holidays } or null: open 24/7); the rest of
  // its definition stays as the server has it. GET adds closed_message and open_now.
  hours: (id) => call(`/api/v1/admin/teams/${enc(id)}/hours`),
  saveHours: (id, hours) => call(`/api/v1/admin/teams/${enc(id)}/hours`, { method: 'PUT', body: hours ?? null }),
  // Open conversations the agent sees, newest activity first, from `offset` on.
  openConversations: (offset, limit) => call(`/api/v1/conversations?view=all&limit=${limit}&offset=${offset}`),
};

export const session = {
  load() {
    try {
      const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (!s?.token || !s.agent) return null;
      if (s.expires_at && Date.now() > s.expires_at) { this.clear(); return null; }
      return s;
    } catch {
      return null;
    }
  },
  save({ token, expires_in, agent }) {
    const s = { token, agent, expires_at: expires_in ? Date.now() + expires_in * 1000 : 0 };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    return s;
  },
  clear() { sessionStorage.removeItem(SESSION_KEY); },
};

export function agentSocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/agent`;
}
