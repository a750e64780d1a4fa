// Typing, both ways.
// In: who is writing in which conversation, from the socket's typing frames:
// a web chat customer, or another agent (then two replies may cross, and the
// console warns). An entry lapses when its refreshes stop.
// Out: the agent's own typing in the reply box, at most one "typing" frame per
// REFRESH_MS while the box holds text, and one "stopped" when it empties, the
// reply goes, or the agent moves to another conversation.

export const REFRESH_MS = 2000; // the server drops refreshes closer than this
export const LAPSE_MS = 6000;   // no refresh for this long: they stopped

export class TypingBoard {
  constructor(now = () => Date.now()) {
    this.now = now;
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
    return first === Infinity ? null : first + LAPSE_MS - this.now();
  }

  prune() {
    const since = this.now() - LAPSE_MS;
    for (const [conv, entries] of this.byConv) {
      for (const [key, e] of entries) if (e.at <= since) entries.delete(key);
      if (!entries.size) this.byConv.delete(conv);
    }
  }
}

// The line under the messages: { text, warn } or null. `names(id)` gives an
// agent's name when the frame had none.
export function typingLine(list, names = () => '') {
  if (!list.length) return null;
  const agents = list.filter((e) => e.who === 'agent').map((e) => e.name || names(e.agentId) || 'Another agent');
  const parts = [];
  if (list.some((e) => e.who === 'customer')) parts.push('The customer is typing…');
  if (agents.length) {
    const who = agents.length === 1 ? agents[0] : `${agents.slice(0, -1).join(', ')} and ${agents.at(-1)}`;
    parts.push(`${who} ${agents.length === 1 ? 'is' : 'are'} also replying here.`);
  }
  return { text: parts.join(' '), warn: agents.length > 0 };
}

// The agent's own typing. `send(frame)` answers false when offline.
export class TypingSender {
  constructor(send, now = () => Date.now()) {
    this.send = send;
    this.now = now;
    this.conv = null; // where "typing" was last sent
    this.sentAt = 0;
  }

  // The reply box of `conv` holds `text` now.
  input(conv, text) {
    if (conv !== this.conv) this.stop();
    if (!conv || !text.trim()) { this.stop(); return; }
    if (this.conv === conv && this.now() - this.sentAt < REFRESH_MS) return;
    if (this.send({ type: 'typing', conv, state: true })) {
      this.conv = conv;
      this.sentAt = this.now();
    }
  }

  stop() {
    if (this.conv) this.send({ type: 'typing', conv: this.conv, state: false });
    this.conv = null;
    this.sentAt = 0;
  }
}
