// Console entry point: wires the session, the agent socket, the state and
// the views together.
import { agentSocketUrl, api, fetchFile, logout, routing, session } from './api.js';
import { AgentSocket } from './socket.js';
import { ConsoleState, SNAPSHOT_PAGE } from './store/state.js';
import { Notifier } from './notify.js';
import {
  TypingBoard, TypingSender, VIEW_CHECK_MS, ViewingBoard, ViewingSender, typingLine, viewersLine,
} from './typing.js';
import { mountLogin } from './views/login.js';
import { mountInbox, removedName } from './views/inbox.js';
import { mountSearch } from './views/search.js';
import { mountConversation } from './views/conversation.js';
import { mountCustomer } from './views/customer.js';
import { mountActions } from './views/actions.js';
import { mountAdmin } from './views/admin.js';
import { mountReports } from './views/reports.js';
import { mountCampaigns } from './views/campaigns.js';
import { $ } from './views/dom.js';
import { loadLanguage, mountLanguagePicker, named, t, translatePage } from './i18n.js';

// The agent's language, before anything is drawn (the views write in it).
await loadLanguage();
translatePage();
for (const select of document.querySelectorAll('.lang-select')) mountLanguagePicker(select);

const HISTORY_PAGE = 500;
const HISTORY_CONVERSATIONS = 10; // earlier conversations of the customer loaded into the view
const CUSTOMER_FRESH_MS = 30_000;

const state = new ConsoleState({ storage: sessionStorage });
state.visible = () => !document.hidden;
const notifier = new Notifier();
let socket = null;
let current = null; // the login session
const typingBoard = new TypingBoard();
const typingSender = new TypingSender((frame) => !!socket?.send(frame));
const viewingBoard = new ViewingBoard();
const viewingSender = new ViewingSender((frame) => !!socket?.send(frame));
let typingTimer = 0;
let cannedList = [];

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
const inbox = mountInbox(state, {
  onSelect: (id) => select(id, { focus: true }),
  onLoadOlder: async () => {
    const page = await routing.openConversations(state.olderOffset ?? 0, SNAPSHOT_PAGE);
    state.addConversations(page.conversations ?? []);
  },
});
// A result opens where the inbox would: the conversation joins the list
// while it is on screen; a customer opens at their newest conversation.
const searchBox = mountSearch({
  search: api.search,
  onOpenConversation: (c) => { state.mergeConversation(c); select(c.id, { focus: false }); },
  onOpenCustomer: async (c) => {
    try {
      const newest = (await api.customer(c.id)).conversations?.at(-1);
      if (!newest) { showNotice(`${c.name || c.id} has no conversation you can open yet.`, 'ok'); return; }
      state.mergeConversation(newest);
      select(newest.id, { focus: false });
    } catch (e) {
      showNotice(t('app.openCustomer', { error: e.message }));
    }
  },
});
const actions = mountActions(state, { notice: (text) => showNotice(text), request });
const conversation = mountConversation(state, {
  onSend: sendReply,
  onNote: addNote,
  fetchFile,
  onLabels: changeLabels,
  onAction: (op, conv) => (op === 'resolve' ? resolve(conv) : actions.run(op, conv)),
  onRetry: (clientId) => { const p = state.retry(clientId); if (p) sendPending(p); },
  onDiscard: (clientId) => state.discard(clientId),
  online: () => !!socket?.ready,
  busy: (conv) => [...state.resolving.values()].includes(conv) || actions.busy(conv),
  canned: () => cannedList,
  onTyping: (conv, text) => typingSender.input(conv, text),
  typing: (conv) => typingLine(typingBoard.typing(conv), (id) => state.agentNames.get(id)),
  viewers: (conv) => viewersLine(viewingBoard.viewers(conv), (id) => state.agentNames.get(id)),
});
const customerPanel = mountCustomer(state, {
  onSelect: (id) => select(id, { focus: false }),
  onSave: (id, fields) => api.updateCustomer(id, fields),
  onLink: async (id, channel, externalId) => { await api.linkIdentity(id, channel, externalId); await loadCustomer(id, true); },
  onMerge: async (id, from) => { await api.mergeCustomer(id, from); await loadCustomer(id, true); },
  onUndoMerge: async (id, merge) => { await api.undoMerge(id, merge); await loadCustomer(id, true); },
  onDismiss: async (id, other) => { await api.dismissSuggestion(id, other); await loadCustomer(id, true); },
  onErase: async (id) => { await api.eraseCustomer(id); await loadCustomer(id, true); },
});
const admin = mountAdmin({ notice: showNotice, onCannedChanged: loadCanned });
const reports = mountReports({ notice: showNotice });
const campaigns = mountCampaigns({ notice: showNotice });

const connStatus = $('#conn-status');
const connText = $('#conn-text');
const retryBtn = $('#retry-btn');
const notice = $('#notice');
retryBtn.addEventListener('click', () => socket?.retryNow());
$('#logout-btn').addEventListener('click', () => signOut());
// Away/online is sent over the socket and again in every hello, so a
// reconnect keeps the agent's choice: the last one made in any of their tabs
// (onPresence), else an old tab's reconnect would bring back what it chose.
let wantedPresence = '';
$('#presence').addEventListener('change', async (e) => {
  wantedPresence = e.target.value;
  try { await request({ type: 'presence', status: wantedPresence }); } catch (err) { showNotice(t('app.presence', { error: err.message })); }
});

// One render per animation frame, however many socket frames came in it: a
// busy inbox brings many a second (each its own task, so a microtask would
// render after every one), and each render walks the whole list. A hidden
// tab runs no animation frames: the timer renders it then.
const RENDER_FALLBACK_MS = 250;
let scheduled = null;
function render() {
  if (scheduled) return;
  scheduled = { frame: requestAnimationFrame(renderNow), timer: setTimeout(renderNow, RENDER_FALLBACK_MS) };
}

function renderNow() {
  if (!scheduled) return;
  cancelAnimationFrame(scheduled.frame);
  clearTimeout(scheduled.timer);
  scheduled = null;
  if (!current) return;
  inbox.render();
  conversation.render();
  customerPanel.render();
}
state.addEventListener('change', render);
// A conversation read here is read on the agent's other devices too.
state.addEventListener('change', (e) => {
  const { what, remote, conv, at } = e.detail;
  if (what === 'read' && !remote) socket?.send({ type: 'read', conv, at });
});

function showConnection(s) {
  connStatus.dataset.state = s;
  connText.textContent = named('conn.', s);
  retryBtn.hidden = s !== 'reconnecting';
  render();
}

let noticeTimer = 0;
function showNotice(text, kind = 'error') {
  notice.textContent = text;
  notice.dataset.kind = kind;
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
  if (id) { ensureHistory(id); ensureCustomer(id); }
  if (focus && id) { renderNow(); if (!$('#reply-text').disabled) conversation.focusReply(); }
  showViewing();
}

// Tells the other agents which conversation is on screen (none while the tab is hidden).
function showViewing() {
  viewingSender.update(document.hidden ? null : state.selected);
}
setInterval(showViewing, VIEW_CHECK_MS);

window.addEventListener('hashchange', () => { if (current) select(hashConversation()); });
document.addEventListener('visibilitychange', () => {
  showViewing();
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

// Read again from the logs (what is in memory is out of date).
function reloadTimelines(conversations) {
  for (const c of conversations ?? []) state.timelines.delete(c.id);
  if (state.selected) ensureHistory(state.selected);
}

// What the timeline holds from the start is kept: only the rest is read.
function ensureHistory(id) {
  const t = state.timeline(id);
  if (!t.loaded && !t.loading) requestHistory(id, t.contiguousSeq());
  render();
}

// --- the customer file and their earlier conversations -------------------------

const customerLoads = new Set(); // customer ids being fetched

async function loadCustomer(customerId, force = false) {
  const cur = state.customers.get(customerId);
  if (customerLoads.has(customerId) || (!force && cur && Date.now() - cur.fetched_at < CUSTOMER_FRESH_MS)) return;
  customerLoads.add(customerId);
  try {
    const file = await api.customer(customerId);
    file.fetched_at = Date.now();
    state.customers.set(customerId, file);
    // Erased since: their conversations' texts are gone from the logs too.
    if (file.customer?.erased_at && cur && !cur.customer?.erased_at) reloadTimelines(file.conversations);
  } catch (e) {
    if (e.status !== 404) showNotice(t('app.loadCustomer', { error: e.message }));
    return;
  } finally {
    customerLoads.delete(customerId);
  }
  showHistory();
}

function ensureCustomer(id) {
  const conv = state.conversations.get(id);
  if (conv?.customer_id) loadCustomer(conv.customer_id);
  showHistory();
}

// The selected customer's other (most recent) conversations join the view.
function showHistory() {
  const conv = state.conversations.get(state.selected);
  const file = conv && state.customers.get(conv.customer_id);
  state.related.clear();
  if (file) {
    for (const c of file.conversations.slice(-HISTORY_CONVERSATIONS - 1)) {
      if (c.id === state.selected) continue;
      state.related.add(c.id);
      ensureHistory(c.id);
    }
  }
  render();
}

async function addNote(conv, text) {
  try {
    await api.note(conv, text, newClientId());
  } catch (e) {
    showNotice(t('app.note', { error: e.message }));
    throw e;
  }
}

async function changeLabels(conv, add, remove) {
  try {
    await api.labels(conv, add, remove);
  } catch (e) {
    showNotice(t('app.labels', { error: e.message }));
  }
}

async function loadCanned() {
  try { cannedList = (await api.canned()).canned ?? []; } catch { /* the box works without them */ }
}

async function loadKnownLabels() {
  try {
    const { labels } = await api.knownLabels();
    $('#known-labels').replaceChildren(...labels.map((l) => { const o = document.createElement('option'); o.value = l; return o; }));
  } catch { /* suggestions only */ }
}

// A command frame answered by an ack or an error with its client_id.
const requests = new Map(); // client_id -> { resolve, reject }
function request(frame) {
  const clientId = newClientId();
  if (!socket?.send({ ...frame, client_id: clientId })) return Promise.reject(new Error(t('app.offline')));
  return new Promise((resolve, reject) => requests.set(clientId, { resolve, reject }));
}

function settle(f) {
  const r = f.client_id && requests.get(f.client_id);
  if (!r) return false;
  requests.delete(f.client_id);
  if (f.type === 'ack') r.resolve(f); else r.reject(new Error(f.message || f.code));
  return true;
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
    showNotice(t('app.offlineResolve'));
    return;
  }
  state.resolving.set(clientId, conv);
  render();
}

// Every agent's name, so assignees read "Reza" rather than "ag_reza" before
// any presence frame of theirs arrives (GET /api/v1/agents is open to agents),
// a removed agent's as "Layla (removed)", and every team's name.
async function loadNames() {
  const [agents, teams] = await Promise.allSettled([routing.directory(), routing.teams()]);
  for (const a of agents.value?.removed ?? []) state.agentNames.set(a.id, removedName(a));
  for (const a of agents.value?.agents ?? []) if (a.id && a.name) state.agentNames.set(a.id, a.name);
  for (const x of teams.value ?? []) if (x.id) state.teamNames.set(x.id, x.name || x.id);
  state.namesLoaded++; // where a load failed, the ids still show
  render();
}

function onWelcome(f) {
  const first = !state.welcomed;
  state.setAgent(f.agent);
  $('#agent-name').textContent = f.agent?.name ?? '';
  const mine = mineNow();
  const added = state.replaceConversations(f.conversations, f.open_total, f.counts);
  state.applyReadMarks(f.read);
  for (const [conv, at] of state.marksAhead(f.read)) socket?.send({ type: 'read', conv, at });
  state.welcomed = true;
  if (!first) announce(added, mine);
  // Requests sent on the previous connection are lost with it.
  for (const t of state.timelines.values()) t.loading = false;
  state.resolving.clear();
  for (const r of requests.values()) r.reject(new Error(t('app.lost')));
  requests.clear();
  if (f.presence === 'online' || f.presence === 'away') $('#presence').value = f.presence;
  loadNames(); // again on a reconnect: agents may have been added meanwhile
  // Replies never acknowledged go again, with the same client_id: the
  // server stores each client_id once.
  for (const p of state.unsent()) sendPending(p);
  if (state.selected) ensureHistory(state.selected);
  for (const id of state.related) ensureHistory(id);
  viewingSender.forget();
  showViewing();
  render();
}

// After a list refresh (reconnect, resync): what is new, and what became mine
// while the console was away (its events replay as already known).
const mineNow = () => new Set([...state.conversations.values()].filter((c) => state.isMine(c)).map((c) => c.id));
function announce(added, mineBefore) {
  const given = [...mineNow()].filter((id) => !mineBefore.has(id));
  if (given.length) notifier.notify(t('app.newAssignment'), { conv: given[0], always: true });
  else if (added.length) notifier.notify(t('app.newConversation'), { conv: added[0] });
}

function onEvent(f) {
  const r = state.applyEvent(f);
  if (r.duplicate) return;
  if (f.event === 'message' && !f.copies) typingBoard.onMessage(f.conv, f.message);
  if (r.gapAfter != null) requestHistory(f.conv, r.gapAfter);
  const conv = state.conversations.get(f.conv);
  // A conversation given to me rings even when I am looking.
  if (r.assignedToMe) notifier.notify(t('app.newAssignment'), { conv: f.conv, always: true });
  else if (r.appeared) notifier.notify(t('app.newConversation'), { conv: f.conv });
  else if (r.customerMessage && conv?.status === 'assigned' && conv.assignee === state.agent?.id)
    notifier.notify(t('app.newMessage'), { conv: f.conv });
  // A new conversation of the customer on screen: their file is out of date.
  const shown = state.conversations.get(state.selected);
  if (conv && shown && conv.customer_id === shown.customer_id && f.conv !== state.selected && !state.related.has(f.conv))
    loadCustomer(conv.customer_id, true);
  if (f.event === 'labels') loadKnownLabels();
  // A merge or its undo gave the conversation another customer file.
  if (f.event === 'customer' && conv?.customer_id) loadCustomer(conv.customer_id, true);
}

function onPresence(f) {
  if (!f.agent) return;
  state.presence.set(f.agent, { status: f.status, name: f.name, load: f.load, capacity: f.capacity });
  if (f.name) state.agentNames.set(f.agent, f.name);
  if (f.agent === state.agent?.id && (f.status === 'online' || f.status === 'away')) {
    $('#presence').value = f.status;
    wantedPresence = f.status;
  }
  render();
}

// Someone is typing or viewing (or stopped); the line goes when their refreshes stop.
function onTyping(f) {
  (f.type === 'viewing' ? viewingBoard : typingBoard).onFrame(f);
  showTyping();
}

// Only the line under the messages changes: the rest of the console stays.
function showTyping() {
  conversation.renderTyping();
  clearTimeout(typingTimer);
  const lapses = [typingBoard.nextLapse(), viewingBoard.nextLapse()].filter((l) => l != null);
  if (lapses.length) typingTimer = setTimeout(showTyping, Math.min(...lapses) + 50);
}

// Why a reply was refused, in the agent's language where the console knows the reason.
function replyRefusal(f) {
  if (f.code === 'channel_unavailable') return t('app.channelUnavailable', { channel: f.channel ?? '' });
  return f.message;
}

function onError(f) {
  const id = f.client_id;
  if (id && state.resolving.has(id)) {
    state.resolving.delete(id);
    showNotice(t('app.resolveFailed', { error: f.message }));
    render();
  } else if (id && state.pending.has(id)) {
    if (f.code === 'unavailable') {
      const p = state.retry(id);
      setTimeout(() => { if (state.pending.get(id)?.state === 'queued') sendPending(p); }, 3000);
    } else {
      state.fail(id, replyRefusal(f));
    }
  } else {
    // A history request (the only one without a client_id) failed: retry.
    showNotice(t('app.server', { error: f.message }));
    for (const t of state.timelines.values()) t.loading = false;
    if (state.selected) setTimeout(() => state.selected && ensureHistory(state.selected), 2000);
  }
}

function onFrame(f) {
  switch (f.type) {
    case 'welcome': onWelcome(f); break;
    case 'event': if (f.event === 'campaign') campaigns.onEvent(f); else onEvent(f); break;
    case 'snapshot': {
      const mine = mineNow();
      announce(state.replaceConversations(f.conversations, f.open_total, f.counts), mine);
      if (state.selected) ensureHistory(state.selected);
      break;
    }
    case 'history': {
      const more = state.applyHistory(f.conv, Array.isArray(f.events) ? f.events : [], HISTORY_PAGE, f.deliveries,
        typeof f.has_more === 'boolean' ? f.has_more : undefined);
      if (more != null) requestHistory(f.conv, more);
      else if (f.conv === state.selected) ensureCustomer(f.conv);
      break;
    }
    case 'ack':
      if (settle(f)) break;
      if (f.client_id && state.resolving.has(f.client_id)) { state.resolving.delete(f.client_id); render(); }
      else if (f.client_id) state.ack(f.client_id, f.seq, !!f.duplicate);
      break;
    case 'error': if (!settle(f)) onError(f); break;
    case 'presence': onPresence(f); break;
    case 'typing': case 'viewing': onTyping(f); break;
    case 'read': state.applyReadMarks({ [f.conv]: f.at }); break; // sent to this agent's sessions only
    // Another agent changed a customer file: refresh it if we hold it.
    case 'customer':
      if (state.customers.has(f.customer) && f.actor !== state.agent?.id) loadCustomer(f.customer, true);
      break;
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
  conversation.useDrafts(s.agent?.id);
  state.select(hashConversation());
  socket = new AgentSocket(agentSocketUrl(), () => {
    const resume = state.resume();
    return { type: 'hello', v: 1, token: current.token, ...(Object.keys(resume).length ? { resume } : {}),
      ...(wantedPresence ? { presence: wantedPresence } : {}) };
  });
  socket.addEventListener('frame', (e) => onFrame(e.detail));
  socket.addEventListener('state', (e) => showConnection(e.detail.state));
  socket.addEventListener('unauthorized', () => stop(t('app.ended')));
  socket.start();
  loadCanned();
  loadKnownLabels();
  admin.setRole(s.agent?.role);
  reports.setRole(s.agent?.role);
  campaigns.setRole(s.agent?.role);
  render();
  $('#inbox-views button[aria-pressed="true"]')?.focus();
}

function stop(message = '') {
  typingSender.stop();
  viewingSender.stop();
  typingBoard.clear();
  viewingBoard.clear();
  socket?.stop();
  socket = null;
  wantedPresence = '';
  for (const r of requests.values()) r.reject(new Error('signed out'));
  requests.clear();
  current = null;
  session.clear();
  state.reset();
  inbox.reset();
  searchBox.reset();
  customerPanel.reset();
  admin.setRole(null);
  reports.setRole(null);
  campaigns.setRole(null);
  notifier.clear();
  $('#console-view').hidden = true;
  history.replaceState(null, '', location.pathname + location.search);
  loginView.show(message);
}

// Signing out also drops the agent's unsent drafts; a session that ends
// (8 hours, an admin) keeps them for when they sign in again.
async function signOut() {
  const token = current?.token;
  conversation.clearDrafts();
  stop();
  if (token) { try { await logout(token); } catch { /* the token expires anyway */ } }
}

const saved = session.load();
if (saved) start(saved);
else loginView.show();
