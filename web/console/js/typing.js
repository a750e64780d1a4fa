// Typing and viewing, both ways.
// In: who is writing in which conversation, from the socket's typing frames:
// a web chat customer, or another agent (then two replies may cross, and the
// console warns); and which other agents have it open, from viewing frames.
// An entry lapses when its refreshes stop.
// Out: the agent's own typing in the reply box, at most one "typing" frame per
// REFRESH_MS while the box holds text, and one "stopped" when it empties, the
// reply goes, or the agent moves to another conversation; the same for the
// conversation on screen ("viewing"), every 10-15 s.
import { locale, t } from './i18n.js';

export const REFRESH_MS = 2000; // the server drops refreshes closer than this
export const LAPSE_MS = 6000;   // no refresh for this long: they stopped
export const VIEW_REFRESH_MS = 10_000; // the server drops refreshes closer than 5 s
export const VIEW_CHECK_MS = 5_000;    // how often the console looks: a refresh goes 10-15 s after the last
export const VIEW_LAPSE_MS = 35_000;   // one refresh lost on the way still leaves the entry alive

export class TypingBoard {
  constructor(now = () => Date.now(), lapseMs = LAPSE_MS) {
    this.now = now;
    this.lapseMs = lapseMs;
    this.byConv = new Map(); // conv -> Map(key -> { who, name, agentId, at })
  }

  // A typing frame from the server.
  onFrame(f) {
    if (typeof f.conv !== 'string') return;
    const agent = f.who === 'agent';
    const key = agent ? `agent:${f.agent_id ?? ''}` : 'customer';
    const entries = this.byConv.get(f.conv) ?? new Map();
    if (f.state) entries.set(key, { who: agent ? 'agent' : 'customer', name: f.name ?? '', agentId: f.agent_id ?? '', at: this.now() });
    else entries.delete(key);
    if (entries.size) this.byConv.set(f.conv, entries); else this.byConv.delete(f.conv);
  }

  // A message arrived: its author has stopped typing.
  onMessage(conv, message) {
    const entries = this.byConv.get(conv);
    if (!entries || !message) return;
    if (message.author === 'customer') entries.delete('customer');
    else if (message.author === 'agent') entries.delete(`agent:${message.author_id ?? ''}`);
  }

  // Who is typing in `conv` now: the customer first, then agents.
  typing(conv) {
    this.prune();
    const entries = this.byConv.get(conv);
    if (!entries) return [];
    return [...entries.values()].sort((a, b) => (a.who === b.who ? 0 : a.who === 'customer' ? -1 : 1));
  }

  // When the next entry lapses (ms from now), or null: when to look again.
  nextLapse() {
    this.prune();
    let first = Infinity;
    for (const entries of this.byConv.values()) for (const e of entries.values()) first = Math.min(first, e.at);
    return first === Infinity ? null : first + this.lapseMs - this.now();
  }

  // Signed out: nothing shown belongs to the next agent.
  clear() {
    this.byConv.clear();
  }

  prune() {
    const since = this.now() - this.lapseMs;
    for (const [conv, entries] of this.byConv) {
      for (const [key, e] of entries) if (e.at <= since) entries.delete(key);
      if (!entries.size) this.byConv.delete(conv);
    }
  }
}

// Other agents who have a conversation open, from the viewing frames.
export class ViewingBoard extends TypingBoard {
  constructor(now = () => Date.now()) { super(now, VIEW_LAPSE_MS); }

  // A viewing frame: always an agent's.
  onFrame(f) { super.onFrame({ ...f, who: 'agent' }); }

  // The agents with `conv` open (entries as typing() gives them).
  viewers(conv) { return this.typing(conv); }
}

// "Ali, Reza and Maryam" in the console's language.
const together = (who) => new Intl.ListFormat(locale()).format(who);

// The line under the messages: { text, warn } or null. `names(id)` gives an
// agent's name when the frame had none.
export function typingLine(list, names = () => '') {
  if (!list.length) return null;
  const agents = list.filter((e) => e.who === 'agent').map((e) => e.name || names(e.agentId) || t('typing.another'));
  const parts = [];
  if (list.some((e) => e.who === 'customer')) parts.push(t('typing.customer'));
  if (agents.length) parts.push(t('typing.agents', { who: together(agents), n: agents.length }));
  return { text: parts.join(' '), warn: agents.length > 0 };
}

// The line under the conversation's title: the other agents who have it open
// (a viewing board's entries), or null.
export function viewersLine(viewers, names = () => '') {
  if (!viewers.length) return null;
  const who = viewers.map((e) => e.name || names(e.agentId) || t('typing.another'));
  return t('typing.viewing', { who: together(who), n: who.length });
}

// A signal of the agent's own, for one conversation at a time: "on" when it
// starts, again every `refreshMs` while it lasts, "off" when it ends or moves
// to another conversation. `send(frame)` answers false when offline.
class SignalSender {
  constructor(type, refreshMs, send, now) {
    this.type = type;
    this.refreshMs = refreshMs;
    this.send = send;
    this.now = now;
    this.conv = null; // where "on" was last sent
    this.sentAt = 0;
  }

  // The signal holds for `conv` now (null: for none).
  update(conv) {
    if (conv !== this.conv) this.stop();
    if (!conv) return;
    if (this.conv === conv && this.now() - this.sentAt < this.refreshMs) return;
    if (this.send({ type: this.type, conv, state: true })) {
      this.conv = conv;
      this.sentAt = this.now();
    }
  }

  stop() {
    if (this.conv) this.send({ type: this.type, conv: this.conv, state: false });
    this.forget();
  }

  // A new connection knows nothing of what the last one sent.
  forget() {
    this.conv = null;
    this.sentAt = 0;
  }
}

// The agent's own typing: a reply box of `conv` that holds `text`.
export class TypingSender extends SignalSender {
  constructor(send, now = () => Date.now()) { super('typing', REFRESH_MS, send, now); }
  input(conv, text) { this.update(text.trim() ? conv : null); }
}

// The conversation on the agent's screen: update(conv), null when none is
// shown or the tab is hidden.
export class ViewingSender extends SignalSender {
  constructor(send, now = () => Date.now()) { super('viewing', VIEW_REFRESH_MS, send, now); }
}
