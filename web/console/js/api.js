// REST calls and the login session (kept in sessionStorage: one tab, one
// session; closing the tab forgets it).

const SESSION_KEY = 'pasokh.console.session';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
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
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = data?.error ?? {};
    const retryAfter = Number(res.headers.get('retry-after')) || 0;
    throw new ApiError(res.status, err.code ?? 'http_error', err.message ?? `HTTP ${res.status}`, retryAfter);
  }
  return data;
}

// -> { token, expires_in, agent: { id, name, role, team } }
export function login(loginName, password) {
  return request('/api/v1/auth/login', { method: 'POST', body: { login: loginName, password } });
}

export function logout(token) {
  return request('/api/v1/auth/logout', { method: 'POST', token });
}

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
