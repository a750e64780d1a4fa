// Conversation actions owned by routing: take (assign to me), transfer to an
// agent or a team with a note, snooze, escalate, reopen. Each is one frame on
// the agent socket, answered by an ack or an error; the change itself arrives
// as a log event like every other.
import { routing } from '../api.js';
import { $, h } from './dom.js';
import { named, t } from '../i18n.js';

const TOMORROW_HOUR = 9;

// When a snooze preset ends (ms since epoch), or NaN.
export function snoozeUntil(preset, customValue, now = Date.now()) {
  if (preset === 'custom') return new Date(customValue).getTime();
  if (preset === 'tomorrow') {
    const d = new Date(now);
    d.setDate(d.getDate() + 1);
    d.setHours(TOMORROW_HOUR, 0, 0, 0);
    return d.getTime();
  }
  return now + Number(preset);
}

export function mountActions(state, { notice, request }) {
  const inflight = new Set();
  const transfer = $('#transfer-dialog');
  const tform = $('#transfer-form');
  const snooze = $('#snooze-dialog');
  const sform = $('#snooze-form');
  let target = null; // conversation the open dialog acts on

  for (const d of [transfer, snooze]) d.querySelector('[data-close]').addEventListener('click', () => d.close());

  // True when done; else the reason is shown (in the open dialog, or as a notice).
  async function act(conv, op, body = {}, form = null) {
    inflight.add(conv);
    state.emit('busy', { conv });
    try {
      await request({ type: op, conv, ...body });
      return true;
    } catch (e) {
      const what = named('act.', op);
      if (form) showError(form, t('act.failed', { op: what, error: e.message }));
      else notice(t('act.failedConv', { op: what, conv, error: e.message }));
      return false;
    } finally {
      inflight.delete(conv);
      state.emit('busy', { conv });
    }
  }

  function showError(form, text) {
    const p = form.querySelector('.error');
    p.textContent = text;
    p.hidden = !text;
  }

  function syncKind() {
    const kind = tform.elements.kind.value;
    tform.elements.agent.disabled = kind !== 'agent';
    tform.elements.team.disabled = kind !== 'team';
  }
  for (const r of tform.querySelectorAll('input[name="kind"]')) r.addEventListener('change', syncKind);

  async function openTransfer(conv) {
    target = conv;
    showError(tform, '');
    tform.elements.note.value = '';
    let agents = [], teams = [];
    try {
      [agents, teams] = await Promise.all([routing.agents(), routing.teams()]);
    } catch (e) {
      notice(t('act.loadAgents', { error: e.message }));
      return;
    }
    const c = state.conversations.get(conv);
    tform.elements.agent.replaceChildren(...agents.filter((a) => a.id !== c?.assignee && a.id !== state.agent?.id).map((a) => {
      const st = state.presence.get(a.id)?.status ?? a.status ?? 'offline';
      return h('option', { value: a.id, disabled: st === 'offline' || null }, `${a.name || a.id} (${named('presence.', st)})`);
    }));
    tform.elements.team.replaceChildren(...teams.map((t) => h('option', { value: t.id, selected: t.id === c?.team || null }, t.name || t.id)));
    syncKind();
    transfer.showModal();
  }

  tform.addEventListener('submit', async (e) => {
    e.preventDefault();
    const note = tform.elements.note.value.trim();
    const kind = tform.elements.kind.value;
    const to = kind === 'agent' ? tform.elements.agent.value : tform.elements.team.value;
    if (!to) { showError(tform, t(kind === 'agent' ? 'act.chooseAgent' : 'act.chooseTeam')); return; }
    const body = kind === 'agent' ? { agent_id: to, note } : { team: to, note };
    if (await act(target, 'transfer', body, tform)) transfer.close();
  });

  function openSnooze(conv) {
    target = conv;
    showError(sform, '');
    sform.elements.note.value = '';
    snooze.showModal();
  }

  sform.addEventListener('submit', async (e) => {
    e.preventDefault();
    const until = snoozeUntil(sform.elements.preset.value, sform.elements.at.value);
    if (!Number.isFinite(until) || until <= Date.now()) { showError(sform, t('act.future')); return; }
    if (await act(target, 'snooze', { until, note: sform.elements.note.value.trim() }, sform)) snooze.close();
  });

  return {
    busy: (conv) => inflight.has(conv),
    run(op, conv) {
      if (op === 'transfer') return openTransfer(conv);
      if (op === 'snooze') return openSnooze(conv);
      if (op === 'take') return act(conv, 'assign', { agent_id: state.agent?.id });
      return act(conv, op); // escalate, reopen
    },
  };
}
