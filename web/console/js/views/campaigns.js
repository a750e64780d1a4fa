// Campaigns (admin role; /api/v1/admin/campaigns): the list with each
// campaign's progress — queued, sent, delivered, read, failed, replied,
// opted out (answered "stop"), skipped — kept live by the "campaign" events of the agent socket, pause /
// resume / cancel, and a form to create one (follow-up after a purchase, an
// occasion such as Nowruz or Yalda, birthdays, warranty ending). Its texts in
// Persian and Arabic are in the part of the dictionary only admins load.
import { call } from '../api.js';
import { confirmAction } from './confirm.js';
import { $, formatDateTime, formatTime, h } from './dom.js';
import { listOf, loadPart, locale, named, num, splitList, t, tParts } from '../i18n.js';

const enc = encodeURIComponent;
const COUNTS = ['queued', 'sent', 'delivered', 'read', 'failed', 'replied', 'opted_out'];
const SKIPS = ['opted_out', 'no_channel', 'no_template'];
const KINDS = ['occasion', 'follow_up', 'birthday', 'warranty_ending'];
const kindName = (kind) => named('cmp.k.', kind);
// 2026-12-01 as the console writes a day (1 Dec; ۱۰ آذر in Persian).
const dayOf = (iso) => {
  const [y, m, d] = iso.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
};

// The request body from the form's fields (exported for tests).
export function campaignBody(f) {
  const body = { name: f.name, kind: f.kind, texts: {} };
  for (const l of ['fa', 'ar', 'en']) if (f[`text_${l}`]?.trim()) body.texts[l] = f[`text_${l}`].trim();
  if (f.kind === 'occasion') {
    body.occasion = f.occasion;
    if (f.occasion === 'date') body.date = f.date;
  }
  if (f.kind === 'follow_up' || f.kind === 'warranty_ending') body.days = Number(f.days);
  const audience = {};
  for (const k of ['tags', 'languages', 'channels', 'products']) if (splitList(f[k]).length) audience[k] = splitList(f[k]);
  if (Object.keys(audience).length) body.audience = audience;
  if (splitList(f.fallback).length) body.fallback = splitList(f.fallback);
  if (f.code) body.code = f.code;
  if (f.template_name) {
    body.whatsapp_template = { name: f.template_name, params: splitList(f.template_params) };
    if (f.template_language) body.whatsapp_template.language = f.template_language;
  }
  if (Number(f.rate) > 0) body.rate_per_second = Number(f.rate);
  return body;
}

// What the confirmation says a new campaign will do, a paragraph per line
// (exported for tests). An empty audience means everyone: said plainly.
export function campaignSummary(body) {
  const texts = Object.keys(body.texts ?? {});
  const a = body.audience ?? {};
  const parts = ['languages', 'channels', 'tags', 'products'].filter((k) => a[k]?.length)
    .map((k) => t(`cmp.a.${k}`, { n: a[k].length, list: a[k].join(', ') }));
  // The name is bidi-isolated (FSI…PDI) so a Persian name keeps the sentence in order.
  return [
    t('cmp.sum', { name: `\u2068${body.name}\u2069`, kind: kindName(body.kind), langs: texts.length ? listOf(texts) : t('cmp.noLang'),
      code: body.code ? t('cmp.code', { code: body.code }) : '' }),
    parts.length ? t('cmp.targets', { parts: listOf(parts) }) : t('cmp.everyone'),
    t('cmp.schedule'),
  ];
}

// What the preview found, a paragraph per line (exported for tests): the
// messages it would send now and where, whom it skips and why, the days
// ahead of a recurring campaign, an example.
export function previewSummary(p) {
  if (!p) return [t('cmp.noCount')];
  const channels = Object.entries(p.by_channel ?? {}).sort((a, b) => b[1] - a[1]).map(([channel, n]) => t('cmp.on', { n, channel }));
  const lines = [p.messages
    ? t('cmp.wouldSend', { messages: t('cmp.msgs', { n: p.messages }), customers: t('cmp.custs', { n: p.customers }),
      channels: listOf(channels) })
    : t('cmp.wouldSendNone')];
  const skipped = Object.entries(p.skipped ?? {}).map(([k, n]) => (SKIPS.includes(k) ? t(`cmp.why.${k}`, { n }) : `${num(n)} ${k}`));
  if (skipped.length) lines.push(t('cmp.skippedList', { list: listOf(skipped) }));
  if (p.upcoming) {
    const busiest = Object.entries(p.upcoming.by_day ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    lines.push(p.upcoming.messages
      ? t('cmp.ahead', { days: p.upcoming.days, more: t('cmp.more', { n: p.upcoming.messages }), day: dayOf(busiest[0]), n: busiest[1] })
      : t('cmp.aheadNone', { days: p.upcoming.days }));
  }
  if (!p.complete) lines.push(t('cmp.partial', { looked: p.files_looked_at, total: p.files_total }));
  const first = p.samples?.[0];
  if (first) {
    lines.push(t('cmp.example', { name: `\u2068${first.name || first.customer_id}\u2069`, channel: first.channel,
      text: `\u2068${first.text}\u2069` }));
  }
  return lines;
}

export function mountCampaigns({ notice }) {
  const btn = $('#campaigns-btn');
  const view = $('#campaigns-view');
  const layout = $('.layout');
  let allowed = false;
  let ready = null; // the page, built once the admin texts are in
  const campaigns = new Map(); // id -> view
  const rows = new Map();      // id -> <tr>
  const body = h('tbody', {});

  const statusText = (c) => {
    if (c.status === 'running' && c.quiet_until) return t('cmp.quiet', { at: formatTime(c.quiet_until) });
    if (c.status === 'running' && c.next_scan_at) return t('cmp.waiting', { at: formatTime(c.next_scan_at) });
    if (c.status === 'scheduled') return t('cmp.scheduledAt', { at: formatDateTime(c.start_at) });
    return named('cmp.st.', c.status);
  };

  const act = (c, action) => async () => {
    if (action === 'cancel' && !await confirmAction({ title: t('cmp.cancelQ'), ok: t('cmp.cancelIt'), cancel: t('cmp.keep'),
      danger: true, text: [tParts('cmp.cancelText', { name: h('bdi', {}, c.name ?? c.id) }), t('cmp.final')] })) return;
    try {
      update(await call(`/api/v1/admin/campaigns/${enc(c.id)}/${action}`, { method: 'POST' }));
    } catch (e) { notice(e.message); }
  };

  function rowOf(c) {
    const s = c.stats ?? {};
    const skipped = SKIPS.reduce((n, k) => n + (s[`skipped_${k}`] ?? 0), 0);
    const button = (action) => h('button', { type: 'button', onclick: act(c, action) }, t(`cmp.${action}`));
    const buttons = [];
    if (c.status === 'running' || c.status === 'scheduled') buttons.push(button('pause'));
    if (c.status === 'paused') buttons.push(button('resume'));
    if (['running', 'scheduled', 'paused'].includes(c.status)) buttons.push(button('cancel'));
    return h('tr', { dataset: { campaign: c.id, status: c.status } },
      h('td', {}, h('bdi', {}, c.name ?? c.id)),
      h('td', {}, kindName(c.kind)),
      h('td', { class: 'campaign-status' }, statusText(c)),
      ...COUNTS.map((k) => h('td', { class: 'num', dataset: { stat: k } }, num(s[k] ?? 0))),
      h('td', { class: 'num', dataset: { stat: 'skipped' },
        title: listOf(SKIPS.map((k) => `${t(`cmp.skip.${k}`)}: ${num(s[`skipped_${k}`] ?? 0)}`)) }, num(skipped)),
      h('td', {}, ...buttons));
  }

  // A campaign view from REST or a live event; newest first.
  function update(c) {
    if (!c?.id) return;
    campaigns.set(c.id, { ...campaigns.get(c.id), ...c });
    const row = rowOf(campaigns.get(c.id));
    if (rows.has(c.id)) rows.get(c.id).replaceWith(row);
    else body.prepend(row);
    rows.set(c.id, row);
  }

  // The page: the live table and the form that creates a campaign.
  function build() {
    const table = h('table', { class: 'admin-table campaign-table', id: 'campaign-table' },
      h('caption', {}, t('cmp.live')),
      h('thead', {}, h('tr', {}, [t('adm.name'), t('cmp.kind'), t('ev.status'), ...COUNTS.map((k) => t(`cmp.c.${k}`)), t('cmp.skipped'), '']
        .map((x) => h('th', { scope: 'col' }, x)))),
      body);
    const today = new Date().toISOString().slice(0, 10);
    const fields = [
      ['name', t('adm.name'), { required: true }],
      ['kind', t('cmp.kind'), { options: KINDS.map((k) => [k, kindName(k)]) }],
      ['occasion', t('cmp.occasion'), { options: [['date', t('cmp.aDate')], ['nowruz', t('cmp.nowruz')], ['yalda', t('cmp.yalda')]] }],
      ['date', t('cmp.date'), { type: 'date', value: today }],
      ['days', t('cmp.days'), { type: 'number', value: '7' }],
      ['text_fa', t('cmp.text_fa'), { textarea: true, dir: 'rtl' }],
      ['text_ar', t('cmp.text_ar'), { textarea: true, dir: 'rtl' }],
      ['text_en', t('cmp.text_en'), { textarea: true, dir: 'ltr' }],
      ['fallback', t('cmp.fallback')],
      ['code', t('cmp.codeField')],
      ['tags', t('cmp.tags')],
      ['languages', t('cmp.languages')],
      ['channels', t('cmp.channels')],
      ['products', t('cmp.products')],
      ['template_name', t('cmp.template')],
      ['template_language', t('cmp.templateLang')],
      ['template_params', t('cmp.templateParams')],
      ['rate', t('cmp.rate'), { type: 'number' }],
    ];
    const form = h('form', { class: 'admin-form', id: 'campaign-form' });
    for (const [name, label, o = {}] of fields) {
      const id = `campaign-${name}`;
      let control;
      if (o.options) control = h('select', { id, name }, o.options.map(([v, text]) => h('option', { value: v }, text)));
      else if (o.textarea) control = h('textarea', { id, name, rows: 2, dir: o.dir ?? 'auto' });
      else control = h('input', { id, name, type: o.type ?? 'text', dir: o.type ? null : 'auto', autocomplete: 'off', required: o.required || null, step: o.type === 'number' ? 'any' : null });
      if (o.value) control.defaultValue = o.value; // the default, so form.reset() comes back to it
      form.append(h('label', { for: id }, label), control);
    }
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, t('cmp.create'));
    form.append(error, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.hidden = true;
      const req = campaignBody(Object.fromEntries(new FormData(form)));
      submit.disabled = true; // one preview and one campaign per click, even when double-clicked
      try {
        // Who it reaches, counted before the question; a definition the server refuses stops here.
        let preview = null;
        try {
          preview = await call('/api/v1/admin/campaigns/preview', { method: 'POST', body: req });
        } catch (err) {
          if (err.status === 400) { error.textContent = err.message; error.hidden = false; return; }
        }
        const text = [...campaignSummary(req), ...previewSummary(preview)];
        if (!await confirmAction({ title: t('cmp.createQ'), ok: t('cmp.create'), text })) return;
        update(await call('/api/v1/admin/campaigns', { method: 'POST', body: req }));
        form.reset(); // a second click must not send the same campaign again
        notice(t('cmp.created'), 'ok');
      } catch (err) { error.textContent = err.message; error.hidden = false; } finally { submit.disabled = false; }
    });
    view.append(h('h2', { id: 'campaigns-title' }, t('cmp.title')), table, h('h3', {}, t('cmp.new')),
      h('p', { class: 'muted' }, t('cmp.help')), form);
  }

  async function load() {
    try {
      const { campaigns: list } = await call('/api/v1/admin/campaigns');
      body.replaceChildren();
      rows.clear();
      campaigns.clear();
      for (const c of [...list].reverse()) update(c);
    } catch (e) { notice(t('cmp.loadFailed', { error: e.message })); }
  }

  const others = [['#admin-view', '#admin-btn'], ['#reports-view', '#reports-btn']];
  async function open(on) {
    if (on && !allowed) { notice(t('cmp.adminOnly')); on = false; }
    view.hidden = !on;
    btn.setAttribute('aria-pressed', String(on));
    if (on) {
      for (const [v, b] of others) { if ($(v)) $(v).hidden = true; $(b)?.setAttribute('aria-pressed', 'false'); }
      layout.hidden = true;
      await ready;
      load();
      view.focus();
    } else if (others.every(([v]) => !$(v) || $(v).hidden)) {
      layout.hidden = false;
    }
  }
  btn.addEventListener('click', () => open(view.hidden));
  for (const [, b] of others)
    $(b)?.addEventListener('click', () => { if (!view.hidden) { view.hidden = true; btn.setAttribute('aria-pressed', 'false'); } });
  const fromHash = () => { if (location.hash.startsWith('#/campaigns')) open(true); };
  window.addEventListener('hashchange', fromHash);

  return {
    setRole(role) {
      allowed = role === 'admin';
      if (allowed) ready ??= loadPart('admin').then(build);
      btn.hidden = !allowed;
      if (!allowed) { view.hidden = true; btn.setAttribute('aria-pressed', 'false'); }
      if (role) fromHash();
    },
    // A "campaign" event from the agent socket.
    onEvent(frame) { if (allowed && frame.campaign) update({ ...frame.campaign, at: frame.at }); },
    get open() { return !view.hidden; },
  };
}
