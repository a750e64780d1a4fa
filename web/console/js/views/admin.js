// Admin pages (admin role only; the server refuses the routes to agents with
// 403 too): agents, teams, business hours, canned responses.
import { api, routing } from '../api.js';
import { confirmAction } from './confirm.js';
import { $, h } from './dom.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const csv = (v) => String(v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const agentTeams = (a) => (a.teams ?? [a.team]).filter(Boolean);

// The PATCH body of an edited agent: only what differs from its current values
// (the password only when typed), so untouched fields are never overwritten.
export function agentChanges(current, f) {
  const out = {};
  const name = String(f.name ?? '').trim();
  if (name && name !== current.name) out.name = name;
  if (f.role && f.role !== current.role) out.role = f.role;
  const teams = csv(f.teams);
  if (teams.length && teams.join(',') !== agentTeams(current).join(',')) out.teams = teams;
  // Anything typed that differs goes as a number; the server says what it accepts.
  if (String(f.capacity ?? '').trim() !== '' && Number(f.capacity) !== current.capacity) out.capacity = Number(f.capacity);
  if (f.password) out.password = f.password;
  return out;
}

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
      control.defaultValue = f.value ?? ''; // the default, so form.reset() comes back to it
    } else {
      control = h('input', { id: fid, name: f.name, type: f.type ?? 'text', dir: f.type ? null : 'auto',
        required: f.required || null, autocomplete: 'off', placeholder: f.placeholder ?? null });
      control.defaultValue = f.value ?? '';
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

  // The form below a table adds an item or, after its Edit button (or typing
  // an existing key), changes that item starting from its current values.
  function editMode(form, { key, heading, addTitle, editTitle, fill }) {
    let editing = null;
    const submit = form.querySelector('button[type="submit"]');
    const addLabel = submit.textContent;
    const stop = h('button', { type: 'button', class: 'edit-cancel', hidden: true, onclick: () => set(null) }, 'Cancel editing');
    submit.after(' ', stop);
    function set(item) {
      editing = item;
      if (!item) form.reset();
      else fill(item);
      form.elements[key].readOnly = !!item;
      heading.textContent = item ? editTitle(item) : addTitle;
      submit.textContent = item ? 'Save changes' : addLabel;
      stop.hidden = !item;
      form.querySelector('.error').hidden = true;
    }
    return { set, get editing() { return editing; } };
  }

  async function agentsPage() {
    const agents = await routing.agents();
    const heading = h('h3', {}, 'Add an agent');
    const form = formOf('agent-form', [
      { name: 'login', label: 'Login', required: true },
      { name: 'name', label: 'Name' },
      { name: 'password', label: 'Password (new agents, or to change it)', type: 'password' },
      { name: 'role', label: 'Role', options: ['agent', 'admin'], value: 'agent' },
      { name: 'teams', label: 'Teams (comma-separated)', value: 'support' },
      { name: 'capacity', label: 'Capacity', type: 'number', value: '5' },
    ], 'Save agent', async (f) => {
      const current = mode.editing;
      if (current) {
        const changes = agentChanges(current, f);
        if (!Object.keys(changes).length) throw new Error('Nothing changed.');
        await routing.saveAgent({ id: current.id, ...changes }, false);
      } else {
        await routing.saveAgent({ login: f.login, name: f.name || f.login, role: f.role, teams: csv(f.teams),
          capacity: Number(f.capacity) || 0, ...(f.password ? { password: f.password } : {}) }, true);
      }
      show('agents');
    });
    const mode = editMode(form, { key: 'login', heading, addTitle: 'Add an agent',
      editTitle: (a) => `Change agent ${a.login} (only the fields you change are saved)`,
      fill: (a) => {
        const e = form.elements;
        e.login.value = a.login; e.name.value = a.name ?? ''; e.password.value = '';
        e.role.value = a.role || 'agent'; e.teams.value = agentTeams(a).join(', '); e.capacity.value = String(a.capacity ?? '');
      } });
    // Typing the login of an existing agent edits that agent, not a new one with defaults.
    form.elements.login.addEventListener('change', () => {
      const a = agents.find((x) => x.login === form.elements.login.value.trim());
      if (a && !mode.editing) mode.set(a);
    });
    const rows = agents.map((a) => [h('bdi', {}, a.name ?? ''), a.login ?? '', a.role ?? '', agentTeams(a).join(', '),
      String(a.capacity ?? ''), a.status ?? '',
      h('span', {}, button('Edit', () => { mode.set(a); form.elements.name.focus(); }, { 'aria-label': `Edit ${a.login}` }), ' ',
        button('Delete', guarded(async () => {
          const ok = await confirmAction({ title: 'Delete this agent?', ok: 'Delete agent', danger: true,
            text: [['Delete agent ', h('bdi', {}, a.name || a.login), ` (${a.login})?`],
              'Their open conversations go back to the queue and they are signed out. This cannot be undone.'] });
          if (!ok) return;
          await routing.deleteAgent(a.id);
          show('agents');
        }), { 'aria-label': `Delete ${a.login}` }))]);
    return [table('Agents', ['Name', 'Login', 'Role', 'Teams', 'Capacity', 'Status', ''], rows), heading, form];
  }

  async function teamsPage() {
    const teams = await routing.teams();
    const heading = h('h3', {}, 'Add a team');
    const form = formOf('team-form', [
      { name: 'id', label: 'Id', required: true },
      { name: 'name', label: 'Name' },
      { name: 'strategy', label: 'Assignment', options: ['least_loaded', 'round_robin'], value: 'least_loaded' },
      { name: 'skills', label: 'Skills (comma-separated: warranty, returns, repair…)' },
      { name: 'languages', label: 'Languages (fa, ar, en)' },
    ], 'Save team', async (f) => {
      // PUT replaces the definition: hours, SLA and closed message come from the current one.
      const old = mode.editing ?? {};
      await routing.saveTeam({ ...old, id: f.id, name: f.name || f.id, strategy: f.strategy, skills: csv(f.skills),
        languages: csv(f.languages) }, !old.id);
      show('teams');
    });
    const mode = editMode(form, { key: 'id', heading, addTitle: 'Add a team', editTitle: (t) => `Change team ${t.id}`,
      fill: (t) => {
        const e = form.elements;
        e.id.value = t.id; e.name.value = t.name ?? ''; e.strategy.value = t.strategy || 'least_loaded';
        e.skills.value = (t.skills ?? []).join(', '); e.languages.value = (t.languages ?? []).join(', ');
      } });
    form.elements.id.addEventListener('change', () => {
      const t = teams.find((x) => x.id === form.elements.id.value.trim());
      if (t && !mode.editing) mode.set(t);
    });
    const rows = teams.map((t) => [t.id, h('bdi', {}, t.name ?? ''), t.strategy ?? '', (t.skills ?? []).join(', '),
      (t.languages ?? []).join(', '),
      h('span', {}, button('Edit', () => { mode.set(t); form.elements.name.focus(); }, { 'aria-label': `Edit team ${t.id}` }), ' ',
        button('Delete', guarded(async () => {
          const ok = await confirmAction({ title: 'Delete this team?', ok: 'Delete team', danger: true,
            text: [['Delete team ', h('bdi', {}, t.name || t.id), ` (${t.id})?`],
              'Its agents stay but no longer get its conversations, and its business hours and SLA are lost.'] });
          if (!ok) return;
          await routing.deleteTeam(t.id);
          show('teams');
        }), { 'aria-label': `Delete team ${t.id}` }))]);
    return [table('Teams', ['Id', 'Name', 'Strategy', 'Skills', 'Languages', ''], rows), heading, form];
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
      button('Delete', guarded(async () => {
        const ok = await confirmAction({ title: 'Delete this canned response?', ok: 'Delete response', danger: true,
          text: [['Delete the canned response ', h('bdi', {}, `/${c.shortcut}`), c.title ? [' (', h('bdi', {}, c.title), ')'] : '', '?'],
            'Agents can no longer pick it with /.'] });
        if (!ok) return;
        await api.deleteCanned(c.id);
        onCannedChanged();
        show('canned');
      }), { 'aria-label': `Delete /${c.shortcut}` }))]);
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
