// The inbox: views (mine / unassigned / all) and status filters with live
// counts, and the list of conversations, newest activity first (Unassigned:
// in queue order).
import { $, channelIcon, clear, h, setAttr, setText, timeEl } from './dom.js';
import { named, num, t } from '../i18n.js';
import { STATUS_FILTERS, VIEWS, labelList, lastMessageOf, previewText } from '../store/state.js';


export function assigneeLabel(state, id) {
  if (!id) return '';
  if (id === state.agent?.id) return t('you');
  return state.agentNames?.get(id) ?? id;
}

// An agent the directory lists as removed, marked: "Layla (removed)".
export const removedName = (a) => t('agent.removed', { name: a.name || a.id });

// A team by its name, or its id while the names are not in.
export const teamLabel = (state, id) => (id ? state.teamNames?.get(id) ?? id : '');

export function mountInbox(state, { onSelect, onLoadOlder }) {
  const views = $('#inbox-views');
  const statuses = $('#inbox-statuses');
  const list = $('#conv-list');
  const empty = $('#conv-list-empty');
  // The server sends the newest open conversations; say so when there are
  // more, and fetch the next ones on request.
  const moreText = h('span', {});
  const moreButton = h('button', { type: 'button', class: 'link', onclick: async () => {
    moreButton.disabled = true;
    try { await onLoadOlder(); } catch (e) { moreText.textContent = t('inbox.moreFailed', { error: e.message }); }
    moreButton.disabled = false;
  } }, t('inbox.loadOlder'));
  const more = h('p', { id: 'conv-list-more', class: 'muted', hidden: true }, moreText, ' ', moreButton);
  empty.after(more);

  const filterButton = (group, value, label, onClick) => h('button', {
    type: 'button', class: 'filter', dataset: { [group]: value }, 'aria-pressed': 'false', onclick: onClick,
  }, h('span', { class: 'filter-label' }, label), ' ', h('span', { class: 'count' }, num(0)),
    h('span', { class: 'visually-hidden' }, t('inbox.conversations')));

  for (const v of VIEWS) views.append(filterButton('view', v, t(`view.${v}`), () => state.setView(v)));
  for (const s of STATUS_FILTERS) statuses.append(filterButton('status', s, t(s === 'any' ? 'st.any' : `stf.${s}`), () => state.setStatusFilter(s)));

  const rendered = new Map(); // conv id -> { sig, li }

  // One stop in the Tab order for the whole list (a roving tabindex): the
  // conversation last focused, else the one open, else the first; Up/Down
  // (Home/End) move between conversations, Enter opens one.
  let rover = null;
  const items = () => [...list.querySelectorAll('.conv-item')];
  function rove() {
    const all = items();
    const current = all.find((b) => b.dataset.conv === rover) ?? all.find((b) => b.dataset.conv === state.selected) ?? all[0];
    for (const b of all) setAttr(b, 'tabindex', b === current ? '0' : '-1');
  }
  const STEPS = { ArrowDown: 1, ArrowUp: -1 };
  list.addEventListener('keydown', (e) => {
    const all = items();
    const at = all.indexOf(e.target.closest?.('.conv-item'));
    if (at < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? all.length - 1
      : e.key in STEPS ? Math.min(all.length - 1, Math.max(0, at + STEPS[e.key])) : -1;
    if (to < 0) return;
    e.preventDefault();
    all[to].focus();  // focusin moves the tab stop
  });
  list.addEventListener('focusin', (e) => {
    const b = e.target.closest?.('.conv-item');
    if (b && b.dataset.conv !== rover) { rover = b.dataset.conv; rove(); }
  });

  function item(c) {
    const last = lastMessageOf(c, state.timelines.get(c.id));
    const unread = state.isUnread(c);
    const name = c.customer_name || c.customer_id || t('customer');
    const assignee = assigneeLabel(state, c.assignee);
    const labels = labelList(c.labels);
    const preview = last ? (last.deleted_at ? t('msg.unsent') : previewText(last)) : null;
    const sig = JSON.stringify([name, c.kind, c.channel, c.status, assignee, c.updated_at, preview, last?.author, unread,
      c.id === state.selected, labels, c.priority, c.vip, c.sla_breached]);
    return { sig, build: () => h('li', { class: unread ? 'conv unread' : 'conv' },
      h('button', {
        type: 'button', class: 'conv-item', dataset: { conv: c.id, status: c.status },
        'aria-current': c.id === state.selected ? 'true' : null,
        onclick: () => onSelect(c.id),
      },
      h('span', { class: 'conv-top' },
        channelIcon(c.kind, c.channel),
        h('span', { class: 'conv-name' }, h('bdi', {}, name)),
        unread ? h('span', { class: 'unread-dot' }, h('span', { class: 'visually-hidden' }, t('inbox.unread'))) : null,
        timeEl(c.updated_at)),
      h('span', { class: 'conv-bottom' },
        h('span', { class: `status status-${c.status}` }, named('st.', c.status)),
        c.priority === 'high' || c.priority === 'urgent' ? h('span', { class: `priority priority-${c.priority}` }, named('pr.', c.priority)) : null,
        c.vip ? h('span', { class: 'vip' }, 'VIP') : null,
        c.sla_breached ? h('span', { class: 'sla-breached', title: t('inbox.slaMissed') }, 'SLA') : null,
        labels.slice(0, 3).map((l) => h('span', { class: 'label small' }, h('bdi', {}, l))),
        assignee ? h('span', { class: 'assignee' }, `${t('arrow')} ${assignee}`) : null,
        // dir="auto" on the clipped box itself: a Persian preview starts at the
        // right and is cut at its end, with the ellipsis on the left.
        last ? h('span', { class: 'preview', dir: 'auto' }, preview) : null))) };
  }

  function render() {
    const { views: vc, statuses: sc } = state.counts();
    for (const b of views.querySelectorAll('button')) {
      setAttr(b, 'aria-pressed', String(b.dataset.view === state.view));
      setText(b.querySelector('.count'), num(vc[b.dataset.view]));
    }
    for (const b of statuses.querySelectorAll('button')) {
      setAttr(b, 'aria-pressed', String(b.dataset.status === state.statusFilter));
      setText(b.querySelector('.count'), num(sc[b.dataset.status]));
    }

    const focused = document.activeElement?.closest?.('#conv-list .conv-item')?.dataset.conv;
    const convs = state.visibleConversations();
    const keep = new Set(convs.map((c) => c.id));
    for (const [id, r] of rendered) if (!keep.has(id)) { r.li.remove(); rendered.delete(id); }
    convs.forEach((c, i) => {
      const { sig, build } = item(c);
      let r = rendered.get(c.id);
      if (!r || r.sig !== sig) {
        const li = build();
        if (r) r.li.replaceWith(li);
        r = { sig, li };
        rendered.set(c.id, r);
      }
      if (list.children[i] !== r.li) list.insertBefore(r.li, list.children[i] ?? null);
    });
    rove();
    if (focused && document.activeElement === document.body) list.querySelector(`[data-conv="${CSS.escape(focused)}"]`)?.focus();
    empty.hidden = convs.length > 0;
    const loaded = state.openIds().length;
    // The server's count kept up to date by events; older gateways: the welcome's total.
    const total = state.unheld ? vc.all : state.openTotal;
    more.hidden = !(total > loaded);
    if (!more.hidden) setText(moreText, t('inbox.more', { loaded, total }));
    setText(empty, state.welcomed ? t('inbox.empty') : t('loading'));
  }

  function reset() {
    clear(list);
    rendered.clear();
    rover = null;
  }

  return { render, reset };
}
