// One conversation: header (labels and actions), the timeline (the customer's
// earlier conversations, then this one's messages, notes and events, then
// replies still waiting for the server), and the reply box.
import { OPEN_STATUSES, labelList } from '../store/state.js';
import { named, t } from '../i18n.js';
import { mountComposer } from './composer.js';
import { assigneeLabel, teamLabel } from './inbox.js';
import { $, channelIcon, channelNameBesideIcon, formatDateTime, h, ltrNumbers, setAttr, setText, textDir, timeEl } from './dom.js';

const MARKS = { pending: '◷', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' };

// When a message, note or event happened: the time on earlier days too.
const momentEl = (ms) => timeEl(ms, { withTime: true });

function mark(status) {
  const glyph = MARKS[status];
  if (!glyph) return null;
  const label = t(`mark.${status}`);
  return h('span', { class: `mark mark-${status}`, role: 'img', 'aria-label': label, title: label }, glyph);
}

function authorLabel(state, conv, m) {
  switch (m.author) {
    // Someone else in the customer's mail thread (a colleague in Cc) is named as they wrote.
    case 'customer':
      if (m.author_name) return m.author_address && m.author_address !== m.author_name ? `${m.author_name} <${m.author_address}>` : m.author_name;
      return conv?.customer_name || t('customer');
    case 'agent': return (m.author_name || m.author_id || t('agent')) + (m.author_id && m.author_id === state.agent?.id ? t('youMark') : '');
    case 'bot': return t('bot');
    case 'system': return t('system');
    default: return m.author ?? '';
  }
}

// Where an attachment is: a stored copy (a mail's, a web chat upload, a
// Messenger or Instagram file once the gateway copied it), or a Telegram or
// WhatsApp file through the gateway (both behind the session's token); a
// Messenger or Instagram file not copied (yet) has Meta's https URL, which
// expires. Null: nothing to open (a location).
// A gateway file names the message it came in (conversation `conv`, `seq`):
// the gateway lets those who may see that conversation have it.
export function attachmentUrl(a, channel, conv, seq) {
  const ref = a.provider_ref ?? '';
  if (!ref || a.kind === 'location' || a.kind === 'contact') return null;
  if (/^https:\/\//i.test(ref)) return ref;
  if (ref.startsWith('att_')) return `/api/v1/attachments/${encodeURIComponent(ref)}`;
  if (!channel) return null;
  const where = conv && seq ? `?conversation=${encodeURIComponent(conv)}&seq=${seq}` : '';
  return `/api/v1/media/${encodeURIComponent(channel)}/${encodeURIComponent(ref)}${where}`;
}

const SHOWN_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

// An image shows in the bubble; anything else is saved, never opened here: a
// blob URL would run an HTML attachment with the console's rights.
async function fetchAttachment(a, url, fetchFile, li) {
  try {
    const blob = await fetchFile(url);
    if (SHOWN_TYPES.has(blob.type)) {
      li.append(h('img', { class: 'attachment-image', src: URL.createObjectURL(blob), alt: a.name || a.kind || 'image' }));
      return;
    }
    const link = h('a', { href: URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' })), download: a.name || 'attachment' });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch (e) {
    const error = e.code === 'file_too_big' ? t('msg.fileTooBig') : e.message;
    li.append(h('span', { class: 'failure' }, t('msg.openFailed', { error })));
  }
}

// What the customer sent that Pasokh cannot show (a poll, a dice, an order):
// its type, in the agent's language when the console knows it, and what the
// provider said of it (a poll's question).
function unsupportedItem(a) {
  return h('li', { class: 'unsupported' }, h('span', { class: 'attachment-kind' }, t('att.unsupported')), ' ',
    h('bdi', {}, named('ut.', a.name || 'unknown')), a.caption ? ': ' : '', a.caption ? h('span', { dir: 'auto' }, a.caption) : null);
}

// The gateway's note that the first parts of a split reply reached the
// customer before one failed (gateway/src/messenger_outbound.cpp parts_note),
// in the agent's language: sent again, those parts would come twice.
const PARTS_NOTE = /part (\d+) of (\d+) failed, parts? 1(?:–\d+)? (?:was|were) delivered: /;
// `failure`: the delivery record's code for a reason of our own (a reply
// queued when the last gateway sending on its channel went, routing
// channel_servers.cpp), translated by code rather than read from the text.
export function reasonText(reason, failure) {
  if (failure?.code === 'channel_unserved') return t('msg.channelUnserved', { channel: failure.channel });
  if (!reason) return reason;
  return reason.replace(PARTS_NOTE, (m, failed, of) =>
    `${t('msg.partsDelivered', { failed: Number(failed), of: Number(of), first: 1, n: Number(failed) - 1 })}: `);
}

function attachmentList(attachments, channel, conv, seq, fetchFile) {
  if (!attachments?.length) return null;
  return h('ul', { class: 'attachments', 'aria-label': t('msg.attachments') }, attachments.map((a) => {
    if (a.kind === 'unsupported') return unsupportedItem(a);
    const url = attachmentUrl(a, channel, conv, seq);
    const name = a.name || a.caption || (a.latitude != null ? `${a.latitude}, ${a.longitude}` : '');
    const li = h('li', {}, h('span', { class: 'attachment-kind' }, named('att.', a.kind ?? 'file')), ' ', h('span', { dir: 'auto' }, name), ' ');
    if (url?.startsWith('https:')) li.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, t('msg.open')));
    else if (url) li.append(h('button', { type: 'button', class: 'link', onclick: (e) => { e.currentTarget.disabled = true; fetchAttachment(a, url, fetchFile, li); } }, t('msg.open')));
    return li;
  }));
}

// Choices a bot or agent offered with the message (shown, not clickable here).
function buttonList(buttons) {
  if (!buttons?.length) return null;
  return h('ul', { class: 'choices', 'aria-label': t('msg.choices') },
    buttons.map((b) => h('li', {}, h('bdi', {}, b.title || b.id || ''))));
}

// A mail as written, quoted history included (sent only when it differs).
function originalText(m) {
  return m.original_text ? h('details', { class: 'msg-original' }, h('summary', {}, t('msg.quoted')),
    h('p', { class: 'msg-text', dir: textDir(m.original_text) }, m.original_text)) : null;
}

// A text removed from the log (routing/src/lua/erase.lua): why.
function erasedText(what) {
  if (!what) return null;
  return h('p', { class: 'msg-erased muted' },
    t(what === 'retention' ? 'msg.erasedRetention' : 'msg.erasedCustomer'));
}

// The customer took the message back (Instagram's unsend): its text and
// files are gone from the server (routing/src/lua/unsend_message.lua).
const unsentText = () => h('p', { class: 'msg-erased msg-unsent muted' }, t('msg.unsent'));

// An agent's reply the provider refused for good (or gave up on after a long
// outage): its text can go again as a new reply, once the agent chooses to
// (after the customer wrote again inside WhatsApp's window, say).
function failureNote(m, convId, onSend) {
  if (m.status !== 'failed') return null;
  const again = m.author === 'agent' && m.text
    ? h('button', { type: 'button', class: 'link', onclick: (e) => { e.currentTarget.disabled = true; onSend(convId, m.text); } }, t('msg.sendAgain'))
    : null;
  return h('p', { class: 'failure', dir: 'auto' }, `${t('msg.notDelivered')}${m.failure_reason ? `: ${reasonText(m.failure_reason, m.failure)}` : '.'} `, again);
}

// A reply still pending because its sends fail for a passing reason (the
// provider down, the mail relay unreachable): why, and when it goes again,
// so the agent can tell it from one simply on its way.
function retryingNote(m) {
  const r = m.status === 'pending' ? m.retrying : null;
  if (!r) return null;
  return h('p', { class: 'retrying', dir: 'auto' },
    `${t('msg.notDeliveredYet')}${r.reason ? `: ${reasonText(r.reason)}` : ''} · ${t('msg.retry', { n: r.attempt })}`, timeEl(r.next_at, { withTime: true }));
}

// `convId`, `seq`: where the message is logged (`conv`, its view, may not be held yet).
function messageItem(state, convId, conv, m, seq, { fetchFile, onSend }) {
  const side = m.author === 'customer' ? 'msg-in' : m.author === 'system' ? 'msg-system' : 'msg-out';
  return h('li', { class: `msg ${side} author-${m.author}`, dataset: { seq: String(seq), clientId: m.client_id ?? null, status: m.status ?? '' } },
    h('div', { class: 'bubble' },
      m.sender_unverified ? h('p', { class: 'sender-unverified', role: 'note' }, t('msg.senderUnverified')) : null,
      // Unsent: the console may still hold the first version, live, until a reload.
      m.deleted_at ? unsentText() : [
        m.text ? h('p', { class: 'msg-text', dir: textDir(m.text) }, ltrNumbers(m.text)) : null,
        erasedText(m.erased),
        originalText(m),
        attachmentList(m.attachments, m.channel ?? conv?.channel, convId, seq, fetchFile),
        buttonList(m.buttons)],
      h('p', { class: 'msg-meta' },
        h('span', { class: 'author', dir: 'auto' }, authorLabel(state, conv, m)), ' ',
        momentEl(m.created_at), ' ',
        channelIcon(m.channel === conv?.channel ? conv?.kind : undefined, m.channel), ' ',
        m.direction === 'out' ? mark(m.status) : null,
        m.emailed_at ? h('span', { class: 'emailed', title: t('msg.emailedTitle', { at: formatDateTime(m.emailed_at) }) }, t('msg.emailed')) : null,
        m.edited_at && !m.deleted_at ? h('span', { class: 'edited' }, t('msg.edited')) : null,
        m.reaction ? h('span', { class: 'reaction', title: t('msg.reaction'), 'aria-label': `${t('msg.reaction')} ${m.reaction}` }, m.reaction) : null),
      retryingNote(m),
      failureNote(m, convId, onSend)));
}


// One line for a log event that is not a message: status changes (with the
// routing reason and a transfer/snooze note), priority, labels, routing, SLA.
export function eventText(state, f) {
  const who = assigneeLabel(state, f.actor);
  const by = who && f.actor !== 'system' ? t('ev.by', { who }) : '';
  switch (f.event) {
    case 'status': {
      const parts = [`${t('ev.status')} ${f.from ? `${named('st.', f.from)} ${t('arrow')} ` : ''}${named('st.', f.status ?? f.conversation?.status ?? '') || ''}${by}`];
      const why = t(`re.${f.reason}`); // the key itself: a reason the console does not name
      if (f.reason && why !== `re.${f.reason}`) parts.push(`(${why})`);
      if (f.team && f.from_team && f.team !== f.from_team) parts.push(t('ev.toTeam', { team: teamLabel(state, f.team) }));
      if (f.assignee || (f.status === 'assigned' && f.conversation?.assignee))
        parts.push(`${t('arrow')} ${assigneeLabel(state, f.assignee || f.conversation.assignee)}`);
      if (f.until) parts.push(t('ev.until', { at: formatDateTime(f.until) }));
      return parts.join(' ');
    }
    case 'priority': return `${t('ev.priority')} ${named('pr.', f.from) ?? ''} ${t('arrow')} ${named('pr.', f.priority)}${by}`;
    case 'labels': { // each label isolated: a Persian one would reorder the line around it
      const list = (labels, sign) => labels.flatMap((l, i) => [i ? `, ${sign}` : ` ${sign}`, h('bdi', {}, l)]);
      return [t('ev.labels'), list(labelList(f.added), '+'), list(labelList(f.removed), '−'), by];
    }
    // The survey after resolve (routing/src/lua/aftersales.lua); the comment is shown below the line.
    case 'csat': return t('ev.csat', { rating: f.rating }) + (f.agent ? t('ev.csatWith', { who: assigneeLabel(state, f.agent) }) : '');
    // A complaint about the service is flagged (bot/csat_comment.hpp): the report counts it too.
    case 'csat_comment': return t(f.kind === 'complaint' ? 'ev.csatComplaint' : 'ev.csatComment');
    case 'routed': return t('ev.routed', { team: teamLabel(state, f.team) }) + (f.vip ? ' (VIP)' : '');
    // A reaction to a message not loaded here (on one that is, it shows on the message).
    case 'reaction': return f.reaction?.emoji ? t('ev.reaction', { emoji: f.reaction.emoji })
      : t('ev.reactionGone', { emoji: f.reaction?.previous ?? '' });
    // End chat in the widget (webchat_end.lua): the chat can no longer reach them;
    // a reply goes by email only to an address they proved (by_email).
    case 'visitor_left': return `${t('ev.visitorLeft')} ${t(f.by_email ? 'ev.visitorLeftEmail' : 'ev.visitorLeftNoEmail')}`;
    case 'sla': return `${t('ev.sla')} ${f.sla === 'first' ? t('ev.slaFirst') : f.sla ?? ''} ${f.state === 'breach' ? t('ev.slaBreach') : f.state ?? ''}`;
    default: return f.event;
  }
}

function statusItem(state, frame) {
  return h('li', { class: `event event-${frame.event}`, dataset: { seq: String(frame.seq), event: frame.event } },
    h('span', { dir: 'auto' }, eventText(state, frame)), ' ', momentEl(frame.at ?? frame.conversation?.updated_at),
    frame.note || frame.comment ? h('span', { class: 'event-note', dir: 'auto' }, frame.note || frame.comment) : null);
}

// A private note: agents only, never sent to the customer; looks unlike a message.
function noteItem(state, frame) {
  const n = frame.note ?? {};
  const mine = n.author_id && n.author_id === state.agent?.id;
  return h('li', { class: 'msg msg-note', dataset: { seq: String(frame.seq), event: 'note', clientId: n.client_id ?? null } },
    h('div', { class: 'bubble' },
      h('p', { class: 'note-label' }, t('msg.note')),
      n.erased ? erasedText(n.erased) : h('p', { class: 'msg-text', dir: textDir(n.text ?? '') }, ltrNumbers(n.text ?? '')),
      h('p', { class: 'msg-meta' }, h('span', { class: 'author', dir: 'auto' }, `${n.author_name || n.author_id || t('agent')}${mine ? t('youMark') : ''}`),
        ' ', momentEl(n.created_at))));
}

// "Telegram · " after the channel's badge; nothing when the badge says it all.
function nameAfterBadge(c) {
  const name = channelNameBesideIcon(c.kind, c.channel);
  return name ? `${name} · ` : '';
}

// A divider before each conversation of the customer's history.
function dividerItem(c, current) {
  return h('li', { class: `conv-divider${current ? ' current' : ''}`, dataset: { conv: c.id } },
    channelIcon(c.kind, c.channel), ' ',
    h('span', {}, `${t(current ? 'conv.this' : 'conv.earlier')} · ${nameAfterBadge(c)}${named('st.', c.status)} · `),
    timeEl(c.created_at), ' ', h('span', { class: 'muted' }, c.id));
}

function pendingItem(p, { onRetry, onDiscard, online }) {
  const failed = p.state === 'failed';
  const label = t(failed ? 'mark.failed' : p.state === 'queued' && !online ? 'msg.waiting' : 'msg.sending');
  return h('li', { class: `msg msg-out pending${failed ? ' failed' : ''}`, dataset: { clientId: p.client_id, pending: p.state } },
    h('div', { class: 'bubble' },
      h('p', { class: 'msg-text', dir: textDir(p.text) }, ltrNumbers(p.text)),
      h('p', { class: 'msg-meta' }, h('span', { class: 'author' }, t('You')), ' ', timeEl(p.created_at), ' ',
        h('span', { class: `mark mark-${failed ? 'failed' : 'pending'}`, role: 'img', 'aria-label': label, title: label },
          failed ? '!' : '◷'),
        failed ? null : h('span', { class: 'pending-note' }, `${label}…`)),
      failed ? h('p', { class: 'failure' }, t('msg.notSent', { error: p.error ?? t('msg.unknownError') }),
        h('button', { type: 'button', class: 'link', onclick: () => onRetry(p.client_id) }, t('msg.retryBtn')), ' ',
        h('button', { type: 'button', class: 'link', onclick: () => onDiscard(p.client_id) }, t('msg.discard'))) : null));
}

export function mountConversation(state, handlers) {
  const empty = $('#conv-empty');
  const pane = $('#conv-pane');
  const title = $('#conv-title');
  const meta = $('#conv-meta');
  const log = $('#messages');
  const status = $('#conv-loading');
  const closedNote = $('#reply-closed');
  const typingLine = $('#typing-line');
  const viewers = $('#viewers');
  const labels = $('#conv-labels');
  const labelForm = $('#label-form');
  const labelInput = $('#label-input');
  const buttons = Object.fromEntries(['take', 'transfer', 'snooze', 'escalate', 'resolve', 'reopen']
    .map((b) => [b, $(`#${b}-btn`)]));
  const composer = mountComposer(handlers);

  let shown = null;            // conversation id on screen
  const rendered = new Map();  // key -> { sig, el }
  let headerFrom = [];         // what the header was drawn from

  for (const [name, btn] of Object.entries(buttons)) btn.addEventListener('click', () => { if (shown) handlers.onAction(name, shown); });
  labelForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const label = labelInput.value.trim();
    if (!shown || !label) return;
    handlers.onLabels(shown, [label], []);
    labelInput.value = '';
  });

  // Every render of the console comes here (a message in any conversation):
  // the header is drawn again only when what it shows changed (a state
  // object is replaced, never changed, when its conversation changes).
  function renderHeader(conv) {
    const from = [shown, conv, handlers.online(), handlers.busy(shown), assigneeLabel(state, conv?.assignee), teamLabel(state, conv?.team)];
    if (from.every((v, i) => v === headerFrom[i])) return;
    headerFrom = from;
    title.replaceChildren(h('bdi', {}, conv?.customer_name || conv?.customer_id || shown));
    meta.replaceChildren(
      conv ? channelIcon(conv.kind, conv.channel) : '', ' ',
      conv ? nameAfterBadge(conv) : '',
      h('span', { class: `status status-${conv?.status ?? 'unknown'}` }, named('st.', conv?.status ?? 'unknown')),
      conv?.priority && conv.priority !== 'normal' ? h('span', { class: `priority priority-${conv.priority}` }, named('pr.', conv.priority)) : '',
      conv?.vip ? h('span', { class: 'vip' }, 'VIP') : '',
      conv?.sla_breached ? h('span', { class: 'sla-breached' }, t('conv.slaMissed')) : '',
      conv?.replies_elsewhere ? h('span', { class: 'replies-elsewhere', title: t('conv.repliesElsewhereTitle') },
        t('conv.repliesElsewhere'), ' ', h('bdi', { dir: 'ltr' }, conv.replies_elsewhere)) : '',
      conv && !conv.first_response_at && conv.sla_first_due && OPEN_STATUSES.has(conv.status)
        ? h('span', { class: 'sla-due' }, t('conv.firstDue'), timeEl(conv.sla_first_due)) : '',
      conv?.assignee ? t('conv.assignedTo', { who: assigneeLabel(state, conv.assignee) }) : '',
      conv?.team ? t('conv.team', { team: teamLabel(state, conv.team) }) : '',
      ` · ${shown}`);
    const open = !!conv && OPEN_STATUSES.has(conv.status);
    const mine = state.isMine(conv);
    buttons.take.hidden = !open || mine;
    buttons.transfer.hidden = !open;
    buttons.snooze.hidden = !open || conv.status === 'snoozed';
    buttons.escalate.hidden = !open || conv.priority === 'urgent';
    buttons.resolve.hidden = !open;
    buttons.reopen.hidden = !conv || !(conv.status === 'resolved' || conv.status === 'snoozed');
    for (const b of Object.values(buttons)) b.disabled = !handlers.online() || handlers.busy(shown);
    composer.setOpen(open);
    closedNote.hidden = open || !conv;
    closedNote.textContent = conv ? t('conv.closedNote', { status: named('st.', conv.status) }) : '';
    const list = labelList(conv?.labels);
    labels.replaceChildren(...list.map((l) => h('li', { class: 'label' }, h('bdi', {}, l),
      h('button', { type: 'button', class: 'label-remove', 'aria-label': t('conv.removeLabel', { label: l }), title: t('conv.remove'),
        onclick: () => handlers.onLabels(shown, [], [l]) }, '×'))));
    labelInput.disabled = !conv;
  }

  function timelineItems(id, conv) {
    const tl = state.timelines.get(id);
    const items = [];
    for (const it of tl ? tl.messages() : []) {
      const key = `${id}:${it.seq}`;
      if (it.kind === 'message') {
        const m = it.message;
        const sig = JSON.stringify([m.text, m.status, m.failure_reason, m.retrying, m.edited_at, m.deleted_at, m.emailed_at, m.reaction, authorLabel(state, conv, m),
          conv?.kind, m.attachments, m.buttons]);
        items.push({ key, sig, build: () => messageItem(state, id, conv, m, it.seq, handlers) });
      } else if (it.kind === 'note') {
        items.push({ key, sig: 'note', build: () => noteItem(state, it.frame) });
      } else if (it.kind !== 'delivery') {
        items.push({ key, sig: `event${state.namesLoaded}`, build: () => statusItem(state, it.frame) });
      }
    }
    return items;
  }

  // The customer's other conversations (oldest first), from their file.
  function earlier(conv) {
    const file = state.customers.get(conv?.customer_id);
    if (!file) return [];
    return file.conversations.filter((c) => c.id !== shown).sort((a, b) => (a.created_at ?? 0) - (b.created_at ?? 0));
  }

  function renderTimeline(switched) {
    const conv = state.conversations.get(shown);
    const tl = state.timelines.get(shown);
    const items = [];
    const past = earlier(conv);
    for (const c of past) {
      const pc = state.conversations.get(c.id) ?? c;
      items.push({ key: `d${c.id}`, sig: `${pc.status}`, build: () => dividerItem(pc, false) });
      items.push(...timelineItems(c.id, pc));
    }
    if (past.length && conv) items.push({ key: `d${shown}`, sig: conv.status, build: () => dividerItem(conv, true) });
    const own = timelineItems(shown, conv);
    items.push(...own);
    for (const p of state.pendingFor(shown)) {
      items.push({ key: `p${p.client_id}`, sig: `${p.state}|${p.error}|${handlers.online()}`,
        build: () => pendingItem(p, { ...handlers, online: handlers.online() }) });
    }
    // Nothing new in the log: no writes there, and no reading of its scroll
    // position (which lays the page out at once).
    const same = !switched && items.length === rendered.size && items.every((i) => rendered.get(i.key)?.sig === i.sig);
    const atBottom = !same && log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    const loading = !!tl?.loading && !tl.loaded;
    setAttr(log, 'aria-busy', String(loading));
    status.hidden = !(loading || (tl?.loaded && own.length === 0) || !tl);
    setText(status, t(loading || !tl ? 'conv.loadingHistory' : 'conv.noMessages'));
    if (same) return;
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
    if (switched || atBottom) log.scrollTop = log.scrollHeight;
  }

  function render() {
    const id = state.selected;
    const switched = id !== shown;
    if (switched) {
      shown = id;
      log.replaceChildren();
      rendered.clear();
      composer.switchTo(id);
    }
    empty.hidden = !!id;
    pane.hidden = !id;
    if (!id) return;
    renderHeader(state.conversations.get(id));
    renderTimeline(switched);
    renderTyping();
  }

  // The customer typing, or another agent replying too (a warning: two
  // answers may cross); and who else has the conversation open.
  function renderTyping() {
    const line = handlers.typing?.(shown) ?? null;
    typingLine.hidden = !line;
    typingLine.textContent = line?.text ?? '';
    typingLine.classList.toggle('warn', !!line?.warn);
    const others = handlers.viewers?.(shown) ?? null;
    viewers.hidden = !others;
    viewers.textContent = others ?? '';
  }

  return { render, renderTyping, focusReply: () => composer.focus(), useDrafts: composer.useDrafts, clearDrafts: composer.clearDrafts,
    get shown() { return shown; } };
}
