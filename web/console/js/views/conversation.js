// One conversation: header with Resolve, the timeline (messages and status
// events, then replies still waiting for the server), and the reply box.
import { OPEN_STATUSES } from '../store/state.js';
import { assigneeLabel } from './inbox.js';
import { $, channelIcon, channelName, h, timeEl } from './dom.js';

const MARKS = {
  pending: ['◷', 'Pending'],
  sent: ['✓', 'Sent'],
  delivered: ['✓✓', 'Delivered'],
  read: ['✓✓', 'Read'],
  failed: ['!', 'Failed'],
};

function mark(status) {
  const [glyph, label] = MARKS[status] ?? ['', status];
  if (!glyph) return null;
  return h('span', { class: `mark mark-${status}`, role: 'img', 'aria-label': label, title: label }, glyph);
}

function authorLabel(state, conv, m) {
  switch (m.author) {
    case 'customer': return conv?.customer_name || 'Customer';
    case 'agent': return (m.author_name || m.author_id || 'Agent') + (m.author_id && m.author_id === state.agent?.id ? ' (you)' : '');
    case 'bot': return 'Bot';
    case 'system': return 'System';
    default: return m.author ?? '';
  }
}

function attachmentList(attachments) {
  if (!attachments?.length) return null;
  return h('ul', { class: 'attachments', 'aria-label': 'Attachments' }, attachments.map((a) => h('li', {},
    h('span', { class: 'attachment-kind' }, a.kind ?? 'file'), ' ',
    h('span', { dir: 'auto' }, a.name || a.caption || (a.latitude != null ? `${a.latitude}, ${a.longitude}` : '')))));
}

// Choices a bot or agent offered with the message (shown, not clickable here).
function buttonList(buttons) {
  if (!buttons?.length) return null;
  return h('ul', { class: 'choices', 'aria-label': 'Offered choices' },
    buttons.map((b) => h('li', {}, h('bdi', {}, b.title || b.id || ''))));
}

function messageItem(state, conv, m, seq) {
  const side = m.author === 'customer' ? 'msg-in' : m.author === 'system' ? 'msg-system' : 'msg-out';
  return h('li', { class: `msg ${side} author-${m.author}`, dataset: { seq: String(seq), clientId: m.client_id ?? null, status: m.status ?? '' } },
    h('div', { class: 'bubble' },
      m.text ? h('p', { class: 'msg-text', dir: 'auto' }, m.text) : null,
      attachmentList(m.attachments),
      buttonList(m.buttons),
      h('p', { class: 'msg-meta' },
        h('span', { class: 'author', dir: 'auto' }, authorLabel(state, conv, m)), ' ',
        timeEl(m.created_at), ' ',
        channelIcon(m.channel === conv?.channel ? conv?.kind : undefined, m.channel), ' ',
        m.direction === 'out' ? mark(m.status) : null,
        m.edited_at ? h('span', { class: 'edited' }, ' (edited)') : null),
      m.status === 'failed'
        ? h('p', { class: 'failure', dir: 'auto' }, `Not delivered${m.failure_reason ? `: ${m.failure_reason}` : '.'}`)
        : null));
}

function statusItem(state, frame) {
  const who = assigneeLabel(state, frame.actor);
  const text = `Status ${frame.from ? `${frame.from} → ` : ''}${frame.status ?? frame.conversation?.status ?? ''}${who ? ` by ${who}` : ''}`;
  return h('li', { class: 'event', dataset: { seq: String(frame.seq), event: frame.event } },
    h('span', {}, text), ' ', timeEl(frame.at ?? frame.conversation?.updated_at));
}

function pendingItem(p, { onRetry, onDiscard, online }) {
  const failed = p.state === 'failed';
  const label = failed ? 'Failed' : p.state === 'queued' && !online ? 'Waiting for connection' : 'Sending';
  return h('li', { class: `msg msg-out pending${failed ? ' failed' : ''}`, dataset: { clientId: p.client_id, pending: p.state } },
    h('div', { class: 'bubble' },
      h('p', { class: 'msg-text', dir: 'auto' }, p.text),
      h('p', { class: 'msg-meta' }, h('span', { class: 'author' }, 'You'), ' ', timeEl(p.created_at), ' ',
        h('span', { class: `mark mark-${failed ? 'failed' : 'pending'}`, role: 'img', 'aria-label': label, title: label },
          failed ? '!' : '◷'),
        failed ? null : h('span', { class: 'pending-note' }, `${label}…`)),
      failed ? h('p', { class: 'failure' }, `Not sent: ${p.error ?? 'unknown error'} `,
        h('button', { type: 'button', class: 'link', onclick: () => onRetry(p.client_id) }, 'Retry'), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => onDiscard(p.client_id) }, 'Discard')) : null));
}

export function mountConversation(state, handlers) {
  const empty = $('#conv-empty');
  const pane = $('#conv-pane');
  const title = $('#conv-title');
  const meta = $('#conv-meta');
  const resolveBtn = $('#resolve-btn');
  const log = $('#messages');
  const status = $('#conv-loading');
  const form = $('#reply-form');
  const input = $('#reply-text');
  const closedNote = $('#reply-closed');
  const sendBtn = form.querySelector('button[type="submit"]');

  let shown = null;            // conversation id on screen
  const rendered = new Map();  // key -> { sig, el }

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!shown || !text.trim()) return;
    handlers.onSend(shown, text);
    input.value = '';
    input.focus();
  });
  resolveBtn.addEventListener('click', () => { if (shown) handlers.onResolve(shown); });

  function renderHeader(conv) {
    title.replaceChildren(h('bdi', {}, conv?.customer_name || conv?.customer_id || shown));
    meta.replaceChildren(
      conv ? channelIcon(conv.kind, conv.channel) : '', ' ',
      conv ? `${channelName(conv.kind)} · ` : '',
      h('span', { class: `status status-${conv?.status ?? 'unknown'}` }, conv?.status ?? 'unknown'),
      conv?.assignee ? ` · assigned to ${assigneeLabel(state, conv.assignee)}` : '',
      ` · ${shown}`);
    const open = !!conv && OPEN_STATUSES.has(conv.status);
    resolveBtn.hidden = !open;
    input.disabled = !open;
    sendBtn.disabled = !open;
    closedNote.hidden = open || !conv;
    closedNote.textContent = conv ? `This conversation is ${conv.status}.` : '';
  }

  function renderTimeline(switched) {
    const conv = state.conversations.get(shown);
    const t = state.timelines.get(shown);
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const items = [];
    for (const it of t ? t.messages() : []) {
      if (it.kind === 'message') {
        const m = it.message;
        const sig = JSON.stringify([m.text, m.status, m.failure_reason, m.edited_at, authorLabel(state, conv, m), conv?.kind,
          m.attachments, m.buttons]);
        items.push({ key: `s${it.seq}`, sig, build: () => messageItem(state, conv, m, it.seq) });
      } else if (it.kind === 'status') {
        items.push({ key: `s${it.seq}`, sig: 'status', build: () => statusItem(state, it.frame) });
      }
    }
    for (const p of state.pendingFor(shown)) {
      items.push({ key: `p${p.client_id}`, sig: `${p.state}|${p.error}|${handlers.online()}`,
        build: () => pendingItem(p, { ...handlers, online: handlers.online() }) });
    }
    const keep = new Set(items.map((i) => i.key));
    for (const [key, r] of rendered) if (!keep.has(key)) { r.el.remove(); rendered.delete(key); }
    items.forEach((item, i) => {
      let r = rendered.get(item.key);
      if (!r || r.sig !== item.sig) {
        const el = item.build();
        if (r) r.el.replaceWith(el);
        r = { sig: item.sig, el };
        rendered.set(item.key, r);
      }
      if (log.children[i] !== r.el) log.insertBefore(r.el, log.children[i] ?? null);
    });
    const loading = !!t?.loading && !t.loaded;
    log.setAttribute('aria-busy', String(loading));
    status.hidden = !(loading || (t?.loaded && items.length === 0) || !t);
    status.textContent = loading || !t ? 'Loading history…' : 'No messages yet.';
    if (switched || atBottom) log.scrollTop = log.scrollHeight;
  }

  function render() {
    const id = state.selected;
    const switched = id !== shown;
    if (switched) {
      shown = id;
      log.replaceChildren();
      rendered.clear();
      input.value = '';
    }
    empty.hidden = !!id;
    pane.hidden = !id;
    if (!id) return;
    renderHeader(state.conversations.get(id));
    renderTimeline(switched);
  }

  return { render, focusReply: () => input.focus(), get shown() { return shown; } };
}
