// Admin pages (admin role only; the server refuses the routes to agents with
// 403 too): agents, teams (with their SLA and closed-hours message), business
// hours, canned responses. Their texts in Persian and Arabic are a part of
// the dictionary only admins load (loadPart('admin')).
import { api, routing } from '../api.js';
import { confirmAction } from './confirm.js';
import { $, h } from './dom.js';
import { teamLabel } from './inbox.js';
import { listOf, loadPart, locale, named, num, splitList, t, tParts } from '../i18n.js';

// The Iranian week: Saturday first, Friday (the weekend) last. Keys as the API has them.
export const DAYS = ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri'];
// A day's name in the console's language ('long': Saturday, شنبه; 'short': Sat), from
// Intl: 2026-01-03 was a Saturday.
export const dayName = (day, weekday = 'long') => (DAYS.includes(day)
  ? new Intl.DateTimeFormat(locale(), { weekday, timeZone: 'UTC' }).format(Date.UTC(2026, 0, 3 + DAYS.indexOf(day))) : day);
const agentTeams = (a) => (a.teams ?? [a.team]).filter(Boolean);

// The PATCH body of an edited agent: only what differs from its current values
// (the password only when typed), so untouched fields are never overwritten.
export function agentChanges(current, f) {
  const out = {};
  const name = String(f.name ?? '').trim();
  if (name && name !== current.name) out.name = name;
  if (f.role && f.role !== current.role) out.role = f.role;
  const teams = splitList(f.teams);
  if (teams.length && teams.join(',') !== agentTeams(current).join(',')) out.teams = teams;
  // Anything typed that differs goes as a number; the server says what it accepts.
  if (String(f.capacity ?? '').trim() !== '' && Number(f.capacity) !== current.capacity) out.capacity = Number(f.capacity);
  if (f.password) out.password = f.password;
  return out;
}

// The POST body of a new agent. What is left empty is the server's default: an empty capacity is
// routing.default_capacity (not 0, with which the agent would never get a conversation), no team
// the first team.
export function newAgent(f) {
  const teams = splitList(f.teams);
  const capacity = String(f.capacity ?? '').trim();
  return { login: f.login, name: f.name || f.login, role: f.role, ...(teams.length ? { teams } : {}),
    ...(capacity ? { capacity: Number(capacity) } : {}), ...(f.password ? { password: f.password } : {}) };
}


// --- SLA targets and the closed-hours message -------------------------------

// The API's SLA keys (seconds; 0 is no target), their labels and the unit a new team starts with.
// (labels read when shown: in the console's language).
const slaField = (key, name, unit) => ({ key, name, unit, get label() { return t(`adm.${name}`); } });
export const SLA_FIELDS = [
  slaField('first_response_s', 'first_response', 60),
  slaField('resolution_s', 'resolution', 3600),
  slaField('warn_before_s', 'warn_before', 60),
];
export const CLOSED_LANGS = ['fa', 'ar', 'en'];
const langName = (l) => t(`cust.${l}`); // Persian (fa)
const UNITS = [['60', 'adm.minutes'], ['3600', 'adm.hoursUnit']];

// Persian and Arabic-Indic digits as ASCII, and the decimal separators written in Iran (٫ / ,) as a
// point, so "۱٫۵" and "۱/۵" are 1.5.
const asciiDigits = (s) => String(s ?? '').trim()
  .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06F0))
  .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
  .replace(/[\u066B/,]/g, '.');

// "15" minutes -> 900 seconds; empty -> 0 (no target); NaN when it is not a number of 0 or more.
export function toSeconds(text, unit) {
  const v = asciiDigits(text);
  if (v === '') return 0;
  if (!/^\d*\.?\d+$|^\d+\.$/.test(v)) return NaN;
  return Math.round(Number(v) * Number(unit));
}

// Seconds -> what the form shows: whole hours in hours, anything else in minutes; 0 is empty.
export function fromSeconds(s, defaultUnit = 60) {
  s = Number(s) || 0;
  if (s <= 0) return { value: '', unit: String(defaultUnit) };
  if (s % 3600 === 0) return { value: String(s / 3600), unit: '3600' };
  return { value: String(Math.round((s / 60) * 100) / 100), unit: '60' };
}

// 900 -> "15 min", 28800 -> "8 h", 5400 -> "90 min" (in Persian "۱۵ دقیقه").
export function formatDuration(s) {
  s = Number(s) || 0;
  if (s % 3600 === 0) return t('adm.h', { n: s / 3600 });
  if (s % 60 === 0) return t('adm.min', { n: s / 60 });
  return s > 60 ? t('adm.min', { n: Math.round(s / 6) / 10 }) : t('adm.s', { n: s });
}

export function slaSummary(sla) {
  const parts = SLA_FIELDS.slice(0, 2).filter((f) => sla?.[f.key] > 0).map((f) => `${f.label} ${formatDuration(sla[f.key])}`);
  if (!parts.length) return t('adm.noTargets');
  if (sla.warn_before_s > 0) parts.push(t('adm.warnAhead', { d: formatDuration(sla.warn_before_s) }));
  return parts.join(' · ');
}

// The form's SLA fields -> { sla } as the API takes it, or { error, field } for what cannot be sent.
export function slaFromForm(f) {
  const sla = {};
  for (const x of SLA_FIELDS) {
    const s = toSeconds(f[x.name], f[`${x.name}_unit`] ?? x.unit);
    if (Number.isNaN(s)) return { error: t('adm.notNumber', { label: x.label }), field: x.name };
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
  if (!targets.length) return t('adm.warnNothing');
  if (targets.every((f) => w >= sla[f.key])) {
    const list = listOf(targets.map((f) => `${f.label.toLowerCase()} ${formatDuration(sla[f.key])}`));
    return t('adm.warnLong', { d: formatDuration(w), list });
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
  return Object.fromEntries(CLOSED_LANGS.map((l) => [l, String(f[`closed_${l}`] ?? '')]).filter(([, v]) => v.trim()));
}

const utf8Bytes = (v) => new TextEncoder().encode(v).length;
// A count of bytes in the language's digits, ungrouped like the server's limit ("4000").
const plainNum = (n) => new Intl.NumberFormat(locale(), { useGrouping: false }).format(n);

// The server's 422 ("team.sla: ...", "team.hours.weekly.sun: ...") as the admin reads it, with the field
// to point at. `sent` is the team body that was refused.
export function explainTeamError(message, sent = {}) {
  const m = /^team(?:\.([a-z_]+))?(?:\.([a-z_.]+))?: ([\s\S]*)$/.exec(String(message));
  if (!m) return { text: t('adm.notSaved', { error: message }) };
  const [, part, sub, reason] = m;
  if (part === 'closed_message') {
    const long = CLOSED_LANGS.filter((l) => utf8Bytes(sent.closed_message?.[l] ?? '') > 4000);
    const which = listOf(long.map((l) => t('adm.hasBytes', { name: langName(l), n: plainNum(utf8Bytes(sent.closed_message[l])) })));
    return { text: `${t('adm.closedNotSaved', { reason })}${which ? ` ${t('adm.bytesNote', { which })}` : ''}`,
      field: long.length ? `closed_${long[0]}` : null };
  }
  if (part === 'sla') {
    const x = SLA_FIELDS.find((f) => reason.includes(`"${f.key}"`));
    return { text: t('adm.slaNotSaved', { reason: x ? reason.replace(`"${x.key}"`, x.label) : reason }), field: x?.name ?? null };
  }
  if (part === 'hours') {
    const day = /^weekly\.([a-z]+)$/.exec(sub ?? '')?.[1];
    const where = day ? `${dayName(day)}: ` : sub === 'holidays' ? `${t('adm.holidays')}: ` : '';
    return { text: t('adm.hoursNotSaved', { where, reason }), field: day ?? (sub === 'holidays' ? 'holidays' : null) };
  }
  return { text: t('adm.notSaved', { error: reason }) };
}

// The business-hours summary of a team as the API gives it (hours null: always open).
export function hoursSummary(hours, openNow) {
  if (!hours) return t('adm.always');
  const days = DAYS.filter((d) => hours.weekly?.[d]?.length);
  if (!days.length) return t('adm.neverOpen', { tz: hours.timezone });
  const now = openNow === undefined ? '' : t(openNow ? 'adm.openNow' : 'adm.closedNow');
  return t('adm.openDays', { days: listOf(days.map((d) => dayName(d, 'short'))), tz: hours.timezone }) + now;
}

// A form from field specs: { name, label, type?, options?, value?, required?, placeholder?, lang?, unit? }
// (options: [value, text] pairs)
// (type 'duration': a number and a minutes/hours choice named `${name}_unit`), or a group
// { group, note?, fields } drawn as a fieldset. onSubmit gets the form's values; what it throws is
// shown under the form, and an error's `field` is marked invalid and focused. `notice` is the
// page's notice line: emptied on submit, so an earlier "saved" never stands beside a refusal.
function formOf(id, fields, submitLabel, onSubmit, notice) {
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
        control = h('select', { id: fid, name: f.name },
          f.options.map(([o, text]) => h('option', { value: o, selected: o === f.value || null }, text)));
      } else if (f.type === 'textarea') {
        control = h('textarea', { id: fid, name: f.name, rows: f.rows ?? 3, dir: 'auto', lang: f.lang ?? null,
          required: f.required || null, placeholder: f.placeholder ?? null });
        control.defaultValue = f.value ?? ''; // the default, so form.reset() comes back to it
      } else if (f.type === 'duration') {
        const input = h('input', { id: fid, name: f.name, type: 'text', inputmode: 'decimal', autocomplete: 'off',
          size: 6, placeholder: f.placeholder ?? null });
        input.defaultValue = f.value ?? '';
        const unit = String(f.unit ?? 60);
        control = h('span', { class: 'duration' }, input, h('select', { id: `${fid}_unit`, name: `${f.name}_unit`,
          'aria-label': t('adm.unitOf', { label: f.label }) }, UNITS.map(([v, key]) => h('option', { value: v, selected: v === unit || null }, t(key)))));
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
    notice('');
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

// A refused team deletion: what still uses the team, in the console's language.
export function teamInUseError(err, id) {
  if (err?.code !== 'team_in_use') return err;
  const d = err.details ?? {};
  const why = [];
  if (d.channels?.length) why.push(t('adm.inUseChannels', { ids: listOf(d.channels) }));
  if (d.rules?.length) why.push(t('adm.inUseRules', { n: listOf(d.rules.map(String)) }));
  if (d.open_conversations) why.push(t('adm.inUseOpen', { n: num(d.open_conversations), queued: num(d.queued ?? 0) }));
  return why.length ? new Error(t('adm.teamInUse', { id, why: why.join('; ') })) : err;
}

function table(caption, headers, rows) {
  return h('table', { class: 'admin-table' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
      : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, t('adm.none')))));
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

  const adminForm = (id, fields, submitLabel, onSubmit) => formOf(id, fields, submitLabel, onSubmit, notice);
  const guarded = (fn) => async (...args) => {
    try { await fn(...args); } catch (e) { notice(e.message); }
  };

  // A Delete button that asks first (`ask`: the confirmation's title, text and button).
  const deleteButton = (ariaLabel, ask, remove) => button(t('adm.delete'), guarded(async () => {
    if (await confirmAction({ danger: true, ...ask })) await remove();
  }), { 'aria-label': ariaLabel });
  const editButton = (ariaLabel, onclick) => button(t('adm.edit'), onclick, { 'aria-label': ariaLabel });
  // A confirmation's first line with the item's name isolated (<bdi>) where the language puts it.
  const asking = (key, parts) => tParts(key, Object.fromEntries(Object.entries(parts)
    .map(([k, v]) => [k, typeof v === 'string' ? h('bdi', {}, v) : v])));

  // The form below a table adds an item or, after its Edit button (or typing
  // an existing key), changes that item starting from its current values.
  function editMode(form, { key, heading, addTitle, editTitle, fill }) {
    let editing = null;
    const submit = form.querySelector('button[type="submit"]');
    const addLabel = submit.textContent;
    const stop = h('button', { type: 'button', class: 'edit-cancel', hidden: true, onclick: () => set(null) }, t('adm.stopEdit'));
    submit.after(' ', stop);
    function set(item) {
      editing = item;
      if (!item) form.reset();
      else fill(item);
      form.elements[key].readOnly = !!item;
      heading.textContent = item ? editTitle(item) : addTitle;
      submit.textContent = item ? t('adm.saveChanges') : addLabel;
      stop.hidden = !item;
      form.querySelector('.error').hidden = true;
    }
    return { set, get editing() { return editing; } };
  }

  async function agentsPage() {
    // Without the teams the page still works, naming teams by their ids.
    const [directory, teamList] = await Promise.allSettled([routing.directory(), routing.teams()]);
    if (directory.status === 'rejected') throw directory.reason;
    const { agents = [], default_capacity: defaultCapacity } = directory.value;
    const teams = teamList.value ?? [];
    const names = { teamNames: new Map(teams.map((x) => [x.id, x.name || x.id])) };
    const heading = h('h3', {}, t('adm.addAgent'));
    const form = adminForm('agent-form', [
      { name: 'login', label: t('adm.login'), required: true },
      { name: 'name', label: t('adm.name') },
      { name: 'password', label: t('adm.password'), type: 'password' },
      { name: 'role', label: t('adm.role'), options: ['agent', 'admin'].map((r) => [r, named('role.', r)]), value: 'agent' },
      { name: 'teams', label: t('adm.teamsCsv'), value: teams[0]?.id ?? '' },
      { name: 'capacity', label: t('adm.capacity'), type: 'number',
        placeholder: defaultCapacity ? t('adm.capacityDefault', { n: defaultCapacity }) : null },
    ], t('adm.saveAgent'), async (f) => {
      const current = mode.editing;
      if (current) {
        const changes = agentChanges(current, f);
        if (!Object.keys(changes).length) throw new Error(t('adm.nothingChanged'));
        await routing.saveAgent({ id: current.id, ...changes }, false);
      } else {
        await routing.saveAgent(newAgent(f), true);
      }
      notice(t('adm.agentSaved', { login: current?.login ?? f.login }), 'ok');
      show('agents');
    });
    const mode = editMode(form, { key: 'login', heading, addTitle: t('adm.addAgent'),
      editTitle: (a) => t('adm.changeAgent', { login: a.login }),
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
    const rows = agents.map((a) => [h('bdi', {}, a.name ?? ''), a.login ?? '', named('role.', a.role) ?? '', listOf(agentTeams(a).map((id) => teamLabel(names, id))),
      a.capacity == null ? '' : num(a.capacity), named('presence.', a.status) ?? '',
      h('span', {}, editButton(t('adm.editX', { x: a.login }), () => { mode.set(a); form.elements.name.focus(); }), ' ',
        deleteButton(t('adm.deleteX', { x: a.login }), { title: t('adm.delAgentQ'), ok: t('adm.delAgent'),
          text: [asking('adm.delAgentText', { name: a.name || a.login, login: a.login }), t('adm.delAgentNote')] },
        async () => { await routing.deleteAgent(a.id); show('agents'); }))]);
    return [table(t('adm.agents'), ['adm.name', 'adm.login', 'adm.role', 'adm.teams', 'adm.capacity', 'ev.status'].map((k) => t(k)).concat(''), rows),
      heading, form];
  }

  async function teamsPage() {
    const teams = await routing.teams();
    const heading = h('h3', {}, t('adm.addTeam'));
    const form = adminForm('team-form', [
      { name: 'id', label: t('adm.id'), required: true },
      { name: 'name', label: t('adm.name') },
      { name: 'strategy', label: t('adm.assignment'), options: ['least_loaded', 'round_robin'].map((v) => [v, named('strat.', v)]),
        value: 'least_loaded' },
      { name: 'skills', label: t('adm.skillsCsv') },
      { name: 'languages', label: t('adm.languagesCsv') },
      { group: t('adm.slaGroup'), note: t('adm.slaNote'),
        fields: SLA_FIELDS.map((x) => ({ name: x.name, label: x.label, type: 'duration', unit: x.unit, placeholder: t('adm.noTarget') })) },
      { group: t('adm.closed'), note: t('adm.closedNote'),
        fields: CLOSED_LANGS.map((l) => ({ name: `closed_${l}`, label: langName(l), type: 'textarea', rows: 2, lang: l,
          placeholder: t('adm.builtInMsg') })) },
    ], t('adm.saveTeam'), async (f) => {
      const sla = slaFromForm(f);
      if (sla.error) throw formError(sla.error, sla.field);
      // PUT replaces the definition: the hours come from the current one. One request, so a refused
      // SLA or message changes nothing at all.
      const old = mode.editing ?? {};
      const body = { ...old, id: f.id.trim(), name: f.name.trim() || f.id.trim(), strategy: f.strategy, skills: splitList(f.skills),
        languages: splitList(f.languages), sla: sla.sla, closed_message: closedFromForm(f) };
      try {
        await routing.saveTeam(body, !old.id);
      } catch (err) {
        throw teamError(err, body);
      }
      const unwarned = slaUnwarned(sla.sla);
      const either = new Intl.ListFormat(locale(), { type: 'disjunction' });
      notice(t('adm.teamSaved', { id: body.id }) + (unwarned.length
        ? t('adm.unwarned', { targets: either.format(unwarned.map((x) => x.label.toLowerCase())) }) : ''), 'ok');
      show('teams');
    });
    const mode = editMode(form, { key: 'id', heading, addTitle: t('adm.addTeam'), editTitle: (x) => t('adm.changeTeam', { id: x.id }),
      fill: (x) => {
        const e = form.elements;
        e.id.value = x.id; e.name.value = x.name ?? ''; e.strategy.value = x.strategy || 'least_loaded';
        e.skills.value = (x.skills ?? []).join(', '); e.languages.value = (x.languages ?? []).join(', ');
        for (const f of SLA_FIELDS) {
          const { value, unit } = fromSeconds(x.sla?.[f.key], f.unit);
          e[f.name].value = value; e[`${f.name}_unit`].value = unit;
        }
        for (const l of CLOSED_LANGS) e[`closed_${l}`].value = x.closed_message?.[l] ?? '';
      } });
    form.elements.id.addEventListener('change', () => {
      const x = teams.find((team) => team.id === form.elements.id.value.trim());
      if (x && !mode.editing) mode.set(x);
    });
    const closedLangs = (x) => CLOSED_LANGS.filter((l) => x.closed_message?.[l]);
    const rows = teams.map((x) => [x.id, h('bdi', {}, x.name ?? ''), named('strat.', x.strategy) ?? '', (x.skills ?? []).join(', '),
      (x.languages ?? []).join(', '), slaSummary(x.sla),
      closedLangs(x).length ? t('adm.own', { langs: listOf(closedLangs(x)) }) : t('adm.builtIn'),
      h('span', {}, editButton(t('adm.editTeam', { id: x.id }), () => { mode.set(x); form.elements.name.focus(); }), ' ',
        deleteButton(t('adm.deleteTeam', { id: x.id }), { title: t('adm.delTeamQ'), ok: t('adm.delTeam'),
          text: [asking('adm.delTeamText', { name: x.name || x.id, id: x.id }), t('adm.delTeamNote')] },
        async () => {
          await routing.deleteTeam(x.id).catch((e) => { throw teamInUseError(e, x.id); });
          show('teams');
        }))]);
    const headers = ['adm.id', 'adm.name', 'adm.strategy', 'adm.skills', 'adm.languages'].map((k) => t(k));
    return [table(t('adm.teams'), [...headers, 'SLA', t('adm.closed'), ''], rows), heading, form];
  }

  async function hoursPage() {
    const teams = await routing.teams();
    if (!teams.length) return [h('p', { class: 'muted' }, t('adm.noTeams'))];
    const dayPlaceholder = (hours) => t(hours ? 'adm.closedPh' : 'adm.open247');
    return [h('p', { class: 'muted' }, t('adm.hoursHelp')),
    ...teams.map((team) => {
      const hours = team.hours ?? {};
      const status = h('p', { class: 'hours-status', id: `hours-${team.id}-status`, 'aria-live': 'polite' }, hoursSummary(team.hours, team.open_now));
      return h('section', { class: 'admin-card' }, h('h3', {}, asking('adm.team', { name: team.name || team.id })), status,
        adminForm(`hours-${team.id}`, [
          { name: 'timezone', label: t('adm.tz'), value: hours.timezone ?? '' },
          ...DAYS.map((d) => ({ name: d, label: dayName(d), value: (hours.weekly?.[d] ?? []).join(', '),
            placeholder: dayPlaceholder(team.hours) })),
          { name: 'holidays', label: t('adm.holidaysCsv'), type: 'textarea', value: (hours.holidays ?? []).join(', ') },
        ], t('adm.saveHours'), async (f) => {
          const weekly = Object.fromEntries(DAYS.map((d) => [d, splitList(f[d])]).filter(([, v]) => v.length));
          const holidays = splitList(f.holidays);
          const timezone = f.timezone.trim();
          if (!timezone && (Object.keys(weekly).length || holidays.length)) throw formError(t('adm.tzNeeded'), 'timezone');
          if (timezone && !Object.keys(weekly).length) throw formError(t('adm.noDay'), 'sat');
          const next = timezone ? { timezone, weekly, holidays } : null;
          try {
            await routing.saveHours(team.id, next);
          } catch (err) {
            throw teamError(err, { hours: next });
          }
          const now = await routing.hours(team.id).catch(() => null);
          status.textContent = hoursSummary(next, now?.open_now);
          for (const d of DAYS) $(`#hours-${team.id}-${d}`).placeholder = dayPlaceholder(next);
          notice(t('adm.hoursSaved', { id: team.id }), 'ok');
        }));
    })];
  }

  async function cannedPage() {
    const { canned } = await api.canned();
    let editing = null;
    const form = adminForm('canned-form', [
      { name: 'shortcut', label: t('adm.shortcutTyped'), required: true, placeholder: 'warranty' },
      { name: 'title', label: t('adm.title') },
      { name: 'text', label: t('adm.text'), type: 'textarea', required: true },
    ], t('adm.saveCanned'), async (f) => {
      await api.saveCanned({ id: editing, ...f });
      onCannedChanged();
      show('canned');
    });
    const rows = canned.map((c) => [`/${c.shortcut}`, h('bdi', {}, c.title), h('span', { dir: 'auto', class: 'canned-text' }, c.text),
      h('span', {}, editButton(t('adm.editX', { x: `/${c.shortcut}` }), () => {
        editing = c.id;
        for (const k of ['shortcut', 'title', 'text']) form.elements[k].value = c[k];
        form.elements.shortcut.focus();
      }), ' ',
      deleteButton(t('adm.deleteX', { x: `/${c.shortcut}` }), { title: t('adm.delCannedQ'), ok: t('adm.delCanned'),
        text: [asking('adm.delCannedText', { shortcut: `/${c.shortcut}`, title: c.title ? [' (', h('bdi', {}, c.title), ')'] : '' }),
          t('adm.delCannedNote')] },
      async () => { await api.deleteCanned(c.id); onCannedChanged(); show('canned'); }))]);
    return [table(t('adm.canned'), ['adm.shortcut', 'adm.title', 'adm.text'].map((k) => t(k)).concat(''), rows),
      h('h3', {}, t('adm.addCanned')), form];
  }

  const PAGES = { agents: agentsPage, teams: teamsPage, hours: hoursPage, canned: cannedPage };
  const title = (name) => t(`adm.${name}`);
  // The tabs, once the admin texts are in: built for an admin only.
  let ready = null;
  const buildTabs = () => tabs.replaceChildren(...Object.keys(PAGES).map((name) => h('button', { type: 'button', class: 'filter',
    dataset: { page: name }, 'aria-pressed': String(name === current), onclick: () => show(name) }, title(name))));

  async function show(name) {
    current = name;
    for (const b of tabs.children) b.setAttribute('aria-pressed', String(b.dataset.page === name));
    page.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    try {
      await ready;
      const content = await PAGES[name]();
      if (current === name) page.replaceChildren(h('h2', {}, title(name)), ...content);
    } catch (e) {
      page.replaceChildren(h('p', { class: 'error', role: 'alert' },
        e.status === 403 ? t('adm.needsAdmin') : t('adm.cannotLoad', { page: title(name).toLowerCase(), error: e.message })));
    }
  }

  function open(on) {
    if (on && !admin) { notice(t('adm.adminOnly')); on = false; }
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
      if (admin) ready ??= loadPart('admin').then(buildTabs);
      btn.hidden = !admin;
      if (!admin) { view.hidden = true; layout.hidden = false; page.replaceChildren(); }
      if (role) fromHash();
    },
    get open() { return !view.hidden; },
  };
}
