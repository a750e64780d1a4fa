// The customer panel: the customer file (name, identities on every channel,
// language, VIP, notes, tags, opt-out, purchases with warranty status), merge
// suggestions and merges that can be undone, and all their conversations;
// for admins, erasing the customer (a privacy request).
import { call } from '../api.js';
import { labelList } from '../store/state.js';
import { confirmAction } from './confirm.js';
import { $, channelIcon, h, timeEl } from './dom.js';
import { named, t, tParts } from '../i18n.js';

const LANGUAGES = { '': 'cust.unknownLang', fa: 'cust.fa', ar: 'cust.ar', en: 'cust.en' };

// Why two files may be one person (GET /api/v1/customers/{id} suggestions).
// typed_email is no evidence of who the visitor is (anyone can type anyone's
// address): said so, lest a stranger be merged into a customer's file.
const REASONS = {
  same_email: (v) => tParts('cust.sameEmail', { v: h('bdi', {}, v) }),
  typed_email: (v) => tParts('cust.typedEmail', { v: h('bdi', {}, v), not: h('strong', { class: 'unverified' }, t('cust.notVerified')) }),
  same_phone: (v) => tParts('cust.samePhone', { v: h('bdi', { dir: 'ltr' }, `+${v}`) }),
  same_name: (v) => tParts('cust.sameName', { v: h('bdi', {}, v) }),
  mentioned_email: (v) => tParts('cust.mentionedEmail', { v: h('bdi', {}, v) }),
  mentioned_phone: (v) => tParts('cust.mentionedPhone', { v: h('bdi', { dir: 'ltr' }, `+${v}`) }),
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
    const channel = h('input', { id: 'link-channel', placeholder: t('cust.channelPh'), size: 8, autocomplete: 'off' });
    const ext = h('input', { id: 'link-id', placeholder: t('cust.idPh'), size: 12, autocomplete: 'off', dir: 'auto' });
    const out = h('span', { class: 'muted', role: 'status' });
    const form = h('form', { class: 'link-form', 'aria-label': t('cust.linkForm') },
      h('label', { for: 'link-channel', class: 'visually-hidden' }, t('cust.channel')), channel,
      h('label', { for: 'link-id', class: 'visually-hidden' }, t('cust.idLabel')), ext,
      h('button', { type: 'submit' }, t('cust.link')), ' ', out);
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
    const box = h('section', { class: 'cust-purchases', 'aria-label': t('cust.purchases') }, h('p', { class: 'muted' }, t('cust.loadingPurchases')));
    call(`/api/v1/customers/${encodeURIComponent(id)}/purchases`).then((r) => {
      const flags = [
        ...(r.tags ?? []).map((t) => h('span', { class: 'label small' }, h('bdi', {}, t))),
        r.opt_out ? h('span', { class: 'status status-closed', title: t('cust.optOutTitle') }, t('cust.optOut')) : null,
      ];
      const items = (r.purchases ?? []).map((p) => h('li', { class: 'purchase' },
        h('bdi', { class: 'product' }, p.product), ' ',
        h('span', { class: 'muted' }, t('cust.order', { id: p.order_id }), p.serial ? t('cust.serial', { serial: p.serial }) : '', t('cust.bought', { date: p.purchase_date })), ' ',
        h('span', { class: `warranty warranty-${p.warranty}` },
          t(p.warranty === 'active' ? 'cust.warrantyUntil' : p.warranty === 'expired' ? 'cust.warrantyEnded' : 'cust.warrantyUnknown',
            { date: p.warranty_end }))));
      box.replaceChildren(
        flags.some(Boolean) ? h('p', { class: 'cust-flags' }, flags) : '',
        h('h3', {}, t('cust.purchasesN', { n: items.length })),
        items.length ? h('ul', { class: 'purchases' }, items) : h('p', { class: 'muted' }, t('cust.noPurchases')));
    }).catch((e) => box.replaceChildren(h('p', { class: 'muted' }, t('cust.purchasesFailed', { error: e.message }))));
    return box;
  }

  // "Possibly the same person as …": the agent merges the other file into
  // this one (undoable below) or says they are two people.
  function suggestionsSection(c) {
    if (!c.suggestions?.length) return '';
    return h('section', { class: 'cust-suggestions', 'aria-label': t('cust.duplicates') },
      h('h3', {}, t('cust.samePerson')),
      h('ul', {}, c.suggestions.map((sg) => {
        const out = h('span', { class: 'muted', role: 'status' });
        const act = (fn) => async () => {
          out.textContent = t('cust.working');
          try { await fn(); } catch (e) { out.textContent = e.message; }
        };
        const channels = [...new Set((sg.identities ?? []).map((i) => i.channel))].join(', ');
        return h('li', { class: 'suggestion', dataset: { customer: sg.customer } },
          t('cust.samePersonAs'), h('bdi', { class: 'sugg-name' }, sg.name || sg.customer),
          h('span', { class: 'muted' }, ` (${sg.customer}${channels ? ` · ${channels}` : ''} · ${t('cust.convCount', { n: sg.conversation_count ?? 0 })}): `),
          (REASONS[sg.reason] ?? ((v) => [sg.reason, ' ', v ?? '']))(sg.value ?? ''), ' ',
          h('button', { type: 'button', class: 'merge-btn', onclick: async () => {
            const ok = await confirmAction({ title: t('cust.mergeTitle'), ok: t('cust.merge'),
              text: [tParts('cust.mergeText', { from: [h('bdi', {}, sg.name || sg.customer), ` (${sg.customer})`], to: [h('bdi', {}, c.name || c.id), ` (${c.id})`] }),
                t('cust.mergeMoves')] });
            if (ok) await act(() => onMerge(c.id, sg.customer))();
          } }, t('cust.mergeBtn')), ' ',
          h('button', { type: 'button', class: 'dismiss-btn', onclick: act(() => onDismiss(c.id, sg.customer)) }, t('cust.notSame')), ' ',
          out);
      })));
  }

  function mergesSection(c) {
    if (!c.merges?.length) return '';
    return h('section', { class: 'cust-merges', 'aria-label': t('cust.mergedFiles') },
      h('h3', {}, t('cust.mergedInto')),
      h('ul', {}, c.merges.map((m) => {
        const out = h('span', { class: 'muted', role: 'status' });
        return h('li', { class: 'merge', dataset: { merge: m.id } },
          h('bdi', {}, m.from_name || m.from), h('span', { class: 'muted' }, ` (${m.from}) `), timeEl(m.at), ' ',
          h('button', { type: 'button', class: 'undo-merge-btn', onclick: async () => {
            out.textContent = t('cust.working');
            try { await onUndoMerge(c.id, m.id); } catch (e) { out.textContent = e.message; }
          } }, t('cust.undoMerge')), ' ', out);
      })));
  }

  // Admins only: a privacy request ("delete everything you hold about me").
  // The dialog wants the name or the id typed: nothing of it can be undone.
  function eraseSection(c) {
    if (state.agent?.role !== 'admin') return '';
    const out = h('span', { class: 'muted', role: 'status' });
    return h('section', { class: 'cust-erase', 'aria-label': t('cust.erase') },
      h('button', { type: 'button', class: 'danger', id: 'cust-erase', onclick: async () => {
        const ok = await confirmAction({ title: t('cust.eraseTitle'), ok: t('cust.erase'), danger: true,
          text: [tParts('cust.eraseText', { who: [h('bdi', {}, c.name || c.id), ` (${c.id})`] }), t('cust.eraseFinal')],
          typed: { label: t('cust.eraseTyped', { id: c.id }), accept: [c.name?.trim(), c.id] } });
        if (!ok) return;
        out.textContent = t('cust.erasing');
        try { await onErase(c.id); } catch (e) { out.textContent = e.message; }
      } }, t('cust.erase')), ' ', out);
  }

  function conversationList(file) {
    return [
      h('h3', {}, t('cust.conversations', { n: file.conversation_count ?? file.conversations.length })),
      // The file is a snapshot; a conversation the console follows live
      // (the one on screen, the inbox's) shows its status as it is now.
      h('ol', { class: 'cust-convs', reversed: true }, [...file.conversations].reverse().map((cv) => ({ ...cv, ...pick(state.conversations.get(cv.id)) })).map((cv) => h('li', {},
        h('button', { type: 'button', class: 'link', dataset: { conv: cv.id }, 'aria-current': cv.id === state.selected ? 'true' : null,
          onclick: () => onSelect(cv.id) },
        channelIcon(cv.kind, cv.channel), ' ', cv.id), ' ',
        h('span', { class: `status status-${cv.status}` }, named('st.', cv.status)), ' ', timeEl(cv.updated_at),
        labelList(cv.labels).map((l) => h('span', { class: 'label small' }, h('bdi', {}, l)))))),
    ];
  }

  // What is left of an erased file: its id, when and by whom, the conversations.
  function erasedFile(file) {
    const c = file.customer;
    return [
      h('h2', { class: 'cust-name cust-erased' }, t('cust.erased')),
      h('p', { class: 'muted' }, t('cust.erasedLine', { id: c.id }), timeEl(c.erased_at),
        c.erased_by ? t('ev.by', { who: state.agentNames.get(c.erased_by) ?? c.erased_by }) : ''),
      c.erasing ? h('p', { class: 'notice' }, t('cust.erasingTexts')) : '',
      h('p', { class: 'notice' }, t('cust.erasedNote')),
      ...conversationList(file),
    ];
  }

  function build(file) {
    const c = file.customer;
    if (c.erased_at) return erasedFile(file);
    const vip = h('input', { type: 'checkbox', id: 'cust-vip', checked: c.vip || null });
    const lang = h('select', { id: 'cust-language' },
      Object.entries(LANGUAGES).map(([v, l]) => h('option', { value: v, selected: v === (c.language ?? '') || null }, t(l))));
    const notes = h('textarea', { id: 'cust-notes', rows: 4, dir: 'auto', maxlength: 4000 });
    notes.value = c.notes ?? '';
    const saved = h('span', { class: 'muted', role: 'status' });
    const badge = h('span', { class: 'vip', hidden: !c.vip || null }, 'VIP');
    // Saved in place (no rebuild): what the agent is typing stays.
    const save = async (fields) => {
      saved.textContent = t('cust.saving');
      try {
        await onSave(c.id, fields);
        Object.assign(c, fields);
        badge.hidden = !c.vip;
        saved.textContent = t('cust.saved');
      } catch (e) {
        saved.textContent = t('cust.notSaved', { error: e.message });
      }
    };
    vip.addEventListener('change', () => save({ vip: vip.checked }));
    lang.addEventListener('change', () => save({ language: lang.value }));

    return [
      h('h2', { class: 'cust-name' }, h('bdi', {}, c.name || c.id), ' ', badge),
      h('p', { class: 'muted' }, t('cust.id', { id: c.id }), c.created_at ? t('cust.since') : '', timeEl(c.created_at)),
      c.merged_into ? h('p', { class: 'notice' }, t('cust.mergedAway', { id: c.merged_into })) : '',
      suggestionsSection(c),
      h('h3', {}, t('cust.identities')),
      h('ul', { class: 'identities' }, (c.identities ?? []).map((i) => h('li', {},
        channelIcon(i.kind, i.channel), ' ', h('span', { class: 'muted' }, `${i.channel}: `),
        h('bdi', { class: 'ident-id' }, i.external_id ?? ''),
        i.display_name ? h('span', { class: 'muted' }, ' (', h('bdi', {}, i.display_name), ')') : null))),
      linkForm(c.id),
      mergesSection(c),
      field(t('cust.language'), lang),
      h('div', { class: 'field inline' }, vip, h('label', { for: 'cust-vip' }, t('cust.vip'))),
      field(t('cust.notes'), notes),
      h('p', {}, h('button', { type: 'button', id: 'cust-notes-save', onclick: () => save({ notes: notes.value }) }, t('cust.saveNotes')), ' ', saved),
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
      if (shownSig !== 'loading') panel.replaceChildren(h('p', { class: 'muted' }, state.selected ? t('cust.loading') : ''));
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
