// Admin pages (admin role only; the server refuses the routes to agents with
// 403 too): agents, teams, business hours, canned responses.
import { api, routing } from '../api.js';
import { $, h } from './dom.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const csv = (v) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

// A form from field specs: { name, label, type?, options?, value?, required? }.
function formOf(id, fields, submitLabel, onSubmit) {
  const form = h('form', { class: 'admin-form', id });
  for (const f of fields) {
    const fid = `${id}-${f.name}`;
    let control;
    if (f.options) {
      control = h('select', { id: fid, name: f.name }, f.options.map((o) => h('option', { value: o, selected: o === f.value || null }, o)));
    } else if (f.type === 'textarea') {
      control = h('textarea', { id: fid, name: f.name, rows: 3, dir: 'auto', required: f.required || null });
      control.value = f.value ?? '';
    } else {
      control = h('input', { id: fid, name: f.name, type: f.type ?? 'text', dir: f.type ? null : 'auto',
        required: f.required || null, autocomplete: 'off', placeholder: f.placeholder ?? null });
      control.value = f.value ?? '';
    }
    form.append(h('label', { for: fid }, f.label), control);
  }
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  form.append(error, h('button', { type: 'submit', class: 'primary' }, submitLabel));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try { await onSubmit(Object.fromEntries(new FormData(form))); } catch (err) { error.textContent = err.message; error.hidden = false; }
  });
  return form;
}

function table(caption, headers, rows) {
  return h('table', { class: 'admin-table' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'None yet.'))));
}

const button = (label, onclick, extra = {}) => h('button', { type: 'button', onclick, ...extra }, label);

export function mountAdmin({ notice, onCannedChanged }) {
  const btn = $('#admin-btn');
  const view = $('#admin-view');
  const layout = $('.layout');
  const tabs = $('#admin-tabs');
  const page = $('#admin-page');
  let current = 'agents';
  let admin = false;

  const guarded = (fn) => async (...args) => {
    try { await fn(...args); } catch (e) { notice(e.message); }
  };

  async function agentsPage() {
    const agents = await routing.agents();
    const rows = agents.map((a) => [h('bdi', {}, a.name ?? ''), a.login ?? '', a.role ?? '', (a.teams ?? [a.team]).filter(Boolean).join(', '),
      String(a.capacity ?? ''), a.status ?? '',
      button('Delete', guarded(async () => { await routing.deleteAgent(a.id); show('agents'); }), { 'aria-label': `Delete ${a.login}` })]);
    return [table('Agents', ['Name', 'Login', 'Role', 'Teams', 'Capacity', 'Status', ''], rows),
      h('h3', {}, 'Add or change an agent'),
      formOf('agent-form', [
        { name: 'login', label: 'Login', required: true },
        { name: 'name', label: 'Name' },
        { name: 'password', label: 'Password (new agents, or to change it)', type: 'password' },
        { name: 'role', label: 'Role', options: ['agent', 'admin'], value: 'agent' },
        { name: 'teams', label: 'Teams (comma-separated)', value: 'support' },
        { name: 'capacity', label: 'Capacity', type: 'number', value: '5' },
      ], 'Save agent', async (f) => {
        const existing = agents.find((a) => a.login === f.login);
        const body = { name: f.name || f.login, role: f.role, teams: csv(f.teams), capacity: Number(f.capacity) || 0,
          ...(f.password ? { password: f.password } : {}) };
        await routing.saveAgent(existing ? { id: existing.id, ...body } : { login: f.login, ...body }, !existing);
        show('agents');
      })];
  }

  async function teamsPage() {
    const teams = await routing.teams();
    const rows = teams.map((t) => [t.id, h('bdi', {}, t.name ?? ''), t.strategy ?? '', (t.skills ?? []).join(', '),
      (t.languages ?? []).join(', '),
      button('Delete', guarded(async () => { await routing.deleteTeam(t.id); show('teams'); }), { 'aria-label': `Delete team ${t.id}` })]);
    return [table('Teams', ['Id', 'Name', 'Strategy', 'Skills', 'Languages', ''], rows),
      h('h3', {}, 'Add or change a team'),
      formOf('team-form', [
        { name: 'id', label: 'Id', required: true },
        { name: 'name', label: 'Name' },
        { name: 'strategy', label: 'Assignment', options: ['least_loaded', 'round_robin'], value: 'least_loaded' },
        { name: 'skills', label: 'Skills (comma-separated: warranty, returns, repair…)' },
        { name: 'languages', label: 'Languages (fa, ar, en)' },
      ], 'Save team', async (f) => {
        const old = teams.find((t) => t.id === f.id) ?? {};
        await routing.saveTeam({ ...old, id: f.id, name: f.name || f.id, strategy: f.strategy, skills: csv(f.skills),
          languages: csv(f.languages) }, !old.id);
        show('teams');
      })];
  }

  async function hoursPage() {
    const teams = await routing.teams();
    return teams.map((t) => {
      const hours = t.hours ?? {};
      return h('section', { class: 'admin-card' }, h('h3', {}, `Team `, h('bdi', {}, t.name || t.id)),
        formOf(`hours-${t.id}`, [
          { name: 'timezone', label: 'Time zone (e.g. Asia/Tehran)', value: hours.timezone ?? '' },
          ...DAYS.map((d) => ({ name: d, label: `${d} (HH:MM-HH:MM, comma-separated)`, value: (hours.weekly?.[d] ?? []).join(', ') })),
          { name: 'holidays', label: 'Holidays (YYYY-MM-DD, comma-separated, e.g. Nowruz)', type: 'textarea', value: (hours.holidays ?? []).join(', ') },
        ], 'Save hours', async (f) => {
          const weekly = Object.fromEntries(DAYS.map((d) => [d, csv(f[d])]).filter(([, v]) => v.length));
          const next = f.timezone ? { timezone: f.timezone, weekly, holidays: csv(f.holidays) } : null;
          await routing.saveTeam({ ...t, hours: next });
          notice(`Business hours of ${t.id} saved.`, 'ok');
        }));
    });
  }

  async function cannedPage() {
    const { canned } = await api.canned();
    let editing = null;
    const form = formOf('canned-form', [
      { name: 'shortcut', label: 'Shortcut (typed after /)', required: true, placeholder: 'warranty' },
      { name: 'title', label: 'Title' },
      { name: 'text', label: 'Text', type: 'textarea', required: true },
    ], 'Save response', async (f) => {
      await api.saveCanned({ id: editing, ...f });
      onCannedChanged();
      show('canned');
    });
    const rows = canned.map((c) => [`/${c.shortcut}`, h('bdi', {}, c.title), h('span', { dir: 'auto', class: 'canned-text' }, c.text),
      h('span', {}, button('Edit', () => {
        editing = c.id;
        for (const k of ['shortcut', 'title', 'text']) form.elements[k].value = c[k];
        form.elements.shortcut.focus();
      }, { 'aria-label': `Edit /${c.shortcut}` }), ' ',
      button('Delete', guarded(async () => { await api.deleteCanned(c.id); onCannedChanged(); show('canned'); }),
        { 'aria-label': `Delete /${c.shortcut}` }))]);
    return [table('Canned responses', ['Shortcut', 'Title', 'Text', ''], rows), h('h3', {}, 'Add or change a response'), form];
  }

  const PAGES = { agents: ['Agents', agentsPage], teams: ['Teams', teamsPage], hours: ['Business hours', hoursPage],
    canned: ['Canned responses', cannedPage] };
  for (const [name, [label]] of Object.entries(PAGES))
    tabs.append(h('button', { type: 'button', class: 'filter', dataset: { page: name }, 'aria-pressed': 'false', onclick: () => show(name) }, label));

  async function show(name) {
    current = name;
    for (const b of tabs.children) b.setAttribute('aria-pressed', String(b.dataset.page === name));
    page.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const content = await PAGES[name][1]();
      if (current === name) page.replaceChildren(h('h2', {}, PAGES[name][0]), ...content);
    } catch (e) {
      page.replaceChildren(h('p', { class: 'error', role: 'alert' },
        e.status === 403 ? 'This page needs the admin role.' : `Cannot load ${PAGES[name][0].toLowerCase()}: ${e.message}`));
    }
  }

  function open(on) {
    if (on && !admin) { notice('The admin pages need the admin role.'); on = false; }
    view.hidden = !on;
    layout.hidden = on;
    btn.setAttribute('aria-pressed', String(on));
    if (on) { show(current); view.focus(); }
  }
  btn.addEventListener('click', () => open(view.hidden));
  const fromHash = () => { if (location.hash.startsWith('#/admin')) open(true); };
  window.addEventListener('hashchange', fromHash);

  return {
    setRole(role) {
      admin = role === 'admin';
      btn.hidden = !admin;
      if (!admin) { view.hidden = true; layout.hidden = false; page.replaceChildren(); }
      if (role) fromHash();
    },
    get open() { return !view.hidden; },
  };
}
