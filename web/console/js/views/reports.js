// The reports dashboard (admin role; GET /api/v1/reports/summary): a period
// picker with filters, the headline figures, conversations and first
// response per day (or week) as lines, conversations by channel and by agent
// as bars, the agents' workload table and a CSV download of the same report.
import { call, routing, session } from '../api.js';
import { $, h } from './dom.js';
import { removedName } from './inbox.js';
import { formatDuration, formatPercent, svgBarChart, svgLineChart } from './charts.js';
import { locale, num, t } from '../i18n.js';

const DAY = 86_400_000;
const enc = encodeURIComponent;

// YYYY-MM-DD of a local date, and the date n days later.
const isoDate = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  return isoDate(new Date(y, m - 1, d + n, 12));
}

// The preset periods as inclusive [from, to] dates, relative to `today`.
export function presetRange(name, today) {
  const [y, m] = today.split('-').map(Number);
  if (name === 'last7') return [addDays(today, -6), today];
  if (name === 'last30') return [addDays(today, -29), today];
  if (name === 'this_month') return [isoDate(new Date(y, m - 1, 1, 12)), today];
  if (name === 'last_month') return [isoDate(new Date(y, m - 2, 1, 12)), isoDate(new Date(y, m - 1, 0, 12))];
  return null;
}

// The summary's query string: `to` is the day after the last day shown. No tz: the server's
// zone (the shop's), which the answer names. Weeks start where the server says for the zone.
export function reportQuery({ from, to, group, channel, team, agent, tz }, format) {
  const p = new URLSearchParams({ from, to: addDays(to, 1), group });
  if (tz) p.set('tz', tz);
  for (const [k, v] of Object.entries({ channel, team, agent })) if (v) p.set(k, v);
  if (format) p.set('format', format);
  return p.toString();
}

// A day (YYYY-MM-DD) in the console's language and calendar: "27 Oct 2026", «۵ آبان ۱۴۰۵».
export function formatDay(iso) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(y, m - 1, d));
}

// The line under the form. Each value is isolated (FSI…PDI): in a right-to-left sentence
// a date or "Asia/Tehran" would otherwise be reordered with its neighbours.
const isolate = (s) => `\u2068${s}\u2069`;
export const periodText = ({ from, to, tz }, n) => t('rep.status', { from: isolate(formatDay(from)), to: isolate(formatDay(to)),
  tz: isolate(tz), n });

const browserZone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; } };

// The agent filter: the agents, then the removed ones the reports still name ("Layla (removed)").
export const agentChoices = ({ agents = [], removed = [] }) => [...agents.map((a) => [a.id, a.name || a.login]),
  ...removed.map((a) => [a.id, removedName(a)])];

export function mountReports({ notice }) {
  const btn = $('#reports-btn');
  const view = $('#reports-view');
  const layout = $('.layout');
  let allowed = false;
  let built = false;
  let csvUrl = '';
  let loading = 0;
  const known = { channels: new Set() };

  const field = (id, text, control) => h('div', { class: 'report-field' }, h('label', { for: id }, text), control);
  const select = (id, options) => h('select', { id, name: id.replace('report-', '') }, options.map(([v, text]) => h('option', { value: v }, text)));
  const today = isoDate(new Date());
  const [defFrom, defTo] = presetRange('last30', today);
  const form = h('form', { id: 'report-form', class: 'report-form' },
    field('report-preset', t('rep.period'), select('report-preset', ['last30', 'last7', 'this_month', 'last_month', 'custom']
      .map((k) => [k, t(`rep.${k}`)]))),
    field('report-from', t('rep.from'), h('input', { id: 'report-from', name: 'from', type: 'date', required: true, value: defFrom })),
    field('report-to', t('rep.to'), h('input', { id: 'report-to', name: 'to', type: 'date', required: true, value: defTo })),
    field('report-group', t('rep.groupBy'), select('report-group', [['day', t('rep.day')], ['week', t('rep.week')]])),
    field('report-channel', t('cust.channel'), select('report-channel', [['', t('rep.allChannels')]])),
    field('report-team', t('view.team'), select('report-team', [['', t('rep.allTeams')]])),
    field('report-agent', t('agent'), select('report-agent', [['', t('rep.allAgents')]])),
    // Empty until the first report names the server's zone; another can be typed.
    field('report-tz', t('rep.tz'), h('input', { id: 'report-tz', name: 'tz', list: 'report-tz-list', autocomplete: 'off', dir: 'ltr',
      size: 16, placeholder: t('rep.tzShop') })),
    h('datalist', { id: 'report-tz-list' }, [...new Set([browserZone(), 'UTC'])].map((z) => h('option', { value: z }))),
    h('div', { class: 'report-buttons' }, h('button', { type: 'submit', class: 'primary' }, t('rep.show')),
      h('a', { id: 'report-csv', class: 'button-link', download: 'pasokh-report.csv', 'aria-disabled': 'true' }, t('rep.csv'))));
  const status = h('p', { id: 'report-status', class: 'muted', role: 'status' });
  const kpis = h('dl', { id: 'report-kpis', class: 'kpis' });
  const line = h('figure', { id: 'report-line', class: 'report-chart wide' });
  const byChannel = h('figure', { id: 'report-by-channel', class: 'report-chart' });
  const byAgent = h('figure', { id: 'report-by-agent', class: 'report-chart' });
  const agentsTable = h('div', { id: 'report-agents' });
  const rules = h('details', { class: 'report-rules' }, h('summary', {}, t('rep.rules')));

  function build() {
    if (built) return;
    built = true;
    view.replaceChildren(h('h2', { id: 'reports-title' }, t('rep.title')), form, status, kpis,
      h('div', { class: 'report-charts' }, line, byChannel, byAgent), agentsTable, rules);
    form.elements.preset.addEventListener('change', () => {
      const r = presetRange(form.elements.preset.value, isoDate(new Date()));
      if (r) { [form.elements.from.value, form.elements.to.value] = r; load(); }
    });
    for (const name of ['from', 'to']) form.elements[name].addEventListener('input', () => { form.elements.preset.value = 'custom'; });
    form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  }

  function options(sel, first, list) {
    const keep = sel.value;
    sel.replaceChildren(h('option', { value: '' }, first), ...list.map(([v, text]) => h('option', { value: v }, text)));
    sel.value = list.some(([v]) => v === keep) ? keep : '';
  }

  async function loadChoices() {
    try {
      const [teams, directory] = await Promise.all([routing.teams(), routing.directory()]);
      options(form.elements.team, t('rep.allTeams'), teams.map((team) => [team.id, team.name || team.id]));
      options(form.elements.agent, t('rep.allAgents'), agentChoices(directory));
    } catch { /* the report still loads without the filter lists */ }
  }

  const params = () => ({ from: form.elements.from.value, to: form.elements.to.value, group: form.elements.group.value,
    channel: form.elements.channel.value, team: form.elements.team.value, agent: form.elements.agent.value,
    tz: form.elements.tz.value.trim() });

  async function load() {
    const p = params();
    if (!p.from || !p.to || p.from > p.to) { status.textContent = t('rep.badPeriod'); return; }
    const mine = ++loading;
    status.textContent = t('loading');
    view.setAttribute('aria-busy', 'true');
    try {
      const report = await call(`/api/v1/reports/summary?${reportQuery(p)}`);
      if (mine !== loading) return;
      // This load's CSV and later loads ask for the zone the answer names (its weeks too).
      if (!p.tz) form.elements.tz.value = p.tz = report.tz;
      render(report, p);
      status.textContent = periodText(p, report.conversations.total);
      await csvLink(p, mine);
    } catch (e) {
      if (mine !== loading) return;
      status.textContent = '';
      const text = e.status === 403 ? t('rep.adminOnly') : t('rep.failed', { error: e.message });
      kpis.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
      notice(text);
    } finally {
      if (mine === loading) view.removeAttribute('aria-busy');
    }
  }

  // The CSV of the same query, fetched with the session's token and offered as a file.
  async function csvLink(p, mine) {
    const a = $('#report-csv');
    const res = await fetch(`/api/v1/reports/summary?${reportQuery(p, 'csv')}`,
      { headers: { authorization: `Bearer ${session.load()?.token ?? ''}` } });
    if (!res.ok || mine !== loading) return;
    const blob = await res.blob();
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(blob);
    a.href = csvUrl;
    a.download = `pasokh-report-${p.from}-${p.to}.csv`;
    a.removeAttribute('aria-disabled');
  }

  function kpi(key, label, value, note) {
    return h('div', { class: 'kpi', dataset: { kpi: key } }, h('dt', {}, label),
      h('dd', {}, h('span', { class: 'kpi-value' }, value), note ? h('span', { class: 'kpi-note' }, note) : null));
  }

  function render(r, p) {
    for (const c of Object.keys(r.conversations.by_channel)) known.channels.add(c);
    options(form.elements.channel, t('rep.allChannels'), [...known.channels].sort().map((c) => [c, c]));
    const fr = r.first_response, res = r.resolution;
    kpis.replaceChildren(
      kpi('conversations', t('p.conversations'), num(r.conversations.total),
        r.repeat_contacts.customers ? t('rep.repeat', { n: r.repeat_contacts.customers }) : null),
      kpi('first_response', t('rep.firstMedian'), formatDuration(fr.median_ms), fr.count ? `p90 ${formatDuration(fr.p90_ms)}` : null),
      kpi('resolution', t('rep.resolutionMedian'), formatDuration(res.median_ms),
        res.count ? t('rep.resolved', { n: res.count }) + (res.reopened ? t('rep.afterReopen', { n: res.reopened }) : '') : null),
      kpi('csat', t('rep.csat'), r.csat.average == null ? '—' : Number(r.csat.average).toFixed(1),
        // Of the surveys sent in the period, how many were rated (X of Y, X <= Y); the average is of the ratings received in it.
        t('rep.csatNote', { rated: r.csat.asked_rated, asked: r.csat.asked, n: r.csat.responses }) +
        // Comments that complain about the service (closed with a thank-you): cases to read.
        (r.csat.complaints ? t('rep.csatComplaints', { n: r.csat.complaints }) : '')),
      kpi('deflection', t('rep.deflection'), formatPercent(r.bot.deflection_rate), t('rep.deflectionNote', { deflected: r.bot.deflected, n: r.bot.conversations })),
      kpi('crr', t('rep.crr'), formatPercent(r.retention.crr),
        // CRR: the customers of the period before who wrote again in this one.
        t('rep.crrNote', { retained: r.retention.retained_customers, start: r.retention.customers_at_start,
          new: r.retention.new_customers, back: r.retention.reactivated_customers })),
      kpi('sla', t('rep.sla'), formatPercent(r.sla.met_rate),
        t('rep.slaNote', { met: r.sla.met, breached: r.sla.breached }) + (r.sla.pending ? t('rep.slaPending', { n: r.sla.pending }) : '')));

    const points = r.series?.points ?? [];
    const unit = p.group === 'week' ? 'week' : 'day';
    line.replaceChildren(
      svgLineChart(points, [
        { key: 'conversations', name: 'conversations', axis: 'left', value: (v) => v.conversations,
          format: (y) => (Number.isInteger(y) ? String(y) : y.toFixed(1)) },
        // In minutes, so the axis gets round minute marks.
        { key: 'first_response', name: 'first response median', axis: 'right',
          value: (v) => (v.first_response_median_ms == null ? null : v.first_response_median_ms / 60000),
          format: (y, axis) => (axis ? t('dur.min', { n: Math.round(y) }) : formatDuration(y * 60000)) },
      ], {
        title: t(`rep.lineTitle.${unit}`),
        desc: t(`rep.lineDesc.${unit}`, { n: points.length, from: p.from, to: p.to, total: r.conversations.total }),
        xLabel: (v) => v.date,
      }),
      h('figcaption', {}, h('span', { class: 'legend legend-conversations' }, t('rep.legendConv')), ' ',
        h('span', { class: 'legend legend-first_response' }, t('rep.legendFirst'))),
      h('details', {}, h('summary', {}, t('rep.dataTable')), h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, [t('rep.date'), t('p.conversations'), t('rep.firstResponse'), t('rep.resolvedCol'), 'CSAT'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, points.map((v) => h('tr', {}, h('td', {}, formatDay(v.date)), h('td', {}, String(v.conversations)),
          h('td', {}, formatDuration(v.first_response_median_ms)), h('td', {}, String(v.resolved)),
          h('td', {}, v.csat_average == null ? '—' : String(v.csat_average))))))));

    const channels = Object.entries(r.conversations.by_channel).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => ({ key: k, label: k, value: v }));
    byChannel.replaceChildren(svgBarChart(channels, { title: t('rep.byChannel'),
      desc: channels.map((c) => `${c.label}: ${c.value}`).join(', ') || t('rep.noConversations') }),
    h('figcaption', {}, t('rep.byChannel')));

    const agents = Object.entries(r.agents).sort((a, b) => b[1].conversations - a[1].conversations);
    const agentBars = agents.map(([id, a]) => ({ key: id, label: a.name || id, value: a.conversations,
      note: t('rep.agentNote', { n: a.replies, median: formatDuration(a.response_median_ms) }) }));
    byAgent.replaceChildren(svgBarChart(agentBars, { title: t('rep.byAgent'),
      desc: agentBars.map((a) => `${a.label}: ${a.value} (${a.note})`).join(', ') || t('rep.noActivity') }),
    h('figcaption', {}, t('rep.byAgent')));

    agentsTable.replaceChildren(h('table', { class: 'admin-table report-agents' },
      h('caption', {}, t('rep.agentsCaption')),
      h('thead', {}, h('tr', {}, [t('agent'), t('p.conversations'), t('rep.replies'), t('rep.resolvedCol'), t('rep.firstResponse'), t('rep.responseMedian'),
        t('rep.responseP90'), 'CSAT'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, agents.length ? agents.map(([id, a]) => h('tr', { dataset: { agent: id } }, h('td', {}, h('bdi', {}, a.name || id)),
        h('td', {}, String(a.conversations)), h('td', {}, String(a.replies)), h('td', {}, String(a.resolved)),
        h('td', {}, formatDuration(a.first_response_median_ms)), h('td', {}, formatDuration(a.response_median_ms)),
        h('td', {}, formatDuration(a.response_p90_ms)),
        h('td', {}, a.csat_average == null ? '—' : `${Number(a.csat_average).toFixed(1)} (${a.csat_responses})`)))
        : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, t('rep.noActivityPeriod'))))));
    rules.replaceChildren(h('summary', {}, t('rep.rules')),
      h('ul', {}, Object.entries(r.rules ?? {}).map(([k, v]) => h('li', {}, h('strong', {}, k.replace('_', ' ')), `: ${v}`))));
  }

  function open(on) {
    if (on && !allowed) { notice(t('rep.adminOnly')); on = false; }
    view.hidden = !on;
    btn.setAttribute('aria-pressed', String(on));
    if (on) {
      $('#admin-view').hidden = true;
      $('#admin-btn').setAttribute('aria-pressed', 'false');
      layout.hidden = true;
      build();
      loadChoices();
      load();
      view.focus();
    } else if ($('#admin-view').hidden) {
      layout.hidden = false;
    }
  }
  btn.addEventListener('click', () => open(view.hidden));
  $('#admin-btn').addEventListener('click', () => { if (!view.hidden) { view.hidden = true; btn.setAttribute('aria-pressed', 'false'); } });
  const fromHash = () => { if (location.hash.startsWith('#/reports')) open(true); };
  window.addEventListener('hashchange', fromHash);

  return {
    setRole(role) {
      allowed = role === 'admin';
      btn.hidden = !allowed;
      if (!allowed) { view.hidden = true; btn.setAttribute('aria-pressed', 'false'); view.replaceChildren(); built = false; }
      if (role) fromHash();
    },
    get open() { return !view.hidden; },
  };
}
