// Console state: conversations, their timelines, replies waiting for an ack.
// No DOM here (so it can be tested in Node); views subscribe to `change`
// events and read what they need.
//
// Invariants:
//  - a conversation's state is only replaced by a newer one (higher `seq`);
//  - a timeline holds each event once, keyed by `seq` (dedupe by conv+seq);
//  - a pending reply disappears when the stored message with its client_id
//    is in the timeline.

export const OPEN_STATUSES = new Set(['bot', 'queued', 'assigned', 'snoozed']);
export const VIEWS = ['mine', 'unassigned', 'team', 'all'];
export const STATUS_FILTERS = ['any', 'bot', 'queued', 'assigned', 'snoozed'];

// Labels travel comma-joined (an empty Lua list would encode as {}).
export const labelList = (v) => (Array.isArray(v) ? v : typeof v === 'string' && v ? v.split(',') : []);

const isOpen = (c) => OPEN_STATUSES.has(c.status);

// A queue's order (routing_lib.lua score_of): urgent, then high or VIP, an
// SLA breach two ranks up; then who waited longest (queued_at, or created_at
// from gateways that do not send it).
const PRIORITY_RANK = { low: -1, normal: 0, high: 1, urgent: 2 };
function queueRank(c) {
  let rank = PRIORITY_RANK[c.priority] ?? 0;
  if (c.vip && rank < 1) rank = 1;
  return c.sla_breached ? rank + 2 : rank;
}
const waitingSince = (c) => c.queued_at ?? c.created_at ?? c.updated_at ?? 0;
export const queueOrder = (a, b) => queueRank(b) - queueRank(a) || waitingSince(a) - waitingSince(b) ||
  String(a.id).localeCompare(String(b.id));
const newestFirst = (a, b) => (b.updated_at ?? 0) - (a.updated_at ?? 0) || String(b.id).localeCompare(String(a.id));

// The state a conversation the console did not hold had before an event, as
// far as the frame says (a status event names where it came from); null for
// a conversation the event began.
function stateBefore(frame, after) {
  if (Number(frame.seq) === 1) return null;
  return { ...after, status: frame.event === 'status' && frame.from ? frame.from : after.status,
    assignee: typeof frame.previous_assignee === 'string' ? frame.previous_assignee : after.assignee,
    team: frame.from_team ?? after.team };
}

// The newest message of a conversation for its row in the list: the
// timeline's when it holds it (edits and attachments as they are), else the
// preview the server keeps on the conversation (last_message: text cut to
// what a row shows, author, at, seq), which a reload or a first load has
// before any timeline.
export function lastMessageOf(conv, timeline) {
  const live = timeline?.lastMessage();
  const kept = conv?.last_message;
  if (!kept || (live && (live.seq ?? 0) >= (kept.seq ?? 0))) return live ?? null;
  return kept;
}

// A message as one line of the list.
export const previewText = (m) => m.text || (m.attachments?.length || m.attachment ? '[attachment]' : '');

// Delivery marks only move forwards; `failed` is final.
const DELIVERY_RANK = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };
const later = (a, b) => (a === 'failed' || (DELIVERY_RANK[b] ?? -1) <= (DELIVERY_RANK[a] ?? -1) ? a : b);

// Why a pending reply has not gone yet (the outbox sends it again at
// `next_at`): { reason, attempt, next_at }, or undefined when malformed.
const retryNote = (r) => (r && Number.isInteger(r.attempt) && Number.isFinite(r.next_at)
  ? { reason: typeof r.reason === 'string' ? r.reason : '', attempt: r.attempt, next_at: r.next_at } : undefined);
// The note to keep: none once the status moved on; else the later one (a
// reload's stored record may be older than a live event). One attempt may
// bring two (a rate limit waited out, then a failure): the later next_at.
const isLater = (a, b) => (a.attempt !== b.attempt ? a.attempt > b.attempt : a.next_at >= b.next_at);
function keptNote(cur, next, note) {
  if (next !== 'pending') return undefined;
  const held = cur?.retrying;
  return held && (!note || isLater(held, note)) ? held : note;
}

export class Timeline {
  constructor() {
    this.events = new Map(); // seq -> event frame
    this.deliveries = new Map(); // message seq -> { status, reason, emailed_at, retrying } (seq-less `delivery` events)
    this.loaded = false;     // holds every event from seq 1 on
    this.loading = false;    // a history request is in flight
    this.requestedAfter = -1;
  }
  get maxSeq() {
    let m = 0;
    for (const s of this.events.keys()) if (s > m) m = s;
    return m;
  }
  // Highest N such that events 1..N are all held.
  contiguousSeq() {
    let n = 0;
    while (this.events.has(n + 1)) n++;
    return n;
  }
  // Events in order.
  ordered() {
    return [...this.events.values()].sort((a, b) => a.seq - b.seq);
  }
  // The latest version of each message (a later event carrying the same
  // message id, e.g. an edit or a delivery status, updates the earlier one).
  messages() {
    const byId = new Map();
    const out = [];
    for (const ev of this.ordered()) {
      if (ev.event === 'message' && ev.message) {
        const id = ev.message.id ?? `${ev.conv}:${ev.seq}`;
        const prior = byId.get(id);
        if (prior) { prior.message = { ...prior.message, ...ev.message }; continue; }
        const item = { seq: ev.seq, kind: 'message', message: this.withDelivery(ev.message, ev.seq), frame: ev };
        byId.set(id, item);
        out.push(item);
      } else if (ev.event === 'reaction' && byId.has(ev.reaction?.message_id)) {
        // Shown on the message it names: the newest counts, '' takes it back.
        const prior = byId.get(ev.reaction.message_id);
        prior.message = { ...prior.message, reaction: ev.reaction.emoji || undefined };
      } else {
        out.push({ seq: ev.seq, kind: ev.event, frame: ev });
      }
    }
    return out;
  }
  withDelivery(m, seq) {
    const d = this.deliveries.get(seq);
    if (!d || m.direction !== 'out') return m;
    const status = later(m.status ?? 'pending', d.status);
    return { ...m, status, failure_reason: status === 'failed' ? (d.reason ?? m.failure_reason) : m.failure_reason,
      failure: status === 'failed' ? (d.failure ?? m.failure) : m.failure,
      emailed_at: d.emailed_at ?? m.emailed_at, retrying: status === 'pending' ? d.retrying : undefined };
  }
  // A `delivery` event; false when it changes nothing (late or repeated).
  // `emailedAt`: a web chat reply the customer did not read went to their email.
  // `retrying`: a pending reply's failed attempt, kept until the status moves.
  applyDelivery(messageSeq, status, reason, emailedAt, retrying) {
    const cur = this.deliveries.get(messageSeq);
    const next = later(cur?.status ?? 'pending', status);
    const emailed = cur?.emailed_at ?? emailedAt;
    const note = keptNote(cur, next, retryNote(retrying));
    if (cur && next === cur.status && emailed === cur.emailed_at && note === cur.retrying) return false;
    if (!cur && next === 'pending' && !emailed && !note) return false;
    this.deliveries.set(messageSeq, { status: next, reason: next === 'failed' ? reason : undefined, emailed_at: emailed,
      retrying: note });
    return true;
  }
  // The newest message by its own seq: an edit, an unsend or a file copy of an older one comes
  // in a later frame but does not make it the newest; of one message's frames the latest wins.
  // (Every row of the list asks at every render: no sorting.)
  lastMessage() {
    let last = null, lastSeq = -1;
    for (const e of this.events.values()) {
      if (e.event !== 'message' || !e.message) continue;
      const seq = e.message.seq ?? e.seq;
      if (seq > lastSeq || (seq === lastSeq && e.seq > last.seq)) [last, lastSeq] = [e, seq];
    }
    return last?.message ?? null;
  }
  hasClientId(clientId) {
    for (const ev of this.events.values()) if (ev.message?.client_id === clientId) return true;
    return false;
  }
}

// How many conversations the server's welcome and snapshot list at most (the
// agent's own come on top).
export const SNAPSHOT_PAGE = 200;

// How many conversations no longer open (resolved, closed) the state keeps,
// besides the one on screen and the customer's history there. The lists show
// only open ones, but an admin hears of every conversation: without a cap each
// resolved one stayed until the next welcome (hours), and every render walked
// them all.
export const CLOSED_KEPT = 100;

export class ConsoleState extends EventTarget {
  constructor({ storage = null } = {}) {
    super();
    this.storage = storage; // sessionStorage-like, for pending replies and read marks
    this.agent = null;
    this.conversations = new Map(); // id -> conversation object (+ customer_name)
    this.closed = new Set();        // ids of those not open, least recently changed first
    this.timelines = new Map();     // id -> Timeline
    this.pending = new Map();       // client_id -> { conv, client_id, text, created_at, state, seq?, error? }
    this.lastRead = new Map();      // id -> last_customer_message_at the agent has seen
    this.selected = null;
    this.view = 'all';
    this.statusFilter = 'any';
    this.welcomed = false;          // at least one welcome since login
    this.agentNames = new Map();    // agent id -> name, as seen in messages
    this.teamNames = new Map();     // team id -> name (GET /api/v1/teams)
    this.namesLoaded = 0;           // counts loads of the names, so lines drawn with ids are drawn again
    this.resolving = new Map();     // client_id -> conv, resolve requests in flight
    this.related = new Set();       // conversations shown as the selected customer's history
    this.customers = new Map();     // customer id -> customer file (REST), for the panel
    this.presence = new Map();      // agent id -> { status, name, load, capacity } from presence frames
    // Per view, the open conversations the server counted that the console
    // does not hold (a backlog beyond what the welcome lists); null before a
    // welcome with counts. A badge is this plus what the console holds.
    this.unheld = null;
    this.visible = () => true;      // is the agent looking? (document visibility)
  }

  emit(what, detail = {}) {
    this.dispatchEvent(new CustomEvent('change', { detail: { what, ...detail } }));
  }

  // --- agent and persistence ----------------------------------------------

  setAgent(agent) {
    const changed = this.agent?.id !== agent?.id;
    this.agent = agent;
    if (agent?.id) this.agentNames.set(agent.id, agent.name);
    if (changed) this.restore();
    this.emit('agent');
  }

  key(name) { return `pasokh.console.${name}.${this.agent?.id ?? 'anon'}`; }

  restore() {
    if (!this.storage || !this.agent) return;
    try {
      const pending = JSON.parse(this.storage.getItem(this.key('pending')) || '[]');
      for (const p of pending) if (p?.client_id && p.conv && typeof p.text === 'string') this.pending.set(p.client_id, p);
      const read = JSON.parse(this.storage.getItem(this.key('read')) || '{}');
      for (const [id, at] of Object.entries(read)) this.lastRead.set(id, Number(at) || 0);
    } catch { /* corrupt storage: start clean */ }
  }

  persist() {
    if (!this.storage || !this.agent) return;
    try {
      this.storage.setItem(this.key('pending'), JSON.stringify([...this.pending.values()]));
      const read = Object.fromEntries([...this.lastRead].slice(-500));
      this.storage.setItem(this.key('read'), JSON.stringify(read));
    } catch { /* storage full or disabled: in-memory only */ }
  }

  // --- conversations -------------------------------------------------------

  timeline(id) {
    let t = this.timelines.get(id);
    if (!t) { t = new Timeline(); this.timelines.set(id, t); }
    return t;
  }

  // Keeps the newer of two states of one conversation.
  mergeConversation(conv) {
    if (!conv?.id) return false;
    const cur = this.conversations.get(conv.id);
    if (cur && (cur.seq ?? 0) > (conv.seq ?? 0)) return false;
    // The server sends whole states: a field it leaves out is unset. Only
    // lists carry the newest message (last_message): an event keeps the
    // list's (a message event brings its message into the timeline).
    this.conversations.set(conv.id, { ...conv, customer_name: conv.customer_name ?? cur?.customer_name,
      last_message: conv.last_message ?? cur?.last_message, labels: labelList(conv.labels) });
    this.closed.delete(conv.id);
    if (!isOpen(conv)) this.closed.add(conv.id);
    // A state newer than the events held (it changed while the console was
    // away, and nothing caught the timeline up): read again when opened.
    const t = this.timelines.get(conv.id);
    if (t?.loaded && (conv.seq ?? 0) > t.contiguousSeq()) t.loaded = false;
    return true;
  }

  // A `welcome` or `snapshot`: the team's open conversations. Conversations
  // not in it are no longer open (or beyond the server's limit) and leave the
  // list, except the one on screen. Returns the ids that are new to the list.
  // `serverCounts`: the welcome's counts of every view ({mine, unassigned,
  // team, all}, over every conversation the agent could see).
  replaceConversations(list, openTotal, serverCounts) {
    // How many open conversations the agent could see: the server sends the
    // newest 200 (and all of the agent's own, and each queue's head); the
    // inbox offers the rest.
    this.openTotal = Number.isFinite(openTotal) ? openTotal : null;
    // Where "load older" goes on: after the newest page (the agent's own
    // older conversations come after it in the list).
    this.olderOffset = Math.min(Array.isArray(list) ? list.length : 0, SNAPSHOT_PAGE);
    const before = new Set(this.openIds());
    const incoming = new Set();
    for (const c of Array.isArray(list) ? list : []) {
      if (!c?.id) continue;
      incoming.add(c.id);
      this.mergeConversation(c);
    }
    for (const id of [...this.conversations.keys()]) if (!incoming.has(id)) this.forget(id);
    this.unheld = null;
    if (serverCounts && VIEWS.every((v) => Number.isFinite(serverCounts[v]))) {
      const held = this.heldCounts();
      this.unheld = Object.fromEntries(VIEWS.map((v) => [v, Math.max(0, serverCounts[v] - held[v])]));
    }
    this.emit('conversations');
    return [...incoming].filter((id) => !before.has(id) && isOpen(this.conversations.get(id)));
  }

  // Off the list, unless on screen or in the customer's history there.
  forget(id) {
    if (id === this.selected || this.related.has(id)) return;
    this.conversations.delete(id);
    this.timelines.delete(id);
    this.closed.delete(id);
  }

  // Beyond CLOSED_KEPT, the closed conversations changed longest ago leave.
  dropClosed() {
    let over = this.closed.size - CLOSED_KEPT;
    for (const id of this.closed) {
      if (over <= 0) break;
      if (id === this.selected || this.related.has(id)) continue;
      this.forget(id);
      over--;
    }
  }

  // Older conversations fetched on request: added, nothing removed.
  addConversations(list) {
    this.olderOffset = (this.olderOffset ?? 0) + list.length;
    for (const c of list) {
      if (!c?.id) continue;
      if (!this.conversations.has(c.id)) this.countHeld(c);
      this.mergeConversation(c);
    }
    this.emit('conversations');
  }

  // A conversation the server counted comes to be held here: out of `unheld`
  // (as it was counted: `before`), so the badges count it once.
  countHeld(before) {
    if (!this.unheld || !before || !isOpen(before) || !this.maySee(before)) return;
    for (const v of VIEWS) if (this.inView(before, v) && this.unheld[v] > 0) this.unheld[v]--;
  }

  openIds() {
    return [...this.conversations.values()].filter(isOpen).map((c) => c.id);
  }

  // An `event` frame (live, caught up or from history). Returns what
  // happened, for notifications: { duplicate, appeared, customerMessage,
  // gapAfter (a seq to request history after, or null) }.
  applyEvent(frame, { render = true } = {}) {
    const out = { duplicate: false, appeared: false, customerMessage: false, gapAfter: null, assignedToMe: false };
    const id = frame?.conv;
    if (id && frame.event === 'delivery') {
      // Not a log entry: no seq, never counted in resume.
      const mseq = Number(frame.message_seq);
      const changed = Number.isInteger(mseq) && mseq > 0 && typeof frame.status === 'string' &&
        this.timeline(id).applyDelivery(mseq, frame.status, frame.reason, frame.emailed_at, frame.retrying);
      if (changed && render) this.emit('event', { conv: id, delivery: mseq });
      return { ...out, duplicate: !changed };
    }
    const seq = Number(frame?.seq);
    if (!id || !Number.isInteger(seq) || seq < 1) return { ...out, duplicate: true };
    const wasOpen = this.conversations.has(id) && isOpen(this.conversations.get(id));
    const wasMine = this.isMine(this.conversations.get(id));
    const t = this.timeline(id);
    if (t.events.has(seq)) {
      out.duplicate = true;
    } else {
      const prevMax = t.maxSeq;
      t.events.set(seq, frame);
      if (t.loaded && seq > prevMax + 1 && t.contiguousSeq() < seq - 1) out.gapAfter = t.contiguousSeq();
      if (frame.event === 'message' && frame.message) {
        const m = frame.message;
        if (m.client_id && this.pending.delete(m.client_id)) this.persist();
        // Pasokh's copies of a message's files, or an unsend: the message logged again, nothing new to ring for.
        out.customerMessage = m.author === 'customer' && !frame.copies && !m.deleted_at;
        if (m.author === 'agent' && m.author_id && m.author_name) this.agentNames.set(m.author_id, m.author_name);
      }
    }
    if (frame.conversation && !this.conversations.has(id)) this.countHeld(stateBefore(frame, { ...frame.conversation, id }));
    if (frame.conversation) this.mergeConversation({ ...frame.conversation, id });
    // Moved out of my teams (a transfer) and not assigned to me: it leaves the list.
    if (this.conversations.has(id) && !this.maySee(this.conversations.get(id))) this.forget(id);
    const conv = this.conversations.get(id);
    if (conv && !isOpen(conv)) this.dropClosed();
    out.appeared = !wasOpen && !!conv && isOpen(conv);
    // Given to me by someone else (routing, a transfer): not by my own reply or pick.
    const actor = frame.actor ?? frame.message?.author_id;
    out.assignedToMe = !out.duplicate && !wasMine && this.isMine(conv) && actor !== this.agent?.id;
    if (id === this.selected && out.customerMessage && this.visible()) this.markRead(id);
    if (render) this.emit('event', { conv: id, seq, duplicate: out.duplicate });
    return out;
  }

  // A `history` frame: events after some seq; `hasMore` (the frame's
  // has_more) says more follow, else a full page does (older gateways).
  // `deliveries`: the stored status of each outbound message by seq (delivery
  // events carry no seq, so a reload learns them here).
  applyHistory(id, events, limit, deliveries = {}, hasMore = undefined) {
    const t = this.timeline(id);
    for (const ev of events) this.applyEvent(ev, { render: false });
    for (const [mseq, d] of Object.entries(deliveries ?? {})) {
      if (typeof d?.status === 'string') t.applyDelivery(Number(mseq), d.status, d.reason, d.emailed_at, d.retrying);
    }
    t.loading = false;
    const more = hasMore ?? events.length >= limit;
    if (!more && t.requestedAfter === 0) t.loaded = true;
    else if (!more && t.contiguousSeq() === t.maxSeq) t.loaded = true;
    this.emit('history', { conv: id });
    return more ? t.maxSeq : null;
  }

  // --- views ---------------------------------------------------------------

  // As routing counts them: the agent's own, snoozed ones included (they come back).
  isMine(c) {
    return !!c && !!this.agent && (c.status === 'assigned' || c.status === 'snoozed') && c.assignee === this.agent.id;
  }

  maySee(c) { return !this.agent || this.agent.role === 'admin' || this.myTeams().includes(c.team) || c.assignee === this.agent.id; }

  myTeams() { return this.agent?.teams ?? (this.agent?.team ? [this.agent.team] : []); }

  inView(c, view = this.view) {
    if (!isOpen(c)) return false;
    // As routing counts them (GET /api/v1/conversations): waiting in a queue,
    // not with the bot and not snoozed.
    if (view === 'mine') return this.isMine(c);
    if (view === 'unassigned') return c.status === 'queued';
    if (view === 'team') return this.myTeams().includes(c.team);
    return true;
  }

  // Per view, the open conversations held here.
  heldCounts() {
    const views = Object.fromEntries(VIEWS.map((v) => [v, 0]));
    for (const c of this.conversations.values()) for (const v of VIEWS) if (this.inView(c, v)) views[v]++;
    return views;
  }

  // The views' badges: what the console holds and, after a welcome with the
  // server's counts, the rest the server counted. The status filters count
  // what the console holds, and of the rest what the counts tell: all of the
  // view, and the queued ones where the view holds every queued one.
  counts() {
    const held = this.heldCounts();
    const views = Object.fromEntries(VIEWS.map((v) => [v, held[v] + (this.unheld?.[v] ?? 0)]));
    const statuses = Object.fromEntries(STATUS_FILTERS.map((s) => [s, 0]));
    for (const c of this.conversations.values()) {
      if (this.inView(c)) { statuses.any++; if (c.status in statuses) statuses[c.status]++; }
    }
    if (this.unheld) {
      statuses.any += this.unheld[this.view];
      if (this.view === 'all' || this.view === 'unassigned') statuses.queued += this.unheld.unassigned;
    }
    return { views, statuses };
  }

  // The list on screen: the current view and status; Unassigned in queue
  // order (the next to be assigned first), the others newest activity first.
  visibleConversations() {
    return [...this.conversations.values()]
      .filter((c) => this.inView(c) && (this.statusFilter === 'any' || c.status === this.statusFilter))
      .sort(this.view === 'unassigned' ? queueOrder : newestFirst);
  }

  setView(view) { if (VIEWS.includes(view)) { this.view = view; this.emit('filter'); } }
  setStatusFilter(s) { if (STATUS_FILTERS.includes(s)) { this.statusFilter = s; this.emit('filter'); } }

  isUnread(c) {
    const last = c.last_customer_message_at ?? 0;
    return last > 0 && last > (this.lastRead.get(c.id) ?? 0);
  }

  markRead(id) {
    const c = this.conversations.get(id);
    const at = c?.last_customer_message_at ?? 0;
    if (!c || !this.setRead(id, at)) return;
    this.persist();
    this.emit('read', { conv: id, at });
  }

  // Read marks from the server ({conv: at}: the welcome's, or another device
  // of this agent's); an older mark never replaces a newer one.
  applyReadMarks(marks) {
    let changed = false;
    for (const [id, at] of Object.entries(marks ?? {})) changed = this.setRead(id, Number(at) || 0) || changed;
    if (!changed) return;
    this.persist();
    this.emit('read', { remote: true });
  }

  // Marks made here that the server lacks (read while offline) for the
  // conversations on the list: [[conv, at], ...], to send after a welcome.
  marksAhead(server) {
    return [...this.lastRead].filter(([id, at]) => this.conversations.has(id) && at > (Number(server?.[id]) || 0));
  }

  setRead(id, at) {
    if ((this.lastRead.get(id) ?? 0) >= at) return false;
    this.lastRead.delete(id); // re-insert last: newest read marks are kept
    this.lastRead.set(id, at);
    return true;
  }

  select(id) {
    this.selected = id || null;
    if (id && this.visible()) this.markRead(id);
    this.emit('select', { conv: id });
  }

  // --- replies ---------------------------------------------------------------

  addPending(conv, clientId, text) {
    const p = { conv, client_id: clientId, text, created_at: Date.now(), state: 'queued' };
    this.pending.set(clientId, p);
    this.persist();
    this.emit('pending', { conv });
    return p;
  }

  // Replies to (re)send on a fresh connection: neither acked nor failed.
  unsent() {
    return [...this.pending.values()].filter((p) => p.state === 'queued' || p.state === 'sent');
  }

  markSent(clientId) {
    const p = this.pending.get(clientId);
    if (p && p.state === 'queued') { p.state = 'sent'; this.emit('pending', { conv: p.conv }); }
  }

  ack(clientId, seq, duplicate) {
    const p = this.pending.get(clientId);
    if (!p) return;
    // Stored. Keep the bubble until the stored message arrives, unless it is
    // already there or was stored before (a resend), when history shows it.
    if (duplicate || this.timeline(p.conv).events.has(seq) || this.timeline(p.conv).hasClientId(clientId)) {
      this.pending.delete(clientId);
    } else {
      p.state = 'acked';
      p.seq = seq;
    }
    this.persist();
    this.emit('pending', { conv: p.conv });
  }

  fail(clientId, error) {
    const p = this.pending.get(clientId);
    if (!p) return;
    p.state = 'failed';
    p.error = error;
    this.persist();
    this.emit('pending', { conv: p.conv });
  }

  retry(clientId) {
    const p = this.pending.get(clientId);
    if (!p) return null;
    p.state = 'queued';
    delete p.error;
    this.persist();
    this.emit('pending', { conv: p.conv });
    return p;
  }

  discard(clientId) {
    const p = this.pending.get(clientId);
    if (!p) return;
    this.pending.delete(clientId);
    this.persist();
    this.emit('pending', { conv: p.conv });
  }

  pendingFor(conv) {
    const t = this.timelines.get(conv);
    return [...this.pending.values()]
      .filter((p) => p.conv === conv && !(t && t.hasClientId(p.client_id)))
      .sort((a, b) => a.created_at - b.created_at);
  }

  // --- reconnect ---------------------------------------------------------------

  // `hello.resume`: for each conversation still of interest, the last seq
  // known. A fully loaded timeline resumes after its last contiguous event;
  // otherwise after the state we hold (its past is fetched when opened).
  resume() {
    const out = {};
    for (const c of this.conversations.values()) {
      if (!isOpen(c) && c.id !== this.selected) continue;
      const t = this.timelines.get(c.id);
      const seq = t?.loaded ? t.contiguousSeq() : Math.max(c.seq ?? 0, t?.maxSeq ?? 0);
      if (seq > 0) out[c.id] = seq;
    }
    return out;
  }

  reset() {
    this.agent = null;
    this.conversations.clear();
    this.closed.clear();
    this.timelines.clear();
    this.pending.clear();
    this.lastRead.clear();
    this.selected = null;
    this.welcomed = false;
    this.agentNames.clear();
    this.teamNames.clear();
    this.resolving.clear();
    this.related.clear();
    this.customers.clear();
    this.presence.clear();
    this.unheld = null;
    this.emit('reset');
  }
}
