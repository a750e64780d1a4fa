// The customer panel: the customer file (name, identities on every channel,
// language, VIP, notes, tags, opt-out, purchases with warranty status), merge
// suggestions and merges that can be undone, and all their conversations;
// for admins, erasing the customer (a privacy request).
import { call } from '../api.js';
import { labelList } from '../store/state.js';
import { confirmAction } from './confirm.js';
import { $, channelIcon, h, timeEl } from './dom.js';

const LANGUAGES = { '': 'Unknown', fa: 'Persian (fa)', ar: 'Arabic (ar)', en: 'English (en)' };

// Why two files may be one person (GET /api/v1/customers/{id} suggestions).
const REASONS = {
  same_email: (v) => ['the same email address ', h('bdi', {}, v), ' is on that file'],
  same_phone: (v) => ['the same phone number ', h('bdi', { dir: 'ltr' }, `+${v}`), ' is on that file'],
  same_name: (v) => ['the same name ', h('bdi', {}, v), ' and language on another channel'],
  mentioned_email: (v) => ['wrote the email address ', h('bdi', {}, v), ' of that file'],
  mentioned_phone: (v) => ['wrote the phone number ', h('bdi', { dir: 'ltr' }, `+${v}`), ' of that file'],
};

// The fields of a live conversation that the customer file also lists.
const pick = (live) => (live ? { status: live.status, updated_at: live.updated_at, labels: live.labels } : {});

export function mountCustomer(state, { onSelect, onSave, onLink, onMerge, onUndoMerge, onDismiss, onErase }) {
  const panel = $('#customer-panel');
  let shownSig = '';

  function field(labelText, control) {
    return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), control);
  }

  // Link an identity on another channel (e.g. the same person's Telegram id).
  function linkForm(id) {
    const channel = h('input', { id: 'link-channel', placeholder: 'channel', size: 8, autocomplete: 'off' });
    const ext = h('input', { id: 'link-id', placeholder: 'id on that channel', size: 12, autocomplete: 'off', dir: 'auto' });
    const out = h('span', { class: 'muted', role: 'status' });
    const form = h('form', { class: 'link-form', 'aria-label': 'Link an identity' },
      h('label', { for: 'link-channel', class: 'visually-hidden' }, 'Channel'), channel,
      h('label', { for: 'link-id', class: 'visually-hidden' }, 'Id on that channel'), ext,
      h('button', { type: 'submit' }, 'Link'), ' ', out);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!channel.value.trim() || !ext.value.trim()) return;
      try { await onLink(id, channel.value.trim(), ext.value.trim()); } catch (err) { out.textContent = err.message; }
    });
    return form;
  }

  // Purchases and warranty (GET /api/v1/customers/{id}/purchases), filled in
  // when they arrive; the agent sees them while replying.
  function purchasesSection(id) {
    const box = h('section', { class: 'cust-purchases', 'aria-label': 'Purchases' }, h('p', { class: 'muted' }, 'Loading purchases…'));
    call(`/api/v1/customers/${encodeURIComponent(id)}/purchases`).then((r) => {
      const flags = [
        ...(r.tags ?? []).map((t) => h('span', { class: 'label small' }, h('bdi', {}, t))),
        r.opt_out ? h('span', { class: 'status status-closed', title: 'Replied stop: no campaigns' }, 'opted out') : null,
      ];
      const items = (r.purchases ?? []).map((p) => h('li', { class: 'purchase' },
        h('bdi', { class: 'product' }, p.product), ' ',
        h('span', { class: 'muted' }, `order ${p.order_id}`, p.serial ? ` · serial ${p.serial}` : '', ` · bought ${p.purchase_date}`), ' ',
        h('span', { class: `warranty warranty-${p.warranty}` },
          p.warranty === 'active' ? `under warranty until ${p.warranty_end}`
            : p.warranty === 'expired' ? `warranty ended ${p.warranty_end}` : 'warranty unknown')));
      box.replaceChildren(
        flags.some(Boolean) ? h('p', { class: 'cust-flags' }, flags) : '',
        h('h3', {}, `Purchases (${items.length})`),
        items.length ? h('ul', { class: 'purchases' }, items) : h('p', { class: 'muted' }, 'No purchases on file.'));
    }).catch((e) => box.replaceChildren(h('p', { class: 'muted' }, `Purchases unavailable: ${e.message}`)));
    return box;
  }

  // "Possibly the same person as …": the agent merges the other file into
  // this one (undoable below) or says they are two people.
  function suggestionsSection(c) {
    if (!c.suggestions?.length) return '';
    return h('section', { class: 'cust-suggestions', 'aria-label': 'Possible duplicates' },
      h('h3', {}, 'Possibly the same person'),
      h('ul', {}, c.suggestions.map((sg) => {
        const out = h('span', { class: 'muted', role: 'status' });
        const act = (fn) => async () => {
          out.textContent = 'Working…';
          try { await fn(); } catch (e) { out.textContent = e.message; }
        };
        const channels = [...new Set((sg.identities ?? []).map((i) => i.channel))].join(', ');
        return h('li', { class: 'suggestion', dataset: { customer: sg.customer } },
          'Possibly the same person as ', h('bdi', { class: 'sugg-name' }, sg.name || sg.customer),
          h('span', { class: 'muted' }, ` (${sg.customer}${channels ? ` · ${channels}` : ''} · ${sg.conversation_count ?? 0} conversations): `),
          (REASONS[sg.reason] ?? ((v) => [sg.reason, ' ', v ?? '']))(sg.value ?? ''), ' ',
          h('button', { type: 'button', class: 'merge-btn', onclick: async () => {
            const ok = await confirmAction({ title: 'Merge these customer files?', ok: 'Merge',
              text: [['Merge ', h('bdi', {}, sg.name || sg.customer), ` (${sg.customer}) into `, h('bdi', {}, c.name || c.id), ` (${c.id})?`],
                'Their identities and conversations move to this file. You can undo it under "Merged into this file".'] });
            if (ok) await act(() => onMerge(c.id, sg.customer))();
          } }, 'Merge into this file'), ' ',
          h('button', { type: 'button', class: 'dismiss-btn', onclick: act(() => onDismiss(c.id, sg.customer)) }, 'Not the same person'), ' ',
          out);
      })));
  }

  function mergesSection(c) {
    if (!c.merges?.length) return '';
    return h('section', { class: 'cust-merges', 'aria-label': 'Merged files' },
      h('h3', {}, 'Merged into this file'),
      h('ul', {}, c.merges.map((m) => {
        const out = h('span', { class: 'muted', role: 'status' });
        return h('li', { class: 'merge', dataset: { merge: m.id } },
          h('bdi', {}, m.from_name || m.from), h('span', { class: 'muted' }, ` (${m.from}) `), timeEl(m.at), ' ',
          h('button', { type: 'button', class: 'undo-merge-btn', onclick: async () => {
            out.textContent = 'Working…';
            try { await onUndoMerge(c.id, m.id); } catch (e) { out.textContent = e.message; }
          } }, 'Undo merge'), ' ', out);
      })));
  }

  // Admins only: a privacy request ("delete everything you hold about me").
  // The dialog wants the name or the id typed: nothing of it can be undone.
  function eraseSection(c) {
    if (state.agent?.role !== 'admin') return '';
    const out = h('span', { class: 'muted', role: 'status' });
    return h('section', { class: 'cust-erase', 'aria-label': 'Erase customer' },
      h('button', { type: 'button', class: 'danger', id: 'cust-erase', onclick: async () => {
        const ok = await confirmAction({ title: 'Erase this customer?', ok: 'Erase customer', danger: true,
          text: [['Everything Pasokh holds about ', h('bdi', {}, c.name || c.id), ` (${c.id}) goes: name, contact details, notes, `,
            'purchases, their identities on every channel, files merged into this one, and the texts and attachments of all ',
            'their conversations. Reports keep counting the conversations.'],
            'This cannot be undone. If they write again, they get a new customer file.'],
          typed: { label: `Type the customer's name or ${c.id} to confirm`, accept: [c.name?.trim(), c.id] } });
        if (!ok) return;
        out.textContent = 'Erasing…';
        try { await onErase(c.id); } catch (e) { out.textContent = e.message; }
      } }, 'Erase customer'), ' ', out);
  }

  function conversationList(file) {
    return [
      h('h3', {}, `Conversations (${file.conversation_count ?? file.conversations.length})`),
      // The file is a snapshot; a conversation the console follows live
      // (the one on screen, the inbox's) shows its status as it is now.
      h('ol', { class: 'cust-convs', reversed: true }, [...file.conversations].reverse().map((cv) => ({ ...cv, ...pick(state.conversations.get(cv.id)) })).map((cv) => h('li', {},
        h('button', { type: 'button', class: 'link', dataset: { conv: cv.id }, 'aria-current': cv.id === state.selected ? 'true' : null,
          onclick: () => onSelect(cv.id) },
        channelIcon(cv.kind, cv.channel), ' ', cv.id), ' ',
        h('span', { class: `status status-${cv.status}` }, cv.status), ' ', timeEl(cv.updated_at),
        labelList(cv.labels).map((l) => h('span', { class: 'label small' }, h('bdi', {}, l)))))),
    ];
  }

  // What is left of an erased file: its id, when and by whom, the conversations.
  function erasedFile(file) {
    const c = file.customer;
    return [
      h('h2', { class: 'cust-name cust-erased' }, 'Erased customer'),
      h('p', { class: 'muted' }, `Customer ${c.id} · erased `, timeEl(c.erased_at),
        c.erased_by ? ` by ${state.agentNames.get(c.erased_by) ?? c.erased_by}` : ''),
      c.erasing ? h('p', { class: 'notice' }, 'Removing the texts of their conversations…') : '',
      h('p', { class: 'notice' }, 'Their personal data and the texts of their conversations were removed on request.'),
      ...conversationList(file),
    ];
  }

  function build(file) {
    const c = file.customer;
    if (c.erased_at) return erasedFile(file);
    const vip = h('input', { type: 'checkbox', id: 'cust-vip', checked: c.vip || null });
    const lang = h('select', { id: 'cust-language' },
      Object.entries(LANGUAGES).map(([v, l]) => h('option', { value: v, selected: v === (c.language ?? '') || null }, l)));
    const notes = h('textarea', { id: 'cust-notes', rows: 4, dir: 'auto', maxlength: 4000 });
    notes.value = c.notes ?? '';
    const saved = h('span', { class: 'muted', role: 'status' });
    const badge = h('span', { class: 'vip', hidden: !c.vip || null }, 'VIP');
    // Saved in place (no rebuild): what the agent is typing stays.
    const save = async (fields) => {
      saved.textContent = 'Saving…';
      try {
        await onSave(c.id, fields);
        Object.assign(c, fields);
        badge.hidden = !c.vip;
        saved.textContent = 'Saved.';
      } catch (e) {
        saved.textContent = `Not saved: ${e.message}`;
      }
    };
    vip.addEventListener('change', () => save({ vip: vip.checked }));
    lang.addEventListener('change', () => save({ language: lang.value }));

    return [
      h('h2', { class: 'cust-name' }, h('bdi', {}, c.name || c.id), ' ', badge),
      h('p', { class: 'muted' }, `Customer ${c.id}`, c.created_at ? ' · since ' : '', timeEl(c.created_at)),
      c.merged_into ? h('p', { class: 'notice' }, `This file was merged into ${c.merged_into}.`) : '',
      suggestionsSection(c),
      h('h3', {}, 'Identities'),
      h('ul', { class: 'identities' }, (c.identities ?? []).map((i) => h('li', {},
        channelIcon(i.kind, i.channel), ' ', h('span', { class: 'muted' }, `${i.channel}: `),
        h('bdi', { class: 'ident-id' }, i.external_id ?? ''),
        i.display_name ? h('span', { class: 'muted' }, ' (', h('bdi', {}, i.display_name), ')') : null))),
      linkForm(c.id),
      mergesSection(c),
      field('Language', lang),
      h('div', { class: 'field inline' }, vip, h('label', { for: 'cust-vip' }, 'VIP customer')),
      field('Notes about the customer', notes),
      h('p', {}, h('button', { type: 'button', id: 'cust-notes-save', onclick: () => save({ notes: notes.value }) }, 'Save notes'), ' ', saved),
      purchasesSection(c.id),
      ...conversationList(file),
      eraseSection(c),
    ];
  }

  function render() {
    const conv = state.conversations.get(state.selected);
    const file = conv && state.customers.get(conv.customer_id);
    panel.hidden = !state.selected;
    if (!file) {
      if (shownSig !== 'loading') panel.replaceChildren(h('p', { class: 'muted' }, state.selected ? 'Loading the customer…' : ''));
      shownSig = 'loading';
      return;
    }
    // Rebuild only when the file or the selection changed (keeps typed notes).
    const live = file.conversations.map((cv) => state.conversations.get(cv.id)?.status ?? '').join();
    const sig = `${state.selected}|${file.fetched_at}|${live}`;
    if (sig === shownSig) return;
    // Not while the agent is typing in the panel (a refresh would eat the text).
    if (shownSig.startsWith(`${state.selected}|`) && panel.contains(document.activeElement) &&
        document.activeElement.matches('textarea, input[type="text"], input:not([type])')) return;
    shownSig = sig;
    panel.replaceChildren(...build(file));
  }

  return { render, reset: () => { shownSig = ''; panel.replaceChildren(); } };
}
