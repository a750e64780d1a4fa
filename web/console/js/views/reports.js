// The reports dashboard (admin role; GET /api/v1/reports/summary): a period
// picker with filters, the headline figures, conversations and first
// response per day (or week) as lines, conversations by channel and by agent
// as bars, the agents' workload table and a CSV download of the same report.
import { call, routing, session } from '../api.js';
import { $, h } from './dom.js';
import { formatDuration, formatPercent, svgBarChart, svgLineChart } from './charts.js';

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

// The summary's query string: `to` is the day after the last day shown.
export function reportQuery({ from, to, group, channel, team, agent, tz }, format) {
  const p = new URLSearchParams({ from, to: addDays(to, 1), group, tz });
  if (group === 'week') p.set('week_start', tz === 'Asia/Tehran' ? 'sat' : 'mon');
  for (const [k, v] of Object.entries({ channel, team, agent })) if (v) p.set(k, v);
  if (format) p.set('format', format);
  return p.toString();
}

const browserZone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; } };

export function mountReports({ notice }) {
  const btn = $('#reports-btn');
  const view = $('#reports-view');
  const layout = $('.layout');
  let allowed = false;
  let built = false;
  let csvUrl = '';
  let loading = 0;
  const known = { channels: new Set(), teams: [], agents: [] };

  const field = (id, text, control) => h('div', { class: 'report-field' }, h('label', { for: id }, text), control);
  const select = (id, options) => h('select', { id, name: id.replace('report-', '') }, options.map(([v, t]) => h('option', { value: v }, t)));
  const today = isoDate(new Date());
  const [defFrom, defTo] = presetRange('last30', today);
  const form = h('form', { id: 'report-form', class: 'report-form' },
    field('report-preset', 'Period', select('report-preset', [['last30', 'Last 30 days'], ['last7', 'Last 7 days'],
      ['this_month', 'This month'], ['last_month', 'Last month'], ['custom', 'Custom']])),
    field('report-from', 'From', h('input', { id: 'report-from', name: 'from', type: 'date', required: true, value: defFrom })),
    field('report-to', 'To (inclusive)', h('input', { id: 'report-to', name: 'to', type: 'date', required: true, value: defTo })),
    field('report-group', 'Group by', select('report-group', [['day', 'Day'], ['week', 'Week']])),
    field('report-channel', 'Channel', select('report-channel', [['', 'All channels']])),
    field('report-team', 'Team', select('report-team', [['', 'All teams']])),
    field('report-agent', 'Agent', select('report-agent', [['', 'All agents']])),
    h('div', { class: 'report-buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Show'),
      h('a', { id: 'report-csv', class: 'button-link', download: 'pasokh-report.csv', 'aria-disabled': 'true' }, 'Download CSV')));
  const status = h('p', { id: 'report-status', class: 'muted', role: 'status' });
  const kpis = h('dl', { id: 'report-kpis', class: 'kpis' });
  const line = h('figure', { id: 'report-line', class: 'report-chart wide' });
  const byChannel = h('figure', { id: 'report-by-channel', class: 'report-chart' });
  const byAgent = h('figure', { id: 'report-by-agent', class: 'report-chart' });
  const agentsTable = h('div', { id: 'report-agents' });
  const rules = h('details', { class: 'report-rules' }, h('summary', {}, 'How the figures are counted'));

  function build() {
    if (built) return;
    built = true;
    view.replaceChildren(h('h2', { id: 'reports-title' }, 'Reports'), form, status, kpis,
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
    sel.replaceChildren(h('option', { value: '' }, first), ...list.map(([v, t]) => h('option', { value: v }, t)));
    sel.value = list.some(([v]) => v === keep) ? keep : '';
  }

  async function loadChoices() {
    try {
      [known.teams, known.agents] = await Promise.all([routing.teams(), routing.agents()]);
      options(form.elements.team, 'All teams', known.teams.map((t) => [t.id, t.name || t.id]));
      options(form.elements.agent, 'All agents', known.agents.map((a) => [a.id, a.name || a.login]));
    } catch { /* the report still loads without the filter lists */ }
  }

  const params = () => ({ from: form.elements.from.value, to: form.elements.to.value, group: form.elements.group.value,
    channel: form.elements.channel.value, team: form.elements.team.value, agent: form.elements.agent.value, tz: browserZone() });

  async function load() {
    const p = params();
    if (!p.from || !p.to || p.from > p.to) { status.textContent = 'Choose a period: the first day before the last.'; return; }
    const mine = ++loading;
    status.textContent = 'Loading…';
    view.setAttribute('aria-busy', 'true');
    try {
      const report = await call(`/api/v1/reports/summary?${reportQuery(p)}`);
      if (mine !== loading) return;
      render(report, p);
      status.textContent = `${p.from} to ${p.to} (${p.tz}), ${report.conversations.total} conversations.`;
      await csvLink(p, mine);
    } catch (e) {
      if (mine !== loading) return;
      status.textContent = '';
      const text = e.status === 403 ? 'Reports need the admin role.' : `Cannot load the report: ${e.message}`;
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
    options(form.elements.channel, 'All channels', [...known.channels].sort().map((c) => [c, c]));
    const fr = r.first_response, res = r.resolution;
    kpis.replaceChildren(
      kpi('conversations', 'Conversations', String(r.conversations.total),
        r.repeat_contacts.customers ? `${r.repeat_contacts.customers} ${r.repeat_contacts.customers === 1 ? 'customer' : 'customers'}` +
          ' wrote more than once' : null),
      kpi('first_response', 'First response (median)', formatDuration(fr.median_ms), fr.count ? `p90 ${formatDuration(fr.p90_ms)}` : null),
      kpi('resolution', 'Resolution (median)', formatDuration(res.median_ms),
        res.count ? `${res.count} resolved${res.reopened ? `, ${res.reopened} after a reopen` : ''}` : null),
      kpi('csat', 'CSAT (average of 5)', r.csat.average == null ? '—' : Number(r.csat.average).toFixed(1),
        // Of the surveys sent in the period, how many were rated (X of Y, X <= Y); the average is of the ratings received in it.
        `${r.csat.asked_rated} of ${r.csat.asked} surveys sent rated; ${r.csat.responses} ${r.csat.responses === 1 ? 'rating' : 'ratings'} received`),
      kpi('deflection', 'Bot deflection', formatPercent(r.bot.deflection_rate), `${r.bot.deflected} of ${r.bot.conversations} bot conversations`),
      kpi('crr', 'Customer retention (CRR)', formatPercent(r.retention.crr),
        // CRR: the customers of the period before who wrote again in this one.
        `${r.retention.retained_customers} of ${r.retention.customers_at_start} came back; ` +
          `${r.retention.new_customers} new, ${r.retention.reactivated_customers} back after a pause`),
      kpi('sla', 'SLA met', formatPercent(r.sla.met_rate),
        `${r.sla.met} met, ${r.sla.breached} breached${r.sla.pending ? `, ${r.sla.pending} pending (not counted)` : ''}`));

    const points = r.series?.points ?? [];
    const unit = p.group === 'week' ? 'week' : 'day';
    line.replaceChildren(
      svgLineChart(points, [
        { key: 'conversations', name: 'conversations', axis: 'left', value: (v) => v.conversations,
          format: (y) => (Number.isInteger(y) ? String(y) : y.toFixed(1)) },
        // In minutes, so the axis gets round minute marks.
        { key: 'first_response', name: 'first response median', axis: 'right',
          value: (v) => (v.first_response_median_ms == null ? null : v.first_response_median_ms / 60000),
          format: (y, axis) => (axis ? `${Math.round(y)} min` : formatDuration(y * 60000)) },
      ], {
        title: `Conversations and first response per ${unit}`,
        desc: `${points.length} ${unit}s from ${p.from} to ${p.to}: ${r.conversations.total} conversations; ` +
          `first response median per ${unit} in business hours.`,
        xLabel: (v) => v.date,
      }),
      h('figcaption', {}, h('span', { class: 'legend legend-conversations' }, 'Conversations (left axis)'), ' ',
        h('span', { class: 'legend legend-first_response' }, 'First response median (right axis)')),
      h('details', {}, h('summary', {}, 'Data table'), h('table', { class: 'admin-table' },
        h('thead', {}, h('tr', {}, ['Date', 'Conversations', 'First response', 'Resolved', 'CSAT'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, points.map((v) => h('tr', {}, h('td', {}, v.date), h('td', {}, String(v.conversations)),
          h('td', {}, formatDuration(v.first_response_median_ms)), h('td', {}, String(v.resolved)),
          h('td', {}, v.csat_average == null ? '—' : String(v.csat_average))))))));

    const channels = Object.entries(r.conversations.by_channel).sort((a, b) => b[1] - a[1])
      .map(([k, v]) => ({ key: k, label: k, value: v }));
    byChannel.replaceChildren(svgBarChart(channels, { title: 'Conversations by channel',
      desc: channels.map((c) => `${c.label}: ${c.value}`).join(', ') || 'No conversations' }),
    h('figcaption', {}, 'Conversations by channel'));

    const agents = Object.entries(r.agents).sort((a, b) => b[1].conversations - a[1].conversations);
    const agentBars = agents.map(([id, a]) => ({ key: id, label: a.name || id, value: a.conversations,
      note: `${a.replies} replies, response median ${formatDuration(a.response_median_ms)}` }));
    byAgent.replaceChildren(svgBarChart(agentBars, { title: 'Conversations by agent',
      desc: agentBars.map((a) => `${a.label}: ${a.value} (${a.note})`).join(', ') || 'No agent activity' }),
    h('figcaption', {}, 'Conversations by agent'));

    agentsTable.replaceChildren(h('table', { class: 'admin-table report-agents' },
      h('caption', {}, 'Agents: workload and response times (business hours)'),
      h('thead', {}, h('tr', {}, ['Agent', 'Conversations', 'Replies', 'Resolved', 'First response', 'Response (median)',
        'Response (p90)', 'CSAT'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, agents.length ? agents.map(([id, a]) => h('tr', { dataset: { agent: id } }, h('td', {}, h('bdi', {}, a.name || id)),
        h('td', {}, String(a.conversations)), h('td', {}, String(a.replies)), h('td', {}, String(a.resolved)),
        h('td', {}, formatDuration(a.first_response_median_ms)), h('td', {}, formatDuration(a.response_median_ms)),
        h('td', {}, formatDuration(a.response_p90_ms)),
        h('td', {}, a.csat_average == null ? '—' : `${Number(a.csat_average).toFixed(1)} (${a.csat_responses})`)))
        : h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No agent activity in this period.')))));
    rules.replaceChildren(h('summary', {}, 'How the figures are counted'),
      h('ul', {}, Object.entries(r.rules ?? {}).map(([k, v]) => h('li', {}, h('strong', {}, k.replace('_', ' ')), `: ${v}`))));
  }

  function open(on) {
    if (on && !allowed) { notice('Reports need the admin role.'); on = false; }
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
