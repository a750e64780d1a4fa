// The reply box: a reply to the customer or a private note (agents only), and
// canned responses picked by typing `/` (arrows to move, Enter or Tab to
// insert, Escape to close). A half-written reply or note stays with its
// conversation (and across a reload of the tab, or the session's end) until it
// is sent or the agent signs out; each agent's own (useDrafts).
import { insertCanned, matchCanned, moveActive, slashQuery } from '../canned.js';
import { $, h } from './dom.js';
import { t } from '../i18n.js';

// onTyping(conv, text): what a reply (not a note) to `conv` holds now ('' when none).
export function mountComposer({ onSend, onNote, canned, onTyping = () => {} }) {
  const form = $('#reply-form');
  const input = $('#reply-text');
  const list = $('#canned-list');
  const label = $('#reply-label');
  const send = $('#send-btn');
  const modes = { reply: $('#mode-reply'), note: $('#mode-note') };
  let conv = null;
  let mode = 'reply';
  let matches = [];
  let active = 0;
  let query = null;
  let open = true;
  let key = null; // sessionStorage key of the signed-in agent's drafts
  let drafts = new Map();
  function keep() {
    if (!conv || !key) return;
    if (input.value) drafts.set(conv, { text: input.value, mode }); else drafts.delete(conv);
    try { sessionStorage.setItem(key, JSON.stringify([...drafts])); } catch { /* in memory only */ }
  }

  // A closed (resolved) conversation takes no reply, but still takes notes.
  function enable() {
    const ok = open || mode === 'note';
    input.disabled = !ok;
    send.disabled = !ok;
    modes.reply.disabled = !open;
  }

  function setMode(m) {
    mode = m;
    form.dataset.mode = m;
    for (const [k, b] of Object.entries(modes)) b.setAttribute('aria-pressed', String(k === m));
    const note = m === 'note';
    send.textContent = t(note ? 'composer.addNote' : 'composer.send');
    label.textContent = t(note ? 'composer.note' : 'composer.reply');
    input.placeholder = t(note ? 'composer.notePh' : 'composer.replyPh');
    enable();
  }

  // Only a reply counts as typing: a private note is no business of the customer's.
  function typed() { keep(); onTyping(conv, mode === 'reply' && open ? input.value : ''); }
  for (const [m, b] of Object.entries(modes)) b.addEventListener('click', () => { setMode(m); typed(); input.focus(); });

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    matches = [];
    query = null;
  }

  function show() {
    list.replaceChildren(...matches.map((c, i) => h('li', {
      id: `canned-${i}`, role: 'option', class: 'canned-item', 'aria-selected': String(i === active),
      dataset: { shortcut: c.shortcut },
      // mousedown, not click: the textarea keeps the focus and the caret.
      onmousedown: (e) => { e.preventDefault(); pick(i); },
    }, h('span', { class: 'canned-shortcut' }, `/${c.shortcut}`), ' ',
    h('bdi', { class: 'canned-title' }, c.title || ''),
    h('span', { class: 'canned-text', dir: 'auto' }, c.text))));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    input.setAttribute('aria-activedescendant', `canned-${active}`);
    list.children[active]?.scrollIntoView({ block: 'nearest' });
  }

  function update() {
    const q = input.selectionStart === input.selectionEnd ? slashQuery(input.value, input.selectionStart) : null;
    if (!q) return close();
    const same = query?.query === q.query;
    query = q;
    matches = matchCanned(canned(), q.query);
    if (!same) active = 0;
    if (!matches.length) return close();
    active = Math.min(active, matches.length - 1);
    show();
  }

  function pick(i) {
    const item = matches[i];
    if (!item || !query) return;
    const r = insertCanned(input.value, query, item);
    input.value = r.text;
    input.setSelectionRange(r.caret, r.caret);
    typed();
    close();
    input.focus();
  }

  input.addEventListener('input', () => { update(); typed(); });
  input.addEventListener('click', update);
  input.addEventListener('blur', () => close());
  input.addEventListener('keydown', (e) => {
    if (!list.hidden && matches.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        active = moveActive(active, matches.length, e.key);
        show();
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pick(active); return; }
      if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!conv || !text.trim()) return;
    if (mode === 'note') {
      // A note goes over REST; on failure the text comes back to the box.
      onNote(conv, text).catch(() => { if (!input.value) input.value = text; });
    } else {
      onSend(conv, text);
    }
    input.value = '';
    typed();
    close();
    input.focus();
  });

  return {
    switchTo(id) {
      const d = drafts.get(id);
      conv = id;
      onTyping(id, ''); // the last one's typing stops; a draft found here is not typing
      input.value = d?.text ?? '';
      close();
      setMode(d?.mode ?? 'reply');
    },
    // Per agent: another one signing in here never sees them.
    useDrafts(agentId) {
      key = `pasokh.console.drafts:${agentId}`;
      try { drafts = new Map(JSON.parse(sessionStorage.getItem(key)) ?? []); } catch { drafts = new Map(); }
    },
    // Signed out (not a session that ended under the agent): gone.
    clearDrafts() { drafts.clear(); if (key) sessionStorage.removeItem(key); },
    setOpen(isOpen) {
      open = isOpen;
      if (!open && mode === 'reply') close();
      enable();
      if (!open) typed();
    },
    focus() { input.focus(); },
  };
}
