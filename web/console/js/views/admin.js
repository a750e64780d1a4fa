// Admin pages (admin role only; the server refuses the routes to agents with
// 403 too): agents, teams (with their SLA and closed-hours message), business
// hours, canned responses.
import { api, routing } from '../api.js';
import { confirmAction } from './confirm.js';
import { $, h } from './dom.js';

// The Iranian week: Saturday first, Friday (the weekend) last. Keys as the API has them.
export const DAYS = [['sat', 'Saturday'], ['sun', 'Sunday'], ['mon', 'Monday'], ['tue', 'Tuesday'],
  ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday']];
const DAY_NAME = Object.fromEntries(DAYS);
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


// --- SLA targets and the closed-hours message -------------------------------

// The API's SLA keys (seconds; 0 is no target), their labels and the unit a new team starts with.
export const SLA_FIELDS = [
  { key: 'first_response_s', name: 'first_response', label: 'First response', unit: 60 },
  { key: 'resolution_s', name: 'resolution', label: 'Resolution', unit: 3600 },
  { key: 'warn_before_s', name: 'warn_before', label: 'Warn before', unit: 60 },
];
export const CLOSED_LANGS = [['fa', 'Persian (fa)'], ['ar', 'Arabic (ar)'], ['en', 'English (en)']];
const UNITS = [['60', 'minutes'], ['3600', 'hours']];

// Persian and Arabic-Indic digits as ASCII, and the decimal separators written in Iran (٫ / ,) as a
// point, so "۱٫۵" and "۱/۵" are 1.5.
const asciiDigits = (s) => String(s ?? '').trim()
  .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06F0))
  .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
  .replace(/[\u066B/,]/g, '.');

// "15" minutes -> 900 seconds; empty -> 0 (no target); NaN when it is not a number of 0 or more.
export function toSeconds(text, unit) {
  const t = asciiDigits(text);
  if (t === '') return 0;
  if (!/^\d*\.?\d+$|^\d+\.$/.test(t)) return NaN;
  return Math.round(Number(t) * Number(unit));
}

// Seconds -> what the form shows: whole hours in hours, anything else in minutes; 0 is empty.
export function fromSeconds(s, defaultUnit = 60) {
  s = Number(s) || 0;
  if (s <= 0) return { value: '', unit: String(defaultUnit) };
  if (s % 3600 === 0) return { value: String(s / 3600), unit: '3600' };
  return { value: String(Math.round((s / 60) * 100) / 100), unit: '60' };
}

// 900 -> "15 min", 28800 -> "8 h", 5400 -> "90 min".
export function formatDuration(s) {
  s = Number(s) || 0;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return s > 60 ? `${Math.round(s / 6) / 10} min` : `${s} s`;
}

export function slaSummary(sla) {
  const parts = SLA_FIELDS.slice(0, 2).filter((f) => sla?.[f.key] > 0).map((f) => `${f.label} ${formatDuration(sla[f.key])}`);
  if (!parts.length) return 'No targets';
  if (sla.warn_before_s > 0) parts.push(`warn ${formatDuration(sla.warn_before_s)} before`);
  return parts.join(' · ');
}

// The form's SLA fields -> { sla } as the API takes it, or { error, field } for what cannot be sent.
export function slaFromForm(f) {
  const sla = {};
  for (const x of SLA_FIELDS) {
    const s = toSeconds(f[x.name], f[`${x.name}_unit`] ?? x.unit);
    if (Number.isNaN(s)) return { error: `${x.label}: a number of minutes or hours, like 15 or 1.5 (empty: no target).`, field: x.name };
    sla[x.key] = s;
  }
  const problem = slaProblem(sla);
  return problem ? { error: problem, field: 'warn_before' } : { sla };
}

// A warning that can never come: Warn before not shorter than any target it could warn about
// (the server refuses it too; checked here to point at the field before sending).
export function slaProblem(sla) {
  const w = sla.warn_before_s;
  if (!(w > 0)) return null;
  const targets = SLA_FIELDS.slice(0, 2).filter((f) => sla[f.key] > 0);
  if (!targets.length) return 'Warn before needs a first response or resolution target to warn about.';
  if (targets.every((f) => w >= sla[f.key])) {
    const list = targets.map((f) => `${f.label.toLowerCase()} ${formatDuration(sla[f.key])}`).join(', ');
    return `Warn before (${formatDuration(w)}) must be shorter than the target it warns about (${list}): as it is, the warning would never come.`;
  }
  return null;
}

// Targets a valid Warn before still does not reach (said after saving).
export function slaUnwarned(sla) {
  const w = sla.warn_before_s;
  return w > 0 ? SLA_FIELDS.slice(0, 2).filter((f) => sla[f.key] > 0 && w >= sla[f.key]) : [];
}

// The form's closed-message fields -> { fa?, ar?, en? }; an empty field is the built-in message.
export function closedFromForm(f) {
  return Object.fromEntries(CLOSED_LANGS.map(([l]) => [l, String(f[`closed_${l}`] ?? '')]).filter(([, t]) => t.trim()));
}

const utf8Bytes = (t) => new TextEncoder().encode(t).length;

// The server's 422 ("team.sla: ...", "team.hours.weekly.sun: ...") as the admin reads it, with the field
// to point at. `sent` is the team body that was refused.
export function explainTeamError(message, sent = {}) {
  const m = /^team(?:\.([a-z_]+))?(?:\.([a-z_.]+))?: ([\s\S]*)$/.exec(String(message));
  if (!m) return { text: `Not saved: ${message}` };
  const [, part, sub, reason] = m;
  if (part === 'closed_message') {
    const long = CLOSED_LANGS.filter(([l]) => utf8Bytes(sent.closed_message?.[l] ?? '') > 4000);
    const which = long.map(([l, name]) => `${name} has ${utf8Bytes(sent.closed_message[l])} bytes`).join(', ');
    return { text: `Closed-hours message not saved: ${reason}. ${which ? `${which} (a Persian or Arabic letter takes 2 bytes).` : ''}`.trim(),
      field: long.length ? `closed_${long[0][0]}` : null };
  }
  if (part === 'sla') {
    const x = SLA_FIELDS.find((f) => reason.includes(`"${f.key}"`));
    return { text: `SLA not saved: ${x ? reason.replace(`"${x.key}"`, x.label) : reason}`, field: x?.name ?? null };
  }
  if (part === 'hours') {
    const day = /^weekly\.([a-z]+)$/.exec(sub ?? '')?.[1];
    const where = day ? `${DAY_NAME[day] ?? day}: ` : sub === 'holidays' ? 'Holidays: ' : '';
    return { text: `Business hours not saved: ${where}${reason}`, field: day ?? (sub === 'holidays' ? 'holidays' : null) };
  }
  return { text: `Not saved: ${reason}` };
}

// The business-hours summary of a team as the API gives it (hours null: always open).
export function hoursSummary(hours, openNow) {
  if (!hours) return 'No hours set: open 24/7.';
  const days = DAYS.filter(([d]) => hours.weekly?.[d]?.length);
  if (!days.length) return `No open hours on any day (${hours.timezone}): closed all week.`;
  const now = openNow === undefined ? '' : openNow ? ' Open now.' : ' Closed now.';
  return `Open ${days.map(([, n]) => n.slice(0, 3)).join(', ')} (${hours.timezone}).${now}`;
}

// A form from field specs: { name, label, type?, options?, value?, required?, placeholder?, lang?, unit? }
// (type 'duration': a number and a minutes/hours choice named `${name}_unit`), or a group
// { group, note?, fields } drawn as a fieldset. onSubmit gets the form's values; what it throws is
// shown under the form, and an error's `field` is marked invalid and focused.
function formOf(id, fields, submitLabel, onSubmit) {
  const form = h('form', { class: 'admin-form', id });
  const addFields = (parent, list) => {
    for (const f of list) {
      if (f.group) {
        const set = h('fieldset', { class: 'admin-group' }, h('legend', {}, f.group),
          f.note ? h('p', { class: 'muted admin-note' }, f.note) : null);
        addFields(set, f.fields);
        parent.append(set);
        continue;
      }
      const fid = `${id}-${f.name}`;
      let control;
      if (f.options) {
        control = h('select', { id: fid, name: f.name }, f.options.map((o) => h('option', { value: o, selected: o === f.value || null }, o)));
      } else if (f.type === 'textarea') {
        control = h('textarea', { id: fid, name: f.name, rows: f.rows ?? 3, dir: 'auto', lang: f.lang ?? null,
          required: f.required || null, placeholder: f.placeholder ?? null });
        control.defaultValue = f.value ?? ''; // the default, so form.reset() comes back to it
      } else if (f.type === 'duration') {
        const input = h('input', { id: fid, name: f.name, type: 'text', inputmode: 'decimal', autocomplete: 'off',
          size: 6, placeholder: f.placeholder ?? null });
        input.defaultValue = f.value ?? '';
        const unit = String(f.unit ?? 60);
        control = h('span', { class: 'duration' }, input, h('select', { id: `${fid}_unit`, name: `${f.name}_unit`, 'aria-label': `${f.label} in` },
          UNITS.map(([v, label]) => h('option', { value: v, selected: v === unit || null }, label))));
      } else {
        control = h('input', { id: fid, name: f.name, type: f.type ?? 'text', dir: f.type ? null : 'auto',
          required: f.required || null, autocomplete: 'off', placeholder: f.placeholder ?? null });
        control.defaultValue = f.value ?? '';
      }
      parent.append(h('label', { for: fid }, f.label), control);
    }
  };
  addFields(form, fields);
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  form.append(error, h('button', { type: 'submit', class: 'primary' }, submitLabel));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    try {
      await onSubmit(Object.fromEntries(new FormData(form)));
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      const bad = err.field && form.elements[err.field];
      if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
    }
  });
  return form;
}

// An Error to show under a form, pointing at one of its fields.
const formError = (text, field) => Object.assign(new Error(text), { field });

// A refused team save: the server's reason, worded for the form (other errors as they are).
const teamError = (err, sent) => {
  if (err?.code !== 'invalid_team') return err;
  const { text, field } = explainTeamError(err.message, sent);
  return formError(text, field);
};

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

  // A Delete button that asks first (`ask`: the confirmation's title, text and button).
  const deleteButton = (ariaLabel, ask, remove) => button('Delete', guarded(async () => {
    if (await confirmAction({ danger: true, ...ask })) await remove();
  }), { 'aria-label': ariaLabel });

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
        deleteButton(`Delete ${a.login}`, { title: 'Delete this agent?', ok: 'Delete agent',
          text: [['Delete agent ', h('bdi', {}, a.name || a.login), ` (${a.login})?`],
            'Their open conversations go back to the queue and they are signed out. This cannot be undone.'] },
        async () => { await routing.deleteAgent(a.id); show('agents'); }))]);
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
      { group: 'SLA targets', note: 'Counted in business hours. Empty or 0: no target. Warn before: how long before a target the agents are warned.',
        fields: SLA_FIELDS.map((x) => ({ name: x.name, label: x.label, type: 'duration', unit: x.unit, placeholder: 'none' })) },
      { group: 'Closed-hours message', note: 'The answer a customer gets when writing outside business hours, in their language: up to 4000 bytes (about 2000 Persian or Arabic letters). Empty: the built-in message.',
        fields: CLOSED_LANGS.map(([l, label]) => ({ name: `closed_${l}`, label, type: 'textarea', rows: 2, lang: l, placeholder: 'Built-in message' })) },
    ], 'Save team', async (f) => {
      const sla = slaFromForm(f);
      if (sla.error) throw formError(sla.error, sla.field);
      // PUT replaces the definition: the hours come from the current one. One request, so a refused
      // SLA or message changes nothing at all.
      const old = mode.editing ?? {};
      const body = { ...old, id: f.id.trim(), name: f.name.trim() || f.id.trim(), strategy: f.strategy, skills: csv(f.skills),
        languages: csv(f.languages), sla: sla.sla, closed_message: closedFromForm(f) };
      try {
        await routing.saveTeam(body, !old.id);
      } catch (err) {
        throw teamError(err, body);
      }
      const unwarned = slaUnwarned(sla.sla);
      notice(`Team ${body.id} saved.${unwarned.length ? ` No warning comes before the ${unwarned.map((x) => x.label.toLowerCase()).join(' or ')} target: it is not longer than Warn before.` : ''}`, 'ok');
      show('teams');
    });
    const mode = editMode(form, { key: 'id', heading, addTitle: 'Add a team', editTitle: (t) => `Change team ${t.id}`,
      fill: (t) => {
        const e = form.elements;
        e.id.value = t.id; e.name.value = t.name ?? ''; e.strategy.value = t.strategy || 'least_loaded';
        e.skills.value = (t.skills ?? []).join(', '); e.languages.value = (t.languages ?? []).join(', ');
        for (const x of SLA_FIELDS) {
          const { value, unit } = fromSeconds(t.sla?.[x.key], x.unit);
          e[x.name].value = value; e[`${x.name}_unit`].value = unit;
        }
        for (const [l] of CLOSED_LANGS) e[`closed_${l}`].value = t.closed_message?.[l] ?? '';
      } });
    form.elements.id.addEventListener('change', () => {
      const t = teams.find((x) => x.id === form.elements.id.value.trim());
      if (t && !mode.editing) mode.set(t);
    });
    const closedLangs = (t) => CLOSED_LANGS.map(([l]) => l).filter((l) => t.closed_message?.[l]);
    const rows = teams.map((t) => [t.id, h('bdi', {}, t.name ?? ''), t.strategy ?? '', (t.skills ?? []).join(', '),
      (t.languages ?? []).join(', '), slaSummary(t.sla),
      closedLangs(t).length ? `Own: ${closedLangs(t).join(', ')}` : 'Built-in',
      h('span', {}, button('Edit', () => { mode.set(t); form.elements.name.focus(); }, { 'aria-label': `Edit team ${t.id}` }), ' ',
        deleteButton(`Delete team ${t.id}`, { title: 'Delete this team?', ok: 'Delete team',
          text: [['Delete team ', h('bdi', {}, t.name || t.id), ` (${t.id})?`],
            'Its agents stay but no longer get its conversations, and its business hours and SLA are lost.'] },
        async () => { await routing.deleteTeam(t.id); show('teams'); }))]);
    return [table('Teams', ['Id', 'Name', 'Strategy', 'Skills', 'Languages', 'SLA', 'Closed-hours message', ''], rows), heading, form];
  }

  async function hoursPage() {
    const teams = await routing.teams();
    if (!teams.length) return [h('p', { class: 'muted' }, 'No teams yet: add one under Teams.')];
    return [h('p', { class: 'muted' }, 'Intervals are HH:MM-HH:MM, comma-separated (09:00-13:00, 14:00-17:00); an empty day is closed. ',
      'With no time zone and no days the team has no hours: open 24/7. The closed-hours message is set under Teams → Edit.'),
    ...teams.map((t) => {
      const hours = t.hours ?? {};
      const status = h('p', { class: 'hours-status', id: `hours-${t.id}-status`, 'aria-live': 'polite' }, hoursSummary(t.hours, t.open_now));
      return h('section', { class: 'admin-card' }, h('h3', {}, `Team `, h('bdi', {}, t.name || t.id)), status,
        formOf(`hours-${t.id}`, [
          { name: 'timezone', label: 'Time zone (e.g. Asia/Tehran)', value: hours.timezone ?? '' },
          ...DAYS.map(([d, name]) => ({ name: d, label: name, value: (hours.weekly?.[d] ?? []).join(', '),
            placeholder: t.hours ? 'closed' : 'open 24/7' })),
          { name: 'holidays', label: 'Holidays (YYYY-MM-DD, comma-separated, e.g. Nowruz)', type: 'textarea', value: (hours.holidays ?? []).join(', ') },
        ], 'Save hours', async (f) => {
          const weekly = Object.fromEntries(DAYS.map(([d]) => [d, csv(f[d])]).filter(([, v]) => v.length));
          const holidays = csv(f.holidays);
          const timezone = f.timezone.trim();
          if (!timezone && (Object.keys(weekly).length || holidays.length))
            throw formError('Time zone: required for these hours (e.g. Asia/Tehran). To stay open 24/7, empty the days and holidays too.', 'timezone');
          if (timezone && !Object.keys(weekly).length)
            throw formError('No day has open hours, so the team would be closed all week. Add hours, or empty the time zone to stay open 24/7.', 'sat');
          const next = timezone ? { timezone, weekly, holidays } : null;
          try {
            await routing.saveHours(t.id, next);
          } catch (err) {
            throw teamError(err, { hours: next });
          }
          const now = await routing.hours(t.id).catch(() => null);
          status.textContent = hoursSummary(next, now?.open_now);
          for (const [d] of DAYS) $(`#hours-${t.id}-${d}`).placeholder = next ? 'closed' : 'open 24/7';
          notice(`Business hours of ${t.id} saved.`, 'ok');
        }));
    })];
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
      deleteButton(`Delete /${c.shortcut}`, { title: 'Delete this canned response?', ok: 'Delete response',
        text: [['Delete the canned response ', h('bdi', {}, `/${c.shortcut}`), c.title ? [' (', h('bdi', {}, c.title), ')'] : '', '?'],
          'Agents can no longer pick it with /.'] },
      async () => { await api.deleteCanned(c.id); onCannedChanged(); show('canned'); }))]);
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
