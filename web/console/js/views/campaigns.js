// Campaigns (admin role; /api/v1/admin/campaigns): the list with each
// campaign's progress — queued, sent, delivered, read, failed, replied,
// opted out (answered "stop"), skipped — kept live by the "campaign" events of the agent socket, pause /
// resume / cancel, and a form to create one (follow-up after a purchase, an
// occasion such as Nowruz or Yalda, birthdays, warranty ending).
import { call } from '../api.js';
import { confirmAction } from './confirm.js';
import { $, h } from './dom.js';

const enc = encodeURIComponent;
const csv = (v) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const COUNTS = [['queued', 'Queued'], ['sent', 'Sent'], ['delivered', 'Delivered'], ['read', 'Read'], ['failed', 'Failed'],
  ['replied', 'Replied'], ['opted_out', 'Opted out']];
const SKIPS = [['skipped_opted_out', 'opted out'], ['skipped_no_channel', 'no channel'], ['skipped_no_template', 'no template']];
const KINDS = [['occasion', 'Occasion greeting'], ['follow_up', 'Follow-up after a purchase'], ['birthday', 'Birthday'],
  ['warranty_ending', 'Warranty ending']];

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
  for (const k of ['tags', 'languages', 'channels', 'products']) if (csv(f[k]).length) audience[k] = csv(f[k]);
  if (Object.keys(audience).length) body.audience = audience;
  if (csv(f.fallback).length) body.fallback = csv(f.fallback);
  if (f.code) body.code = f.code;
  if (f.template_name) {
    body.whatsapp_template = { name: f.template_name, params: csv(f.template_params) };
    if (f.template_language) body.whatsapp_template.language = f.template_language;
  }
  if (Number(f.rate) > 0) body.rate_per_second = Number(f.rate);
  return body;
}

// What the confirmation says a new campaign will do, a paragraph per line
// (exported for tests). An empty audience means everyone: said plainly.
export function campaignSummary(body) {
  const kind = KINDS.find(([k]) => k === body.kind)?.[1] ?? body.kind;
  const texts = Object.keys(body.texts ?? {});
  const a = body.audience ?? {};
  const part = (k, one, many) => (a[k]?.length ? `${a[k].length} ${a[k].length === 1 ? one : many} (${a[k].join(', ')})` : null);
  const parts = [part('languages', 'language', 'languages'), part('channels', 'channel', 'channels'),
    part('tags', 'tag', 'tags'), part('products', 'product', 'products')].filter(Boolean);
  // The name is bidi-isolated (FSI…PDI) so a Persian name keeps the sentence in order.
  return [
    `"\u2068${body.name}\u2069" (${kind}), with texts in ${texts.length ? texts.join(', ') : 'no language'}${body.code ? `, offer code ${body.code}` : ''}.`,
    parts.length ? `It targets ${parts.join(', ')}; opted-out customers are skipped.`
      : 'The audience is empty: it goes to EVERY customer who has not opted out.',
    'Sending starts on its own schedule (at once for an occasion dated today). Pause or Cancel stop only messages not queued yet.',
  ];
}

// What the preview found, a paragraph per line (exported for tests): the
// messages it would send now and where, whom it skips and why, the days
// ahead of a recurring campaign, an example.
export function previewSummary(p) {
  if (!p) return ['The audience could not be counted just now; the campaign still checks every customer when it runs.'];
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const channels = Object.entries(p.by_channel ?? {}).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${n} on ${c}`);
  const lines = [p.messages
    ? `Run now, it would send ${plural(p.messages, 'message', 'messages')} to ${plural(p.customers, 'customer', 'customers')} (${channels.join(', ')}).`
    : 'Run now, it would send no message: nobody in its audience can be reached.'];
  const reasons = { opted_out: 'opted out', no_channel: 'with no channel it can use', no_template: 'outside a messenger\'s 24-hour window (no template)' };
  const skipped = Object.entries(p.skipped ?? {}).map(([k, n]) => `${n} ${reasons[k] ?? k}`);
  if (skipped.length) lines.push(`Skipped: ${skipped.join(', ')}.`);
  if (p.upcoming) {
    const busiest = Object.entries(p.upcoming.by_day ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    lines.push(p.upcoming.messages
      ? `In the next ${p.upcoming.days} days: ${plural(p.upcoming.messages, 'more message', 'more messages')} (most on ${busiest[0]}: ${busiest[1]}), as the customer files stand now.`
      : `In the next ${p.upcoming.days} days: no more messages, as the customer files stand now.`);
  }
  if (!p.complete) lines.push(`Counted from the first ${p.files_looked_at} of ${p.files_total} customer files.`);
  const first = p.samples?.[0];
  if (first) lines.push(`For example, to \u2068${first.name || first.customer_id}\u2069 on ${first.channel}: “\u2068${first.text}\u2069”`);
  return lines;
}

export function mountCampaigns({ notice }) {
  const btn = $('#campaigns-btn');
  const view = $('#campaigns-view');
  const layout = $('.layout');
  let allowed = false;
  const campaigns = new Map(); // id -> view
  const rows = new Map();      // id -> <tr>
  const body = h('tbody', {});
  const table = h('table', { class: 'admin-table campaign-table', id: 'campaign-table' },
    h('caption', {}, 'Campaigns (live)'),
    h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Status', ...COUNTS.map(([, t]) => t), 'Skipped', ''].map((x) => h('th', { scope: 'col' }, x)))),
    body);

  const statusText = (c) => {
    if (c.status === 'running' && c.quiet_until) return `quiet hours until ${new Date(c.quiet_until).toLocaleTimeString()}`;
    if (c.status === 'running' && c.next_scan_at) return `waiting (next look ${new Date(c.next_scan_at).toLocaleTimeString()})`;
    if (c.status === 'scheduled') return `scheduled ${new Date(c.start_at).toLocaleString()}`;
    return c.status;
  };

  const act = (c, action) => async () => {
    if (action === 'cancel' && !await confirmAction({ title: 'Cancel this campaign?', ok: 'Cancel campaign', cancel: 'Keep it',
      danger: true, text: [['Cancel the campaign ', h('bdi', {}, c.name ?? c.id), '?'],
        'This is final: it cannot be resumed. Messages already queued still go out.'] })) return;
    try {
      update(await call(`/api/v1/admin/campaigns/${enc(c.id)}/${action}`, { method: 'POST' }));
    } catch (e) { notice(e.message); }
  };

  function rowOf(c) {
    const s = c.stats ?? {};
    const skipped = SKIPS.reduce((n, [k]) => n + (s[k] ?? 0), 0);
    const buttons = [];
    if (c.status === 'running' || c.status === 'scheduled') buttons.push(h('button', { type: 'button', onclick: act(c, 'pause') }, 'Pause'));
    if (c.status === 'paused') buttons.push(h('button', { type: 'button', onclick: act(c, 'resume') }, 'Resume'));
    if (['running', 'scheduled', 'paused'].includes(c.status))
      buttons.push(h('button', { type: 'button', onclick: act(c, 'cancel') }, 'Cancel'));
    return h('tr', { dataset: { campaign: c.id, status: c.status } },
      h('td', {}, h('bdi', {}, c.name ?? c.id)),
      h('td', {}, KINDS.find(([k]) => k === c.kind)?.[1] ?? c.kind),
      h('td', { class: 'campaign-status' }, statusText(c)),
      ...COUNTS.map(([k]) => h('td', { class: 'num', dataset: { stat: k } }, String(s[k] ?? 0))),
      h('td', { class: 'num', dataset: { stat: 'skipped' }, title: SKIPS.map(([k, t]) => `${t}: ${s[k] ?? 0}`).join(', ') }, String(skipped)),
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

  const today = new Date().toISOString().slice(0, 10);
  const fields = [
    ['name', 'Name', { required: true }],
    ['kind', 'Kind', { options: KINDS }],
    ['occasion', 'Occasion', { options: [['date', 'A date'], ['nowruz', 'Nowruz'], ['yalda', 'Yalda']] }],
    ['date', 'Date (occasion)', { type: 'date', value: today }],
    ['days', 'Days (after the purchase / before the warranty ends)', { type: 'number', value: '7' }],
    ['text_fa', 'Text, Persian', { textarea: true, dir: 'rtl' }],
    ['text_ar', 'Text, Arabic', { textarea: true, dir: 'rtl' }],
    ['text_en', 'Text, English', { textarea: true, dir: 'ltr' }],
    ['fallback', 'Fallback languages (e.g. fa, en)'],
    ['code', 'Offer code ({code})'],
    ['tags', 'Audience: tags (any of)'],
    ['languages', 'Audience: languages'],
    ['channels', 'Audience: channels'],
    ['products', 'Audience: products'],
    ['template_name', 'WhatsApp template (outside the 24-hour window)'],
    ['template_language', 'Template language'],
    ['template_params', 'Template parameters (e.g. {name}, {code})'],
    ['rate', 'Messages per second', { type: 'number' }],
  ];
  const form = h('form', { class: 'admin-form', id: 'campaign-form' });
  for (const [name, label, o = {}] of fields) {
    const id = `campaign-${name}`;
    let control;
    if (o.options) control = h('select', { id, name }, o.options.map(([v, t]) => h('option', { value: v }, t)));
    else if (o.textarea) control = h('textarea', { id, name, rows: 2, dir: o.dir ?? 'auto' });
    else control = h('input', { id, name, type: o.type ?? 'text', dir: o.type ? null : 'auto', autocomplete: 'off', required: o.required || null, step: o.type === 'number' ? 'any' : null });
    if (o.value) control.defaultValue = o.value; // the default, so form.reset() comes back to it
    form.append(h('label', { for: id }, label), control);
  }
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create campaign');
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
      if (!await confirmAction({ title: 'Create and send this campaign?', ok: 'Create campaign', text })) return;
      update(await call('/api/v1/admin/campaigns', { method: 'POST', body: req }));
      form.reset(); // a second click must not send the same campaign again
      notice('Campaign created.', 'ok');
    } catch (err) { error.textContent = err.message; error.hidden = false; } finally { submit.disabled = false; }
  });
  view.append(h('h2', { id: 'campaigns-title' }, 'Campaigns'), table, h('h3', {}, 'New campaign'),
    h('p', { class: 'muted' }, 'Placeholders: {name} {product} {code} {order_id} {serial} {purchase_date} {warranty_end}. ' +
      'Opted-out customers are never messaged; nothing is sent in quiet hours.'), form);

  async function load() {
    try {
      const { campaigns: list } = await call('/api/v1/admin/campaigns');
      body.replaceChildren();
      rows.clear();
      campaigns.clear();
      for (const c of [...list].reverse()) update(c);
    } catch (e) { notice(`Cannot load the campaigns: ${e.message}`); }
  }

  const others = [['#admin-view', '#admin-btn'], ['#reports-view', '#reports-btn']];
  function open(on) {
    if (on && !allowed) { notice('Campaigns need the admin role.'); on = false; }
    view.hidden = !on;
    btn.setAttribute('aria-pressed', String(on));
    if (on) {
      for (const [v, b] of others) { if ($(v)) $(v).hidden = true; $(b)?.setAttribute('aria-pressed', 'false'); }
      layout.hidden = true;
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
      btn.hidden = !allowed;
      if (!allowed) { view.hidden = true; btn.setAttribute('aria-pressed', 'false'); }
      if (role) fromHash();
    },
    // A "campaign" event from the agent socket.
    onEvent(frame) { if (allowed && frame.campaign) update({ ...frame.campaign, at: frame.at }); },
    get open() { return !view.hidden; },
  };
}
