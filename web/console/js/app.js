// Console entry point: wires the session, the agent socket, the state and
// the views together.
import { agentSocketUrl, logout, session } from './api.js';
import { AgentSocket } from './socket.js';
import { ConsoleState } from './store/state.js';
import { Notifier } from './notify.js';
import { mountLogin } from './views/login.js';
import { mountInbox } from './views/inbox.js';
import { mountConversation } from './views/conversation.js';
import { $ } from './views/dom.js';

const HISTORY_PAGE = 500;

const state = new ConsoleState({ storage: sessionStorage });
state.visible = () => !document.hidden;
const notifier = new Notifier();
let socket = null;
let current = null; // the login session

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context randomUUID is missing; build a v4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// --- views -------------------------------------------------------------------

const loginView = mountLogin({ onLoggedIn: start });
const inbox = mountInbox(state, { onSelect: (id) => select(id, { focus: true }) });
const conversation = mountConversation(state, {
  onSend: sendReply,
  onResolve: resolve,
  onRetry: (clientId) => { const p = state.retry(clientId); if (p) sendPending(p); },
  onDiscard: (clientId) => state.discard(clientId),
  online: () => !!socket?.ready,
});

const connStatus = $('#conn-status');
const connText = $('#conn-text');
const retryBtn = $('#retry-btn');
const notice = $('#notice');
retryBtn.addEventListener('click', () => socket?.retryNow());
$('#logout-btn').addEventListener('click', () => signOut());

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    if (!current) return;
    inbox.render();
    conversation.render();
    $('#resolve-btn').disabled = [...state.resolving.values()].includes(state.selected) || !socket?.ready;
  });
}
state.addEventListener('change', render);

const CONN_TEXT = { connecting: 'Connecting…', online: 'Online', reconnecting: 'Reconnecting…', closed: 'Offline' };
function showConnection(s) {
  connStatus.dataset.state = s;
  connText.textContent = CONN_TEXT[s] ?? s;
  retryBtn.hidden = s !== 'reconnecting';
  render();
}

let noticeTimer = 0;
function showNotice(text) {
  notice.textContent = text;
  notice.hidden = !text;
  clearTimeout(noticeTimer);
  if (text) noticeTimer = setTimeout(() => { notice.hidden = true; notice.textContent = ''; }, 8000);
}

// --- selection (kept in the URL hash, so a reload reopens it) ----------------

function hashConversation() {
  const m = location.hash.match(/^#\/c\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function select(id, { focus = false } = {}) {
  state.select(id);
  const hash = id ? `#/c/${encodeURIComponent(id)}` : '';
  if (location.hash !== hash) history.replaceState(null, '', hash || location.pathname + location.search);
  if (id) ensureHistory(id);
  if (focus && id) queueMicrotask(() => { if (!$('#reply-text').disabled) conversation.focusReply(); });
}

window.addEventListener('hashchange', () => { if (current) select(hashConversation()); });
document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  if (state.selected) state.markRead(state.selected);
  // Back to the tab while waiting out a long backoff: try at once.
  if (socket?.state === 'reconnecting') socket.retryNow();
});

// --- socket frames ----------------------------------------------------------

function requestHistory(id, after) {
  const t = state.timeline(id);
  if (!socket?.send({ type: 'history', conv: id, after, limit: HISTORY_PAGE })) return;
  t.loading = true;
  t.requestedAfter = after;
}

function ensureHistory(id) {
  const t = state.timeline(id);
  if (!t.loaded && !t.loading) requestHistory(id, 0);
  render();
}

function sendPending(p) {
  if (socket?.send({ type: 'reply', conv: p.conv, client_id: p.client_id, text: p.text })) state.markSent(p.client_id);
}

function sendReply(conv, text) {
  sendPending(state.addPending(conv, newClientId(), text));
}

function resolve(conv) {
  const clientId = newClientId();
  if (!socket?.send({ type: 'resolve', conv, client_id: clientId })) {
    showNotice('You are offline. Resolve again once the console has reconnected.');
    return;
  }
  state.resolving.set(clientId, conv);
  render();
}

function onWelcome(f) {
  const first = !state.welcomed;
  state.setAgent(f.agent);
  $('#agent-name').textContent = f.agent?.name ?? '';
  const added = state.replaceConversations(f.conversations);
  state.welcomed = true;
  if (!first && added.length) notifier.notify('New conversation', { conv: added[0] });
  // Requests sent on the previous connection are lost with it.
  for (const t of state.timelines.values()) t.loading = false;
  state.resolving.clear();
  // Replies never acknowledged go again, with the same client_id: the
  // server stores each client_id once.
  for (const p of state.unsent()) sendPending(p);
  if (state.selected) ensureHistory(state.selected);
  render();
}

function onEvent(f) {
  const r = state.applyEvent(f);
  if (r.duplicate) return;
  if (r.gapAfter != null) requestHistory(f.conv, r.gapAfter);
  const conv = state.conversations.get(f.conv);
  if (r.appeared) notifier.notify('New conversation', { conv: f.conv });
  else if (r.customerMessage && conv?.status === 'assigned' && conv.assignee === state.agent?.id)
    notifier.notify('New message', { conv: f.conv });
}

function onError(f) {
  const id = f.client_id;
  if (id && state.resolving.has(id)) {
    state.resolving.delete(id);
    showNotice(`Could not resolve: ${f.message}`);
    render();
  } else if (id && state.pending.has(id)) {
    if (f.code === 'unavailable') {
      const p = state.retry(id);
      setTimeout(() => { if (state.pending.get(id)?.state === 'queued') sendPending(p); }, 3000);
    } else {
      state.fail(id, f.message);
    }
  } else {
    // A history request (the only one without a client_id) failed: retry.
    showNotice(`Server: ${f.message}`);
    for (const t of state.timelines.values()) t.loading = false;
    if (state.selected) setTimeout(() => state.selected && ensureHistory(state.selected), 2000);
  }
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'event': onEvent(f); break;
    case 'snapshot': {
      const added = state.replaceConversations(f.conversations);
      if (added.length) notifier.notify('New conversation', { conv: added[0] });
      if (state.selected) ensureHistory(state.selected);
      break;
    }
    case 'history': {
      const more = state.applyHistory(f.conv, Array.isArray(f.events) ? f.events : [], HISTORY_PAGE);
      if (more != null) requestHistory(f.conv, more);
      break;
    }
    case 'ack':
      if (f.client_id && state.resolving.has(f.client_id)) { state.resolving.delete(f.client_id); render(); }
      else if (f.client_id) state.ack(f.client_id, f.seq, !!f.duplicate);
      break;
    case 'error': onError(f); break;
    default: break; // pong, and frame types of later versions
  }
}

// --- session ------------------------------------------------------------------

function start(s) {
  current = s;
  loginView.hide();
  $('#console-view').hidden = false;
  $('#agent-name').textContent = s.agent?.name ?? '';
  state.setAgent(s.agent);
  state.select(hashConversation());
  socket = new AgentSocket(agentSocketUrl(), () => {
    const resume = state.resume();
    return { type: 'hello', v: 1, token: current.token, ...(Object.keys(resume).length ? { resume } : {}) };
  });
  socket.addEventListener('frame', (e) => onFrame(e.detail));
  socket.addEventListener('state', (e) => showConnection(e.detail.state));
  socket.addEventListener('unauthorized', () => stop('Your session has ended. Please sign in again.'));
  socket.start();
  render();
  $('#inbox-views button[aria-pressed="true"]')?.focus();
}

function stop(message = '') {
  socket?.stop();
  socket = null;
  current = null;
  session.clear();
  state.reset();
  inbox.reset();
  notifier.clear();
  $('#console-view').hidden = true;
  history.replaceState(null, '', location.pathname + location.search);
  loginView.show(message);
}

async function signOut() {
  const token = current?.token;
  stop();
  if (token) { try { await logout(token); } catch { /* the token expires anyway */ } }
}

const saved = session.load();
if (saved) start(saved);
else loginView.show();
