// The search box above the inbox: conversations by the words of their
// messages and notes (open or resolved), and customer files by name, email or
// phone, as the agent types (GET /api/v1/search). While a query is in the box
// its results stand in for the inbox list; Escape or the clear button brings
// the inbox back.
import { $, channelIcon, clear, h, timeEl } from './dom.js';
import { named, num, t } from '../i18n.js';

const DEBOUNCE_MS = 250;

export function mountSearch({ search, onOpenConversation, onOpenCustomer }) {
  const input = $('#search');
  const results = $('#search-results');
  const inbox = $('#inbox-body');
  let timer = 0;
  let asked = 0; // the newest query sent: answers to older ones are dropped

  function showInbox(show) {
    inbox.hidden = !show;
    results.hidden = show;
  }

  function status(text) {
    clear(results);
    results.append(h('p', { class: 'muted search-status', role: 'status' }, text));
  }

  function conversationRow({ conversation: c, match }) {
    const name = c.customer_name || c.customer_id || t('customer');
    return h('li', {}, h('button', {
      type: 'button', class: 'conv-item search-hit', dataset: { conv: c.id, status: c.status },
      onclick: () => onOpenConversation(c),
    },
    h('span', { class: 'conv-top' }, channelIcon(c.kind, c.channel), h('span', { class: 'conv-name' }, h('bdi', {}, name)),
      timeEl(match?.created_at || c.updated_at)),
    h('span', { class: 'conv-bottom' }, h('span', { class: `status status-${c.status}` }, named('st.', c.status)),
      match ? h('span', { class: 'search-author' }, match.event === 'note' ? t('search.note', { who: match.author_name || t('agent') }) : named('', match.author)) : null),
    match ? h('span', { class: 'search-snippet', dir: 'auto' }, match.text) : null));
  }

  function customerRow(c) {
    const detail = [c.email, c.phone ? `+${c.phone}` : ''].filter(Boolean).join(' · ');
    return h('li', {}, h('button', {
      type: 'button', class: 'conv-item search-hit', dataset: { customer: c.id }, onclick: () => onOpenCustomer(c),
    },
    h('span', { class: 'conv-top' }, h('span', { class: 'conv-name' }, h('bdi', {}, c.name || c.id)), c.vip ? h('span', { class: 'vip' }, 'VIP') : null),
    detail ? h('span', { class: 'search-detail', dir: 'ltr' }, detail) : null));
  }

  function render(found) {
    clear(results);
    const customers = found.customers ?? [];
    const conversations = found.conversations ?? [];
    if (!customers.length && !conversations.length) { status(t('search.nothing')); return; }
    if (customers.length) {
      results.append(h('h2', { class: 'search-heading' }, t('search.customers', { n: customers.length })),
        h('ul', { class: 'conv-list', 'aria-label': t('search.customersFound') }, customers.map(customerRow)));
    }
    if (conversations.length) {
      results.append(h('h2', { class: 'search-heading' }, t('search.conversations', { n: num(conversations.length) + (found.more ? '+' : '') })),
        h('ul', { class: 'conv-list', 'aria-label': t('search.conversationsFound') }, conversations.map(conversationRow)));
    }
  }

  async function run(q) {
    const mine = ++asked;
    try {
      const found = await search(q);
      if (mine === asked) render(found);
    } catch (e) {
      if (mine === asked) status(e.code === 'invalid_field' ? t('search.short') : t('search.failed', { error: e.message }));
    }
  }

  function onInput() {
    clearTimeout(timer);
    const q = input.value;
    if (!q.trim()) { asked++; showInbox(true); return; }
    showInbox(false);
    if ([...q.trim()].length < 2) { asked++; status(t('search.short')); return; }
    status(t('search.searching'));
    timer = setTimeout(() => run(q), DEBOUNCE_MS);
  }

  function reset() {
    input.value = '';
    onInput();
  }

  input.addEventListener('input', onInput);
  input.addEventListener('keydown', (e) => { if (e.key === 'Escape' && input.value) { e.preventDefault(); reset(); } });
  $('#search-form').addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(timer); if (input.value.trim()) run(input.value); });

  return { reset };
}
